//! `amp demo` (and `amp` with no command): the small CNN on the built-in synthetic images,
//! trained as baseline and with intelligent amplification, from the two configs in
//! `configs/demo/`, with the tables a person wants to see.

use std::path::Path;
use std::time::Instant;

use amp_core::config::{ExperimentConfig, Overrides};
use anyhow::{Context, Result};

use amp_core::train::{Outcome, RunRecord, StopFlag};

use super::args::{DemoArgs, ModelName};
use super::data;
use super::experiment::Job;
use super::report;
use super::run_files::{check_out_dir, model_id, RunFiles};
use super::Finish;

const CONFIGS: [(&str, &str); 2] = [
    (
        "configs/demo/baseline.toml",
        include_str!("../../configs/demo/baseline.toml"),
    ),
    (
        "configs/demo/intelligent.toml",
        include_str!("../../configs/demo/intelligent.toml"),
    ),
];

pub fn run(args: DemoArgs, stop: &StopFlag) -> Result<Finish> {
    super::device::check_training_device(args.device)?;
    let started = Instant::now();
    check_out_dir(&args.out)?;
    // Both configs take the flags before either trains, so that `--epochs 2` (too short for
    // the intelligent run's observation window) fails at once, naming the flag.
    let overrides = Overrides {
        epochs: Some(args.epochs),
        seed: Some(args.seed),
    };
    let configs = CONFIGS
        .iter()
        .map(|(origin, text)| {
            ExperimentConfig::from_toml_str(text, origin)?.with_overrides(&overrides)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = data::load("synthetic", args.seed, None, None)?;
    eprintln!(
        "amp demo: SmallCnn on {}; {} epochs per run",
        data.describe(),
        args.epochs
    );

    let mut runs = Vec::new();
    for config in &configs {
        // The demo always trains afresh: its files in --out are its own previous output.
        let files = RunFiles::new(
            &args.out,
            &config.name,
            &model_id(ModelName::Cnn),
            args.seed,
        );
        let _lock = files.lock()?;
        let _ = std::fs::remove_file(&files.checkpoint);
        let outcome = Job {
            config,
            data: &data,
            files: &files,
            limits: (None, None),
            resume: false,
            stop: stop.clone(),
            device: args.device,
            label: config.name.clone(),
            quiet: args.quiet,
        }
        .run(ModelName::Cnn)?;
        let run = match outcome {
            Outcome::Done(run) => run,
            Outcome::Stopped { .. } => return Ok(Finish::Interrupted),
        };
        files.save_record(&run)?;
        runs.push(run);
    }

    print_results(&runs, &args.out, started)?;
    Ok(Finish::Done)
}

/// The demo's tables (accuracy per epoch, the amplified run's per-layer statistics and
/// selection, the summary) and its plot, `demo.svg` in `out`.
fn print_results(runs: &[RunRecord], out: &Path, started: Instant) -> Result<()> {
    let amp = &runs[1];
    println!("\nTest accuracy per epoch");
    println!("{}", report::epochs_table(runs));
    let observe = amp.decisions.first().map_or(2, |d| d.epoch);
    println!(
        "\nPer-layer gradient statistics of `{}` over its {observe} observation epochs, and the selection",
        amp.name
    );
    println!("{}", report::layers_table(amp, observe));
    for line in super::decisions::lines(amp) {
        println!("{line}");
    }
    println!("\n{}", report::summary_table(runs));
    let plot = out.join("demo.svg");
    super::plot::accuracy_and_gradients(runs, &plot)
        .with_context(|| format!("writing the plot {}", plot.display()))?;
    println!(
        "policies: {}\nrun records and plot (demo.svg) in {}; total wall time {:.1}s",
        runs.iter()
            .map(|r| r.policy.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::CONFIGS;
    use amp_core::config::{ExperimentConfig, Overrides};

    /// `amp demo --help` says "at least 5": both configs take 5 epochs (amplified half 0..3,
    /// rounded up), the amplified one refuses 4 (its selection, after 2 observed epochs, would
    /// come after the amplified half, 0..2).
    #[test]
    fn the_demo_takes_five_epochs_or_more() {
        let fits = |epochs| {
            let overrides = Overrides {
                epochs: Some(epochs),
                seed: None,
            };
            CONFIGS.iter().all(|(origin, text)| {
                ExperimentConfig::from_toml_str(text, origin)
                    .unwrap()
                    .with_overrides(&overrides)
                    .is_ok()
            })
        };
        assert!(!fits(4));
        assert!((5..=40).all(fits));
    }
}
