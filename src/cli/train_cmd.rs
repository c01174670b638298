//! `amp train CONFIG`: one experiment, its record written atomically.

use amp_core::config::ExperimentConfig;
use anyhow::{Context, Result};

use super::args::{CheckArgs, TrainArgs};
use super::data;
use super::experiment::Experiment;
use super::models::layer_infos;
use super::report;

pub fn run(args: TrainArgs) -> Result<()> {
    super::device::check_training_device(args.device)?;
    let mut config = ExperimentConfig::load(&args.config)?;
    if let Some(e) = args.epochs {
        config.train.epochs = e;
    }
    if let Some(s) = args.seed {
        config.train.seed = s;
    }
    // Overrides are checked like the file itself.
    config.validate()?;
    let names: Vec<String> = layer_infos(args.model)
        .into_iter()
        .map(|l| l.name)
        .collect();
    config.validate_layers(&names)?;

    let data = data::load(&args.data, config.train.seed, args.limit)?;
    eprintln!(
        "amp train: {} on {:?}, {}",
        config.name, args.model, data.description
    );
    eprintln!("--- config ---\n{}--------------", config.to_toml());
    let record = Experiment {
        config: &config,
        train_set: &data.train,
        test_set: &data.test,
        augment: data.augment,
        quiet: args.quiet,
    }
    .run(args.model)?;
    let path = args.out.join(format!("{}.json", record.name));
    record
        .save(&path)
        .with_context(|| format!("writing the run record {}", path.display()))?;
    println!("{}", report::epochs_table(std::slice::from_ref(&record)));
    println!("{}", report::summary_table(std::slice::from_ref(&record)));
    for d in &record.decisions {
        println!("decision {d}");
    }
    println!("run record: {}", path.display());
    Ok(())
}

pub fn check(args: CheckArgs) -> Result<()> {
    let config = ExperimentConfig::load(&args.config)?;
    config.validate()?;
    let names: Vec<String> = layer_infos(args.model)
        .into_iter()
        .map(|l| l.name)
        .collect();
    let policy = config.build_policy(&names)?;
    println!(
        "{}: ok for {:?} ({} candidate layers)\n{}",
        args.config.display(),
        args.model,
        names.len(),
        policy.describe()
    );
    Ok(())
}
