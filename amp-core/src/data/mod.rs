//! Datasets: the in-memory image set, the built-in synthetic data, batching and augmentation.

mod batches;
pub mod cifar;
mod image_set;
mod provenance;
pub mod synthetic;

pub use batches::{assemble, epoch_order, Augment, Batch};
pub use image_set::ImageSet;
pub use provenance::DataProvenance;
pub use synthetic::{generate as synthetic, SyntheticSpec};
