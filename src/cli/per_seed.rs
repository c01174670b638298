//! Every seed's numbers behind a comparison's mean ± sd: each seed's final test accuracy and,
//! for an amplified run, its difference to the same seed's baseline. A mean over seeds hides
//! whether one seed blew up or all moved a little; a reader checking a claim wants the
//! numbers it averages, and an analyst wants them one per line (the long CSV) to redo the
//! statistics in R or pandas. Shared by `amp grid report` and the sweep summary
//! (`amp sweep`, `amp report --summary`).

use amp_core::train::RunRecord;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;

use super::summary::{csv_field, csv_num, markdown_line as line};

/// One seed of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub outcome: SeedOutcome,
    /// The same seed's baseline (amplified rows whose seed has one).
    pub baseline: Option<SeedOutcome>,
    /// Amplified minus baseline final test accuracy, where both finished.
    pub diff: Option<f64>,
    /// The training loss of the epochs the run amplified, beside its baseline's (runs that
    /// amplified some epoch).
    pub amplified_loss: Option<AmplifiedLoss>,
    /// How many amplified epochs the loss guard (`amp.guard`) undid and trained again
    /// without amplification; 0 for runs without a guard.
    pub guard_undid: usize,
}

/// The highest training loss of the epochs a run amplified, and its baseline's over the same
/// epochs. Where amplification blows a run up (`output` mode compounds k over every
/// amplified layer), the loss of the amplified epochs shows it at once, before the accuracy
/// recovers or not: on ResNet-56 the seeds whose amplified epochs stayed near the
/// baseline's loss all went up, those whose loss jumped mostly went down (EXPERIMENTS.md).
/// Kept in the long CSV and the JSON, so that such a split is one command's output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AmplifiedLoss {
    /// The highest training loss of the amplified epochs (a non-finite loss counts as the
    /// highest: null in the JSON).
    pub max: f64,
    /// The baseline's highest training loss over the same epochs, where it has them all.
    pub baseline_max: Option<f64>,
}

impl AmplifiedLoss {
    /// `run`'s amplified epochs against the same epochs of `baseline`; `None` where the run
    /// amplified no epoch (a baseline, or a selection that chose nothing). A run that diverged
    /// while amplifying counts that epoch with the loss it stopped at.
    pub fn of(run: &RunRecord, baseline: Option<&RunRecord>) -> Option<AmplifiedLoss> {
        let epochs: Vec<usize> = run
            .trained_epochs()
            .filter(|e| !e.amplified.is_empty())
            .map(|e| e.epoch)
            .collect();
        let max_loss = |r: &RunRecord| -> Option<f64> {
            let loss_in = |i| {
                r.trained_epochs()
                    .find(|e| e.epoch == i)
                    .map(|e| e.train_loss)
            };
            let losses: Option<Vec<f64>> = epochs.iter().map(|&i| loss_in(i)).collect();
            losses?
                .into_iter()
                .map(|l| if l.is_finite() { l } else { f64::INFINITY })
                .reduce(f64::max)
        };
        Some(AmplifiedLoss {
            max: max_loss(run)?,
            baseline_max: baseline.and_then(max_loss),
        })
    }
}

/// What a seed's run came to (in the JSON: `{"finished": 0.3075}`, `"diverged"`,
/// `"not_done"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedOutcome {
    /// Finished, with this final test accuracy.
    Finished(f64),
    Diverged,
    NotDone,
}

impl SeedOutcome {
    /// A finished or diverged run's record.
    pub fn of_record(r: &RunRecord) -> SeedOutcome {
        let acc = r.final_test_acc();
        if r.status.diverged() {
            SeedOutcome::Diverged
        } else if acc.is_finite() {
            SeedOutcome::Finished(acc)
        } else {
            // A finished record without a test accuracy has no number to show or pair.
            SeedOutcome::NotDone
        }
    }

    /// A finished run's final test accuracy.
    pub fn acc(self) -> Option<f64> {
        match self {
            SeedOutcome::Finished(a) => Some(a),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            SeedOutcome::Finished(_) => "finished",
            SeedOutcome::Diverged => "diverged",
            SeedOutcome::NotDone => "not_done",
        }
    }
}

impl SeedResult {
    /// A seed's outcome and, for an amplified run that has one, its baseline's.
    pub fn new(seed: u64, outcome: SeedOutcome, baseline: Option<SeedOutcome>) -> SeedResult {
        let diff = outcome.acc().zip(baseline.and_then(SeedOutcome::acc));
        SeedResult {
            seed,
            outcome,
            baseline,
            diff: diff.map(|(a, b)| a - b).filter(|d| d.is_finite()),
            amplified_loss: None,
            guard_undid: 0,
        }
    }

