//! `amp report`: tables of saved run records.

use std::path::Path;

use amp_core::train::RunRecord;
use anyhow::{Context, Result};

use super::args::ReportArgs;
use super::report;

/// Reads a run record written by `amp train` or `amp demo`.
pub fn load_record(path: &Path) -> Result<RunRecord> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{}: not an amp run record", path.display()))
}

pub fn run(args: ReportArgs) -> Result<()> {
    let runs = args
        .runs
        .iter()
        .map(|p| load_record(p))
        .collect::<Result<Vec<_>>>()?;
    println!("{}", report::epochs_table(&runs));
    println!("{}", report::summary_table(&runs));
    for r in &runs {
        for d in &r.decisions {
            println!("{}: decision {d}", r.name);
        }
    }
    if let Some(path) = &args.plot {
        super::plot::accuracy_and_gradients(&runs, path)
            .with_context(|| format!("writing the plot {}", path.display()))?;
        println!("plot: {}", path.display());
    }
    Ok(())
}
