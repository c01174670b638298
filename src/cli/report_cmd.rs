//! `amp report`: tables, exports and plots of saved run records.
//!
//! A file that is not a record is reported by name and skipped; the others are still shown,
//! and the exit status is 1 at the end so that scripts notice. A run still training or
//! interrupted has no record yet: its checkpoint (`*.ckpt.safetensors`, given, or in a
//! folder without the run's record) holds the record so far, shown as `unfinished, 3/8
//! epochs`.

use std::path::{Path, PathBuf};

use amp_core::train::{Checkpoint, RunRecord};
use anyhow::{bail, Context, Result};

use super::args::ReportArgs;
use super::decisions;
use super::grid::is_cell_folder;
use super::report::{self, RunRow};
use super::run_files::{epochs_done, RunFiles};
use super::versus::{self, Versus};
use super::{run_row, summary};

pub fn run(args: ReportArgs) -> Result<()> {
    let (files, mut failed) = expand(&args.runs);
    let mut records: Vec<RunRecord> = Vec::new();
    let mut rows: Vec<RunRow> = Vec::new();
    for f in files {
        match load(&f) {
            Ok((r, row)) => {
                records.push(r);
                rows.push(row);
            }
            Err(e) => {
                eprintln!("warning: {e:#}");
                failed += 1;
            }
        }
    }
    if records.is_empty() {
        bail!("no run record could be read");
    }
    let summarize = args.summary || args.summary_out.is_some() || !args.versus.is_empty();
    let comparison = summarize.then(|| summary::compare(&records));
    // A `--versus` name no config has is refused before anything is printed.
    let versus = match &comparison {
        Some(c) => versus::compare(&summary::seed_rows(c), &versus::pairs(&args.versus))
            .map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    };
    if args.epochs {
        println!("{}", report::epochs_table(&records));
    }
    println!("{}", report::runs_table(&rows));
    if args.decisions {
        for r in &records {
            for line in decisions::lines(r) {
                println!("{}: {line}", r.name);
            }
        }
    }
    if let Some(c) = &comparison {
        println!("{}", summary::table(c));
        println!("{}", summary::seed_table(c));
        if !versus.is_empty() {
            println!("{}", versus::markdown(&versus));
        }
    }
    export(&args, &rows, comparison.as_deref(), &versus)?;
    if let Some(path) = &args.plot {
        super::plot::accuracy_and_gradients_of(&records, &args.plot_runs, path)
            .with_context(|| format!("writing the plot {}", path.display()))?;
        println!("plot: {}", path.display());
    }
    if failed > 0 {
        bail!("{failed} file(s) could not be read as run records (see the warnings above)");
    }
    Ok(())
}

/// A run record, or the record so far in a checkpoint, with its table row.
fn load(f: &Path) -> Result<(RunRecord, RunRow)> {
    if RunFiles::of_checkpoint(f).is_none() {
        let r = RunRecord::load(f)?;
        let row = RunRow::new(&r, Some(f));
        return Ok((r, row));
    }
    let (r, at) = Checkpoint::progress(f)?;
    let mut row = RunRow::new(&r, Some(f));
    let planned = row.planned_epochs.unwrap_or(r.epochs.len());
    // A finished run's checkpoint (kept beside its record) holds the whole run.
    if at.epoch < planned || at.step > 0 {
        row.status = format!("unfinished, {}", epochs_done(at, planned));
    }
    Ok((r, row))
}

/// Files to read: the files given, and the runs of the folders given ([`runs_in`]). Returns
/// the files and how many arguments could not be listed.
fn expand(args: &[PathBuf]) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    let mut failed = 0;
    for a in args {
        if !a.is_dir() {
            files.push(a.clone());
            continue;
        }
        match runs_in(a) {
            Ok(inside) => {
                if inside.is_empty() {
                    eprintln!(
                        "warning: {}: no *.json run records (or checkpoints) inside",
                        a.display()
                    );
                }
                files.extend(inside);
            }
            Err(e) => {
                eprintln!("warning: {e:#}");
                failed += 1;
            }
        }
    }
    (files, failed)
}

/// The runs in folder `dir`: every `*.json` but the sweep's `summary.json`, and every
/// checkpoint whose run has no record there. A grid's folder (`amp grid run --out`) keeps its
/// runs in cell folders: their runs are read instead of its `report-*.json` grid reports.
/// Sorted, so that run numbers are stable.
fn runs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = sorted_entries(dir)?;
    let cells: Vec<&PathBuf> = entries.iter().filter(|p| is_cell_folder(p)).collect();
    let is_run = |p: &Path| is_record_name(p) || is_unfinished_checkpoint(p);
    let mut runs: Vec<PathBuf> = entries
        .iter()
        .filter(|p| is_run(p) && (cells.is_empty() || !is_grid_report_name(p)))
        .cloned()
        .collect();
    for cell in cells {
        runs.extend(sorted_entries(cell)?.into_iter().filter(|p| is_run(p)));
    }
    Ok(runs)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .with_context(|| dir.display().to_string())?;
    paths.sort();
    Ok(paths)
}

/// `report-*.json`: what `amp grid report` writes into a grid's folder.
fn is_grid_report_name(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("report-"))
}

/// A checkpoint without its run's record beside it (a finished run keeps both).
fn is_unfinished_checkpoint(p: &Path) -> bool {
    RunFiles::of_checkpoint(p)
        .is_some_and(|run| p.is_file() && !run.stem.starts_with('.') && !run.record.exists())
}

/// `*.json`, not hidden (temporary files of atomic writes), not `summary.json`.
fn is_record_name(p: &Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy().to_string());
    p.is_file()
        && p.extension().is_some_and(|e| e == "json")
        && name.is_some_and(|n| !n.starts_with('.') && n != "summary.json")
}

/// `--csv`, `--json` and `--summary-out`.
fn export(
    args: &ReportArgs,
    rows: &[RunRow],
    comparison: Option<&[summary::Comparison]>,
    versus: &[Versus],
) -> Result<()> {
    if let Some(path) = &args.csv {
        write(path, &run_row::csv(rows))?;
        if let Some(c) = comparison {
            write(&path.with_extension("summary.csv"), &summary::csv(c))?;
            write(&path.with_extension("seeds.csv"), &summary::seeds_csv(c))?;
        }
    }
    if let Some(path) = &args.json {
        let mut doc = serde_json::json!({ "runs": rows });
        if let Some(c) = comparison {
            doc["summary"] = serde_json::to_value(c)?;
        }
        if !versus.is_empty() {
            doc["versus"] = serde_json::to_value(versus)?;
        }
        write(path, &serde_json::to_string_pretty(&doc)?)?;
    }
    if let (Some(dir), Some(c)) = (&args.summary_out, comparison) {
        summary::write_all(dir, c)?;
        println!(
            "summary: {}/summary.{{md,csv,json}}, summary-seeds.csv",
            dir.display()
        );
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    amp_core::io::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
