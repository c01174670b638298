//! The official CIFAR-10 binary release: `cifar-10-batches-bin/` with `data_batch_1.bin` ..
//! `data_batch_5.bin`, `test_batch.bin` and `batches.meta.txt` (the class names), each record
//! one label byte and 3072 pixel bytes.

use super::error::DataError;
use super::files::{join, Files};
use super::records::{self, LabelByte, RecordFormat};
use super::Loaded;

/// The class names in the official label order (used when `batches.meta.txt` is absent).
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

const FORMAT: RecordFormat = RecordFormat {
    dataset: "CIFAR-10",
    labels: &[LabelByte {
        name: "label",
        classes: 10,
    }],
    pick: 0,
};

/// Whether folder `dir` holds this layout.
pub(crate) fn detect(files: &Files, dir: &str) -> bool {
    files.is_file(&join(dir, "test_batch.bin")) && files.is_file(&join(dir, "data_batch_1.bin"))
}

/// Reads the five training batches and the test batch of folder `dir`.
pub(crate) fn load(files: &Files, dir: &str) -> Result<Loaded, DataError> {
    let mut train = records::empty();
    for i in 1..=5 {
        records::read(
            files,
            &join(dir, &format!("data_batch_{i}.bin")),
            &FORMAT,
            &mut train,
        )?;
    }
    let mut test = records::empty();
    records::read(files, &join(dir, "test_batch.bin"), &FORMAT, &mut test)?;
    let classes =
        records::class_names(files, &join(dir, "batches.meta.txt"), &CLASSES, "CIFAR-10")?;
    Ok(Loaded {
        train,
        test,
        classes,
    })
}
