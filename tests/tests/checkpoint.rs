//! Runs that never lose work, at the library level: amp's SGD is dfdx's bit for bit, a run
//! stopped anywhere and resumed from its checkpoint ends with the same record as one that was
//! never stopped, checkpoints of other runs or corrupted files are refused, and a diverging
//! run stops with a record that still reads back.

mod runs;

use runs::{data, done, results};

use amp_core::method::{
    Above, All, AmpPolicy, Cv, Intelligent, Mean, Phase, PhaseSchedule, Policy, Reselect,
};
use amp_core::train::optim::Sgd as AmpSgd;
use amp_core::train::{
    Checkpoint, CheckpointError, Observer, Outcome, Position, RunRecord, RunStatus, StopFlag,
    TrainError, TrainSettings, Trainer,
};
use amp_core::Amplifiable;
use amp_models::Mlp;
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig, WeightDecay};
use dfdx::prelude::*;

type Net = Mlp<48, 16, 4, f32, Cpu>;
type Input = (usize, Const<48>);
const EPOCHS: usize = 4;

fn settings(lr_scale: f64) -> (TrainSettings, Box<dyn AmpPolicy>) {
    let phases = vec![
        Phase {
            epochs: 0..3,
            lr: 0.1 * lr_scale,
            amplify: true,
            factor: 3.0,
            warmup: false,
        },
        Phase {
            epochs: 3..4,
            lr: 0.01 * lr_scale,
            amplify: false,
            factor: 3.0,
            warmup: false,
        },
    ];
    let selector = Intelligent::new(Cv, Mean, Above, 1, Reselect::Never).unwrap();
    let policy = Policy::new(
        Net::layer_names(),
        selector,
        PhaseSchedule::new(EPOCHS, phases).unwrap(),
    );
    let settings = runs::settings(EPOCHS);
    (settings, Box::new(policy))
}

/// Requests a stop once the run reaches (epoch, step).
struct StopAt {
    flag: StopFlag,
    at: Position,
    epoch: usize,
}

impl Observer for StopAt {
    fn epoch_started(&mut self, epoch: usize, _steps: usize, _first: usize) {
        self.epoch = epoch;
    }
    fn step_finished(&mut self, step: usize, _loss: f64) {
        if (self.epoch, step) == (self.at.epoch, self.at.step) {
            self.flag.request();
        }
    }
}

/// Trains from `model_seed`'s initialization; stops at `stop` when given; resumes from
/// `resume` when given.
fn run(
    model_seed: u64,
    ckpt: &std::path::Path,
    stop: Option<Position>,
    resume: Option<Checkpoint>,
) -> Result<Outcome, TrainError> {
    run_holding(model_seed, ckpt, stop, resume, false)
}

/// [`run`] with `hold_weight_norms` set to `hold`.
fn run_holding(
    model_seed: u64,
    ckpt: &std::path::Path,
    stop: Option<Position>,
    resume: Option<Checkpoint>,
    hold: bool,
) -> Result<Outcome, TrainError> {
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(model_seed);
    let mut model = Net::build(&dev);
    let (mut settings, mut policy) = settings(1.0);
    settings.hold_weight_norms = hold;
    let flag = StopFlag::new();
    let mut observer = StopAt {
        flag: flag.clone(),
        at: stop.unwrap_or(Position {
            epoch: usize::MAX,
            step: 0,
        }),
        epoch: 0,
    };
    let mut t = Trainer::new("ckpt-test", &settings, policy.as_mut())
        .observer(&mut observer)
        .checkpoint(ckpt)
        .stop_flag(flag)
        .config("name = \"ckpt-test\"\n");
    if let Some(c) = resume {
        t = t.resume(c);
    }
    t.run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
}

fn scratch(name: &str) -> std::path::PathBuf {
    runs::scratch("ckpt", name)
}

