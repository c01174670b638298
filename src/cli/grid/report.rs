//! `amp grid report`: the paper-style table from whatever is finished.
//!
//! One row per model and configuration (a cell name, over seeds): how many layers were
//! amplified, in how many seeds the loss guard undid an epoch, final and best test accuracy
//! as mean ± sd over the seeds that finished, diverged seeds counted apart (never averaged
//! in), and for amplified configurations the paired difference to their baseline cells seed
//! by seed (mean ± sd, better-in count, paired t-test p-value). Cells not done are listed.
//! Written as Markdown, CSV and JSON, plus a plot of accuracy against learning rate.
//!
//! Several grid files can be reported as one table: a follow-up grid that writes into an
//! earlier one's folder (another factor, another mode) reuses that grid's baselines, and the
//! report pairs its cells with them. A cell two files list is counted once. Each report's
//! files are named after its grid files (`report-<stem>.md`), so grids sharing a folder keep
//! their own reports.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use amp_core::train::RunRecord;
use anyhow::{Context, Result};
use serde::Serialize;

use super::super::paired::PairedDiff;
use super::super::per_seed::{self, SeedResult, SeedRow};
use super::super::run_files::model_id;
use super::super::summary::{csv_field, csv_num, markdown_line as line, MeanSd};
use super::super::versus::{self, Versus};
use super::cell::{CellDir, CellState};
use super::expand::{Cell, Plan};

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
    /// The configuration's loss guard (`amp.guard`), and the seeds with a record whose guard
    /// undid at least one amplified epoch: how often the guard, not the amplification, decided
    /// a seed's result (an undone epoch trains as the baseline's did).
    pub guard: Option<f64>,
    pub guarded: Vec<u64>,
    /// Per seed with a record, the layers it amplified in any epoch (amplified rows): how
    /// much was amplified, e.g. how far `output` mode compounds down a stack.
    pub layers: Vec<SeedLayers>,
    /// Per seed whose run and baseline both recorded weight norms (amplified rows): the layer
    /// whose weights grew most against the baseline's. What amplification did to the weights,
    /// beside what it did to the accuracy.
    pub weight_growth: Vec<WeightGrowth>,
    /// Every seed of the row, in plan order: its final accuracy and, amplified rows, its
    /// difference to its baseline (the report's per-seed table).
    pub per_seed: Vec<SeedResult>,
}

/// The layer whose weights one seed's amplified run grew most, against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightGrowth {
    pub seed: u64,
    pub layer: String,
    /// The layer's parameter norm over the baseline's, after `epoch` (from 0): the amplified
    /// run's last recorded epoch (a diverged run's last before it diverged).
    pub ratio: f64,
    pub epoch: usize,
}

impl WeightGrowth {
    /// From an amplified run's record and its baseline's; `None` where either lacks weight
    /// norms for the amplified run's last epoch, or no norm is positive and finite.
    fn of(seed: u64, run: &RunRecord, baseline: &RunRecord) -> Option<WeightGrowth> {
        let last = run.epochs.last()?;
        let base = baseline.epochs.iter().find(|e| e.epoch == last.epoch)?;
        if last.weight_norms.len() != run.layers.len()
            || base.weight_norms.len() != last.weight_norms.len()
        {
            return None;
        }
        let (i, ratio) = (last.weight_norms.iter().zip(&base.weight_norms))
            .map(|(a, b)| a / b)
            .enumerate()
            .filter(|(_, r)| r.is_finite() && *r > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        Some(WeightGrowth {
            seed,
            layer: run.layers[i].clone(),
            ratio,
            epoch: last.epoch,
        })
    }
}

/// The layers one seed's run amplified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedLayers {
    pub seed: u64,
    /// Amplified in at least one epoch (a diverged run's last, unfinished one included), in
    /// forward order.
    pub amplified: Vec<String>,
    /// The model's candidate layers.
    pub candidates: usize,
}

impl SeedLayers {
    fn of(seed: u64, r: &RunRecord) -> SeedLayers {
        let hit = |name: &String| r.trained_epochs().any(|e| e.amplified.contains(name));
        SeedLayers {
            seed,
            amplified: r.layers.iter().filter(|l| hit(l)).cloned().collect(),
            candidates: r.layers.len(),
        }
    }
}

