//! The policy inside the trainer: observation epochs change nothing, and the recorded
//! selection is the one computed by hand from the recorded statistics.

use amp_core::data::{synthetic, Augment, ImageSet, SyntheticSpec};
use amp_core::layer_weights::layer_weight_norms;
use amp_core::method::{
    Above, All, AmpPolicy, Cv, Intelligent, Mean, NoLayers, Phase, PhaseSchedule, Policy, Reselect,
};
use amp_core::train::{train, RunRecord, Silent, TrainSettings};
use amp_core::{Amplifiable, Mode};
use amp_models::Mlp;
use dfdx::prelude::*;

type Net = Mlp<48, 16, 4, f32, Cpu>;
const EPOCHS: usize = 5;

fn data() -> (ImageSet, ImageSet) {
    let spec = SyntheticSpec {
        classes: 4,
        train: 192,
        test: 64,
        size: 4,
        max_shift: 1,
        noise: 0.8,
        seed: 3,
        ..SyntheticSpec::default()
    };
    synthetic(&spec)
}

/// Amplification allowed in epochs 0..4 at a high lr, then a low-lr epoch without.
fn schedule(factor: f64) -> PhaseSchedule {
    PhaseSchedule::new(
        EPOCHS,
        vec![
            Phase {
                epochs: 0..4,
                lr: 0.1,
                amplify: true,
                factor,
                warmup: false,
            },
            Phase {
                epochs: 4..5,
                lr: 0.01,
                amplify: false,
                factor,
                warmup: false,
            },
        ],
    )
    .unwrap()
}

fn run(name: &str, policy: Box<dyn AmpPolicy>, mode: Mode) -> RunRecord {
    run_model(name, policy, mode).0
}

/// The record and the trained model.
fn run_model(name: &str, policy: Box<dyn AmpPolicy>, mode: Mode) -> (RunRecord, Net) {
    run_holding(name, policy, mode, false)
}

/// The freshly built model every run starts from.
fn built() -> Net {
    Net::build(&Cpu::seed_from_u64(7))
}

/// [`run_model`] with `hold_weight_norms` set to `hold`.
fn run_holding(
    name: &str,
    mut policy: Box<dyn AmpPolicy>,
    mode: Mode,
    hold: bool,
) -> (RunRecord, Net) {
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(7);
    let mut model = Net::build(&dev);
    let settings = TrainSettings {
        hold_weight_norms: hold,
        epochs: EPOCHS,
        batch_size: 32,
        augment: Augment {
            crop_padding: 1,
            hflip: true,
        },
        seed: 11,
        mode,
        ..TrainSettings::default()
    };
    let record = train::<Net, (usize, Const<48>), Cpu, 4>(
        name,
        &mut model,
        &dev,
        &train_set,
        &test_set,
        &settings,
        policy.as_mut(),
        &mut Silent,
    )
    .unwrap();
    (record, model)
}

fn baseline() -> RunRecord {
    let layers = Net::layer_names();
    run(
        "baseline",
        Box::new(Policy::new(
            layers,
            NoLayers,
            schedule(2.0).without_amplification(),
        )),
        Mode::Output,
    )
}

fn intelligent() -> RunRecord {
    let layers = Net::layer_names();
    let selector = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
    run(
        "intelligent",
        Box::new(Policy::new(layers, selector, schedule(4.0))),
        Mode::Output,
    )
}

/// Everything about an epoch that training could change, as exact bits.
fn epoch_bits(r: &RunRecord, e: usize) -> Vec<u64> {
    let ep = &r.epochs[e];
    let mut v = vec![
        ep.train_loss.to_bits(),
        ep.train_acc.to_bits(),
        ep.test_acc.to_bits(),
    ];
    for layer in &r.stats.epochs[e] {
        v.extend(layer.param_steps.iter().map(|x| x.to_bits()));
        v.push(layer.output.mean.to_bits());
    }
    v
}

#[test]
fn observation_epochs_are_bit_identical_to_the_baseline() {
    let (base, amp) = (baseline(), intelligent());
    for e in 0..2 {
        assert!(
            amp.epochs[e].amplified.is_empty(),
            "epoch {e} observes only"
        );
        assert_eq!(epoch_bits(&amp, e), epoch_bits(&base, e), "epoch {e}");
    }
    // Once the selection is amplified, training departs from the baseline.
    assert!(!amp.epochs[2].amplified.is_empty());
    assert_ne!(epoch_bits(&amp, 2), epoch_bits(&base, 2));
}

