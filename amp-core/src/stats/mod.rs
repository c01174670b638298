//! Gradient statistics per candidate layer: per step, summarized per epoch, kept for the run.

mod history;
mod summary;

pub use history::{EpochRecorder, LayerEpoch, StatsHistory};
pub use summary::{Summary, SummaryAcc};
