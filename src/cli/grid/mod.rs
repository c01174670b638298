//! `amp grid`: the grids of runs that answer "where does amplification help?" (models x
//! configs x axes x seeds, each amplified run paired with its baseline), planned from one
//! file, run on this machine or as a Slurm job array, and reported as one table.
//!
//! - [`spec`]: the grid file, checked like configs.
//! - [`expand`]: cells with stable ids and plan-order indexes.
//! - [`cell`]: a cell's folder and state (done, interrupted, running, to run).
//! - [`local`]: `grid run` (`--jobs N` child processes, or `--cell` in this process).
//! - [`slurm`](mod@slurm): the sbatch script of a job array, and its submission.
//! - [`report`](mod@report): the result table (its paired statistics: `cli::paired`), and
//!   `cli::per_seed`: the numbers it averages, seed by seed.
//!   `--versus A B` pairs two configurations with each other (`cli::versus`).
//! - [`plot`], [`diff_plot`], [`dot_plot`]: its plots, final accuracy and paired differences.

mod cell;
mod diff_plot;
mod dot_plot;
mod expand;
mod local;
mod plot;
mod report;
mod slurm;
mod spec;

use amp_core::train::StopFlag;
use anyhow::{bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::args::{
    GridArgs, GridCommand, GridPlanArgs, GridReportArgs, GridRunArgs, GridSlurmArgs,
};
use super::run_files::{check_out_dir, model_id};
use super::Finish;
pub use cell::is_cell_folder;
use cell::CellDir;
use expand::Plan;
use spec::GridSpec;

pub fn run(args: GridArgs, stop: &StopFlag) -> Result<Finish> {
    let done = |r: Result<()>| r.map(|()| Finish::Done);
    match args.command {
        GridCommand::Plan(a) => done(plan(a)),
        GridCommand::Run(a) => run_grid(a, stop),
        GridCommand::Slurm(a) => done(slurm(a)),
        GridCommand::Report(a) => done(report(a)),
    }
}

fn load(file: &std::path::Path, out: Option<&std::path::Path>) -> Result<Plan> {
    let spec = GridSpec::load(file, out)?;
    Ok(Plan::expand(spec)?)
}

fn plan(a: GridPlanArgs) -> Result<()> {
    let plan = load(&a.file, a.out.as_deref())?;
    if let Err(e) = plan.spec.check_data() {
        eprintln!("warning: {e}");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["#", "id", "model", "seed", "config", "baseline", "state"]);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &plan.cells {
        let state = CellDir::new(&plan.spec.out, c).state()?;
        *counts.entry(state.label()).or_default() += 1;
        let state = match state.record() {
            Some(r) => format!("{} ({:.4})", state.label(), r.final_test_acc()),
            None => state.describe(c.config.train.epochs),
        };
        let baseline = c.baseline.map_or("—".to_string(), |b| format!("#{b}"));
        t.add_row(vec![
            c.index.to_string(),
            c.id.clone(),
            model_id(c.model),
            c.seed.to_string(),
            c.config.name.clone(),
            baseline,
            state,
        ]);
    }
    println!("{t}");
    let amplified = plan.cells.iter().filter(|c| c.amplified()).count();
    let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "{} cells ({amplified} amplified, {} baselines): {}; results in {}",
        plan.cells.len(),
        plan.cells.len() - amplified,
        counts.join(", "),
        plan.spec.out.display()
    );
    Ok(())
}

fn run_grid(a: GridRunArgs, stop: &StopFlag) -> Result<Finish> {
    super::device::check_training_device(a.device)?;
    let plan = load(&a.file, a.out.as_deref())?;
    if let Some(expected) = &a.plan {
        let now = plan.fingerprint();
        if *expected != now {
            bail!(
                "{}: the grid changed since this task was submitted (plan {expected}, now {now}), so \
                 its array index may name another cell; resubmit with `amp grid slurm {} --submit`",
                plan.spec.file(),
                plan.spec.file()
            );
        }
    }
    plan.spec.check_data()?;
    check_out_dir(&plan.spec.out)?;
    let opts = local::RunOptions {
        file: &a.file,
        device: a.device,
        quiet: a.quiet,
    };
    if a.cell.is_empty() {
        return local::run_all(&plan, a.jobs as usize, &opts, stop);
    }
    let cells = a
        .cell
        .iter()
        .map(|c| plan.find(c))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    local::run_cells(&plan, &cells, &opts, stop)
}

fn slurm(a: GridSlurmArgs) -> Result<()> {
    let plan = load(&a.file, a.out.as_deref())?;
    plan.spec.check_data()?;
    check_out_dir(&plan.spec.out)?;
    let Some(script) = slurm::write_script(&plan, &a.file, &a)? else {
        println!(
            "every cell of {} is done; nothing to submit",
            plan.spec.file()
        );
        return Ok(());
    };
    println!("{}", script.text);
    println!(
        "wrote {} ({} array tasks: cells {})",
        script.path.display(),
        script.cells.len(),
        slurm::ranges(&script.cells)
    );
    if a.submit {
        let job = slurm::submit(&script)?;
        println!(
            "submitted job {job}; watch it with `squeue -j {job}`, then `amp grid report {}`",
            a.file.display()
        );
        println!(
            "tasks that fail or are preempted: rerun this command; finished cells are skipped"
        );
    } else {
        println!(
            "submit it with `sbatch {}` (or rerun with --submit)",
            script.path.display()
        );
    }
    Ok(())
}

fn report(a: GridReportArgs) -> Result<()> {
    let plans = a
        .files
        .iter()
        .map(|f| load(f, a.out.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    let mut report = report::build(&plans)?;
    let pairs = super::versus::pairs(&a.versus);
    report.versus =
        super::versus::compare(&report.seed_rows(), &pairs).map_err(anyhow::Error::msg)?;
    print!("{}", report::markdown(&report));
    let dir = a.to.unwrap_or_else(|| plans[0].spec.out.clone());
    let name = a.name.unwrap_or_else(|| report::default_name(&a.files));
    report::write_all(&dir, &name, &report)?;
    println!(
        "report: {} and {name}-diff.png",
        dir.join(format!("{name}.{{md,csv,json,png}}")).display()
    );
    Ok(())
}

#[cfg(test)]
mod tests;