/// What `ExperimentConfig::drop_default_schedule` relies on: a baseline with the default
/// schedule written out (every phase unamplified) trains bit for bit as one that omits it
/// (whose first phase allows amplification of no layer), and so does one whose phases are
/// split at other epochs.
#[test]
fn a_baseline_writing_out_the_default_schedule_trains_bit_identically() {
    let default = PhaseSchedule::scaled_default(EPOCHS, 0.1, 2.0).unwrap();
    assert!(default.phases()[0].amplify);
    let baseline = |schedule: PhaseSchedule| {
        let policy = Policy::new(Net::layer_names(), NoLayers, schedule);
        run("baseline", Box::new(policy), Mode::Output)
    };
    let omitted = baseline(default.clone());
    let written = baseline(default.without_amplification());
    // And with every phase split into one-epoch phases: boundaries change nothing.
    let one_epoch_phases = default
        .without_amplification()
        .phases()
        .iter()
        .flat_map(|p| {
            p.epochs.clone().map(|e| Phase {
                epochs: e..e + 1,
                ..p.clone()
            })
        })
        .collect::<Vec<_>>();
    assert!(one_epoch_phases.len() > default.phases().len());
    let split = baseline(PhaseSchedule::new(EPOCHS, one_epoch_phases).unwrap());
    for e in 0..EPOCHS {
        assert_eq!(
            epoch_bits(&written, e),
            epoch_bits(&omitted, e),
            "epoch {e}"
        );
        assert_eq!(epoch_bits(&split, e), epoch_bits(&omitted, e), "epoch {e}");
    }
}

#[test]
fn factor_one_on_every_layer_trains_bit_identically() {
    let base = baseline();
    for mode in Mode::ALL {
        let layers = Net::layer_names();
        let ones = run(
            "k1",
            Box::new(Policy::new(layers, All, schedule(1.0))),
            mode,
        );
        assert_eq!(ones.epochs[0].amplified.len(), 3, "{mode}");
        for e in 0..EPOCHS {
            assert_eq!(
                epoch_bits(&ones, e),
                epoch_bits(&base, e),
                "{mode}, epoch {e}"
            );
        }
    }
}

