//! Interim comparison summary (replaced by the full one from the reports work): amplified
//! runs against the baseline of the same recipe and seed.

use std::path::Path;

use amp_core::config::ExperimentConfig;
use amp_core::train::RunRecord;
use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

pub struct Comparison {
    pub name: String,
    pub base: Vec<f64>,
    pub amp: Vec<f64>,
}

fn recipe(r: &RunRecord) -> Option<String> {
    let c = ExperimentConfig::from_toml_str(&r.config, &r.name).ok()?;
    let b = c.baseline();
    Some(b.to_toml().replace(&b.name, ""))
}

fn is_baseline(r: &RunRecord) -> bool {
    ExperimentConfig::from_toml_str(&r.config, &r.name)
        .is_ok_and(|c| c.amp.select.kind == amp_core::config::SelectKind::None)
}

pub fn compare(records: &[RunRecord]) -> Vec<Comparison> {
    let mut out: Vec<Comparison> = Vec::new();
    for r in records.iter().filter(|r| !is_baseline(r)) {
        let base = records.iter().find(|b| {
            is_baseline(b)
                && b.provenance.seed == r.provenance.seed
                && recipe(b).is_some()
                && recipe(b) == recipe(r)
        });
        let Some(base) = base else { continue };
        let i = match out.iter().position(|c| c.name == r.name) {
            Some(i) => i,
            None => {
                out.push(Comparison {
                    name: r.name.clone(),
                    base: Vec::new(),
                    amp: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[i].base.push(base.final_test_acc());
        out[i].amp.push(r.final_test_acc());
    }
    out
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

pub fn table(rows: &[Comparison]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "config",
        "seeds",
        "baseline",
        "amplified",
        "difference",
        "better in",
    ]);
    for c in rows {
        let diff: Vec<f64> = c.amp.iter().zip(&c.base).map(|(a, b)| a - b).collect();
        let ((bm, bs), (am, as_), (dm, ds)) =
            (mean_std(&c.base), mean_std(&c.amp), mean_std(&diff));
        t.add_row(vec![
            c.name.clone(),
            c.base.len().to_string(),
            format!("{bm:.4} ± {bs:.4}"),
            format!("{am:.4} ± {as_:.4}"),
            format!("{dm:+.4} ± {ds:.4}"),
            format!(
                "{}/{}",
                diff.iter().filter(|d| **d > 0.0).count(),
                diff.len()
            ),
        ]);
    }
    t
}

pub fn write_all(dir: &Path, rows: &[Comparison]) -> Result<()> {
    amp_core::io::write_atomic(&dir.join("summary.md"), table(rows).to_string().as_bytes())?;
    Ok(())
}
