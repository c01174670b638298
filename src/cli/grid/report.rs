//! `amp grid report`: the paper-style table from whatever is finished.
//!
//! One row per model and configuration (a cell name, over seeds): final and best test
//! accuracy as mean ± sd over the seeds that finished, diverged seeds counted apart (never
//! averaged in), and for amplified configurations the paired difference to their baseline
//! cells seed by seed (mean ± sd, better-in count, paired t-test p-value). Cells not done are
//! listed. Written as Markdown, CSV and JSON, plus a plot of accuracy against learning rate.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::super::run_files::model_id;
use super::super::summary::{csv_field, MeanSd};
use super::cell::{CellDir, CellState};
use super::expand::{Cell, Plan};
use super::paired::PairedDiff;

/// One configuration on one model, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub model: String,
    /// The cells' config name.
    pub config: String,
    pub amplified: bool,
    /// The axes' labels, `(path, label)`.
    pub labels: Vec<(String, String)>,
    /// `train.lr` of the configuration (the plot's x).
    pub lr: f64,
    /// The seeds in the grid, and those finished, diverged, not done.
    pub seeds: Vec<u64>,
    pub finished: Vec<u64>,
    pub diverged: Vec<u64>,
    pub missing: Vec<u64>,
    pub final_acc: MeanSd,
    pub best_acc: MeanSd,
    /// The baseline's config name (amplified rows).
    pub baseline: Option<String>,
    /// Paired with the baseline on final and on best test accuracy.
    pub final_diff: Option<PairedDiff>,
    pub best_diff: Option<PairedDiff>,
    /// Seeds whose baseline diverged (not in the differences).
    pub baseline_diverged: Vec<u64>,
}

/// A cell without a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    pub index: usize,
    pub id: String,
    pub model: String,
    pub config: String,
    pub seed: u64,
    /// `to run`, `interrupted` or `running`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridReport {
    pub grid: String,
    pub cells: usize,
    pub done: usize,
    pub rows: Vec<Row>,
    pub missing: Vec<Missing>,
}

/// Reads every cell's state and builds the report.
pub fn build(plan: &Plan) -> Result<GridReport> {
    let states = plan
        .cells
        .iter()
        .map(|c| CellDir::new(&plan.spec.out, c).state())
        .collect::<Result<Vec<_>>>()?;
    Ok(from_states(plan, &states))
}

/// The report from the cells' states (`states[i]` is cell i's).
pub fn from_states(plan: &Plan, states: &[CellState]) -> GridReport {
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut members: HashMap<(String, String), Vec<&Cell>> = HashMap::new();
    for c in &plan.cells {
        let key = (model_id(c.model), c.config.name.clone());
        if !members.contains_key(&key) {
            groups.push(key.clone());
        }
        members.entry(key).or_default().push(c);
    }
    let rows = groups
        .iter()
        .map(|k| row(plan, states, &members[k]))
        .collect();
    let missing = plan
        .cells
        .iter()
        .zip(states)
        .filter(|(_, s)| !s.done())
        .map(|(c, s)| Missing {
            index: c.index,
            id: c.id.clone(),
            model: model_id(c.model),
            config: c.config.name.clone(),
            seed: c.seed,
            state: s.label().to_string(),
        })
        .collect();
    GridReport {
        grid: plan.spec.file().to_string(),
        cells: plan.cells.len(),
        done: states.iter().filter(|s| s.done()).count(),
        rows,
        missing,
    }
}

fn row(plan: &Plan, states: &[CellState], cells: &[&Cell]) -> Row {
    let first = cells[0];
    let finished_acc = |i: usize, f: fn(&amp_core::train::RunRecord) -> f64| match &states[i] {
        CellState::Finished(r) => f(r),
        _ => f64::NAN,
    };
    let seeds_where = |p: fn(&CellState) -> bool| -> Vec<u64> {
        cells
            .iter()
            .filter(|c| p(&states[c.index]))
            .map(|c| c.seed)
            .collect()
    };
    let accs = |f: fn(&amp_core::train::RunRecord) -> f64| -> Vec<f64> {
        cells
            .iter()
            .map(|c| finished_acc(c.index, f))
            .filter(|a| a.is_finite())
            .collect()
    };
    let use_final = amp_core::train::RunRecord::final_test_acc;
    let use_best = amp_core::train::RunRecord::best_test_acc;
    let paired = |f: fn(&amp_core::train::RunRecord) -> f64| {
        let pairs: Vec<(u64, f64, f64)> = cells
            .iter()
            .filter_map(|c| {
                c.baseline
                    .map(|b| (c.seed, finished_acc(c.index, f), finished_acc(b, f)))
            })
            .collect();
        first.baseline.map(|_| PairedDiff::of(&pairs))
    };
    Row {
        model: model_id(first.model),
        config: first.config.name.clone(),
        amplified: first.amplified(),
        labels: first.labels.clone(),
        lr: first.config.train.lr,
        seeds: cells.iter().map(|c| c.seed).collect(),
        finished: seeds_where(|s| matches!(s, CellState::Finished(_))),
        diverged: seeds_where(|s| matches!(s, CellState::Diverged(_))),
        missing: seeds_where(|s| !s.done()),
        final_acc: MeanSd::of(&accs(use_final)),
        best_acc: MeanSd::of(&accs(use_best)),
        baseline: first.baseline.map(|b| plan.cells[b].config.name.clone()),
        final_diff: paired(use_final),
        best_diff: paired(use_best),
        baseline_diverged: cells
            .iter()
            .filter(|c| {
                c.baseline
                    .is_some_and(|b| matches!(states[b], CellState::Diverged(_)))
            })
            .map(|c| c.seed)
            .collect(),
    }
}