/// Each epoch records each candidate layer's parameter norm (weight and bias together); the
/// last equals the trained model's, computed here by hand.
#[test]
fn recorded_weight_norms_are_the_trained_layers_norms() {
    let layers = Net::layer_names();
    let (record, model) = run_model(
        "all",
        Box::new(Policy::new(layers, All, schedule(4.0))),
        Mode::Output,
    );
    let norm = |w: Vec<f32>, b: Vec<f32>| {
        (w.iter().chain(&b))
            .map(|&v| (v as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let want = [
        norm(model.fc1.weight.as_vec(), model.fc1.bias.as_vec()),
        norm(model.fc2.weight.as_vec(), model.fc2.bias.as_vec()),
        norm(model.fc3.weight.as_vec(), model.fc3.bias.as_vec()),
    ];
    let last = &record.epochs[EPOCHS - 1].weight_norms;
    for (got, want) in last.iter().zip(&want) {
        assert!((got - want).abs() <= 1e-12 * want, "{last:?} vs {want:?}");
    }
    assert_eq!(last.len(), 3);
    // They change as the weights train.
    assert_ne!(record.epochs[0].weight_norms, *last);
}

#[test]
fn recorded_selection_matches_a_hand_computation_from_recorded_statistics() {
    let amp = intelligent();
    assert_eq!(amp.decisions.len(), 1);
    let d = &amp.decisions[0];
    assert_eq!(d.epoch, 2);

    // cv: mean over the observed epochs of std(g_t)/mean(g_t) of the per-step norms.
    let cv = |steps: &[f64]| {
        let n = steps.len() as f64;
        let mean = steps.iter().sum::<f64>() / n;
        let var = steps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n;
        var.sqrt() / mean
    };
    let scores: Vec<f64> = (0..Net::LAYER_COUNT)
        .map(|l| {
            (cv(&amp.stats.epochs[0][l].param_steps) + cv(&amp.stats.epochs[1][l].param_steps))
                / 2.0
        })
        .collect();
    let cut = scores.iter().sum::<f64>() / scores.len() as f64;
    let selected: Vec<usize> = (0..scores.len()).filter(|&l| scores[l] > cut).collect();

    let scoring = d
        .scoring
        .as_ref()
        .expect("intelligent selection records its scores");
    for (got, want) in scoring.scores.iter().zip(&scores) {
        assert!(
            (got - want).abs() < 1e-12,
            "{:?} vs {scores:?}",
            scoring.scores
        );
    }
    assert!((scoring.cut - cut).abs() < 1e-12);
    assert_eq!(d.selected, selected);
    assert!(!selected.is_empty() && selected.len() < Net::LAYER_COUNT);

    let names: Vec<String> = selected.iter().map(|&l| amp.layers[l].clone()).collect();
    for e in 2..4 {
        assert_eq!(amp.epochs[e].amplified, names, "epoch {e}");
    }
    assert!(
        amp.epochs[4].amplified.is_empty(),
        "the last phase does not amplify"
    );
}

/// The same invariants on a network with convolutions, pooling and batch norm (amp-nn's CPU
/// kernels), where a reduction order that depended on thread scheduling would show.
mod cnn {
    use super::*;
    use amp_models::SmallCnn;

    type Cnn = SmallCnn<4, f32, Cpu>;
    type Images = (usize, Const<3>, usize, usize);

    fn run_cnn(mut policy: Box<dyn AmpPolicy>, mode: Mode) -> RunRecord {
        let spec = SyntheticSpec {
            classes: 4,
            train: 96,
            test: 32,
            size: 8,
            seed: 5,
            ..SyntheticSpec::default()
        };
        let (train_set, test_set) = synthetic(&spec);
        let dev = Cpu::seed_from_u64(9);
        let mut model = Cnn::build(&dev);
        let settings = TrainSettings {
            epochs: EPOCHS,
            batch_size: 32,
            augment: Augment {
                crop_padding: 1,
                hflip: false,
            },
            seed: 1,
            mode,
            ..TrainSettings::default()
        };
        train::<Cnn, Images, Cpu, 4>(
            "cnn",
            &mut model,
            &dev,
            &train_set,
            &test_set,
            &settings,
            policy.as_mut(),
            &mut Silent,
        )
        .unwrap()
    }

    #[test]
    fn factor_one_and_observation_epochs_are_bit_identical_on_a_cnn() {
        let layers = Cnn::layer_names();
        let base = run_cnn(
            Box::new(Policy::new(
                layers.clone(),
                NoLayers,
                schedule(2.0).without_amplification(),
            )),
            Mode::Output,
        );
        let again = run_cnn(
            Box::new(Policy::new(
                layers.clone(),
                NoLayers,
                schedule(2.0).without_amplification(),
            )),
            Mode::Output,
        );
        for e in 0..EPOCHS {
            assert_eq!(
                epoch_bits(&again, e),
                epoch_bits(&base, e),
                "rerun, epoch {e}"
            );
        }
        for mode in Mode::ALL {
            let ones = run_cnn(
                Box::new(Policy::new(layers.clone(), All, schedule(1.0))),
                mode,
            );
            for e in 0..EPOCHS {
                assert_eq!(
                    epoch_bits(&ones, e),
                    epoch_bits(&base, e),
                    "{mode}, epoch {e}"
                );
            }
        }
        let selector = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
        let amp = run_cnn(
            Box::new(Policy::new(layers, selector, schedule(4.0))),
            Mode::Output,
        );
        for e in 0..2 {
            assert_eq!(
                epoch_bits(&amp, e),
                epoch_bits(&base, e),
                "observation epoch {e}"
            );
        }
        assert_ne!(epoch_bits(&amp, 2), epoch_bits(&base, 2));
    }
}

#[test]
fn holding_weight_norms_keeps_every_candidates_norm_through_amplified_training() {
    let start = layer_weight_norms::<Cpu, Net>(&built());
    let amplified = |hold| {
        let policy = Policy::new(Net::layer_names(), All, schedule(4.0));
        run_holding("all", Box::new(policy), Mode::Output, hold).0
    };
    let (free, held) = (amplified(false), amplified(true));
    for (e, (f, h)) in free.epochs.iter().zip(&held.epochs).enumerate() {
        for (l, &n0) in start.iter().enumerate() {
            let rel = |n: f64| (n - n0).abs() / n0;
            // Rescaled in f32 after every step: equal up to rounding, over 30 steps.
            assert!(
                rel(h.weight_norms[l]) < 1e-5,
                "epoch {e}, layer {l}: held {} vs {n0} at the start",
                h.weight_norms[l]
            );
            // Without holding, training moves every norm (so the check above can fail).
            assert!(rel(f.weight_norms[l]) > 1e-3, "epoch {e}, layer {l}");
        }
    }
    // It still trains: the held run's loss falls.
    let loss = |e: usize| held.epochs[e].train_loss;
    assert!(
        loss(EPOCHS - 1) < loss(0),
        "{} then {}",
        loss(0),
        loss(EPOCHS - 1)
    );
}