#[test]
fn amp_sgd_updates_bit_identically_to_dfdx_sgd() {
    let dev = Cpu::seed_from_u64(1);
    let cfg = SgdConfig {
        lr: 0.05,
        momentum: Some(Momentum::Classic(0.9)),
        weight_decay: Some(WeightDecay::L2(5e-4)),
    };
    let (mut a, mut b) = (Net::build(&dev), Net::build(&dev));
    b.clone_from(&a);
    let mut theirs = Sgd::new(&a, cfg);
    let mut ours = AmpSgd::<Cpu>::new(cfg);
    let x: Tensor<Rank2<8, 48>, f32, _> = dev.sample_normal();
    for _ in 0..5 {
        let ga = a
            .forward_mut(x.clone().traced(a.alloc_grads()))
            .square()
            .mean()
            .backward();
        theirs.update(&mut a, &ga).unwrap();
        let mut gb = b
            .forward_mut(x.clone().traced(b.alloc_grads()))
            .square()
            .mean()
            .backward();
        ours.update(&mut b, &mut gb).unwrap();
    }
    let bits = |m: &Net| {
        amp_core::train::tensors::read_tensors(m)
            .unwrap()
            .into_iter()
            .flat_map(|t| t.values.into_iter().map(f32::to_bits))
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn a_run_stopped_mid_epoch_or_between_epochs_resumes_bit_identically() {
    let whole = done(run(3, &scratch("whole"), None, None).unwrap());
    assert_eq!(whole.epochs.len(), EPOCHS);
    assert!(
        !whole.decisions.is_empty(),
        "the policy selected at epoch 1"
    );
    // Epochs have 5 steps; (1, 2) stops inside epoch 1, (1, 4) is its last step, so the run
    // stops at the epoch boundary after its evaluation.
    for (stop, next) in [((1, 2), (1, 3)), ((1, 4), (2, 0)), ((0, 0), (0, 1))] {
        let path = scratch(&format!("stop-{}-{}", stop.0, stop.1));
        let stop = Position {
            epoch: stop.0,
            step: stop.1,
        };
        let outcome = run(3, &path, Some(stop), None).unwrap();
        let ck = runs::stopped_at(outcome, &path, next);
        let want = ck.state.next;
        assert_eq!(
            Checkpoint::position(&path).unwrap(),
            want,
            "from the header alone"
        );
        // A model built from another seed: everything must come from the checkpoint.
        let resumed = done(run(99, &path, None, Some(ck)).unwrap());
        assert_eq!(resumed.provenance.resumed.len(), 1);
        assert_eq!(
            results(resumed),
            results(whole.clone()),
            "stopped at {stop:?}"
        );
    }
}

#[test]
fn a_run_holding_weight_norms_resumes_bit_identically() {
    let whole = done(run_holding(3, &scratch("held-whole"), None, None, true).unwrap());
    let free = done(run(3, &scratch("held-free"), None, None).unwrap());
    assert_ne!(
        results(whole.clone()),
        results(free),
        "holding changes training"
    );
    let path = scratch("held-stop");
    let stop = Position { epoch: 1, step: 2 };
    run_holding(3, &path, Some(stop), None, true).unwrap();
    let ck = Checkpoint::read(&path).unwrap();
    assert!(
        ck.state
            .identity
            .settings
            .as_ref()
            .unwrap()
            .hold_weight_norms
    );
    let resumed = done(run_holding(99, &path, None, Some(ck), true).unwrap());
    assert_eq!(results(resumed), results(whole));
}

#[test]
fn a_finished_runs_checkpoint_resumes_to_the_same_record() {
    let path = scratch("finished");
    let whole = done(run(3, &path, None, None).unwrap());
    let ck = Checkpoint::read(&path).unwrap();
    assert_eq!(ck.state.next.epoch, EPOCHS);
    let again = done(run(3, &path, None, Some(ck)).unwrap());
    assert_eq!(results(again), results(whole));
}

#[test]
fn checkpoints_of_other_runs_and_corrupted_files_are_refused() {
    let path = scratch("refuse");
    let stop = Position { epoch: 1, step: 1 };
    run(3, &path, Some(stop), None).unwrap();

    // Another recipe: the learning rates differ.
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(3);
    let mut model = Net::build(&dev);
    let (settings, mut policy) = settings(2.0);
    let err = Trainer::new("ckpt-test", &settings, policy.as_mut())
        .config("name = \"ckpt-test\"\n")
        .resume(Checkpoint::read(&path).unwrap())
        .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("belongs to a different run"), "{msg}");
    assert!(
        msg.contains("epoch 1 (lr 0.1, factor 3, amplified [] in the checkpoint; lr 0.2, factor 3, amplified [] replayed)"),
        "{msg}"
    );

    // Another config text.
    let (settings, mut policy) = settings_fn();
    let err = Trainer::new("ckpt-test", &settings, policy.as_mut())
        .config("name = \"ckpt-test\"\nlr = 2\n")
        .resume(Checkpoint::read(&path).unwrap())
        .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("config: line 2: checkpoint `<end>`, this run `lr = 2`"),
        "{err}"
    );

    // Another model with the same layer names: the tensors do not fit.
    type Wide = Mlp<48, 32, 4, f32, Cpu>;
    let mut wide = Wide::build(&dev);
    let (settings, mut policy) = settings_fn();
    let err = Trainer::new("ckpt-test", &settings, policy.as_mut())
        .config("name = \"ckpt-test\"\n")
        .resume(Checkpoint::read(&path).unwrap())
        .run::<Wide, Input, Cpu, 4>(&mut wide, &dev, &train_set, &test_set)
        .unwrap_err();
    assert!(matches!(
        err,
        TrainError::Checkpoint(CheckpointError::Tensors { .. })
    ));
    assert!(
        err.to_string()
            .contains("has shape [32, 48] in the model, [16, 48] in the checkpoint"),
        "{err}"
    );

    // A flipped byte in the tensor data, and a truncated file.
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = Checkpoint::read(&path).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    // The header is intact: the position still reads (it is for display, not resuming).
    assert_eq!(
        Checkpoint::position(&path).unwrap(),
        Position { epoch: 1, step: 2 }
    );
    std::fs::write(&path, &bytes[..n / 2]).unwrap();
    let err = Checkpoint::read(&path).unwrap_err().to_string();
    assert!(err.contains("not a readable amp checkpoint"), "{err}");
    for (bytes, why) in [
        (&b"\x05\x00"[..], "the file ends inside its header"),
        (
            &b"\x04\x00\x00\x00\x00\x00\x00\x00{}  "[..],
            "without amp's run state",
        ),
        (
            &b"\x02\x00\x00\x00\x00\x00\x00\x00{]"[..],
            "bad safetensors header",
        ),
    ] {
        std::fs::write(&path, bytes).unwrap();
        let err = Checkpoint::position(&path).unwrap_err().to_string();
        assert!(
            err.contains("not a readable amp checkpoint") && err.contains(why),
            "{err}"
        );
    }
}

