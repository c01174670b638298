//! Datasets: loading from disk ([`RawData::load`], one module per layout in [`sources`]),
//! per-run preparation ([`RawData::prepare`]), provenance for run records, the built-in
//! synthetic data, batching and augmentation.

mod batches;
mod image_set;
pub mod provenance;
mod raw_data;
mod raw_set;
pub mod sources;
pub mod synthetic;

pub use batches::{assemble, epoch_order, Augment, Batch};
pub use image_set::ImageSet;
pub use provenance::{DataProvenance, Labels, Layout, Packaging};
pub use raw_data::{Data, RawData};
pub use raw_set::{sample_indices, RawSet};
pub use sources::{DataError, DataSource};
pub use synthetic::{generate as synthetic, SyntheticSpec};
