//! What a run leaves behind: per-epoch results, every selection decision, the per-layer
//! gradient statistics, how the run ended and where it came from. Serialized as JSON,
//! written atomically; NaN (a diverged run) is written as `null` and read back as NaN.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::guard::GuardEvent;
use crate::data::DataProvenance;
use crate::method::Decision;
use crate::stats::StatsHistory;

/// One finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub lr: f64,
    pub factor: f64,
    /// Names of the layers amplified in this epoch.
    pub amplified: Vec<String>,
    #[serde(with = "crate::io::nan_as_null")]
    pub train_loss: f64,
    #[serde(with = "crate::io::nan_as_null")]
    pub train_acc: f64,
    #[serde(with = "crate::io::nan_as_null")]
    pub test_acc: f64,
    /// Wall-clock seconds of the epoch (training and evaluation). A measurement, not a result:
    /// the one field (with the times in [`Provenance`]) that differs between a resumed run
    /// and an uninterrupted one.
    pub seconds: f64,
    /// L2 norm of each candidate layer's parameters at the end of the epoch, in the record's
    /// layer order ([`crate::layer_weights::layer_weight_norms`]); empty in records written
    /// before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_norms: Vec<f64>,
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunStatus {
    /// Every epoch ran.
    #[default]
    Finished,
    /// Training stopped because the loss was not finite or exceeded the configured limit.
    /// `epoch` and `step` (both from 0) locate the step; the epochs before it are recorded.
    Diverged {
        epoch: usize,
        step: usize,
        #[serde(with = "crate::io::nan_as_null")]
        loss: f64,
        /// Why, in words ("the loss is NaN", "the loss 3.1e5 exceeds max_loss = 1e4").
        reason: String,
        /// The layers amplified in the epoch it diverged in (not among `epochs`, which
        /// hold finished epochs only); empty in records written before it was kept.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        amplified: Vec<String>,
    },
}

impl RunStatus {
    /// Whether the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self, RunStatus::Diverged { .. })
    }

    /// A short label for tables: `finished`, `diverged (epoch 3, step 17)`. Epoch and step
    /// count from 1 here, as in the tables and progress lines (the fields count from 0):
    /// `step 1` is the epoch's first step.
    pub fn label(&self) -> String {
        match self {
            RunStatus::Finished => "finished".to_string(),
            RunStatus::Diverged { epoch, step, .. } => {
                format!("diverged (epoch {}, step {})", epoch + 1, step + 1)
            }
        }
    }
}

/// Where a run came from: enough to tell two records apart and to redo the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// The model's name (`resnet18`, or the type name when trained from code).
    pub model: String,
    /// Number of classes the model outputs.
    pub classes: usize,
    /// The data set: source, layout, size and content hash.
    pub data: Option<DataProvenance>,
    /// Training images drawn (seeded) from the set, when limited.
    pub limit: Option<usize>,
    /// Test images drawn (seeded) from the set, when limited.
    pub test_limit: Option<usize>,
    /// The run's seed (initialization, data order, augmentation).
    pub seed: u64,
    /// The amp version that trained it.
    pub amp_version: String,
    /// The git commit of the binary's source, when it was built from a git checkout.
    pub git_commit: Option<String>,
    /// The device (`cpu`, `cuda:0`) and the CPU threads used.
    pub device: String,
    pub threads: usize,
    /// Wall-clock start of the run and its end (RFC 3339, UTC); `resumed` lists the starts of
    /// the sessions that continued it from a checkpoint.
    pub started: String,
    pub finished: String,
    pub resumed: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub name: String,
    /// How the run ended (records written before this field existed read as finished).
    #[serde(default)]
    pub status: RunStatus,
    #[serde(default)]
    pub provenance: Provenance,
    /// The experiment config that produced the run (TOML, with every override applied),
    /// empty when trained from code.
    #[serde(default)]
    pub config: String,
    /// The policy, as it describes itself (selector and schedule).
    #[serde(default)]
    pub policy: String,
    /// The tap mode (`output`, `input`, `param`).
    pub mode: String,
    /// Candidate layer names, in forward order.
    pub layers: Vec<String>,
    pub epochs: Vec<EpochRecord>,
    pub decisions: Vec<Decision>,
    pub stats: StatsHistory,
    /// The amplified epochs the loss guard (`amp.guard`, [`super::guard`]) undid and trained
    /// again without amplification; empty when it never fired (or the run had none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guarded: Vec<GuardEvent>,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    // `error`, not `source`: the reason is in the message, and a source would print it twice
    // in an error chain (`{:#}`).
    #[error("{path}: {error}")]
    Io {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: not an amp run record: {error}")]
    Json {
        path: std::path::PathBuf,
        error: serde_json::Error,
    },
}

/// An epoch a run trained in: a finished one, or the one it diverged in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainedEpoch<'a> {
    pub epoch: usize,
    /// The layers amplified in it.
    pub amplified: &'a [String],
    /// Its training loss; for the epoch a run diverged in, the loss it stopped at.
    pub train_loss: f64,
}

impl RunRecord {
    /// The epochs the run trained in: the finished ones, then the one it diverged in (which
    /// `epochs` does not hold), so that what a run did in its last, unfinished epoch counts
    /// wherever a report asks what it amplified or how its loss went.
    pub fn trained_epochs(&self) -> impl Iterator<Item = TrainedEpoch<'_>> {
        let finished = self.epochs.iter().map(|e| TrainedEpoch {
            epoch: e.epoch,
            amplified: &e.amplified,
            train_loss: e.train_loss,
        });
        let diverged = match &self.status {
            RunStatus::Diverged {
                epoch,
                loss,
                amplified,
                ..
            } => Some(TrainedEpoch {
                epoch: *epoch,
                amplified,
                train_loss: *loss,
            }),
            RunStatus::Finished => None,
        };
        finished.chain(diverged)
    }

    /// Whether the loss guard undid `epoch` (and trained it again without amplification).
    pub fn guard_undid(&self, epoch: usize) -> bool {
        self.guarded.iter().any(|g| g.epoch == epoch)
    }

    /// Test accuracy after the last epoch (NaN for a run without epochs or a diverged one).
    pub fn final_test_acc(&self) -> f64 {
        if self.status.diverged() {
            return f64::NAN;
        }
        self.epochs.last().map_or(f64::NAN, |e| e.test_acc)
    }

    /// The best test accuracy over the recorded epochs (NaN when none).
    pub fn best_test_acc(&self) -> f64 {
        self.epochs
            .iter()
            .map(|e| e.test_acc)
            .filter(|a| !a.is_nan())
            .fold(f64::NAN, f64::max)
    }

    /// Writes the record as pretty JSON to `path` atomically: a reader sees the old file or
    /// the new one, never half of one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::io::write_atomic(path, &json)
    }

    /// Reads a record written by [`RunRecord::save`].
    pub fn load(path: &Path) -> Result<RunRecord, RecordError> {
        let bytes = std::fs::read(path).map_err(|error| RecordError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        serde_json::from_slice(&bytes).map_err(|error| RecordError::Json {
            path: path.to_path_buf(),
            error,
        })
    }
}