#[test]
fn a_checkpoint_whose_momentum_does_not_fit_the_model_is_refused() {
    let path = scratch("momentum");
    run(3, &path, Some(Position { epoch: 1, step: 1 }), None).unwrap();
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(3);
    let mut model = Net::build(&dev);
    let mut resume = || {
        let (settings, mut policy) = settings_fn();
        let err = Trainer::new("ckpt-test", &settings, policy.as_mut())
            .config("name = \"ckpt-test\"\n")
            .resume(Checkpoint::read(&path).unwrap())
            .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
            .unwrap_err();
        err.to_string()
    };
    // The model's tensors fit but a momentum buffer has another shape (same values): refused
    // naming the buffer as the file does, before anything is loaded.
    let ck = Checkpoint::read(&path).unwrap();
    let mut momentum = ck.momentum.clone();
    let i = momentum.iter().position(|m| m.shape.len() == 2).unwrap();
    let (name, want, len) = (
        momentum[i].name.clone(),
        momentum[i].shape.clone(),
        momentum[i].values.len(),
    );
    momentum[i].shape = vec![len];
    Checkpoint::write(&path, &ck.state, &ck.model, &momentum, None).unwrap();
    assert_eq!(
        resume(),
        format!(
            "{}: the checkpoint does not fit the model: tensor `momentum.{name}` has shape \
             {want:?} in the model, [{len}] in the checkpoint",
            path.display()
        )
    );
    // And a buffer missing.
    momentum.remove(i);
    Checkpoint::write(&path, &ck.state, &ck.model, &momentum, None).unwrap();
    let err = resume();
    assert!(
        err.ends_with(&format!(
            "the checkpoint lacks `momentum.{name}`, which this model has"
        )),
        "{err}"
    );
}

