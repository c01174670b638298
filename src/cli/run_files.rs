//! Where a run's files go in `--out`, and what is already there.
//!
//! A run is `<name>-<model>-seed<seed>`: its record `<stem>.json` (written once, when the run
//! is over) and its checkpoint `<stem>.ckpt.safetensors` (rewritten after every epoch; after
//! the last one it holds the trained weights). The name comes from a validated config, so it
//! cannot hold a path separator or start with a dot: files stay inside `--out`. While a
//! process trains the run it holds `<stem>.lock` (`flock`, released by the kernel when the
//! process ends, however it ends), so that a second `amp train` or `sweep` of the same run
//! into the same folder, or its `--force`, cannot interleave with it or delete its files.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use amp_core::train::{Position, RunRecord};
use anyhow::{Context, Result};

/// The files of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    pub stem: String,
    pub record: PathBuf,
    pub checkpoint: PathBuf,
}

/// Held while this process trains the run (see the module docs).
pub struct RunLock {
    _file: File,
}

/// What `--out` already holds for a run.
#[derive(Debug)]
pub enum Existing {
    /// Nothing: a fresh run.
    Nothing,
    /// A finished (or diverged) run's record.
    Record(Box<RunRecord>),
    /// A checkpoint without a record: an interrupted run.
    Checkpoint,
}

/// How a checkpoint's file name ends (`<name>-<model>-seed<seed>.ckpt.safetensors`).
pub const CHECKPOINT_SUFFIX: &str = ".ckpt.safetensors";

impl RunFiles {
    pub fn new(out: &Path, name: &str, model: &str, seed: u64) -> Self {
        let stem = format!("{name}-{model}-seed{seed}");
        Self {
            record: out.join(format!("{stem}.json")),
            checkpoint: out.join(format!("{stem}{CHECKPOINT_SUFFIX}")),
            stem,
        }
    }

    /// The files of the run whose checkpoint is `checkpoint` (its record is the `.json` of
    /// the same stem beside it), or None for a path not named as a checkpoint.
    pub fn of_checkpoint(checkpoint: &Path) -> Option<Self> {
        let name = checkpoint.file_name()?.to_str()?;
        let stem = name.strip_suffix(CHECKPOINT_SUFFIX)?;
        Some(Self {
            record: checkpoint.with_file_name(format!("{stem}.json")),
            checkpoint: checkpoint.to_path_buf(),
            stem: stem.to_string(),
        })
    }

    /// The lock file beside the record.
    fn lock_path(&self) -> PathBuf {
        self.record.with_file_name(format!("{}.lock", self.stem))
    }

    /// Takes the run's lock, or says that another process holds it.
    pub fn lock(&self) -> Result<RunLock> {
        let path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "another amp process is training {} into this folder ({} is locked); \
                 wait for it to finish or stop it, then run this again",
                self.stem,
                path.display()
            ),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Writes the record of a run that is over (atomically, as `RunRecord::save` does).
    pub fn save_record(&self, record: &RunRecord) -> Result<()> {
        record
            .save(&self.record)
            .with_context(|| format!("writing the run record {}", self.record.display()))
    }

    /// What is there; an unreadable record is an error naming it (never overwritten).
    pub fn existing(&self) -> Result<Existing> {
        if self.record.exists() {
            let r = RunRecord::load(&self.record).with_context(|| {
                format!(
                    "{} exists but cannot be read as a run record; move it away or use --force",
                    self.record.display()
                )
            })?;
            return Ok(Existing::Record(Box::new(r)));
        }
        if self.checkpoint.exists() {
            return Ok(Existing::Checkpoint);
        }
        Ok(Existing::Nothing)
    }

    /// Removes the run's record and checkpoint (for `--force`).
    pub fn remove(&self) -> Result<()> {
        for p in [&self.record, &self.checkpoint] {
            match std::fs::remove_file(p) {
                Ok(()) => eprintln!("--force: removed {}", p.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("--force: removing {}", p.display()))
                }
            }
        }
        Ok(())
    }
}

/// Checks that `out` is (or can be made) a folder amp can write to, before any training.
pub fn check_out_dir(out: &Path) -> Result<()> {
    let fail = |why: String| anyhow::anyhow!("--out {}: {why}", out.display());
    if out.exists() && !out.is_dir() {
        return Err(fail("exists and is not a folder".into()));
    }
    std::fs::create_dir_all(out).map_err(|e| fail(format!("cannot create the folder: {e}")))?;
    let probe = out.join(format!(".amp-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| fail(format!("cannot write there: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The model's name as the command line spells it (`resnet18`), for file names and records.
pub fn model_id(model: super::args::ModelName) -> String {
    use clap::ValueEnum;
    model
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_else(|| format!("{model:?}").to_lowercase())
}

/// `9/16 epochs`, or `3/16 epochs + 12 steps` for a run stopped inside an epoch.
pub fn epochs_done(at: Position, epochs: usize) -> String {
    let steps = match at.step {
        0 => String::new(),
        1 => " + 1 step".into(),
        n => format!(" + {n} steps"),
    };
    format!("{}/{epochs} epochs{steps}", at.epoch)
}
