//! The files of a source, whether a folder on disk or a (gzipped) tar archive read into
//! memory, behind one interface of relative `/`-separated paths, so that each layout reads
//! both packagings with the same code.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{printable, DataError};
use super::Packaging;

/// A folder, or the regular files of an archive keyed by their path inside it.
pub(crate) enum Files {
    Folder {
        root: PathBuf,
        /// Bytes of the files read so far.
        read: AtomicU64,
    },
    Archive {
        path: PathBuf,
        size: u64,
        gzip: bool,
        entries: BTreeMap<String, Vec<u8>>,
        dirs: BTreeSet<String>,
    },
}

/// One entry of a listing.
pub(crate) struct Child {
    pub name: String,
    pub is_dir: bool,
}

/// `dir/name`, or `name` at the root (`dir` empty).
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Dot files, and the resource forks macOS puts in archives, are never data.
fn hidden(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX"
}

impl Files {
    /// Opens a folder as it is, or reads a whole archive; anything else is refused with what
    /// it looks like.
    pub fn open(path: &Path) -> Result<Files, DataError> {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
        if meta.is_dir() {
            return Ok(Files::Folder {
                root: path.to_path_buf(),
                read: AtomicU64::new(0),
            });
        }
        let mut head = Vec::with_capacity(512);
        File::open(path)
            .and_then(|f| f.take(512).read_to_end(&mut head))
            .map_err(|e| DataError::io(path, e))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let tar = head.len() >= 262 && &head[257..262] == b"ustar";
        if !gzip && !tar {
            return Err(not_an_archive(path, &head));
        }
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let entries = read_archive(path, BufReader::with_capacity(1 << 20, file), gzip)?;
        let mut dirs = BTreeSet::new();
        for name in entries.keys() {
            let mut at = name.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                dirs.insert(parent.to_string());
                at = parent;
            }
        }
        Ok(Files::Archive {
            path: path.to_path_buf(),
            size: meta.len(),
            gzip,
            entries,
            dirs,
        })
    }

    pub fn packaging(&self) -> Packaging {
        match self {
            Files::Folder { .. } => Packaging::Folder,
            Files::Archive { gzip: true, .. } => Packaging::TarGz,
            Files::Archive { gzip: false, .. } => Packaging::Tar,
        }
    }

    /// Bytes read from disk so far (an archive's whole size).
    pub fn bytes_read(&self) -> u64 {
        match self {
            Files::Folder { read, .. } => read.load(Ordering::Relaxed),
            Files::Archive { size, .. } => *size,
        }
    }

    pub fn is_file(&self, rel: &str) -> bool {
        match self {
            Files::Folder { root, .. } => root.join(rel).is_file(),
            Files::Archive { entries, .. } => entries.contains_key(rel),
        }
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        match self {
            Files::Folder { root, .. } => root.join(rel).is_dir(),
            Files::Archive { dirs, .. } => rel.is_empty() || dirs.contains(rel),
        }
    }

    /// The non-hidden entries of folder `rel`, sorted by name.
    pub fn children(&self, rel: &str) -> Result<Vec<Child>, DataError> {
        let mut out = Vec::new();
        match self {
            Files::Folder { root, .. } => {
                let dir = root.join(rel);
                let list = std::fs::read_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
                for entry in list {
                    let entry = entry.map_err(|e| DataError::io(&dir, e))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let is_dir = entry.path().is_dir();
                    out.push(Child { name, is_dir });
                }
            }
            Files::Archive { entries, dirs, .. } => {
                let prefix = if rel.is_empty() {
                    String::new()
                } else {
                    format!("{rel}/")
                };
                let direct = |name: &String| {
                    name.strip_prefix(&prefix)
                        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                        .map(str::to_string)
                };
                for name in dirs
                    .range(prefix.clone()..)
                    .take_while(|d| d.starts_with(&prefix))
                {
                    if let Some(name) = direct(name) {
                        out.push(Child { name, is_dir: true });
                    }
                }
                let files = entries.range(prefix.clone()..).map(|(k, _)| k);
                for name in files.take_while(|k| k.starts_with(&prefix)) {
                    if let Some(name) = direct(name) {
                        out.push(Child {
                            name,
                            is_dir: false,
                        });
                    }
                }
            }
        }
        out.retain(|c| !hidden(&c.name));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The bytes of file `rel`.
    pub fn read(&self, rel: &str) -> Result<Cow<'_, [u8]>, DataError> {
        match self {
            Files::Folder { root, read } => {
                let path = root.join(rel);
                let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
                read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                Ok(Cow::Owned(bytes))
            }
            Files::Archive { entries, .. } => entries
                .get(rel)
                .map(|b| Cow::Borrowed(b.as_slice()))
                .ok_or_else(|| DataError::format(self.place(rel), "missing from the archive")),
        }
    }

    /// How to name file `rel` in a message: its path, or `archive: entry`.
    pub fn place(&self, rel: &str) -> String {
        match self {
            Files::Folder { root, .. } => root.join(rel).display().to_string(),
            Files::Archive { path, .. } => format!("{}: {}", path.display(), printable(rel)),
        }
    }
}

