//! The fixed-size records of the official CIFAR binary releases: label byte(s), then 1024
//! red, 1024 green and 1024 blue bytes of a 32x32 image, row-major.

use super::error::{printable, DataError};
use super::files::Files;
use crate::data::RawSet;

/// Side of a CIFAR image.
pub(crate) const SIDE: usize = 32;
const PIXELS: usize = 3 * SIDE * SIDE;

/// One label byte of a record: what it is called and how many classes it counts.
pub(crate) struct LabelByte {
    pub name: &'static str,
    pub classes: usize,
}

/// The record layout of one release.
pub(crate) struct RecordFormat {
    /// "CIFAR-10", "CIFAR-100".
    pub dataset: &'static str,
    /// The label bytes at the start of each record, in file order.
    pub labels: &'static [LabelByte],
    /// Which of them becomes the label of the image.
    pub pick: usize,
}

impl RecordFormat {
    fn record_len(&self) -> usize {
        self.labels.len() + PIXELS
    }
}

/// An empty set of 3x32x32 images.
pub(crate) fn empty() -> RawSet {
    RawSet::new([3, SIDE, SIDE])
}

/// Appends the records of file `rel` to `into`; a bad length or label names the file, the
/// record and its byte offset.
pub(crate) fn read(
    files: &Files,
    rel: &str,
    format: &RecordFormat,
    into: &mut RawSet,
) -> Result<(), DataError> {
    let bytes = files.read(rel)?;
    let len = format.record_len();
    if bytes.is_empty() || bytes.len() % len != 0 {
        return Err(DataError::format(
            files.place(rel),
            format!(
                "{} bytes is not a whole number of {len}-byte {} records",
                bytes.len(),
                format.dataset
            ),
        ));
    }
    into.pixels.reserve(bytes.len() / len * PIXELS);
    for (r, record) in bytes.chunks(len).enumerate() {
        for (byte, label) in format.labels.iter().enumerate() {
            if record[byte] as usize >= label.classes {
                return Err(DataError::format(
                    files.place(rel),
                    format!(
                        "record {r} (at byte {}) has {} {}, but {} has {} {}",
                        r * len,
                        label.name,
                        record[byte],
                        format.dataset,
                        label.classes,
                        label.name.replace("label", "classes"),
                    ),
                ));
            }
        }
        into.labels.push(record[format.pick]);
        into.pixels
            .extend_from_slice(&record[format.labels.len()..]);
    }
    Ok(())
}

/// The class names in file `rel` (one per line, as the official releases ship them), or
/// `default` when the file is absent.
pub(crate) fn class_names(
    files: &Files,
    rel: &str,
    default: &[&str],
    dataset: &str,
) -> Result<Vec<String>, DataError> {
    if !files.is_file(rel) {
        return Ok(default.iter().map(|s| s.to_string()).collect());
    }
    let bytes = files.read(rel)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| DataError::format(files.place(rel), "is not UTF-8 text"))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(printable)
        .collect();
    if names.len() != default.len() {
        return Err(DataError::format(
            files.place(rel),
            format!(
                "{} class names, but {dataset} has {}",
                names.len(),
                default.len()
            ),
        ));
    }
    Ok(names)
}