    /// With what the records say of the run's amplified epochs: their training loss (see
    /// [`AmplifiedLoss`]) and how many of them the loss guard undid.
    pub fn with_run(mut self, run: Option<&RunRecord>, baseline: Option<&RunRecord>) -> Self {
        self.amplified_loss = run.and_then(|r| AmplifiedLoss::of(r, baseline));
        self.guard_undid = run.map_or(0, |r| r.guarded.len());
        self
    }

    /// `0.3075`, `0.3075 (+20.10)` (Δ in points), `diverged` or `—`.
    fn display(&self) -> String {
        match (self.outcome, self.diff) {
            (SeedOutcome::Finished(acc), Some(d)) => format!("{acc:.4} ({:+.2})", d * 100.0),
            (SeedOutcome::Finished(acc), None) => format!("{acc:.4}"),
            (SeedOutcome::Diverged, _) => "diverged".into(),
            (SeedOutcome::NotDone, _) => "—".into(),
        }
    }
}

/// One row of a per-seed table: a configuration on a model, and its seeds.
pub struct SeedRow<'a> {
    pub model: &'a str,
    pub config: &'a str,
    pub amplified: bool,
    pub seeds: &'a [SeedResult],
}

/// What the per-seed table says it holds.
const CAPTION: &str = "Per seed: final test accuracy; amplified rows add in parentheses the \
                       difference to the same seed's baseline, in points.";

/// The seeds any row has, ascending: the table's columns.
fn columns(rows: &[SeedRow]) -> Vec<u64> {
    let mut seeds: Vec<u64> = rows
        .iter()
        .flat_map(|r| r.seeds.iter().map(|s| s.seed))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

/// The header and the rows' cells: model, config, then a cell per seed any row has (empty
/// where a row lacks that seed).
fn grid(rows: &[SeedRow]) -> (Vec<String>, Vec<Vec<String>>) {
    let seeds = columns(rows);
    let header = ["model", "config"]
        .into_iter()
        .map(String::from)
        .chain(seeds.iter().map(|s| format!("seed {s}")))
        .collect();
    let body = rows
        .iter()
        .map(|r| {
            // A seed with two runs (two records of one config, as `amp report` may be
            // given) shows both.
            let cells = seeds.iter().map(|s| {
                let results = r.seeds.iter().filter(|x| x.seed == *s);
                results
                    .map(SeedResult::display)
                    .collect::<Vec<_>>()
                    .join(" / ")
            });
            [r.model.to_string(), r.config.to_string()]
                .into_iter()
                .chain(cells)
                .collect()
        })
        .collect();
    (header, body)
}

/// The per-seed table as Markdown, with its caption: a row per row, a column per seed.
pub fn markdown(rows: &[SeedRow]) -> String {
    let (header, body) = grid(rows);
    let mut out = format!("{CAPTION}\n\n{}", line(&header));
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for cells in &body {
        out += &line(cells);
    }
    out
}

/// The per-seed table for the terminal, with its caption above it.
pub fn table(rows: &[SeedRow]) -> String {
    let (header, body) = grid(rows);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header);
    for cells in body {
        t.add_row(cells.into_iter().map(Cell::new).collect::<Vec<_>>());
    }
    for c in t.column_iter_mut().skip(2) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    format!("{CAPTION}\n{t}")
}

/// The long CSV's columns: one line per seed of each row.
const CSV_HEADER: &str = "model,config,role,seed,outcome,final_acc,baseline_outcome,\
                          baseline_final_acc,difference,amplified_epochs_max_train_loss,\
                          baseline_same_epochs_max_train_loss,guard_undid_epochs";

/// One line per seed of each row (RFC 4180 quoting; numbers empty where none exists;
/// `baseline_outcome` empty for baseline rows and for seeds without a baseline; the two loss
/// columns, [`AmplifiedLoss`], empty for runs that amplified no epoch, `inf` for a
/// non-finite loss; `guard_undid_epochs` the epochs the loss guard undid, 0 without one).
pub fn csv(rows: &[SeedRow]) -> String {
    let num = |v: Option<f64>| v.map_or(String::new(), csv_num);
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let role = if r.amplified { "amplified" } else { "baseline" };
        for s in r.seeds {
            let fields = [
                csv_field(r.model),
                csv_field(r.config),
                role.to_string(),
                s.seed.to_string(),
                s.outcome.label().to_string(),
                num(s.outcome.acc()),
                s.baseline.map_or(String::new(), |b| b.label().to_string()),
                num(s.baseline.and_then(SeedOutcome::acc)),
                num(s.diff),
                num(s.amplified_loss.map(|l| l.max)),
                num(s.amplified_loss.and_then(|l| l.baseline_max)),
                s.guard_undid.to_string(),
            ];
            out += &fields.join(",");
            out.push('\n');
        }
    }
    out
}