/// Counts what the gzip decoder failed with, so that a broken stream is told apart from a
/// broken tar inside a good one.
struct Watch<R> {
    inner: R,
    failed: std::rc::Rc<std::cell::Cell<Option<ErrorKind>>>,
}

impl<R: Read> Read for Watch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner
            .read(buf)
            .inspect_err(|e| self.failed.set(Some(e.kind())))
    }
}

/// Every regular file of the archive, by its path inside it (without a leading `./`).
fn read_archive(
    path: &Path,
    file: impl Read,
    gzip: bool,
) -> Result<BTreeMap<String, Vec<u8>>, DataError> {
    let failed = std::rc::Rc::new(std::cell::Cell::new(None));
    let stream: Box<dyn Read> = if gzip {
        Box::new(Watch {
            inner: flate2::read::GzDecoder::new(file),
            failed: failed.clone(),
        })
    } else {
        Box::new(Watch {
            inner: file,
            failed: failed.clone(),
        })
    };
    let mut archive = tar::Archive::new(stream);
    let mut entries = BTreeMap::new();
    let broken =
        |count: usize, e: std::io::Error| archive_error(path, gzip, count, failed.get(), e);
    let iter = archive.entries().map_err(|e| broken(0, e))?;
    for entry in iter {
        let mut entry = entry.map_err(|e| broken(entries.len(), e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|e| broken(entries.len(), e))?;
        let name = name.to_string_lossy();
        let name = name.trim_start_matches("./").to_string();
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| broken(entries.len(), e))?;
        entries.insert(name, bytes);
    }
    if let Some(kind) = failed.get() {
        // A decoder error that the tar reader swallowed (it stops at a bad block).
        return Err(archive_error(
            path,
            gzip,
            entries.len(),
            Some(kind),
            kind.into(),
        ));
    }
    Ok(entries)
}

/// What went wrong in an archive, in words: the tar and gzip readers' own messages can
/// quote raw header bytes, so they are not passed on.
fn archive_error(
    path: &Path,
    gzip: bool,
    count: usize,
    decoder: Option<ErrorKind>,
    e: std::io::Error,
) -> DataError {
    let after = format!("after {count} files");
    let message = match decoder.unwrap_or(e.kind()) {
        ErrorKind::UnexpectedEof => {
            format!("the archive ends early {after} (a truncated download?)")
        }
        _ if decoder.is_some() && gzip => format!("corrupt gzip data {after}"),
        _ if decoder.is_some() => return DataError::io(path, e),
        _ => format!("not a valid tar archive {after} (a corrupt file header)"),
    };
    DataError::format(path.display().to_string(), message)
}

/// "x: not a gzip file (starts with 50 4b 03 04: a zip archive); ...".
fn not_an_archive(path: &Path, head: &[u8]) -> DataError {
    let message = if head.is_empty() {
        "an empty file; expected a folder or a .tar.gz archive".to_string()
    } else {
        let hex: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!(
            "not a gzip file (starts with {}: {}); expected a folder or a .tar.gz archive",
            hex.join(" "),
            looks_like(head)
        )
    };
    DataError::format(path.display().to_string(), message)
}

/// A guess at what a file is from its first bytes.
fn looks_like(head: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(&head[..head.len().min(64)]).to_ascii_lowercase();
    let trimmed = text.trim_start();
    match head {
        [b'P', b'K', 3, 4, ..] => "a zip archive",
        [b'B', b'Z', b'h', ..] => "a bzip2 file",
        [0xfd, b'7', b'z', b'X', ..] => "an xz file",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "a zstd file",
        [b'7', b'z', 0xbc, 0xaf, ..] => "a 7-zip archive",
        [0x89, b'P', b'N', b'G', ..] => "a PNG image",
        [0xff, 0xd8, 0xff, ..] => "a JPEG image",
        _ if trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html") => {
            "an HTML page, perhaps a failed download"
        }
        _ if head
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
        {
            "text"
        }
        _ => "unknown binary data",
    }
}
