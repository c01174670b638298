//! `amp sweep`: each config against its own baseline over several seeds, so that a
//! difference can be told from seed noise.
//!
//! Every config is checked against the model before anything trains. Runs go seed by seed
//! (all configs of seed 0 first, so a partial sweep already pairs); finished runs in `--out`
//! are skipped and interrupted ones resumed from their checkpoints, so rerunning the same
//! command continues a killed sweep. The summary goes to stdout and to `--out`.

use std::collections::HashMap;
use std::time::Instant;

use amp_core::config::{ExperimentConfig, Overrides, TOML_INT_MAX};
use amp_core::train::{Outcome, RunRecord, StopFlag};
use anyhow::{bail, Result};

use super::args::SweepArgs;
use super::data::{self, Data};
use super::experiment::Job;
use super::run_files::{check_out_dir, model_id, Existing, RunFiles};
use super::train_cmd::load_config;
use super::Finish;

/// One run of the sweep.
struct SweepRun {
    config: ExperimentConfig,
    files: RunFiles,
}

pub fn run(args: SweepArgs, stop: &StopFlag) -> Result<Finish> {
    super::device::check_training_device(args.device)?;
    check_seed_range(args.first_seed, args.seeds)?;
    let overrides = Overrides {
        epochs: args.epochs,
        seed: None,
    };
    let configs = args
        .configs
        .iter()
        .map(|p| load_config(p, &overrides, args.model))
        .collect::<Result<Vec<_>>>()?;
    data::check_limits(args.limit, args.test_limit)?;
    check_out_dir(&args.out)?;
    let runs = plan_runs(&configs, &args);
    let mut data = SeedData::default();
    let started = Instant::now();
    let (mut trained, mut records) = (0usize, HashMap::new());
    let left = |records: &HashMap<String, RunRecord>| runs.len() - records.len();
    eprintln!(
        "amp sweep: {} runs ({} configs and their baselines x {} seeds) into {}",
        runs.len(),
        configs.len(),
        args.seeds,
        args.out.display()
    );
    for (i, run) in runs.iter().enumerate() {
        let tag = format!("[{}/{}] {}", i + 1, runs.len(), run.files.stem);
        let _lock = run.files.lock()?;
        let resume = match run.files.existing()? {
            Existing::Record(r) => {
                eprintln!("{tag}: already done ({}), skipped", r.status.label());
                records.insert(run.files.stem.clone(), *r);
                continue;
            }
            Existing::Checkpoint => true,
            Existing::Nothing => false,
        };
        announce(&tag, resume, started, trained, left(&records));
        let label = format!("[{}/{}] {}", i + 1, runs.len(), run.config.name);
        let Some(r) = train_one(run, label, resume, &mut data, &args, stop)? else {
            eprintln!("sweep interrupted; rerun the same command to continue where it stopped");
            return Ok(Finish::Interrupted);
        };
        run.files.save_record(&r)?;
        eprintln!(
            "{tag}: {}, final test accuracy {:.4}",
            r.status.label(),
            r.final_test_acc()
        );
        records.insert(run.files.stem.clone(), r);
        trained += 1;
    }
    let all: Vec<RunRecord> = runs
        .iter()
        .filter_map(|r| records.get(&r.files.stem).cloned())
        .collect();
    summarize(&all, &args, started)?;
    Ok(Finish::Done)
}

/// Says that run `tag` starts (or resumes), with the sweep's time so far and, once a run has
/// trained, an estimate of the time the `left` runs still take.
fn announce(tag: &str, resume: bool, started: Instant, trained: usize, left: usize) {
    let elapsed = started.elapsed().as_secs_f64();
    let per_run = (trained > 0).then(|| elapsed / trained as f64);
    eprintln!(
        "{tag}: {} (sweep: {} elapsed{})",
        if resume { "resuming" } else { "training" },
        minutes(elapsed),
        per_run.map_or(String::new(), |s| format!(
            ", about {} left",
            minutes(s * left as f64)
        ))
    );
}