impl Row {
    /// The fewest and most layers a seed amplified, and the candidate count; `None` without
    /// a record.
    fn layer_counts(&self) -> Option<(usize, usize, usize)> {
        let counts = self.layers.iter().map(|l| l.amplified.len());
        let of = self.layers.iter().map(|l| l.candidates).max()?;
        Some((counts.clone().min()?, counts.max()?, of))
    }

    /// The smallest and largest of the seeds' weight growths; `None` without any.
    fn growth_range(&self) -> Option<(f64, f64)> {
        let r = self.weight_growth.iter().map(|g| g.ratio);
        Some((r.clone().min_by(f64::total_cmp)?, r.max_by(f64::total_cmp)?))
    }

    /// `86x`, or `15-86x` where seeds differ (two significant digits); `—` without any.
    pub fn growth_display(&self) -> String {
        let x = |v: f64| {
            if v >= 9.95 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        match self.growth_range() {
            Some((lo, hi)) if x(lo) == x(hi) => format!("{}x", x(hi)),
            Some((lo, hi)) => format!("{}-{}x", x(lo), x(hi)),
            None => "—".to_string(),
        }
    }

    /// `3 of 8 seeds`: of the seeds with a record (finished or diverged), those whose loss
    /// guard undid an epoch; `—` without a guard.
    pub fn guard_display(&self) -> String {
        let with_record = self.finished.len() + self.diverged.len();
        match self.guard {
            Some(_) => format!("{} of {with_record} seeds", self.guarded.len()),
            None => "—".to_string(),
        }
    }

    /// `7 of 18`, or `7-9 of 18` where seeds differ; `—` for baselines and rows without a
    /// record.
    pub fn layers_display(&self) -> String {
        match self.layer_counts() {
            Some((lo, hi, of)) if self.amplified && lo == hi => format!("{lo} of {of}"),
            Some((lo, hi, of)) if self.amplified => format!("{lo}-{hi} of {of}"),
            _ => "—".to_string(),
        }
    }
}

/// A cell without a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    /// The grid file that lists it, and its index there.
    pub grid: String,
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
    /// The grid files reported on together.
    pub grids: Vec<String>,
    /// Distinct cells: one listed by several of the files (a shared baseline) counts once.
    pub cells: usize,
    pub done: usize,
    pub rows: Vec<Row>,
    pub missing: Vec<Missing>,
    /// What `--versus` asked for: configurations against each other.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versus: Vec<Versus>,
}

impl GridReport {
    /// The rows' seeds, for the per-seed table and the long CSV.
    pub fn seed_rows(&self) -> Vec<SeedRow<'_>> {
        self.rows
            .iter()
            .map(|r| SeedRow {
                model: &r.model,
                config: &r.config,
                amplified: r.amplified,
                seeds: &r.per_seed,
            })
            .collect()
    }
}

/// One grid file's cells and their states (`states[i]` is cell i's).
pub type Source<'a> = (&'a Plan, &'a [CellState]);

/// Reads every cell's state and builds one report over the grid files' cells.
pub fn build(plans: &[Plan]) -> Result<GridReport> {
    let states = plans
        .iter()
        .map(|p| {
            p.cells
                .iter()
                .map(|c| CellDir::new(&p.spec.out, c).state())
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let sources: Vec<Source> = plans
        .iter()
        .zip(&states)
        .map(|(p, s)| (p, &s[..]))
        .collect();
    from_states(&sources).map_err(anyhow::Error::msg)
}

/// A cell of the report: what its grid file says of it, its state, its baseline's entry.
struct Entry<'a> {
    grid: &'a str,
    cell: &'a Cell,
    state: &'a CellState,
    baseline: Option<usize>,
}

/// The cells of all sources, each once: grid files that share a results folder (a follow-up
/// grid reusing the baselines of an earlier one) list the same cell, with the same id, each.
fn entries<'a>(sources: &[Source<'a>]) -> Vec<Entry<'a>> {
    // `out` without `.` components, so `./runs/x` and `runs/x` are one folder.
    let key = |plan: &Plan, cell: &'a Cell| {
        let out: PathBuf = plan
            .spec
            .out
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        (out, cell.id.as_str())
    };
    let mut at = HashMap::new();
    let mut out: Vec<Entry> = Vec::new();
    for &(plan, states) in sources {
        for c in &plan.cells {
            at.entry(key(plan, c)).or_insert_with(|| {
                out.push(Entry {
                    grid: plan.spec.file(),
                    cell: c,
                    state: &states[c.index],
                    baseline: None,
                });
                out.len() - 1
            });
        }
    }
    for &(plan, _) in sources {
        for c in &plan.cells {
            if let Some(b) = c.baseline {
                out[at[&key(plan, c)]].baseline = Some(at[&key(plan, &plan.cells[b])]);
            }
        }
    }
    out
}

