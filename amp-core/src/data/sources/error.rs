//! Why a data set could not be loaded.
//!
//! Every message names the file (and, for record files, the record) and states each fact once:
//! no variant carries a `source()`, so `{:#}` in anyhow does not print an IO error a second
//! time after the text that already describes it. Text that comes from the data itself (entry
//! names, decoder messages) goes through [`printable`], so no raw byte reaches a terminal.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where to look when a path is missing.
const GETTING_THE_DATA: &str = "see \"Getting the data\" in README.md";

/// Why a data set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The path named by the user does not exist. A relative one says what it was relative
    /// to: a path that works from the project's root fails from any other folder.
    #[error("{}: no such file or folder{}; {GETTING_THE_DATA}", .path.display(), relative_to(.path))]
    Missing { path: PathBuf },
    /// A file or folder exists but could not be read.
    #[error("{}: {}", .path.display(), describe_io(.error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Content that is not what its layout says: `place` is a file, or `archive: entry`.
    #[error("{place}: {message}")]
    Format { place: String, message: String },
    /// Nothing at the path looks like a data set amp knows.
    #[error(
        "{}: no data set found{found}; expected the CIFAR-10 binary batches (data_batch_1.bin .. \
         data_batch_5.bin, test_batch.bin), the CIFAR-100 binary files (train.bin, test.bin) or \
         image folders (train/<class>/*, test/<class>/*), here or in one subfolder; \
         {GETTING_THE_DATA}",
        .path.display()
    )]
    UnknownLayout {
        path: PathBuf,
        /// What was there instead, e.g. " (it holds: notes.txt, misc/)"; may be empty.
        found: String,
    },
    /// A `--data` spelling that is not a source, or a label choice its layout cannot honour.
    #[error("{0}")]
    Spec(String),
}

impl DataError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> DataError {
        if error.kind() == ErrorKind::NotFound {
            DataError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                error,
            }
        }
    }

    pub(crate) fn format(place: impl Into<String>, message: impl Into<String>) -> DataError {
        DataError::Format {
            place: place.into(),
            message: message.into(),
        }
    }
}

/// An IO error in words, without the duplicated "kind: message" of some `io::Error`s.
fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::UnexpectedEof => "ends early (a truncated file?)".into(),
        // OS errors read "Is a directory (os error 21)": plain words, never file content.
        _ if e.raw_os_error().is_some() => e.to_string(),
        _ => printable(&e.to_string()),
    }
}

/// `s` with control characters escaped and cut to 120 characters: safe to print whatever
/// bytes a file held.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(120)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() || c == char::REPLACEMENT_CHARACTER {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if s.chars().count() > 120 {
        out.push_str("...");
    }
    out
}

/// `" (relative to the current folder, DIR)"` for a relative path, empty for an absolute one.
fn relative_to(path: &Path) -> String {
    if path.is_absolute() {
        return String::new();
    }
    match std::env::current_dir() {
        Ok(dir) => format!(" (relative to the current folder, {})", dir.display()),
        Err(_) => " (relative to the current folder)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_bytes_and_cuts_long_text() {
        assert_eq!(printable("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("x\u{fffd}"), "x\\u{fffd}");
        let long = "y".repeat(200);
        assert_eq!(printable(&long), format!("{}...", "y".repeat(120)));
    }

    #[test]
    fn an_io_error_is_described_once() {
        let e = DataError::io(
            Path::new("d/test.bin"),
            std::io::Error::new(ErrorKind::UnexpectedEof, "unexpected end of file"),
        );
        assert_eq!(e.to_string(), "d/test.bin: ends early (a truncated file?)");
        assert!(std::error::Error::source(&e).is_none());
        let e = DataError::io(Path::new("nope"), ErrorKind::NotFound.into());
        let here = std::env::current_dir().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "nope: no such file or folder (relative to the current folder, {}); see \
                 \"Getting the data\" in README.md",
                here.display()
            )
        );
        let e = DataError::io(&here.join("nope"), ErrorKind::NotFound.into());
        assert_eq!(
            e.to_string(),
            format!(
                "{}: no such file or folder; see \"Getting the data\" in README.md",
                here.join("nope").display()
            )
        );
    }
}
