//! Tables for people: runs side by side per epoch, and per-layer gradient statistics.

use amp_core::train::RunRecord;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

/// Test accuracy per epoch of several runs side by side, with each run's learning rate and
/// number of amplified layers. Runs are numbered (`#1`, `#2`, ...) to keep the table narrow;
/// [`summary_table`] gives the numbers their names.
pub fn epochs_table(runs: &[RunRecord]) -> Table {
    let mut t = new_table();
    let mut header = vec![Cell::new("epoch")];
    for i in 1..=runs.len() {
        header.push(Cell::new(format!("#{i} lr")));
        header.push(Cell::new(format!("#{i} test acc")));
        header.push(Cell::new(format!("#{i} amplified")));
    }
    t.set_header(header);
    let epochs = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    for e in 0..epochs {
        let mut row = vec![Cell::new(e + 1)];
        for r in runs {
            match r.epochs.get(e) {
                Some(ep) => {
                    row.push(Cell::new(format!("{}", ep.lr)));
                    row.push(Cell::new(format!("{:.3}", ep.test_acc)));
                    row.push(Cell::new(format!(
                        "{}/{}",
                        ep.amplified.len(),
                        r.layers.len()
                    )));
                }
                None => row.extend([Cell::new(""), Cell::new(""), Cell::new("")]),
            }
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
            epochs.iter().map(|e| f(e)).sum::<f64>() / epochs.len().max(1) as f64
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

/// One row per run: final and best test accuracy, amplified layers, wall time.
pub fn summary_table(runs: &[RunRecord]) -> Table {
    let mut t = new_table();
    t.set_header(vec![
        "#",
        "run",
        "mode",
        "final test acc",
        "best test acc",
        "max amplified",
        "seconds",
    ]);
    for (i, r) in runs.iter().enumerate() {
        let best = r.epochs.iter().map(|e| e.test_acc).fold(f64::NAN, f64::max);
        let amplified = r
            .epochs
            .iter()
            .map(|e| e.amplified.len())
            .max()
            .unwrap_or(0);
        let seconds: f64 = r.epochs.iter().map(|e| e.seconds).sum();
        t.add_row(vec![
            Cell::new(format!("#{}", i + 1)),
            Cell::new(&r.name),
            Cell::new(&r.mode),
            Cell::new(format!("{:.3}", r.final_test_acc())),
            Cell::new(format!("{best:.3}")),
            Cell::new(format!("{amplified}/{}", r.layers.len())),
            Cell::new(format!("{seconds:.1}")),
        ]);
    }
    right_align(&mut t);
    t
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