/// The report from the cells' states: one row per model and cell name over the sources.
///
/// Fails when two different cells (different ids: another data subset, or another config
/// under the same name) would be the same seed of one row.
pub fn from_states(sources: &[Source]) -> Result<GridReport, String> {
    let entries = entries(sources);
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut members: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let key = (model_id(e.cell.model), e.cell.config.name.clone());
        let group = members.entry(key.clone()).or_default();
        if group.is_empty() {
            groups.push(key);
        }
        if let Some(&j) = group.iter().find(|&&j| entries[j].cell.seed == e.cell.seed) {
            let (a, b) = (&entries[j], e);
            return Err(format!(
                "{} and {} both hold `{}` on {}, seed {}, as different runs (cells {} and {}): \
                 report them separately",
                a.grid,
                b.grid,
                a.cell.config.name,
                model_id(a.cell.model),
                a.cell.seed,
                a.cell.id,
                b.cell.id
            ));
        }
        group.push(i);
    }
    let rows = groups.iter().map(|k| row(&entries, &members[k])).collect();
    let missing = entries
        .iter()
        .filter(|e| !e.state.done())
        .map(|e| Missing {
            grid: e.grid.to_string(),
            index: e.cell.index,
            id: e.cell.id.clone(),
            model: model_id(e.cell.model),
            config: e.cell.config.name.clone(),
            seed: e.cell.seed,
            state: e.state.describe(e.cell.config.train.epochs),
        })
        .collect();
    Ok(GridReport {
        grids: sources
            .iter()
            .map(|(p, _)| p.spec.file().to_string())
            .collect(),
        cells: entries.len(),
        done: entries.iter().filter(|e| e.state.done()).count(),
        rows,
        missing,
        versus: Vec::new(),
    })
}

/// A seed of a row: its entry and its baseline's (amplified cells).
struct Member<'e, 'a> {
    entry: &'e Entry<'a>,
    baseline: Option<&'e Entry<'a>>,
}

impl Member<'_, '_> {
    fn seed(&self) -> u64 {
        self.entry.cell.seed
    }

    fn record(&self) -> Option<&RunRecord> {
        self.entry.state.record()
    }

    /// The seed's line of the per-seed table and CSV.
    fn result(&self) -> SeedResult {
        let baseline = self.baseline.map(|b| b.state.outcome());
        SeedResult::new(self.seed(), self.entry.state.outcome(), baseline)
            .with_run(self.record(), self.baseline.and_then(|b| b.state.record()))
    }
}

/// `f` of a finished cell's record; NaN for a cell that did not finish.
fn finished_acc(e: &Entry, f: fn(&RunRecord) -> f64) -> f64 {
    match e.state {
        CellState::Finished(r) => f(r),
        _ => f64::NAN,
    }
}

