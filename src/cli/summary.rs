//! The comparison that `amp sweep` writes and `amp report --summary` rebuilds from records:
//! runs grouped by config, each amplified run paired with the baseline of the same model,
//! seed, data and recipe, mean ± sd over seeds, the paired difference and a better-in count.
//!
//! Pairing by seed matters: seed noise between runs is often as large as the effect, and the
//! paired difference removes the part of it that both runs of a seed share. Diverged runs
//! are counted apart and never averaged in (their accuracy is not a number).

use std::collections::BTreeMap;
use std::path::Path;

use amp_core::config::{AmpConfig, ExperimentConfig, SelectKind};
use amp_core::train::RunRecord;
use anyhow::{Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;

use super::paired;
use super::per_seed::{self, SeedOutcome, SeedResult, SeedRow};

/// Mean and sample standard deviation (n − 1) of some numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSd {
    /// How many numbers.
    pub n: usize,
    /// NaN (JSON `null`) when `n == 0`.
    #[serde(serialize_with = "amp_core::io::nan_as_null::serialize")]
    pub mean: f64,
    /// NaN (JSON `null`) when `n < 2`.
    #[serde(serialize_with = "amp_core::io::nan_as_null::serialize")]
    pub sd: f64,
}

impl MeanSd {
    /// The mean and sample standard deviation of `values`.
    pub fn of(values: &[f64]) -> MeanSd {
        let n = values.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / n as f64
        };
        let sd = if n < 2 {
            f64::NAN
        } else {
            let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (ss / (n - 1) as f64).sqrt()
        };
        MeanSd { n, mean, sd }
    }

    /// `0.8123 ± 0.0100`, `0.8123` for one number, `—` for none; `signed` writes `+0.0100`.
    pub fn display(&self, signed: bool) -> String {
        if self.n == 0 || self.mean.is_nan() {
            return "—".to_string();
        }
        let mean = if signed {
            format!("{:+.4}", self.mean)
        } else {
            format!("{:.4}", self.mean)
        };
        if self.sd.is_nan() {
            mean
        } else {
            format!("{mean} ± {:.4}", self.sd)
        }
    }
}

/// Whether a group's runs amplify layers or are baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Amplified,
    Baseline,
}

/// The baselines paired with an amplified group, one per seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// Seeds of the amplified runs that have a baseline.
    pub seeds: Vec<u64>,
    /// Paired baselines that diverged.
    pub diverged: usize,
    /// Final and best test accuracy of the paired baselines that finished.
    pub final_acc: MeanSd,
    pub best_acc: MeanSd,
    /// Final test accuracy, amplified − baseline, over the seeds where both finished.
    pub difference: MeanSd,
    /// Of those seeds, how many the amplified run is strictly better in.
    pub better: usize,
    /// Two-sided p-value of the paired t-test on `difference`; `null` with fewer than 2
    /// pairs or when every difference is the same.
    pub p_value: Option<f64>,
    /// The 95% interval of the mean difference; `null` with fewer than 2 pairs.
    pub ci95: Option<(f64, f64)>,
}

/// One row of the comparison: the runs of one config (name) on one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The config's name (`record.name`).
    pub name: String,
    pub model: String,
    pub role: Role,
    /// Seeds of the group's runs, ascending (a seed appears once per run).
    pub seeds: Vec<u64>,
    /// Runs that diverged (not in the accuracies below).
    pub diverged: usize,
    /// Final and best test accuracy over the runs that finished.
    pub final_acc: MeanSd,
    pub best_acc: MeanSd,
    /// The paired baselines (amplified groups only).
    pub baseline: Option<Paired>,
    /// Seeds of amplified runs without a matching baseline (not in `baseline`).
    pub unpaired: Vec<u64>,
    /// Every run of the group, by seed: its final accuracy and, amplified runs with a
    /// baseline, the difference to it (the per-seed table).
    pub per_seed: Vec<SeedResult>,
}

/// What pairs a run with its baseline: everything but the amplification.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PairKey {
    model: String,
    seed: u64,
    data: Option<String>,
    limit: Option<usize>,
    test_limit: Option<usize>,
    recipe: String,
}

/// How a record takes part: its role and, when its config can be read, its pairing key.
struct Classified<'a> {
    record: &'a RunRecord,
    role: Role,
    key: Option<PairKey>,
}

