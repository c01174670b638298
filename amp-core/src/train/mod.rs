//! Training runs: the loop, its settings, its record and its progress reports.

mod observer;
mod record;
mod settings;
mod shape;
mod trainer;

pub use observer::{Observer, Silent};
pub use record::{EpochRecord, RunRecord};
pub use settings::TrainSettings;
pub use shape::BatchShape;
pub use trainer::{evaluate, train, Classifier, TrainError};
