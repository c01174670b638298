//! Tables for people: runs side by side per epoch, and per-layer gradient statistics.

use amp_core::train::RunRecord;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

pub use super::run_row::RunRow;

/// Test accuracy per epoch of several runs side by side, one narrow column per run: runs are
/// numbered (`#1`, `#2`, ...) as in [`runs_table`], and `(a/n)` after an accuracy says that
/// `a` of the run's `n` candidate layers were amplified in that epoch, and `(guard)` that the
/// loss guard undid the epoch's amplified attempt and trained it again without amplification.
/// The learning rate is shown once when every run used the same one.
pub fn epochs_table(runs: &[RunRecord]) -> Table {
    let mut t = new_table();
    let mut header = vec![Cell::new("epoch"), Cell::new("lr")];
    header.extend((1..=runs.len()).map(|i| Cell::new(format!("#{i} test acc"))));
    t.set_header(header);
    let epochs = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    for e in 0..epochs {
        let lrs: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.epochs.get(e))
            .map(|x| x.lr)
            .collect();
        let lr = if lrs.windows(2).all(|w| w[0] == w[1]) {
            lrs.first().map_or(String::new(), |lr| lr.to_string())
        } else {
            "varies".to_string()
        };
        let mut row = vec![Cell::new(e + 1), Cell::new(lr)];
        for r in runs {
            row.push(Cell::new(match r.epochs.get(e) {
                Some(ep) if r.guard_undid(ep.epoch) => {
                    format!("{} (guard)", acc(ep.test_acc))
                }
                Some(ep) if ep.amplified.is_empty() => acc(ep.test_acc),
                Some(ep) => format!(
                    "{} ({}/{})",
                    acc(ep.test_acc),
                    ep.amplified.len(),
                    r.layers.len()
                ),
                None => String::new(),
            }));
        }
        t.add_row(row);
    }
    right_align(&mut t);
    t
}

/// Per candidate layer of one run: the mean parameter- and output-gradient norms and their
/// coefficient of variation over the first `window` epochs, the scores of the run's first
/// selection decision, and whether the layer was amplified.
pub fn layers_table(run: &RunRecord, window: usize) -> Table {
    let mut t = new_table();
    let decision = run.decisions.first();
    t.set_header(vec![
        "layer",
        "|grad W| mean",
        "|grad W| cv",
        "|grad out| mean",
        "score",
        "amplified",
    ]);
    let window = window.clamp(1, run.stats.epochs.len().max(1));
    for (l, name) in run.layers.iter().enumerate() {
        let epochs: Vec<_> = run.stats.layer(l).take(window).collect();
        let mean = |f: &dyn Fn(&amp_core::stats::LayerEpoch) -> f64| {
            epochs.iter().fold(0.0, |t, e| t + f(e)) / epochs.len().max(1) as f64
        };
        let pm = mean(&|e| e.param.mean);
        let pcv = mean(&|e| e.param.std / e.param.mean);
        let om = mean(&|e| e.output.mean);
        let score = decision
            .and_then(|d| d.scoring.as_ref())
            .and_then(|s| s.scores.get(l).copied())
            .map_or(String::from("-"), |s| format!("{s:.4}"));
        let amplified = run
            .epochs
            .iter()
            .filter(|e| e.amplified.iter().any(|a| a == name))
            .count();
        t.add_row(vec![
            Cell::new(name),
            Cell::new(format!("{pm:.4e}")),
            Cell::new(format!("{pcv:.3}")),
            Cell::new(format!("{om:.4e}")),
            Cell::new(score),
            Cell::new(if amplified > 0 {
                format!("yes ({amplified} ep)")
            } else {
                "no".to_string()
            }),
        ]);
    }
    right_align(&mut t);
    t
}

/// One row per run: name, model, seed, policy, status, epochs, final and best test accuracy
/// and wall time (see [`RunRow`]).
pub fn summary_table(runs: &[RunRecord]) -> Table {
    let rows: Vec<RunRow> = runs.iter().map(|r| RunRow::new(r, None)).collect();
    runs_table(&rows)
}

/// The rows of [`summary_table`], numbered like the columns of [`epochs_table`].
pub fn runs_table(rows: &[RunRow]) -> Table {
    let mut t = new_table();
    t.set_header(vec![
        "#",
        "run",
        "model",
        "seed",
        "policy",
        "status",
        "epochs",
        "final acc",
        "best acc",
        "minutes",
    ]);
    for (i, r) in rows.iter().enumerate() {
        t.add_row(vec![
            Cell::new(format!("#{}", i + 1)),
            Cell::new(&r.name),
            Cell::new(if r.model.is_empty() { "—" } else { &r.model }),
            Cell::new(r.seed),
            Cell::new(&r.policy),
            Cell::new(&r.status),
            Cell::new(match r.planned_epochs {
                Some(p) if p != r.epochs => format!("{}/{p}", r.epochs),
                _ => r.epochs.to_string(),
            }),
            Cell::new(acc(r.final_test_acc)),
            Cell::new(acc(r.best_test_acc)),
            Cell::new(format!("{:.1}", r.minutes)),
        ]);
    }
    for c in t.column_iter_mut().skip(6) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

/// An accuracy for people: three decimals, `—` when there is none (a diverged run).
pub fn acc(v: f64) -> String {
    if v.is_nan() {
        "—".to_string()
    } else {
        format!("{v:.3}")
    }
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t
}

fn right_align(t: &mut Table) {
    for c in t.column_iter_mut().skip(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
}