fn classify(record: &RunRecord) -> Classified<'_> {
    let config = (!record.config.trim().is_empty())
        .then(|| ExperimentConfig::from_toml_str(&record.config, &record.name).ok())
        .flatten();
    let Some(config) = config else {
        // Trained from code, or a config this version cannot read: the epochs tell the role.
        let amplifies = record.epochs.iter().any(|e| !e.amplified.is_empty());
        let role = if amplifies {
            Role::Amplified
        } else {
            Role::Baseline
        };
        return Classified {
            record,
            role,
            key: None,
        };
    };
    let role = if config.amp.select.kind == SelectKind::None {
        Role::Baseline
    } else {
        Role::Amplified
    };
    let key = PairKey {
        model: record.provenance.model.clone(),
        seed: seed_of(record, &config),
        data: record
            .provenance
            .data
            .as_ref()
            .and_then(|d| d.content_hash.clone()),
        limit: record.provenance.limit,
        test_limit: record.provenance.test_limit,
        recipe: recipe_key(&config),
    };
    Classified {
        record,
        role,
        key: Some(key),
    }
}

/// The seed of a run: the provenance's, or the config's in records written before provenance.
pub fn run_seed(record: &RunRecord) -> u64 {
    if !record.provenance.amp_version.is_empty() || record.config.trim().is_empty() {
        return record.provenance.seed;
    }
    ExperimentConfig::from_toml_str(&record.config, &record.name)
        .map_or(record.provenance.seed, |c| c.train.seed)
}

/// [`run_seed`] with the config already parsed.
fn seed_of(record: &RunRecord, config: &ExperimentConfig) -> u64 {
    if record.provenance.amp_version.is_empty() {
        config.train.seed
    } else {
        record.provenance.seed
    }
}

fn seed(c: &Classified) -> u64 {
    c.key.as_ref().map_or(c.record.provenance.seed, |k| k.seed)
}

