//! A cell's folder, `<out>/<id>/`, and what it holds: the run's record and checkpoint (named
//! as `amp train` names them), the resolved config, the log of `grid run --jobs`, and a lock
//! held while a process runs the cell.
//!
//! The folder is named by the cell's content hash, so reruns find their own files and two
//! tasks of different cells never write to one folder. The lock (`flock` on `lock`, released
//! by the kernel when the process ends, however it ends) keeps two processes from running the
//! same cell at once, e.g. a resubmitted array whose earlier tasks still run.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use amp_core::train::{Checkpoint, Position, RunRecord};
use anyhow::{Context, Result};

use super::super::per_seed::SeedOutcome;
pub use super::super::run_files::epochs_done;
use super::super::run_files::{model_id, Existing, RunFiles};
use super::expand::Cell;

/// Where a cell stands.
#[derive(Debug)]
pub enum CellState {
    /// Its record says finished.
    Finished(Box<RunRecord>),
    /// Its record says diverged: done too (a rerun would diverge the same way).
    Diverged(Box<RunRecord>),
    /// A process holds its lock; where its last checkpoint stands (`None` before the first).
    Running(Option<Position>),
    /// A checkpoint without a record: the next run resumes it (from this position, when the
    /// checkpoint's header reads).
    Interrupted(Option<Position>),
    /// Nothing yet.
    Pending,
}

impl CellState {
    /// Finished or diverged: nothing left to run.
    pub fn done(&self) -> bool {
        matches!(self, CellState::Finished(_) | CellState::Diverged(_))
    }

    pub fn record(&self) -> Option<&RunRecord> {
        match self {
            CellState::Finished(r) | CellState::Diverged(r) => Some(r),
            _ => None,
        }
    }

    /// What the cell's seed came to, for the report's per-seed table (a run under way or
    /// not started: not done).
    pub fn outcome(&self) -> SeedOutcome {
        self.record()
            .map_or(SeedOutcome::NotDone, SeedOutcome::of_record)
    }

    pub fn label(&self) -> &'static str {
        match self {
            CellState::Finished(_) => "finished",
            CellState::Diverged(_) => "diverged",
            CellState::Running(_) => "running",
            CellState::Interrupted(_) => "interrupted",
            CellState::Pending => "to run",
        }
    }

    /// The label, and for a run under way how far it got out of `epochs`: `running, 9/16
    /// epochs`, `interrupted, 3/16 epochs + 12 steps` (stopped inside an epoch).
    pub fn describe(&self, epochs: usize) -> String {
        match self {
            CellState::Running(Some(at)) | CellState::Interrupted(Some(at)) => {
                format!("{}, {}", self.label(), epochs_done(*at, epochs))
            }
            _ => self.label().to_string(),
        }
    }
}

/// A cell's resolved config, in its folder.
const CONFIG_FILE: &str = "config.toml";

/// Whether `p` is a cell's folder: named by a cell id (12 hex digits), holding the cell's
/// `config.toml` (written before the run starts).
pub fn is_cell_folder(p: &Path) -> bool {
    let id = p.file_name().map(|n| n.to_string_lossy().into_owned());
    id.is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        && p.join(CONFIG_FILE).is_file()
}

/// The files of one cell.
pub struct CellDir {
    pub dir: PathBuf,
    pub files: RunFiles,
    pub log: PathBuf,
    pub config: PathBuf,
    lock: PathBuf,
}

/// Held while this process runs the cell.
pub struct CellLock {
    _file: File,
}

impl CellDir {
    pub fn new(out: &Path, cell: &Cell) -> CellDir {
        let dir = out.join(&cell.id);
        CellDir {
            files: RunFiles::new(&dir, &cell.config.name, &model_id(cell.model), cell.seed),
            log: dir.join("log.txt"),
            config: dir.join(CONFIG_FILE),
            lock: dir.join("lock"),
            dir,
        }
    }

    /// What the folder holds (a record that cannot be read is an error naming it; a
    /// checkpoint whose header cannot be read only loses the position, the run that resumes
    /// it says what is wrong).
    pub fn state(&self) -> Result<CellState> {
        Ok(match self.files.existing()? {
            Existing::Record(r) if r.status.diverged() => CellState::Diverged(r),
            Existing::Record(r) => CellState::Finished(r),
            _ if self.locked_elsewhere()? => CellState::Running(self.position()),
            Existing::Checkpoint => CellState::Interrupted(self.position()),
            Existing::Nothing => CellState::Pending,
        })
    }

    /// Where the cell's checkpoint stands, when there is one whose header reads.
    pub fn position(&self) -> Option<Position> {
        Checkpoint::position(&self.files.checkpoint).ok()
    }

    fn locked_elsewhere(&self) -> Result<bool> {
        if !self.lock.exists() {
            return Ok(false);
        }
        let f =
            File::open(&self.lock).with_context(|| format!("opening {}", self.lock.display()))?;
        match f.try_lock_shared() {
            Ok(()) => Ok(false),
            Err(TryLockError::WouldBlock) => Ok(true),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", self.lock.display()))
            }
        }
    }

    /// Takes the cell's lock; `None` when another process holds it.
    pub fn lock(&self) -> Result<Option<CellLock>> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .with_context(|| format!("opening {}", self.lock.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(CellLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", self.lock.display()))
            }
        }
    }
}
