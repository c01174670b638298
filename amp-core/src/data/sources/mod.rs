//! Reading data sets from disk: one module per layout, found from the contents of the path
//! (never its name), whether a folder or a `.tar.gz` / `.tar` archive.
//!
//! The entry point is [`RawData::load`](super::RawData::load), which calls `open` here.

mod cifar10;
mod cifar100;
mod error;
mod files;
mod image_folder;
mod records;

use std::path::{Path, PathBuf};

pub use cifar10::CLASSES as CIFAR10_CLASSES;
pub use cifar100::{
    COARSE_CLASSES as CIFAR100_COARSE_CLASSES, FINE_CLASSES as CIFAR100_FINE_CLASSES,
};
pub use error::DataError;

use super::provenance::{raw_content_hash, DataProvenance, Labels, Layout, Packaging};
use super::RawSet;
use error::printable;
use files::{Child, Files};

/// What `--data` names: the built-in images, or a path with an optional CIFAR-100 label
/// choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    Synthetic,
    Path {
        path: PathBuf,
        /// `Some` only when asked for; only CIFAR-100 accepts it. `None` means fine labels
        /// there.
        labels: Option<Labels>,
    },
}

impl DataSource {
    /// `synthetic`, or a path, optionally followed by `:fine` or `:coarse` to pick CIFAR-100's
    /// labels (`cifar-100-binary.tar.gz:coarse`). A path that exists as spelled, suffix
    /// included, is taken as it is.
    pub fn parse(spec: &str) -> DataSource {
        if spec == "synthetic" {
            return DataSource::Synthetic;
        }
        let labelled = [(":fine", Labels::Fine), (":coarse", Labels::Coarse)]
            .into_iter()
            .find_map(|(suffix, labels)| spec.strip_suffix(suffix).map(|p| (p, labels)));
        match labelled {
            Some((path, labels)) if !Path::new(spec).exists() => DataSource::Path {
                path: PathBuf::from(path),
                labels: Some(labels),
            },
            _ => DataSource::Path {
                path: PathBuf::from(spec),
                labels: None,
            },
        }
    }
}

impl std::str::FromStr for DataSource {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(DataSource::parse(s))
    }
}

/// The two splits and the class names of a source, as decoded.
pub(crate) struct Loaded {
    pub train: RawSet,
    pub test: RawSet,
    pub classes: Vec<String>,
}

/// Reads the data set at `path`, and describes it.
pub(crate) fn open(
    path: &Path,
    labels: Option<Labels>,
) -> Result<(Loaded, DataProvenance), DataError> {
    let files = Files::open(path)?;
    let (layout, dir) = find(&files, path)?;
    if layout != Layout::Cifar100Binary {
        if let Some(l) = labels {
            let suffix = if l == Labels::Coarse {
                "coarse"
            } else {
                "fine"
            };
            return Err(DataError::Spec(format!(
                "{}: `:{suffix}` picks CIFAR-100 labels, but this is the {layout} layout",
                path.display()
            )));
        }
    }
    let loaded = match layout {
        Layout::Cifar10Binary => cifar10::load(&files, &dir)?,
        Layout::Cifar100Binary => cifar100::load(&files, &dir, labels.unwrap_or_default())?,
        Layout::ImageFolder | Layout::Synthetic => image_folder::load(&files, &dir)?,
    };
    let provenance = DataProvenance {
        layout,
        packaging: files.packaging(),
        path: Some(path.display().to_string()),
        labels: (layout == Layout::Cifar100Binary).then(|| labels.unwrap_or_default()),
        bytes_read: files.bytes_read(),
        content_hash: Some(raw_content_hash(
            &loaded.train,
            &loaded.test,
            &loaded.classes,
        )),
        image_shape: loaded.train.shape,
        train_images: loaded.train.len(),
        test_images: loaded.test.len(),
        classes: loaded.classes.len(),
        class_names: loaded.classes.clone(),
    };
    Ok((loaded, provenance))
}

/// The layout at the top of `files` or in exactly one of its subfolders, and that folder.
fn find(files: &Files, path: &Path) -> Result<(Layout, String), DataError> {
    if let Some(layout) = detect(files, "") {
        return Ok((layout, String::new()));
    }
    let top = files.children("")?;
    let found: Vec<(Layout, &Child)> = top
        .iter()
        .filter(|c| c.is_dir)
        .filter_map(|c| detect(files, &c.name).map(|l| (l, c)))
        .collect();
    match found.as_slice() {
        [(layout, child)] => Ok((*layout, child.name.clone())),
        [] => Err(DataError::UnknownLayout {
            path: path.to_path_buf(),
            found: listing(&top),
        }),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|(l, c)| format!("{}/ ({l})", printable(&c.name)))
                .collect();
            Err(DataError::Spec(format!(
                "{}: holds several data sets: {}; name one of them",
                path.display(),
                names.join(", ")
            )))
        }
    }
}

fn detect(files: &Files, dir: &str) -> Option<Layout> {
    if cifar10::detect(files, dir) {
        Some(Layout::Cifar10Binary)
    } else if cifar100::detect(files, dir) {
        Some(Layout::Cifar100Binary)
    } else if image_folder::detect(files, dir) {
        Some(Layout::ImageFolder)
    } else {
        None
    }
}

/// " (it holds: a/, b.txt, ...)" for an error message.
fn listing(top: &[Child]) -> String {
    if top.is_empty() {
        return " (it is empty)".to_string();
    }
    let mut names: Vec<String> = top
        .iter()
        .take(6)
        .map(|c| format!("{}{}", printable(&c.name), if c.is_dir { "/" } else { "" }))
        .collect();
    if top.len() > 6 {
        names.push(format!("and {} more", top.len() - 6));
    }
    format!(" (it holds: {})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_suffix_is_split_off_unless_the_path_exists() {
        assert_eq!(DataSource::parse("synthetic"), DataSource::Synthetic);
        assert_eq!(
            DataSource::parse("d/c100.tar.gz:coarse"),
            DataSource::Path {
                path: "d/c100.tar.gz".into(),
                labels: Some(Labels::Coarse)
            }
        );
        assert_eq!(
            DataSource::parse("d/x"),
            DataSource::Path {
                path: "d/x".into(),
                labels: None
            }
        );
        let dir = std::env::temp_dir().join(format!("amp-src-{}", std::process::id()));
        let odd = dir.join("odd:fine");
        std::fs::create_dir_all(&odd).unwrap();
        let spec = odd.to_str().unwrap();
        assert_eq!(
            DataSource::parse(spec),
            DataSource::Path {
                path: odd.clone(),
                labels: None
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
