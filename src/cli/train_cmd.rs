//! `amp train CONFIG`: one experiment. Everything is checked before the first step (config,
//! overrides, layer names, the output folder, what it already holds); the run checkpoints
//! every epoch, stops cleanly on Ctrl-C, resumes with `--resume`, and its record is written
//! atomically when it is over.

use amp_core::config::{ExperimentConfig, Overrides, SelectKind, DEFAULT_OBSERVE_EPOCHS};
use amp_core::method::{epochs_display, Explicit, PhaseSchedule};
use amp_core::train::{Outcome, RunRecord, StopFlag};
use anyhow::{bail, Result};

use super::args::{CheckArgs, ModelName, TrainArgs};
use super::data;
use super::experiment::Job;
use super::models::layer_infos;
use super::report;
use super::run_files::{check_out_dir, model_id, Existing, RunFiles};
use super::Finish;

/// Loads a config, applies the command line's overrides and checks it against the model.
pub fn load_config(
    path: &std::path::Path,
    overrides: &Overrides,
    model: ModelName,
) -> Result<ExperimentConfig> {
    let config = ExperimentConfig::load(path)?.with_overrides(overrides)?;
    let names: Vec<String> = layer_infos(model).into_iter().map(|l| l.name).collect();
    config.validate_layers(&names)?;
    Ok(config)
}

pub fn run(args: TrainArgs, stop: &StopFlag) -> Result<Finish> {
    super::device::check_training_device(args.device)?;
    let overrides = Overrides {
        epochs: args.epochs,
        seed: args.seed,
    };
    let config = load_config(&args.config, &overrides, args.model)?;
    data::check_limits(args.limit, args.test_limit)?;
    check_out_dir(&args.out)?;
    let files = RunFiles::new(
        &args.out,
        &config.name,
        &model_id(args.model),
        config.train.seed,
    );
    let _lock = files.lock()?;
    if let Some(done) = already_there(&files, &args)? {
        return Ok(done);
    }

    let data = data::load(&args.data, config.train.seed, args.limit, args.test_limit)?;
    eprintln!(
        "amp train: {} on {}, {}",
        config.name,
        model_id(args.model),
        data.describe()
    );
    eprintln!("--- config ---\n{}--------------", config.to_toml());
    let outcome = Job {
        config: &config,
        data: &data,
        files: &files,
        limits: (args.limit, args.test_limit),
        resume: args.resume,
        stop: stop.clone(),
        device: args.device,
        label: config.name.clone(),
        quiet: args.quiet,
    }
    .run(args.model)?;
    match outcome {
        Outcome::Done(record) => finished(&record, &files),
        Outcome::Stopped { at, .. } => {
            eprintln!(
                "interrupted at epoch {}, step {}; continue with:\n  {} --resume",
                at.epoch + 1,
                at.step,
                command_line()
            );
            Ok(Finish::Interrupted)
        }
    }
}

/// What `files` already hold, before a run starts: a finished run is shown, not trained again
/// (`Some`); a checkpoint is continued only with `--resume`; `--force` removes both first.
fn already_there(files: &RunFiles, args: &TrainArgs) -> Result<Option<Finish>> {
    if args.force {
        files.remove()?;
    }
    match files.existing()? {
        Existing::Record(r) => {
            println!(
                "{} already holds this run ({}); not training it again (--force retrains)",
                files.record.display(),
                r.status.label()
            );
            println!("{}", report::summary_table(std::slice::from_ref(&*r)));
            Ok(Some(Finish::Done))
        }
        Existing::Checkpoint if !args.resume => bail!(
            "{} holds the checkpoint of an interrupted run: --resume continues it, --force starts over",
            files.checkpoint.display()
        ),
        _ => Ok(None),
    }
}

/// Saves and shows the record of a run that is over.
fn finished(record: &RunRecord, files: &RunFiles) -> Result<Finish> {
    files.save_record(record)?;
    println!("{}", report::epochs_table(std::slice::from_ref(record)));
    println!("{}", report::summary_table(std::slice::from_ref(record)));
    for line in super::decisions::lines(record) {
        println!("{line}");
    }
    println!("run record: {}", files.record.display());
    if let amp_core::train::RunStatus::Diverged {
        reason, amplified, ..
    } = &record.status
    {
        let during = match amplified.len() {
            0 => String::new(),
            n => format!(
                ", while amplifying {n} of {} layers in {} mode",
                record.layers.len(),
                record.mode
            ),
        };
        eprintln!("the run {}: {reason}{during}", record.status.label());
        return Ok(Finish::Diverged);
    }
    Ok(Finish::Done)
}

