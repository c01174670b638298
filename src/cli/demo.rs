//! `amp demo`: a small network on the built-in synthetic images, trained as baseline and with
//! intelligent amplification, with the tables a person wants to see.

use std::time::Instant;

use amp_core::data::{synthetic, SyntheticSpec};
use amp_core::method::{Above, Cv, Intelligent, Mean, NoLayers, PhaseSchedule, Policy, Reselect};
use amp_core::train::{train, BatchShape, Classifier, RunRecord, TrainSettings};
use amp_core::{Amplifiable, Mode};
use anyhow::{Context, Result};

use super::args::{DemoArgs, ModelName};
use super::models::{with_model, Dev, WithModel};
use super::progress::Bars;
use super::report;

/// The demo's fixed recipe (its own choice, not the papers'): SGD lr 0.05 with the default
/// schedule, k = 2 in `output` mode, intelligent selection cv / mean / above after 2 epochs.
const LR: f64 = 0.05;
const FACTOR: f64 = 2.0;
const OBSERVE: usize = 2;

pub fn run(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let spec = SyntheticSpec {
        seed: args.seed,
        ..SyntheticSpec::default()
    };
    let (mut train_set, mut test_set) = synthetic(&spec);
    let stats = train_set.channel_stats();
    train_set.normalize(&stats);
    test_set.normalize(&stats);
    eprintln!(
        "amp demo: synthetic {}x{}x{} images, {} classes, {} train / {} test; {} epochs per run",
        spec.channels,
        spec.size,
        spec.size,
        spec.classes,
        train_set.len(),
        test_set.len(),
        args.epochs
    );

    let model = ModelName::Cnn;
    let mut runs = Vec::new();
    for amplify in [false, true] {
        let dev = Dev::seed_from_u64(args.seed);
        let run = with_model(
            model,
            &dev,
            DemoRun {
                amplify,
                args: &args,
                train_set: &train_set,
                test_set: &test_set,
            },
        )?;
        let path = args.out.join(format!("{}.json", run.name));
        run.save(&path)
            .with_context(|| format!("writing the run record {}", path.display()))?;
        runs.push(run);
    }

    println!("\nTest accuracy per epoch (lr schedule: {LR} / {} / {}; k = {FACTOR}, mode output)", LR / 10.0, LR / 100.0);
    println!("{}", report::epochs_table(&runs));
    let amp = &runs[1];
    println!(
        "\nPer-layer gradient statistics of `{}` over the {OBSERVE} observation epochs, and the selection",
        amp.name
    );
    println!("{}", report::layers_table(amp, OBSERVE));
    for d in &amp.decisions {
        println!("decision: {d}");
    }
    println!();
    for r in &runs {
        println!(
            "{:>24}: final test accuracy {:.3}, {:.1}s",
            r.name,
            r.final_test_acc(),
            r.epochs.iter().map(|e| e.seconds).sum::<f64>()
        );
    }
    println!(
        "run records in {}; total wall time {:.1}s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct DemoRun<'a> {
    amplify: bool,
    args: &'a DemoArgs,
    train_set: &'a amp_core::data::ImageSet,
    test_set: &'a amp_core::data::ImageSet,
}

impl WithModel for DemoRun<'_> {
    type Output = Result<RunRecord>;

    fn run<M, S, const C: usize>(self, mut model: M, dev: &Dev) -> Result<RunRecord>
    where
        M: Classifier<S, Dev, C> + Amplifiable + Clone,
        S: BatchShape,
    {
        let epochs = self.args.epochs;
        let layers = M::layer_names();
        let schedule = PhaseSchedule::scaled_default(epochs, LR, FACTOR)?;
        let (name, mut policy): (&str, Box<dyn amp_core::method::AmpPolicy>) = if self.amplify {
            let selector = Intelligent::new(Cv, Mean, Above, OBSERVE, Reselect::Never)?;
            ("intelligent-cv-mean", Box::new(Policy::new(layers, selector, schedule)))
        } else {
            (
                "baseline",
                Box::new(Policy::new(layers, NoLayers, schedule.without_amplification())),
            )
        };
        let settings = TrainSettings {
            epochs,
            batch_size: 128,
            seed: self.args.seed,
            mode: Mode::Output,
            ..TrainSettings::default()
        };
        let mut bars = Bars::new(name, epochs, self.args.quiet);
        Ok(train::<M, S, Dev, C>(
            name,
            &mut model,
            dev,
            self.train_set,
            self.test_set,
            &settings,
            policy.as_mut(),
            &mut bars,
        )?)
    }
}