/// Trains (or resumes) one run of the sweep: its record, or `None` when a stop request
/// interrupted it (its checkpoint is saved).
fn train_one(
    run: &SweepRun,
    label: String,
    resume: bool,
    data: &mut SeedData,
    args: &SweepArgs,
    stop: &StopFlag,
) -> Result<Option<RunRecord>> {
    let outcome = Job {
        config: &run.config,
        data: data.for_seed(run.config.train.seed, args)?,
        files: &run.files,
        limits: (args.limit, args.test_limit),
        resume,
        stop: stop.clone(),
        device: args.device,
        label,
        quiet: args.quiet,
    }
    .run(args.model)?;
    Ok(match outcome {
        Outcome::Done(r) => Some(r),
        Outcome::Stopped { .. } => None,
    })
}

/// The data of the seed being run: the data set is decoded once, and each seed draws its
/// subsets and normalizes from it when its first run starts (runs go seed by seed).
#[derive(Default)]
struct SeedData {
    raw: Option<amp_core::data::RawData>,
    current: Option<(u64, Data)>,
}

impl SeedData {
    fn for_seed(&mut self, seed: u64, args: &SweepArgs) -> Result<&Data> {
        if self.current.as_ref().map(|d| d.0) != Some(seed) {
            if self.raw.is_none() {
                self.raw = Some(data::load_raw(&args.data)?);
            }
            let raw = self.raw.as_ref().expect("loaded above");
            let prepared = data::prepare(raw, seed, args.limit, args.test_limit)?;
            self.current = Some((seed, prepared));
        }
        Ok(&self.current.as_ref().expect("prepared above").1)
    }
}

/// Prints the sweep's comparison and per-seed tables and writes them to `--out`.
fn summarize(records: &[RunRecord], args: &SweepArgs, started: Instant) -> Result<()> {
    let comparisons = super::summary::compare(records);
    println!("{}", super::summary::table(&comparisons));
    println!("{}", super::summary::seed_table(&comparisons));
    super::summary::write_all(&args.out, &comparisons)?;
    eprintln!(
        "summary: {0}/summary.md, summary.csv, summary-seeds.csv, summary.json; sweep wall \
         time {1}",
        args.out.display(),
        minutes(started.elapsed().as_secs_f64())
    );
    Ok(())
}

/// Seeds `first`..`first + n - 1` must each fit a config (at most [`TOML_INT_MAX`]).
fn check_seed_range(first: u64, n: u64) -> Result<()> {
    match first.checked_add(n - 1) {
        Some(last) if last <= TOML_INT_MAX => Ok(()),
        _ => bail!(
            "--first-seed {first} --seeds {n}: the last seed would be above {TOML_INT_MAX} \
             (2^63 - 1, the largest integer TOML holds: each run's seed is saved in its config)"
        ),
    }
}

/// The runs in order: per seed, each config's baseline (once per distinct recipe) and then
/// the config itself.
fn plan_runs(configs: &[ExperimentConfig], args: &SweepArgs) -> Vec<SweepRun> {
    let model = model_id(args.model);
    let mut runs: Vec<SweepRun> = Vec::new();
    for s in 0..args.seeds {
        let seed = args.first_seed + s;
        let mut recipes: Vec<String> = Vec::new();
        for config in configs {
            let mut c = config.clone();
            c.train.seed = seed;
            // The key `amp report` pairs by, so the sweep's baselines are the summary's.
            let recipe = super::summary::recipe_key(&c);
            if !recipes.contains(&recipe) {
                recipes.push(recipe);
                let base = c.baseline();
                let files = RunFiles::new(&args.out, &base.name, &model, seed);
                runs.push(SweepRun {
                    config: base,
                    files,
                });
            }
            if c.amp.select.kind != amp_core::config::SelectKind::None {
                let files = RunFiles::new(&args.out, &c.name, &model, seed);
                runs.push(SweepRun { config: c, files });
            }
        }
    }
    runs
}

/// Seconds as "1h 02m", "3m 20s" or "12s".
pub fn minutes(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
