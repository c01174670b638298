//! What a run leaves behind: per-epoch results, every selection decision, and the per-layer
//! gradient statistics. Serialized as JSON, written atomically.

use std::path::Path;

use serde::{Deserialize, Serialize};

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
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_acc: f64,
    /// Wall-clock seconds of the epoch (training and evaluation).
    pub seconds: f64,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub name: String,
    /// The experiment config that produced the run (TOML), empty when trained from code.
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
}

impl RunRecord {
    /// Test accuracy after the last epoch (NaN for a run without epochs).
    pub fn final_test_acc(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.test_acc)
    }

    /// Writes the record as pretty JSON to `path` atomically: a reader sees the old file or
    /// the new one, never half of one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::io::write_atomic(path, &json)
    }
}
