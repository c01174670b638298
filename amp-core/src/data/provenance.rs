//! Where a run's data came from, for its record: the layout, the path, how many bytes were
//! read, and a hash of the decoded content.
//!
//! The hash is XXH3-64 of the decoded images and labels, not of the files, so the same data
//! gives the same hash however it is packed: the official `.tar.gz` and its extracted folder
//! agree, and so do the JPEG archive and its extracted folder. It covers, for the training
//! set then the test set: the shape (3 x u64 LE), the image count (u64 LE), the labels (one
//! byte each) and the pixels (one byte per value, CHW, image after image); then each class
//! name followed by `\n`. For the synthetic data, whose values are `f32`, the pixels enter as
//! their little-endian bytes. Tens of milliseconds for CIFAR-10's 184 MB.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::{ImageSet, RawSet};

/// The layouts amp reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `data_batch_1..5.bin`, `test_batch.bin` (`cifar-10-binary.tar.gz`).
    Cifar10Binary,
    /// `train.bin`, `test.bin` (`cifar-100-binary.tar.gz`).
    Cifar100Binary,
    /// `train/<class>/*`, `test/<class>/*` PNG or JPEG files (e.g. `cifar10-jpeg.tar.gz`).
    ImageFolder,
    /// The built-in generated images.
    #[default]
    Synthetic,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Cifar10Binary => "CIFAR-10 binary",
            Layout::Cifar100Binary => "CIFAR-100 binary",
            Layout::ImageFolder => "image folders",
            Layout::Synthetic => "built-in synthetic images",
        })
    }
}

/// How the files were packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Packaging {
    TarGz,
    Tar,
    Folder,
    /// Generated in memory; nothing read.
    #[default]
    BuiltIn,
}

/// Which CIFAR-100 label a record's image gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Labels {
    /// The 100 classes.
    #[default]
    Fine,
    /// The 20 superclasses.
    Coarse,
}

/// The description of a loaded data set that goes into a run record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataProvenance {
    pub layout: Layout,
    pub packaging: Packaging,
    /// The path as given (`None` for built-in data).
    pub path: Option<String>,
    /// CIFAR-100's label choice; `None` for other layouts.
    pub labels: Option<Labels>,
    /// Bytes read from disk: an archive's size, or the sum of the files read from a folder.
    pub bytes_read: u64,
    /// `xxh3-64:<16 hex digits>` of the decoded content (see the module doc); `None` for the
    /// synthetic data until a seed has generated it.
    pub content_hash: Option<String>,
    /// (channels, height, width).
    pub image_shape: [usize; 3],
    /// Images in the whole source, before any limit.
    pub train_images: usize,
    pub test_images: usize,
    pub classes: usize,
    pub class_names: Vec<String>,
}

/// Feeds one split into the hash.
fn split(h: &mut Xxh3, shape: [usize; 3], labels: &[u8], pixels: impl FnOnce(&mut Xxh3)) {
    for d in shape {
        h.update(&(d as u64).to_le_bytes());
    }
    h.update(&(labels.len() as u64).to_le_bytes());
    h.update(labels);
    pixels(h);
}

fn finish(mut h: Xxh3, classes: &[String]) -> String {
    for c in classes {
        h.update(c.as_bytes());
        h.update(b"\n");
    }
    format!("xxh3-64:{:016x}", h.digest())
}

/// The content hash of sets loaded from files.
pub fn raw_content_hash(train: &RawSet, test: &RawSet, classes: &[String]) -> String {
    let mut h = Xxh3::new();
    for set in [train, test] {
        split(&mut h, set.shape, &set.labels, |h| h.update(&set.pixels));
    }
    finish(h, classes)
}

/// The content hash of generated `f32` sets.
pub fn image_content_hash(train: &ImageSet, test: &ImageSet) -> String {
    let mut h = Xxh3::new();
    for set in [train, test] {
        split(&mut h, set.shape, &set.labels, |h| {
            for chunk in set.pixels.chunks(4096) {
                let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
                h.update(&bytes);
            }
        });
    }
    finish(h, &train.classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &[u8], pixels: &[u8]) -> RawSet {
        RawSet {
            pixels: pixels.to_vec(),
            labels: labels.to_vec(),
            shape: [1, 1, 2],
        }
    }

    #[test]
    fn the_hash_covers_labels_pixels_split_and_class_names() {
        let names = ["a".to_string(), "b".to_string()];
        let h = raw_content_hash(&set(&[0, 1], &[1, 2, 3, 4]), &set(&[1], &[5, 6]), &names);
        assert!(h.starts_with("xxh3-64:") && h.len() == 24, "{h}");
        let same = raw_content_hash(&set(&[0, 1], &[1, 2, 3, 4]), &set(&[1], &[5, 6]), &names);
        assert_eq!(h, same);
        let others = [
            raw_content_hash(&set(&[0, 0], &[1, 2, 3, 4]), &set(&[1], &[5, 6]), &names),
            raw_content_hash(&set(&[0, 1], &[1, 2, 3, 5]), &set(&[1], &[5, 6]), &names),
            // The same images, one moved from train to test.
            raw_content_hash(&set(&[0], &[1, 2]), &set(&[1, 1], &[3, 4, 5, 6]), &names),
            raw_content_hash(
                &set(&[0, 1], &[1, 2, 3, 4]),
                &set(&[1], &[5, 6]),
                &names[..1],
            ),
        ];
        for o in others {
            assert_ne!(o, h);
        }
    }

    #[test]
    fn provenance_serializes_with_readable_names() {
        let p = DataProvenance {
            layout: Layout::Cifar100Binary,
            packaging: Packaging::TarGz,
            path: Some("data/cifar-100-binary.tar.gz".into()),
            labels: Some(Labels::Coarse),
            bytes_read: 42,
            content_hash: Some("xxh3-64:00000000000000ff".into()),
            image_shape: [3, 32, 32],
            train_images: 3,
            test_images: 1,
            classes: 2,
            class_names: vec!["a".into(), "b".into()],
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            "{\"layout\":\"cifar100-binary\",\"packaging\":\"tar-gz\",\
             \"path\":\"data/cifar-100-binary.tar.gz\",\"labels\":\"coarse\",\"bytes_read\":42,\
             \"content_hash\":\"xxh3-64:00000000000000ff\",\"image_shape\":[3,32,32],\
             \"train_images\":3,\"test_images\":1,\"classes\":2,\"class_names\":[\"a\",\"b\"]}"
        );
        assert_eq!(serde_json::from_str::<DataProvenance>(&json).unwrap(), p);
    }
}
