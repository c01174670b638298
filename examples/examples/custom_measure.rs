//! A research codebase adding its own fluctuation measure: implement one trait, compose it
//! with the built-in threshold and direction, train, and read the decision.
//!
//! Run: `cargo run --release -p amp-examples --example custom_measure`

use amp_core::data::{synthetic, Augment, SyntheticSpec};
use amp_core::method::{Below, Intelligent, Measure, Median, PhaseSchedule, Policy, Reselect};
use amp_core::stats::LayerEpoch;
use amp_core::train::{train, Silent, TrainSettings};
use amp_core::{Amplifiable, Mode};
use amp_models::SmallCnn;
use dfdx::prelude::*;

/// Peak-to-mean ratio of the per-step gradient norm, worst epoch of the window: a layer
/// whose gradient spikes scores high.
struct PeakToMean;

impl Measure for PeakToMean {
    fn name(&self) -> String {
        "peak_to_mean".into()
    }

    fn score(&self, window: &[&LayerEpoch]) -> f64 {
        window
            .iter()
            .filter(|e| e.param.count > 0 && e.param.mean > 0.0)
            .map(|e| e.param.max / e.param.mean)
            .fold(f64::NAN, f64::max)
    }
}

fn main() -> anyhow::Result<()> {
    let spec = SyntheticSpec {
        train: 2000,
        test: 500,
        ..SyntheticSpec::default()
    };
    let (mut train_set, mut test_set) = synthetic(&spec);
    let stats = train_set.channel_stats();
    train_set.normalize(&stats);
    test_set.normalize(&stats);

    type Net = SmallCnn<10, f32, Cpu>;
    let dev = Cpu::seed_from_u64(0);
    let mut model = Net::build(&dev);

    // Amplify the layers whose gradients spike *least* (below the median): a composition the
    // config format does not name, checked by the compiler like any other.
    let epochs = 6;
    let selector = Intelligent::new(PeakToMean, Median, Below, 2, Reselect::Never)?;
    let schedule = PhaseSchedule::scaled_default(epochs, 0.05, 2.0)?;
    let mut policy = Policy::new(Net::layer_names(), selector, schedule);

    let settings = TrainSettings {
        epochs,
        augment: Augment {
            crop_padding: 2,
            hflip: false,
        },
        mode: Mode::Output,
        ..TrainSettings::default()
    };
    let record = train::<Net, (usize, Const<3>, usize, usize), Cpu, 10>(
        "peak-to-mean",
        &mut model,
        &dev,
        &train_set,
        &test_set,
        &settings,
        &mut policy,
        &mut Silent,
    )?;
    for d in &record.decisions {
        println!("{d}");
        if let Some(s) = &d.scoring {
            for (name, score) in record.layers.iter().zip(&s.scores) {
                println!("  {name:<8} {score:.4}");
            }
        }
    }
    for e in &record.epochs {
        println!(
            "epoch {:>2}: lr {:<6} test acc {:.3}, amplified {:?}",
            e.epoch + 1,
            e.lr,
            e.test_acc,
            e.amplified
        );
    }
    Ok(())
}
