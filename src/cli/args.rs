//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Epochs per run.
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    /// Folder for the run records (JSON).
    #[arg(long, default_value = "runs/demo")]
    pub out: PathBuf,
    /// Seed of the data, the initialization and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress output, only the tables.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// The network to train.
    #[arg(long, value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
    /// `synthetic`, or a CIFAR-10 folder of data_batch_*.bin / the cifar10-jpeg.tar.gz archive.
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Folder for the run record (JSON).
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Overrides the config's epoch count.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Overrides the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train on a random subset of this many images (seeded; quick experiments).
    #[arg(long)]
    pub limit: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Experiment configs (TOML); each is compared with its baseline (same recipe, no amplification).
    #[arg(required = true)]
    pub configs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
    /// `synthetic`, or a CIFAR-10 folder / archive.
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Number of seeds (first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Overrides every config's epoch count.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Train on a random subset of this many images (seeded).
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, default_value = "runs/sweep")]
    pub out: PathBuf,
    #[arg(long)]
    pub quiet: bool,
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
    #[arg(value_enum, default_value_t = ModelName::Cnn)]
    pub model: ModelName,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run records written by `amp train` or `amp demo`.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Also draw test accuracy and per-layer gradient norms into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// The networks the CLI can train: the registry of `models.rs`.
pub use super::models::ModelName;