fn settings_fn() -> (TrainSettings, Box<dyn AmpPolicy>) {
    settings(1.0)
}

#[test]
fn a_diverging_run_stops_at_its_step_and_its_record_reads_back() {
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(3);
    let mut model = Net::build(&dev);
    let (settings, mut policy) = settings(1e9);
    let out = Trainer::new("diverge", &settings, policy.as_mut())
        .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
        .unwrap();
    let r = done(out);
    let RunStatus::Diverged {
        epoch,
        step,
        reason,
        ..
    } = &r.status
    else {
        panic!("{:?}", r.status)
    };
    assert_eq!(
        r.epochs.len(),
        *epoch,
        "the epochs before the divergence are recorded"
    );
    assert!(
        reason.contains("loss") || reason.contains("not finite"),
        "{reason}"
    );
    assert!(r.final_test_acc().is_nan());
    let path = scratch("diverged").with_file_name("diverged.json");
    r.save(&path).unwrap();
    let back = RunRecord::load(&path).unwrap();
    assert_eq!(
        back.status.label(),
        format!("diverged (epoch {}, step {})", epoch + 1, step + 1)
    );

    // max_loss stops a run whose loss is finite but too large.
    let mut model = Net::build(&dev);
    let (mut settings, mut policy) = settings_fn();
    settings.max_loss = Some(0.5);
    let r = done(
        Trainer::new("capped", &settings, policy.as_mut())
            .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
            .unwrap(),
    );
    assert!(
        matches!(&r.status, RunStatus::Diverged { reason, epoch: 0, step: 0, .. } if reason.contains("exceeds max_loss = 0.5")),
        "{:?}",
        r.status
    );

    // A run that diverges while amplifying names the layers it was amplifying (its epochs
    // hold finished epochs only), and the record reads back with them.
    let phase = Phase {
        epochs: 0..EPOCHS,
        lr: 0.1,
        amplify: true,
        factor: 3.0,
        warmup: false,
    };
    let schedule = PhaseSchedule::new(EPOCHS, vec![phase]).unwrap();
    let mut all = Policy::new(Net::layer_names(), All, schedule);
    let mut model = Net::build(&dev);
    let (mut settings, _) = settings_fn();
    settings.max_loss = Some(0.5);
    let r = done(
        Trainer::new("amplified", &settings, &mut all)
            .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
            .unwrap(),
    );
    let RunStatus::Diverged { amplified, .. } = &r.status else {
        panic!("{:?}", r.status)
    };
    assert_eq!(*amplified, Net::layer_names());
    r.save(&path).unwrap();
    assert_eq!(RunRecord::load(&path).unwrap().status, r.status);
}

#[test]
fn nan_statistics_are_written_as_null_and_read_back_as_nan() {
    let path = scratch("nan").with_file_name("whole.json");
    let mut r = done(run(3, &scratch("nan"), None, None).unwrap());
    r.epochs[0].test_acc = f64::NAN;
    r.stats.epochs[0][0].param.mean = f64::INFINITY;
    r.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"test_acc\": null"), "NaN written as null");
    let back = RunRecord::load(&path).unwrap();
    assert!(back.epochs[0].test_acc.is_nan());
    assert!(back.stats.epochs[0][0].param.mean.is_nan());
    assert_eq!(back.epochs[1], r.epochs[1]);
}
