//! CIFAR-10 from disk: the official binary layout (`data_batch_1..5.bin`, `test_batch.bin`)
//! or the `cifar10-jpeg.tar.gz` archive (`cifar10/{train,test}/<class>/NNNN.jpg`).
//!
//! Pixels are scaled to [0, 1]; normalization is the caller's choice (`ImageSet::normalize`).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::ImageSet;

/// The class names in the official label order.
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

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// Why a dataset could not be read; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error(
        "{path}: not a CIFAR-10 source; expected a folder with data_batch_1.bin .. data_batch_5.bin \
         and test_batch.bin, or the cifar10-jpeg.tar.gz archive"
    )]
    Unknown { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads (train, test) from a folder of binary batches or from the JPEG archive.
pub fn load(path: &Path) -> Result<(ImageSet, ImageSet), DataError> {
    if path.is_dir() {
        load_binary_dir(path)
    } else if path.is_file() {
        load_jpeg_archive(path)
    } else {
        Err(DataError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        })
    }
}

/// Reads the official binary layout: per record one label byte, then 1024 red, 1024 green
/// and 1024 blue bytes.
pub fn load_binary_dir(dir: &Path) -> Result<(ImageSet, ImageSet), DataError> {
    if !dir.join("test_batch.bin").is_file() {
        return Err(DataError::Unknown {
            path: dir.to_path_buf(),
        });
    }
    let mut train = empty();
    for i in 1..=5 {
        read_binary(&dir.join(format!("data_batch_{i}.bin")), &mut train)?;
    }
    let mut test = empty();
    read_binary(&dir.join("test_batch.bin"), &mut test)?;
    Ok((train, test))
}

fn empty() -> ImageSet {
    ImageSet {
        pixels: Vec::new(),
        labels: Vec::new(),
        shape: [3, SIDE, SIDE],
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        normalization: None,
    }
}

fn read_binary(path: &Path, into: &mut ImageSet) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::Format {
            path: path.to_path_buf(),
            message: format!(
                "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records",
                bytes.len()
            ),
        });
    }
    for (r, rec) in bytes.chunks(RECORD).enumerate() {
        if rec[0] as usize >= CLASSES.len() {
            return Err(DataError::Format {
                path: path.to_path_buf(),
                message: format!("record {r} has label {}, CIFAR-10 has 10 classes", rec[0]),
            });
        }
        into.labels.push(rec[0]);
        into.pixels
            .extend(rec[1..].iter().map(|&b| b as f32 / 255.0));
    }
    Ok(())
}

/// Reads `cifar10/{train,test}/<class>/*.jpg` straight out of the gzipped tar archive.
pub fn load_jpeg_archive(path: &Path) -> Result<(ImageSet, ImageSet), DataError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let mut entries: Vec<(bool, String, u8, Vec<f32>)> = Vec::new();
    let fmt = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    for entry in archive.entries().map_err(io_err(path))? {
        let mut entry = entry.map_err(io_err(path))?;
        let name = entry
            .path()
            .map_err(io_err(path))?
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".jpg") {
            continue;
        }
        let parts: Vec<&str> = name.split('/').collect();
        let n = parts.len();
        if n < 3 {
            continue;
        }
        let (split, class) = (parts[n - 3], parts[n - 2]);
        let is_train = match split {
            "train" => true,
            "test" => false,
            _ => continue,
        };
        let label = CLASSES
            .iter()
            .position(|c| *c == class)
            .ok_or_else(|| fmt(format!("{name}: unknown class folder `{class}`")))?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(io_err(path))?;
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
            .map_err(|e| fmt(format!("{name}: {e}")))?
            .to_rgb8();
        if img.dimensions() != (SIDE as u32, SIDE as u32) {
            return Err(fmt(format!(
                "{name}: {}x{} pixels, CIFAR-10 images are 32x32",
                img.width(),
                img.height()
            )));
        }
        let mut chw = vec![0f32; 3 * SIDE * SIDE];
        for (i, px) in img.pixels().enumerate() {
            for c in 0..3 {
                chw[c * SIDE * SIDE + i] = px[c] as f32 / 255.0;
            }
        }
        entries.push((is_train, name, label as u8, chw));
    }
    // Archive order is not guaranteed: sort by path so every load gives the same order.
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    let (mut train, mut test) = (empty(), empty());
    for (is_train, _, label, chw) in entries {
        let set = if is_train { &mut train } else { &mut test };
        set.labels.push(label);
        set.pixels.extend(chw);
    }
    if train.is_empty() || test.is_empty() {
        return Err(DataError::Unknown {
            path: path.to_path_buf(),
        });
    }
    Ok((train, test))
}
