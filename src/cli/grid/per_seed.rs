//! The report's second table: every seed's final test accuracy, and for amplified rows its
//! difference to the same seed's baseline. The main table's mean ± sd over the seeds hides
//! whether one seed blew up or all moved a little; a reader checking a claim wants the
//! numbers it averages.

use serde::Serialize;

use super::cell::CellState;
use super::report::GridReport;

/// One seed of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub outcome: SeedOutcome,
    /// Amplified minus baseline final test accuracy, where both finished (amplified rows).
    pub diff: Option<f64>,
}

/// What a seed's cell holds (in the JSON: `{"finished": 0.3075}`, `"diverged"`, `"not_done"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedOutcome {
    /// Finished, with this final test accuracy.
    Finished(f64),
    Diverged,
    NotDone,
}

impl SeedResult {
    /// From a cell's state and, for an amplified cell, its baseline's.
    pub fn of(seed: u64, run: &CellState, baseline: Option<&CellState>) -> SeedResult {
        let final_acc = |s: &CellState| match s {
            CellState::Finished(r) => Some(r.final_test_acc()),
            _ => None,
        };
        let outcome = match (run, final_acc(run)) {
            (_, Some(acc)) => SeedOutcome::Finished(acc),
            (CellState::Diverged(_), _) => SeedOutcome::Diverged,
            _ => SeedOutcome::NotDone,
        };
        let diff = final_acc(run).zip(baseline.and_then(final_acc));
        SeedResult {
            seed,
            outcome,
            diff: diff.map(|(a, b)| a - b).filter(|d| d.is_finite()),
        }
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

/// The per-seed table as Markdown: a row per report row, a column per seed any row has.
pub fn markdown(report: &GridReport) -> String {
    let mut seeds: Vec<u64> = report
        .rows
        .iter()
        .flat_map(|r| r.per_seed.iter().map(|s| s.seed))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    let mut out = String::from(
        "Per seed: final test accuracy; amplified rows add in parentheses the difference to \
         the same seed's baseline, in points.\n\n",
    );
    let header: Vec<String> = ["model", "config"]
        .into_iter()
        .map(String::from)
        .chain(seeds.iter().map(|s| format!("seed {s}")))
        .collect();
    out += &format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in &report.rows {
        out += &format!("| {} | {} |", r.model, r.config.replace('|', "\\|"));
        for s in &seeds {
            let cell = r.per_seed.iter().find(|x| x.seed == *s);
            out += &format!(" {} |", cell.map_or(String::new(), SeedResult::display));
        }
        out.push('\n');
    }
    out
}
