//! Training runs: the loop, its settings, its record, its checkpoints and its progress
//! reports.

pub mod checkpoint;
mod guard;
mod init;
mod observer;
pub mod optim;
mod record;
mod run;
mod settings;
mod shape;
mod stop;
pub mod streams;
pub mod tensors;
mod trainer;
pub(crate) mod walk;

pub use checkpoint::{Checkpoint, CheckpointError, Position};
pub use guard::{GuardEvent, Rollback};
pub use init::{initialize, Init};
pub use observer::{Observer, Silent};
pub use record::{EpochRecord, Provenance, RecordError, RunRecord, RunStatus, TrainedEpoch};
pub use run::{Outcome, Trainer};
pub use settings::TrainSettings;
pub use shape::BatchShape;
pub use stop::StopFlag;
pub use trainer::{evaluate, evaluate_with, train, Classifier, TrainError};
