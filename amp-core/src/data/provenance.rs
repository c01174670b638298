//! Where a data set came from, for run records: enough to tell whether two runs saw the
//! same data.

use serde::{Deserialize, Serialize};

/// The source of a data set as loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataProvenance {
    /// What the user passed (`synthetic`, a path).
    pub source: String,
    /// The layout it was read as (`synthetic`, `cifar10-binary`, `cifar10-jpeg-archive`, ...).
    pub layout: String,
    /// Bytes read from disk (0 for generated data).
    pub bytes: u64,
    /// A 64-bit FNV-1a hash of the decoded images and labels (train then test), in hex: the
    /// same pixels give the same hash whatever the file layout.
    pub hash: String,
    /// Class names, by label.
    pub classes: Vec<String>,
    /// Images in the full training and test sets (before any limit).
    pub train_images: usize,
    pub test_images: usize,
}