/// One row from its members (indexes into `entries`, in plan order).
fn row(entries: &[Entry], members: &[usize]) -> Row {
    let members: Vec<Member> = members
        .iter()
        .map(|&i| Member {
            entry: &entries[i],
            baseline: entries[i].baseline.map(|b| &entries[b]),
        })
        .collect();
    let first = &members[0];
    let seeds_where = |p: &dyn Fn(&Member) -> bool| -> Vec<u64> {
        members.iter().filter(|m| p(m)).map(Member::seed).collect()
    };
    let accs = |f: fn(&RunRecord) -> f64| -> Vec<f64> {
        let accs = members.iter().map(|m| finished_acc(m.entry, f));
        accs.filter(|a| a.is_finite()).collect()
    };
    let paired = |f: fn(&RunRecord) -> f64| {
        let pairs: Vec<(u64, f64, f64)> = members
            .iter()
            .filter_map(|m| {
                Some((
                    m.seed(),
                    finished_acc(m.entry, f),
                    finished_acc(m.baseline?, f),
                ))
            })
            .collect();
        first.baseline.map(|_| PairedDiff::of(&pairs))
    };
    let cell = first.entry.cell;
    Row {
        model: model_id(cell.model),
        config: cell.config.name.clone(),
        amplified: cell.amplified(),
        labels: cell.labels.clone(),
        lr: cell.config.train.lr,
        seeds: members.iter().map(Member::seed).collect(),
        finished: seeds_where(&|m| matches!(m.entry.state, CellState::Finished(_))),
        diverged: seeds_where(&|m| matches!(m.entry.state, CellState::Diverged(_))),
        missing: seeds_where(&|m| !m.entry.state.done()),
        final_acc: MeanSd::of(&accs(RunRecord::final_test_acc)),
        best_acc: MeanSd::of(&accs(RunRecord::best_test_acc)),
        baseline: first.baseline.map(|b| b.cell.config.name.clone()),
        final_diff: paired(RunRecord::final_test_acc),
        best_diff: paired(RunRecord::best_test_acc),
        baseline_diverged: seeds_where(&|m| {
            m.baseline
                .is_some_and(|b| matches!(b.state, CellState::Diverged(_)))
        }),
        guard: cell.config.amp.guard,
        guarded: seeds_where(&|m| m.record().is_some_and(|r| !r.guarded.is_empty())),
        layers: members
            .iter()
            .filter_map(|m| Some(SeedLayers::of(m.seed(), m.record()?)))
            .collect(),
        weight_growth: members
            .iter()
            .filter_map(|m| WeightGrowth::of(m.seed(), m.record()?, m.baseline?.state.record()?))
            .collect(),
        per_seed: members.iter().map(Member::result).collect(),
    }
}

const HEADER: [&str; 16] = [
    "model",
    "config",
    "seeds done",
    "diverged",
    "layers amplified",
    "max ‖w‖ / baseline",
    "guard undid",
    "final acc (mean ± sd)",
    "best acc (mean ± sd)",
    "baseline",
    "Δ final (mean ± sd)",
    "95% CI of Δ final",
    "better in",
    "p (paired t)",
    "Δ best (mean ± sd)",
    "baseline diverged",
];