/// The training recipe of a config: its baseline's TOML without the name line and with the
/// amplification settings (which do nothing in a baseline) at their defaults, and a
/// written-out default schedule dropped (it trains as the omitted one). The seed stays: it is
/// part of the pairing anyway.
pub fn recipe_key(config: &ExperimentConfig) -> String {
    let mut base = config.baseline();
    base.amp = AmpConfig::default();
    if let Some(phases) = base.schedule.as_mut() {
        for p in phases {
            p.amplify = false;
            p.factor = None;
        }
    }
    base.drop_default_schedule();
    base.to_toml()
        .lines()
        .filter(|l| !l.trim_start().starts_with("name ") && !l.trim_start().starts_with("name="))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Groups `records` by (model, name) and pairs each amplified run with the baseline of the
/// same model, seed, data hash, limits and recipe. Amplified groups come first, then the
/// baseline groups, each sorted by model and name.
pub fn compare(records: &[RunRecord]) -> Vec<Comparison> {
    let runs: Vec<Classified> = records.iter().map(classify).collect();
    let mut baselines: BTreeMap<&PairKey, &RunRecord> = BTreeMap::new();
    for c in runs.iter().filter(|c| c.role == Role::Baseline) {
        if let Some(k) = &c.key {
            baselines.entry(k).or_insert(c.record);
        }
    }
    let mut groups: BTreeMap<(Role, &str, &str), Vec<&Classified>> = BTreeMap::new();
    for c in &runs {
        let model = c.record.provenance.model.as_str();
        groups
            .entry((c.role, model, c.record.name.as_str()))
            .or_default()
            .push(c);
    }
    groups
        .into_iter()
        .map(|((role, model, name), mut members)| {
            members.sort_by_key(|c| seed(c));
            let mut row = own_side(name, model, role, &members);
            if role == Role::Amplified {
                let (paired, unpaired) = pair(&members, &baselines);
                row.baseline = Some(paired);
                row.unpaired = unpaired;
            }
            row.per_seed = members
                .iter()
                .map(|c| {
                    let base = (role == Role::Amplified)
                        .then(|| c.key.as_ref().and_then(|k| baselines.get(k)))
                        .flatten();
                    let outcome = SeedOutcome::of_record(c.record);
                    SeedResult::new(seed(c), outcome, base.map(|b| SeedOutcome::of_record(b)))
                        .with_run(Some(c.record), base.copied())
                })
                .collect();
            row
        })
        .collect()
}

/// The statistics of a group's own runs.
fn own_side(name: &str, model: &str, role: Role, members: &[&Classified]) -> Comparison {
    let finished: Vec<&RunRecord> = members
        .iter()
        .map(|c| c.record)
        .filter(|r| !r.status.diverged())
        .collect();
    Comparison {
        name: name.to_string(),
        model: model.to_string(),
        role,
        seeds: members.iter().map(|c| seed(c)).collect(),
        diverged: members.len() - finished.len(),
        final_acc: MeanSd::of(&accs(&finished, RunRecord::final_test_acc)),
        best_acc: MeanSd::of(&accs(&finished, RunRecord::best_test_acc)),
        baseline: None,
        unpaired: Vec::new(),
        per_seed: Vec::new(),
    }
}

fn accs(runs: &[&RunRecord], f: fn(&RunRecord) -> f64) -> Vec<f64> {
    runs.iter().map(|r| f(r)).filter(|a| !a.is_nan()).collect()
}

/// Pairs each run of an amplified group with its baseline; returns the baseline side and the
/// seeds of the runs that have none.
fn pair(members: &[&Classified], baselines: &BTreeMap<&PairKey, &RunRecord>) -> (Paired, Vec<u64>) {
    let mut seeds = Vec::new();
    let mut unpaired = Vec::new();
    let mut paired_baselines: Vec<&RunRecord> = Vec::new();
    let mut differences = Vec::new();
    for c in members {
        let Some(base) = c.key.as_ref().and_then(|k| baselines.get(k)) else {
            unpaired.push(seed(c));
            continue;
        };
        seeds.push(seed(c));
        paired_baselines.push(base);
        let (a, b) = (c.record.final_test_acc(), base.final_test_acc());
        if !a.is_nan() && !b.is_nan() {
            differences.push(a - b);
        }
    }
    let finished: Vec<&RunRecord> = paired_baselines
        .iter()
        .copied()
        .filter(|r| !r.status.diverged())
        .collect();
    let paired = Paired {
        seeds,
        diverged: paired_baselines.len() - finished.len(),
        final_acc: MeanSd::of(&accs(&finished, RunRecord::final_test_acc)),
        best_acc: MeanSd::of(&accs(&finished, RunRecord::best_test_acc)),
        better: differences.iter().filter(|d| **d > 0.0).count(),
        p_value: paired::t_test(&differences),
        ci95: paired::t_interval(&differences, 0.95),
        difference: MeanSd::of(&differences),
    };
    (paired, unpaired)
}

/// The column headers of [`markdown`] and [`table`].
const HEADER: [&str; 13] = [
    "config",
    "model",
    "role",
    "seeds",
    "diverged",
    "final acc (mean ± sd)",
    "baseline final acc",
    "difference",
    "95% CI",
    "better in",
    "p (paired t)",
    "best acc",
    "unpaired seeds",
];

/// The cells of one row, as people read them (`—` for numbers that do not exist).
fn cells(c: &Comparison) -> [String; 13] {
    let base = c.baseline.as_ref();
    let diverged = match base {
        Some(p) => format!("{} / base {}", c.diverged, p.diverged),
        None => c.diverged.to_string(),
    };
    let dash = || "—".to_string();
    [
        c.name.clone(),
        if c.model.is_empty() {
            dash()
        } else {
            c.model.clone()
        },
        match c.role {
            Role::Amplified => "amplified".into(),
            Role::Baseline => "baseline".into(),
        },
        seed_list(&c.seeds),
        diverged,
        c.final_acc.display(false),
        base.map_or_else(dash, |p| p.final_acc.display(false)),
        base.map_or_else(dash, |p| p.difference.display(true)),
        base.map_or_else(dash, |p| paired::ci_display(p.ci95)),
        base.map_or_else(dash, |p| format!("{}/{}", p.better, p.difference.n)),
        base.map_or_else(dash, |p| paired::p_display(p.p_value)),
        c.best_acc.display(false),
        if c.unpaired.is_empty() {
            dash()
        } else {
            seed_list(&c.unpaired)
        },
    ]
}

fn seed_list(seeds: &[u64]) -> String {
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rows' seeds, for the per-seed table and the long CSV.
pub fn seed_rows(rows: &[Comparison]) -> Vec<SeedRow<'_>> {
    rows.iter()
        .map(|r| SeedRow {
            model: &r.model,
            config: &r.name,
            amplified: r.role == Role::Amplified,
            seeds: &r.per_seed,
        })
        .collect()
}

/// The comparison as a Markdown table, and below it the per-seed table.
pub fn markdown(rows: &[Comparison]) -> String {
    let mut out = markdown_line(&HEADER.map(String::from));
    out += &format!("|{}\n", "---|".repeat(HEADER.len()));
    for r in rows {
        out += &markdown_line(&cells(r));
    }
    out + "\n" + &per_seed::markdown(&seed_rows(rows))
}

/// The per-seed table for the terminal (under [`table`]).
pub fn seed_table(rows: &[Comparison]) -> String {
    per_seed::table(&seed_rows(rows))
}

/// The comparison, a line per run (model, config, seed, outcome, final accuracy and the
/// paired baseline's), as CSV.
pub fn seeds_csv(rows: &[Comparison]) -> String {
    per_seed::csv(&seed_rows(rows))
}

/// The comparison for the terminal.
pub fn table(rows: &[Comparison]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(HEADER.to_vec());
    for r in rows {
        t.add_row(cells(r).into_iter().map(Cell::new).collect::<Vec<_>>());
    }
    for c in t.column_iter_mut().skip(3) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

/// The CSV columns: plain numbers, empty where a number does not exist, seeds separated by
/// spaces.
const CSV_HEADER: &str = "name,model,role,runs,seeds,diverged,final_mean,final_sd,best_mean,\
best_sd,paired,baseline_diverged,baseline_final_mean,baseline_final_sd,baseline_best_mean,\
baseline_best_sd,difference_n,difference_mean,difference_sd,better,p_value,ci_low,ci_high,\
unpaired";

/// The comparison as CSV (RFC 4180 quoting), one line per row.
pub fn csv(rows: &[Comparison]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for c in rows {
        let mut fields = vec![
            csv_field(&c.name),
            csv_field(&c.model),
            match c.role {
                Role::Amplified => "amplified".into(),
                Role::Baseline => "baseline".into(),
            },
            c.seeds.len().to_string(),
            seed_list(&c.seeds),
            c.diverged.to_string(),
            csv_num(c.final_acc.mean),
            csv_num(c.final_acc.sd),
            csv_num(c.best_acc.mean),
            csv_num(c.best_acc.sd),
        ];
        fields.extend(match &c.baseline {
            Some(p) => vec![
                p.seeds.len().to_string(),
                p.diverged.to_string(),
                csv_num(p.final_acc.mean),
                csv_num(p.final_acc.sd),
                csv_num(p.best_acc.mean),
                csv_num(p.best_acc.sd),
                p.difference.n.to_string(),
                csv_num(p.difference.mean),
                csv_num(p.difference.sd),
                p.better.to_string(),
                p.p_value.map_or(String::new(), csv_num),
                p.ci95.map_or(String::new(), |c| csv_num(c.0)),
                p.ci95.map_or(String::new(), |c| csv_num(c.1)),
            ],
            None => vec![String::new(); 13],
        });
        fields.push(seed_list(&c.unpaired));
        out += &fields.join(",");
        out.push('\n');
    }
    out
}

/// A Markdown table row of `cells`, `|` inside a cell escaped.
pub fn markdown_line(cells: &[String]) -> String {
    let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", escaped.join(" | "))
}

/// A number as a CSV field, the same in every CSV amp writes: empty where there is none
/// (NaN: a mean of no runs, a missing baseline), `inf` / `-inf` where it is infinite (a
/// diverged run's loss, a weight ratio against a zero norm), else Rust's shortest form
/// that parses back to the same `f64`.
pub fn csv_num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

/// Quotes a CSV field when it holds a comma, a quote or a line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The comparison as pretty JSON (NaN as `null`).
pub fn json(rows: &[Comparison]) -> String {
    serde_json::to_string_pretty(rows).expect("a comparison is always representable in JSON")
}

/// Writes `summary.md`, `summary.csv`, `summary-seeds.csv` (a line per run) and
/// `summary.json` into `dir`, each atomically.
pub fn write_all(dir: &Path, rows: &[Comparison]) -> Result<()> {
    for (file, text) in [
        ("summary.md", markdown(rows)),
        ("summary.csv", csv(rows)),
        ("summary-seeds.csv", seeds_csv(rows)),
        ("summary.json", json(rows)),
    ] {
        let path = dir.join(file);
        amp_core::io::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("writing the summary {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