const HEADER: [&str; 12] = [
    "model",
    "config",
    "seeds done",
    "diverged",
    "final acc (mean ± sd)",
    "best acc (mean ± sd)",
    "baseline",
    "Δ final (mean ± sd)",
    "better in",
    "p (paired t)",
    "Δ best (mean ± sd)",
    "baseline diverged",
];

fn cells(r: &Row) -> [String; 12] {
    let dash = || "—".to_string();
    let d = r.final_diff.as_ref();
    [
        r.model.clone(),
        r.config.clone(),
        format!("{}/{}", r.finished.len() + r.diverged.len(), r.seeds.len()),
        r.diverged.len().to_string(),
        r.final_acc.display(false),
        r.best_acc.display(false),
        r.baseline.clone().unwrap_or_else(dash),
        d.map_or_else(dash, |d| d.difference.display(true)),
        d.map_or_else(dash, |d| format!("{}/{}", d.better, d.difference.n)),
        d.map_or_else(dash, PairedDiff::p_display),
        r.best_diff
            .as_ref()
            .map_or_else(dash, |d| d.difference.display(true)),
        if r.amplified {
            r.baseline_diverged.len().to_string()
        } else {
            dash()
        },
    ]
}

/// The table as Markdown, with the cells not done listed below it.
pub fn markdown(report: &GridReport) -> String {
    let line = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    let mut out = line(&HEADER.map(String::from));
    out += &format!("|{}\n", "---|".repeat(HEADER.len()));
    for r in &report.rows {
        out += &line(&cells(r));
    }
    out += &format!("\n{} of {} cells done.", report.done, report.cells);
    if report.missing.is_empty() {
        out.push('\n');
    } else {
        out += &format!(" Not done ({}):\n\n", report.missing.len());
        for m in &report.missing {
            out += &format!(
                "- [{}] {} {} on {}, seed {}: {}\n",
                m.index, m.id, m.config, m.model, m.seed, m.state
            );
        }
    }
    out
}

const CSV_HEADER: &str = "model,config,amplified,lr,seeds,finished,diverged,missing,final_n,\
final_mean,final_sd,best_n,best_mean,best_sd,baseline,final_diff_n,final_diff_mean,\
final_diff_sd,better,p_value,best_diff_n,best_diff_mean,best_diff_sd,best_better,\
best_p_value,baseline_diverged";

/// One line per row; plain numbers, empty where none exists, seed lists space-separated.
pub fn csv(report: &GridReport) -> String {
    let num = |v: f64| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
    let seeds = |s: &[u64]| s.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    let diff = |d: &Option<PairedDiff>| match d {
        Some(d) => vec![
            d.difference.n.to_string(),
            num(d.difference.mean),
            num(d.difference.sd),
            d.better.to_string(),
            d.p_value.map_or(String::new(), num),
        ],
        None => vec![String::new(); 5],
    };
    let mut out = format!("{CSV_HEADER}\n");
    for r in &report.rows {
        let mut f = vec![
            csv_field(&r.model),
            csv_field(&r.config),
            r.amplified.to_string(),
            num(r.lr),
            seeds(&r.seeds),
            seeds(&r.finished),
            seeds(&r.diverged),
            seeds(&r.missing),
            r.final_acc.n.to_string(),
            num(r.final_acc.mean),
            num(r.final_acc.sd),
            r.best_acc.n.to_string(),
            num(r.best_acc.mean),
            num(r.best_acc.sd),
            csv_field(r.baseline.as_deref().unwrap_or("")),
        ];
        f.extend(diff(&r.final_diff));
        f.extend(diff(&r.best_diff));
        f.push(seeds(&r.baseline_diverged));
        out += &f.join(",");
        out.push('\n');
    }
    out
}

/// Writes `report.md`, `report.csv`, `report.json` and `report.png` into `dir`, atomically.
pub fn write_all(dir: &Path, report: &GridReport) -> Result<()> {
    let json =
        serde_json::to_string_pretty(report).expect("a report is always representable in JSON");
    for (file, text) in [
        ("report.md", markdown(report)),
        ("report.csv", csv(report)),
        ("report.json", json),
    ] {
        let path = dir.join(file);
        amp_core::io::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let png = dir.join("report.png");
    super::plot::accuracy_vs_lr(report, &png)
        .with_context(|| format!("writing the plot {}", png.display()))
}
