//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use amp_core::config::TOML_INT_MAX;

use super::device::DeviceSpec;

/// Train amplifiable networks and compare gradient amplification against the baseline.
///
/// With no command, runs the demo on the built-in synthetic data.
#[derive(Debug, Parser)]
#[command(name = "amp", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Baseline against intelligent amplification on built-in synthetic images (the default).
    Demo(DemoArgs),
    /// Train the experiment of a TOML config.
    Train(TrainArgs),
    /// Each config against its own baseline over several seeds (mean ± sd of final accuracy).
    Sweep(SweepArgs),
    /// Check a config against a model without training.
    Check(CheckArgs),
    /// List the candidate layers of a model.
    Layers(LayersArgs),
    /// Show saved run records as tables.
    Report(ReportArgs),
    /// Grids of runs (configs x axes x models x seeds, each amplified run paired with its
    /// baseline): plan, run locally or as a Slurm job array, report.
    Grid(GridArgs),
    /// The L2 norm of each weight tensor in checkpoints, side by side (did amplification
    /// grow a layer's weights?).
    Weights(WeightsArgs),
}

#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// Checkpoints (`*.ckpt.safetensors`), or folders holding one (a grid cell's). From the
    /// second on, each norm is also shown as a multiple of the first checkpoint's.
    #[arg(required = true)]
    pub checkpoints: Vec<PathBuf>,
    /// Only tensors whose name (`layer1.b0.conv1.weight`) or candidate layer's name
    /// (`layer1.0.conv1`) contains this (e.g. `layer1.`).
    #[arg(long, default_value = "")]
    pub filter: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Epochs per run: at least 5 (the amplified run observes 2 epochs, then amplifies until
    /// the first half of the run ends).
    #[arg(long, default_value_t = 12, value_parser = epoch_count)]
    pub epochs: usize,
    /// Folder for the run records (JSON).
    #[arg(long, default_value = "runs/demo")]
    pub out: PathBuf,
    /// Seed of the data, the initialization and the batch order.
    #[arg(long, default_value_t = 0, value_parser = seed)]
    pub seed: u64,
    /// No progress output, only the tables.
    #[arg(long)]
    pub quiet: bool,
    /// Where to train: `cpu`, or `cuda` / `cuda:N` (a binary built with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// The network to train.
    #[arg(long, value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
    /// `synthetic`, or a CIFAR-10/100 binary archive or folder, or train/test image folders
    /// (see "Getting the data" in README.md); `PATH:coarse` for CIFAR-100's coarse labels.
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Folder for the run record (JSON).
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Overrides the config's epoch count.
    #[arg(long, value_parser = epoch_count)]
    pub epochs: Option<usize>,
    /// Overrides the config's seed.
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Train on a random subset of this many images (seeded; quick experiments).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate on a random subset of this many test images (seeded).
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Continue an interrupted run from its checkpoint in --out (starts fresh when there is none).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Train even if --out already holds this run's record or checkpoint (both are replaced).
    #[arg(long)]
    pub force: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Where to train: `cpu`, or `cuda` / `cuda:N` (a binary built with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Experiment configs (TOML); each is compared with its baseline (same recipe, no amplification).
    #[arg(required = true)]
    pub configs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
    /// `synthetic`, or a data set as for `amp train --data`.
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Number of seeds (first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 3, value_parser = seed_count)]
    pub seeds: u64,
    #[arg(long, default_value_t = 0, value_parser = seed)]
    pub first_seed: u64,
    /// Overrides every config's epoch count.
    #[arg(long, value_parser = epoch_count)]
    pub epochs: Option<usize>,
    /// Train on a random subset of this many images (seeded).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate on a random subset of this many test images (seeded).
    #[arg(long)]
    pub test_limit: Option<usize>,
    #[arg(long, default_value = "runs/sweep")]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
    /// Where to train: `cpu`, or `cuda` / `cuda:N` (a binary built with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// The network whose layer names the config must use.
    #[arg(long, value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
}

#[derive(Debug, Args)]
pub struct LayersArgs {
    /// The network (default: cnn).
    #[arg(value_enum)]
    pub model: Option<ModelName>,
    /// The same, written as the other commands take it (`amp layers --model resnet20`).
    #[arg(
        long = "model",
        value_enum,
        value_name = "MODEL",
        conflicts_with = "model"
    )]
    pub model_flag: Option<ModelName>,
}