/// This process's command line, without `--resume` (for the hint that adds it).
fn command_line() -> String {
    std::env::args()
        .filter(|a| a != "--resume")
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// For an `explicit` selection, the layers it amplifies (block names expanded):
/// `amplifies 18 of 54 layers: layer1.0.conv1, ...`.
fn explicit_line(config: &ExperimentConfig, layers: &[String]) -> Result<Option<String>> {
    let (SelectKind::Explicit, Some(listed)) = (config.amp.select.kind, &config.amp.select.layers)
    else {
        return Ok(None);
    };
    let picked = Explicit::new(listed, layers)?;
    let picked: Vec<&str> = picked
        .indices()
        .iter()
        .map(|&i| layers[i].as_str())
        .collect();
    Ok(Some(format!(
        "amplifies {} of {} layers: {}",
        picked.len(),
        layers.len(),
        picked.join(", ")
    )))
}

pub fn check(args: CheckArgs) -> Result<()> {
    let config = ExperimentConfig::load(&args.config)?;
    let names: Vec<String> = layer_infos(args.model)
        .into_iter()
        .map(|l| l.name)
        .collect();
    let plan = config.plan(&names)?;
    println!(
        "{}: ok for {} ({} candidate layers)\n{}",
        args.config.display(),
        model_id(args.model),
        names.len(),
        plan.policy.describe()
    );
    if let Some(line) = explicit_line(&config, &names)? {
        println!("{line}");
    }
    let origin = if config.schedule.is_some() {
        "[[schedule]] of the config"
    } else {
        "the default, scaled to train.epochs"
    };
    println!("schedule ({origin}; epochs counted from 1):");
    for line in schedule_lines(&config.schedule()?) {
        println!("  {line}");
    }
    if let Some(note) = amplification_note(&config) {
        println!("  ({note})");
    }
    if plan.settings.hold_weight_norms {
        println!(
            "train.hold_weight_norms: each candidate's weights are rescaled to their norm \
             before every step (the same function only where batch norm follows the layer)"
        );
    }
    if let Some(g) = plan.settings.guard {
        println!(
            "amp.guard: an amplified epoch whose mean training loss so far passes {g} x the \
             previous epoch's, or whose loss or gradients stop being finite, is undone and \
             trained again without amplification (never the first epoch: it has no previous loss)"
        );
    }
    Ok(())
}

/// What "amplification on" does not say: a baseline selects nothing, and intelligent
/// selection amplifies nothing while it observes.
fn amplification_note(config: &ExperimentConfig) -> Option<String> {
    let select = &config.amp.select;
    match select.kind {
        SelectKind::None => Some("a baseline: no layer is selected, nothing is amplified".into()),
        SelectKind::Intelligent => {
            let n = select.observe_epochs.unwrap_or(DEFAULT_OBSERVE_EPOCHS);
            Some(format!(
                "intelligent selection observes {}: the layers it selects are amplified \
                 from epoch {} on, where amplification is on",
                epochs_display(&(0..n)),
                n + 1
            ))
        }
        _ => None,
    }
}

/// A line per phase, epochs counted from 1: `epochs 5-6   lr 0.01   amplification on, k = 2`.
fn schedule_lines(schedule: &PhaseSchedule) -> Vec<String> {
    schedule
        .phases()
        .iter()
        .map(|p| {
            let epochs = epochs_display(&p.epochs);
            let lr = if p.warmup {
                format!("lr rising to {} (warm-up)", p.lr)
            } else {
                format!("lr {}", p.lr)
            };
            let amplified = if p.amplify {
                format!("amplification on, k = {}", p.factor)
            } else {
                "amplification off".to_string()
            };
            format!("{epochs:<12} {lr:<27} {amplified}")
                .trim_end()
                .to_string()
        })
        .collect()
}