fn cells(r: &Row) -> [String; 16] {
    let dash = || "—".to_string();
    let d = r.final_diff.as_ref();
    [
        r.model.clone(),
        r.config.clone(),
        format!("{}/{}", r.finished.len() + r.diverged.len(), r.seeds.len()),
        r.diverged.len().to_string(),
        r.layers_display(),
        r.growth_display(),
        r.guard_display(),
        r.final_acc.display(false),
        r.best_acc.display(false),
        r.baseline.clone().unwrap_or_else(dash),
        d.map_or_else(dash, |d| d.difference.display(true)),
        d.map_or_else(dash, PairedDiff::ci_display),
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
    let mut out = line(&HEADER.map(String::from));
    out += &format!("|{}\n", "---|".repeat(HEADER.len()));
    for r in &report.rows {
        out += &line(&cells(r));
    }
    out += &format!("\n{}", per_seed::markdown(&report.seed_rows()));
    if !report.versus.is_empty() {
        out += &format!("\n{}", versus::markdown(&report.versus));
    }
    out += &format!("\n{} of {} cells done.", report.done, report.cells);
    if report.missing.is_empty() {
        out.push('\n');
    } else {
        out += &format!(" Not done ({}):\n\n", report.missing.len());
        for m in &report.missing {
            out += &format!(
                "- [{}] {} {} on {}, seed {}: {}",
                m.index, m.id, m.config, m.model, m.seed, m.state
            );
            if report.grids.len() > 1 {
                out += &format!(" ({})", m.grid);
            }
            out.push('\n');
        }
    }
    out
}

const CSV_HEADER: &str = "model,config,amplified,lr,seeds,finished,diverged,missing,final_n,\
final_mean,final_sd,best_n,best_mean,best_sd,baseline,final_diff_n,final_diff_mean,\
final_diff_sd,better,p_value,final_diff_ci_low,final_diff_ci_high,best_diff_n,\
best_diff_mean,best_diff_sd,best_better,best_p_value,best_diff_ci_low,best_diff_ci_high,\
baseline_diverged,layers_min,layers_max,candidates,weight_growth_min,weight_growth_max,guard,\
guarded";

/// One line per row; numbers as [`csv_num`] writes them, seed lists space-separated.
pub fn csv(report: &GridReport) -> String {
    let seeds = |s: &[u64]| s.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    let diff = |d: &Option<PairedDiff>| match d {
        Some(d) => vec![
            d.difference.n.to_string(),
            csv_num(d.difference.mean),
            csv_num(d.difference.sd),
            d.better.to_string(),
            d.p_value.map_or(String::new(), csv_num),
            d.ci95.map_or(String::new(), |c| csv_num(c.0)),
            d.ci95.map_or(String::new(), |c| csv_num(c.1)),
        ],
        None => vec![String::new(); 7],
    };
    let mut out = format!("{CSV_HEADER}\n");
    for r in &report.rows {
        let mut f = vec![
            csv_field(&r.model),
            csv_field(&r.config),
            r.amplified.to_string(),
            csv_num(r.lr),
            seeds(&r.seeds),
            seeds(&r.finished),
            seeds(&r.diverged),
            seeds(&r.missing),
            r.final_acc.n.to_string(),
            csv_num(r.final_acc.mean),
            csv_num(r.final_acc.sd),
            r.best_acc.n.to_string(),
            csv_num(r.best_acc.mean),
            csv_num(r.best_acc.sd),
            csv_field(r.baseline.as_deref().unwrap_or("")),
        ];
        f.extend(diff(&r.final_diff));
        f.extend(diff(&r.best_diff));
        f.push(seeds(&r.baseline_diverged));
        let counts = r.layer_counts();
        let count = |c: Option<usize>| c.map_or(String::new(), |c| c.to_string());
        f.push(count(counts.map(|c| c.0)));
        f.push(count(counts.map(|c| c.1)));
        f.push(count(counts.map(|c| c.2)));
        let growth = r.growth_range();
        f.push(growth.map_or(String::new(), |g| csv_num(g.0)));
        f.push(growth.map_or(String::new(), |g| csv_num(g.1)));
        f.push(r.guard.map_or(String::new(), csv_num));
        f.push(seeds(&r.guarded));
        out += &f.join(",");
        out.push('\n');
    }
    out
}

/// The reports' file name without extension: `report-` and the grid files' stems.
pub fn default_name(files: &[PathBuf]) -> String {
    let stems: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_stem()
                .unwrap_or(f.as_os_str())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    format!("report-{}", stems.join("+"))
}

/// Writes `NAME.md`, `NAME.csv`, `NAME-seeds.csv` (a line per seed), `NAME.json`,
/// `NAME.png` (accuracy) and `NAME-diff.png` (paired differences) into `dir`, atomically.
pub fn write_all(dir: &Path, name: &str, report: &GridReport) -> Result<()> {
    let json =
        serde_json::to_string_pretty(report).expect("a report is always representable in JSON");
    for (suffix, text) in [
        (".md", markdown(report)),
        (".csv", csv(report)),
        ("-seeds.csv", per_seed::csv(&report.seed_rows())),
        (".json", json),
    ] {
        let path = dir.join(format!("{name}{suffix}"));
        amp_core::io::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let png = dir.join(format!("{name}.png"));
    super::plot::accuracy_vs_lr(report, &png)
        .with_context(|| format!("writing the plot {}", png.display()))?;
    let png = dir.join(format!("{name}-diff.png"));
    super::diff_plot::paired_differences(report, &png)
        .with_context(|| format!("writing the plot {}", png.display()))
}
