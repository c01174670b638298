//! One run as a row of `amp report`: the terminal table, the CSV and the JSON export all
//! show these fields, so that they never disagree.

use std::path::Path;

use amp_core::config::{ExperimentConfig, SelectKind};
use amp_core::train::RunRecord;
use serde::Serialize;

use super::summary::{self, csv_field, csv_num};

/// What `amp report` says about one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// The record file, when the run was read from one.
    pub file: Option<String>,
    pub name: String,
    /// Empty for records written before provenance.
    pub model: String,
    pub seed: u64,
    /// `baseline`, or the selector, factor and tap mode (`intelligent ×2 output`), and the
    /// loss guard where the config sets one (`, guard 1.5 (1 epoch undone)`).
    pub policy: String,
    /// `finished` or `diverged (epoch 3, step 17)`.
    pub status: String,
    pub diverged: bool,
    /// Epochs recorded, and those the config asked for (when the record holds the config).
    pub epochs: usize,
    pub planned_epochs: Option<usize>,
    /// NaN (JSON `null`) for a diverged run or one without epochs.
    #[serde(serialize_with = "amp_core::io::nan_as_null::serialize")]
    pub final_test_acc: f64,
    #[serde(serialize_with = "amp_core::io::nan_as_null::serialize")]
    pub best_test_acc: f64,
    /// Wall time of the recorded epochs.
    pub minutes: f64,
}

impl RunRow {
    pub fn new(r: &RunRecord, file: Option<&Path>) -> RunRow {
        let config = (!r.config.trim().is_empty())
            .then(|| ExperimentConfig::from_toml_str(&r.config, &r.name).ok())
            .flatten();
        RunRow {
            file: file.map(|f| f.display().to_string()),
            name: r.name.clone(),
            model: r.provenance.model.clone(),
            seed: summary::run_seed(r),
            policy: policy(r, config.as_ref()),
            status: r.status.label(),
            diverged: r.status.diverged(),
            epochs: r.epochs.len(),
            planned_epochs: config.as_ref().map(|c| c.train.epochs),
            final_test_acc: r.final_test_acc(),
            best_test_acc: r.best_test_acc(),
            // A fold from +0: a float `sum` starts at -0.0, which prints as "-0.0" for a run
            // that diverged in its first epoch.
            minutes: r.epochs.iter().fold(0.0, |t, e| t + e.seconds) / 60.0,
        }
    }
}

/// A short description of what the run amplified.
fn policy(r: &RunRecord, config: Option<&ExperimentConfig>) -> String {
    let selector = r
        .policy
        .split(" over ")
        .next()
        .filter(|s| !s.is_empty())
        .map(short_selector);
    match config {
        Some(c) if c.amp.select.kind == SelectKind::None => "baseline".to_string(),
        Some(c) => format!(
            "{} ×{} {}{}",
            selector.unwrap_or_else(|| c.amp.select.kind.name().to_string()),
            c.amp.factor,
            r.mode,
            c.amp.guard.map(|g| guard(g, r)).unwrap_or_default()
        ),
        None => match selector {
            Some(s) => format!("{s} {}", r.mode),
            None => r.mode.clone(),
        },
    }
}

/// The loss guard's limit and what it did: `, guard 1.5 (2 epochs undone)`.
fn guard(limit: f64, r: &RunRecord) -> String {
    let undone = (0..r.epochs.len()).filter(|&e| r.guard_undid(e)).count();
    match undone {
        0 => format!(", guard {limit}"),
        1 => format!(", guard {limit} (1 epoch undone)"),
        n => format!(", guard {limit} ({n} epochs undone)"),
    }
}

/// The selector's description with at most its first two settings, to keep the table
/// narrow: `intelligent(cv, mean, above, observe 2, reselect never)` -> `intelligent(cv, mean)`.
fn short_selector(s: &str) -> String {
    match s.split_once('(') {
        Some((name, args)) => {
            let args: Vec<&str> = args.trim_end_matches(')').split(", ").take(2).collect();
            format!("{name}({})", args.join(", "))
        }
        None => s.to_string(),
    }
}

/// The CSV header of [`csv`].
const CSV_HEADER: &str = "file,name,model,seed,policy,status,epochs,planned_epochs,\
final_test_acc,best_test_acc,minutes";

/// Runs as CSV; numbers as [`csv_num`] writes them.
pub fn csv(rows: &[RunRow]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let fields = [
            csv_field(r.file.as_deref().unwrap_or("")),
            csv_field(&r.name),
            csv_field(&r.model),
            r.seed.to_string(),
            csv_field(&r.policy),
            csv_field(&r.status),
            r.epochs.to_string(),
            r.planned_epochs.map_or(String::new(), |e| e.to_string()),
            csv_num(r.final_test_acc),
            csv_num(r.best_test_acc),
            csv_num(r.minutes),
        ];
        out += &fields.join(",");
        out.push('\n');
    }
    out
}