impl LayersArgs {
    /// The network asked for, either way.
    pub fn model(&self) -> ModelName {
        self.model.or(self.model_flag).unwrap_or(ModelName::Cnn)
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run records written by `amp train`, `amp sweep` or `amp demo`, or folders of them
    /// (every `*.json` inside but `summary.json`); checkpoints (`*.ckpt.safetensors`) of runs
    /// without a record yet are shown with their record so far, as unfinished.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Also show test accuracy per epoch, one column group per run (runs numbered).
    #[arg(long)]
    pub epochs: bool,
    /// Also compare each config with its baseline over seeds (mean ± sd, paired difference).
    #[arg(long)]
    pub summary: bool,
    /// Write the comparison as summary.md, summary.csv, summary-seeds.csv (a line per run)
    /// and summary.json into this folder (implies --summary).
    #[arg(long, value_name = "DIR")]
    pub summary_out: Option<PathBuf>,
    /// Write one row per run as CSV (with --summary, the comparison goes to FILE's name with
    /// `.summary.csv`, the per-seed lines to `.seeds.csv`).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write one object per run as JSON (`{"runs": [...]}`, plus `"summary"` with --summary).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Draw test accuracy and per-layer gradient norms: PNG when FILE ends in `.png`, SVG
    /// otherwise.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Whose gradients the plot shows: run numbers as in the table (`--plot-runs 1,3`);
    /// default: every run, one panel each.
    #[arg(long, value_delimiter = ',', value_name = "N")]
    pub plot_runs: Vec<usize>,
    /// Also print each run's selection decisions (with their layers per top-level block) and
    /// the epochs its loss guard undid.
    #[arg(long)]
    pub decisions: bool,
    /// Also compare two configs with each other, paired by seed on each model that has both
    /// (implies --summary): their names, or a part of a name only one contains. Repeatable.
    #[arg(long, num_args = 2, value_names = ["A", "B"], action = clap::ArgAction::Append)]
    pub versus: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GridArgs {
    #[command(subcommand)]
    pub command: GridCommand,
}

#[derive(Debug, Subcommand)]
pub enum GridCommand {
    /// List the cells (index, stable id, model, seed, config, baseline) and what is done.
    Plan(GridPlanArgs),
    /// Run the cells not done on this machine (resuming interrupted ones).
    Run(GridRunArgs),
    /// Write an sbatch script for a Slurm job array of the cells not done (--submit submits it).
    Slurm(GridSlurmArgs),
    /// The result table (Markdown, CSV, JSON) and plot from the cells finished so far.
    Report(GridReportArgs),
}

#[derive(Debug, Args)]
pub struct GridPlanArgs {
    /// The grid file (TOML).
    pub file: PathBuf,
    /// Results folder; default: the grid file's `out`, else `runs/grid/<file stem>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GridRunArgs {
    /// The grid file (TOML).
    pub file: PathBuf,
    /// Results folder; default: the grid file's `out`, else `runs/grid/<file stem>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Cell processes at once; the CPUs are divided among them (RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: u64,
    /// Run only this cell, in this process: its id (12 hex digits) or its index in plan
    /// order (what a Slurm array task does). May be repeated.
    #[arg(long, conflicts_with = "jobs")]
    pub cell: Vec<String>,
    /// Refuse to run unless the plan's fingerprint is this (set by `grid slurm` scripts, so
    /// that an edited grid file cannot make an array index name another cell).
    #[arg(long, hide = true)]
    pub plan: Option<String>,
    /// Where to train: `cpu`, or `cuda` / `cuda:N` (a binary built with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct GridSlurmArgs {
    /// The grid file (TOML).
    pub file: PathBuf,
    /// Results folder; default: the grid file's `out`, else `runs/grid/<file stem>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Slurm partition (`#SBATCH --partition`); default: the cluster's default.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task (`#SBATCH --time`, e.g. `2:00:00`).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task (also the task's RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub cpus: u64,
    /// GPUs per task (`#SBATCH --gres=gpu:N`); the tasks then train with `--device cuda`.
    #[arg(long)]
    pub gpus: Option<u64>,
    /// Tasks running at once (`--array=...%P`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_parallel: Option<u64>,
    /// Submit the script with sbatch.
    #[arg(long)]
    pub submit: bool,
}

#[derive(Debug, Args)]
pub struct GridReportArgs {
    /// The grid files (TOML); several make one table, grids sharing a folder share baselines.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Results folder of every file; default: each grid file's `out`, else `runs/grid/<file stem>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the report's files go; default: the (first) grid file's results folder.
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// The report's file name without extension; default: `report-<file stem>[+<file stem>...]`.
    #[arg(long, value_name = "NAME", value_parser = report_name)]
    pub name: Option<String>,
    /// Also compare two configurations with each other, paired by seed on each model that
    /// has both (a setting against its control): their names as the table gives them, or a
    /// part of a name that only one contains (`--versus intelligent random-half`). Repeatable.
    #[arg(long, num_args = 2, value_names = ["A", "B"], action = clap::ArgAction::Append)]
    pub versus: Vec<String>,
}

/// `--seeds`: how many seeds, at least 1 (0 would write an empty summary). People who know
/// grid files (`seeds = [0, 1]`) may write a list; say what the flag takes instead.
fn seed_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("0 seeds run nothing; give at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(
            "the number of seeds, e.g. `--seeds 3` (seeds --first-seed, \
                       --first-seed + 1, ...); to pick seeds, use --first-seed or a grid file"
                .to_string(),
        ),
    }
}

/// A seed: at most 2^63 - 1, since it is saved in the run's config, and TOML's integers are
/// signed 64 bits.
fn seed(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > TOML_INT_MAX => Err(format!(
            "at most {TOML_INT_MAX} (2^63 - 1, the largest integer TOML holds: the seed is \
             saved in the run's config)"
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--epochs`: at least 1. Checked here rather than against the config so that the error
/// names the flag's value, not the config's `train.epochs` line it would replace.
fn epoch_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("a run trains at least 1 epoch".to_string()),
        Ok(n) if n as u64 > TOML_INT_MAX => Err(format!("at most {TOML_INT_MAX}")),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A report name: a plain file name, which `.md`, `.csv`, `.json` and `.png` extend.
fn report_name(s: &str) -> Result<String, String> {
    let plain = !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\']);
    if plain {
        Ok(s.to_string())
    } else {
        Err("a file name without folders, e.g. `plain20-all`".to_string())
    }
}

/// The networks the CLI can train: the registry of `models.rs`.
pub use super::models::ModelName;
