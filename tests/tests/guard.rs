//! The loss guard (`amp.guard`): an amplified epoch whose loss jumps is undone and trained
//! again without amplification, and then it is the baseline's epoch bit for bit; a guard
//! that never fires changes nothing; a run stopped inside a guarded epoch, before or after
//! the guard fired, resumes to the same record; a step that diverges inside a guarded epoch
//! undoes it instead of ending the run.

mod runs;

use runs::{data, done, results};

use amp_core::method::{AmpPolicy, Phase, PhaseSchedule, Policy};
use amp_core::train::{
    Checkpoint, GuardEvent, Observer, Outcome, RunRecord, RunStatus, StopFlag, TrainSettings,
    Trainer,
};
use amp_core::Amplifiable;
use amp_models::Mlp;
use dfdx::prelude::*;

type Net = Mlp<48, 16, 4, f32, Cpu>;
type Input = (usize, Const<48>);
const EPOCHS: usize = 4;
/// 160 images in batches of 32.
const STEPS: usize = 5;

/// Every layer amplified by `factor` in epoch 1 only; `amplify` false: its baseline (the
/// same phases, and factors, amplifying nothing).
fn policy(factor: f64, amplify: bool) -> Box<dyn AmpPolicy> {
    let phase = |epochs: std::ops::Range<usize>, amplify: bool| Phase {
        epochs,
        lr: 0.1,
        amplify,
        factor,
        warmup: false,
    };
    let phases = vec![phase(0..1, false), phase(1..2, amplify), phase(2..4, false)];
    let schedule = PhaseSchedule::new(EPOCHS, phases).unwrap();
    Box::new(Policy::new(
        Net::layer_names(),
        amp_core::method::All,
        schedule,
    ))
}

/// Stops the run at (epoch, step), counting only steps after the guard fired `after` times;
/// keeps the guard's events.
#[derive(Default)]
struct Watch {
    flag: Option<StopFlag>,
    at: Option<(usize, usize)>,
    after: usize,
    epoch: usize,
    events: Vec<GuardEvent>,
}

impl Observer for Watch {
    fn epoch_started(&mut self, epoch: usize, _steps: usize, _first: usize) {
        self.epoch = epoch;
    }
    fn step_finished(&mut self, step: usize, _loss: f64) {
        if self.at == Some((self.epoch, step)) && self.events.len() == self.after {
            self.flag.as_ref().unwrap().request();
        }
    }
    fn guard_fired(&mut self, event: &GuardEvent) {
        self.events.push(event.clone());
    }
}

/// Trains `policy` with the guard `guard`; with `path` it checkpoints there, resumes from the
/// checkpoint `resume`, and stops as `watch` says.
fn run(
    policy: &mut dyn AmpPolicy,
    guard: Option<f64>,
    path: Option<&std::path::Path>,
    resume: Option<Checkpoint>,
    watch: &mut Watch,
) -> Outcome {
    let (train_set, test_set) = data();
    // The seed of the model built here; a resumed run takes everything from its checkpoint.
    let dev = Cpu::seed_from_u64(if resume.is_some() { 99 } else { 3 });
    let mut model = Net::build(&dev);
    let settings = TrainSettings {
        guard,
        ..runs::settings(EPOCHS)
    };
    let flag = StopFlag::new();
    watch.flag = Some(flag.clone());
    let mut t = Trainer::new("guard-test", &settings, policy)
        .observer(watch)
        .stop_flag(flag);
    if let Some(p) = path {
        t = t.checkpoint(p);
    }
    if let Some(c) = resume {
        t = t.resume(c);
    }
    t.run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
        .unwrap()
}

fn record(factor: f64, amplify: bool, guard: Option<f64>) -> RunRecord {
    done(run(
        policy(factor, amplify).as_mut(),
        guard,
        None,
        None,
        &mut Watch::default(),
    ))
}

/// The epochs without their wall-clock seconds: what training computed.
fn trained(r: &RunRecord) -> Vec<amp_core::train::EpochRecord> {
    let mut epochs = r.epochs.clone();
    epochs.iter_mut().for_each(|e| e.seconds = 0.0);
    epochs
}

fn scratch(name: &str) -> std::path::PathBuf {
    runs::scratch("guard", name)
}

/// k = 30 in `output` mode blows this network's epoch-1 loss up (the test checks it does).
const JUMP: f64 = 30.0;

#[test]
fn a_jumping_epoch_is_undone_and_trained_again_as_the_baseline_trained_it() {
    let baseline = record(JUMP, false, None);
    let unguarded = record(JUMP, true, None);
    let epoch0 = unguarded.epochs[0].train_loss;
    assert_eq!(epoch0.to_bits(), baseline.epochs[0].train_loss.to_bits());
    let jumped = unguarded
        .epochs
        .get(1)
        .map_or(f64::INFINITY, |e| e.train_loss);
    assert!(
        jumped > 1.5 * epoch0,
        "the scenario: epoch 1's loss {jumped} jumps past 1.5 x epoch 0's {epoch0}"
    );

    let mut watch = Watch::default();
    let guarded = done(run(
        policy(JUMP, true).as_mut(),
        Some(1.5),
        None,
        None,
        &mut watch,
    ));
    assert_eq!(guarded.status, RunStatus::Finished);
    assert_eq!(
        guarded.guarded, watch.events,
        "the observer saw what the record keeps"
    );
    let [g] = &guarded.guarded[..] else {
        panic!("one event: {:?}", guarded.guarded)
    };
    assert_eq!(g.epoch, 1);
    assert!(g.step >= 1 && g.step < STEPS, "{g:?}");
    assert_eq!(g.limit.to_bits(), (1.5 * epoch0).to_bits());
    assert!(g.loss > g.limit, "{g:?}");
    assert!(
        g.reason.contains("passed the guard's limit"),
        "{}",
        g.reason
    );
    assert_eq!(g.amplified, Net::layer_names());
    // The retrial amplified nothing; from the same start, with the same batches, it is the
    // baseline's epoch, and so is everything after it.
    assert!(guarded.epochs[1].amplified.is_empty());
    assert_eq!(trained(&guarded), trained(&baseline));
}

#[test]
fn a_guard_that_never_fires_changes_nothing() {
    let unguarded = record(3.0, true, None);
    assert_eq!(unguarded.epochs[1].amplified, Net::layer_names());
    let guarded = record(3.0, true, Some(1e6));
    assert!(guarded.guarded.is_empty());
    assert_eq!(results(guarded), results(unguarded));
}

#[test]
fn a_step_that_diverges_in_a_guarded_epoch_undoes_it_instead_of_ending_the_run() {
    let unguarded = record(1e30, true, None);
    assert!(
        matches!(unguarded.status, RunStatus::Diverged { epoch: 1, .. }),
        "the scenario: k = 1e30 makes epoch 1 diverge: {:?}",
        unguarded.status
    );
    let guarded = record(1e30, true, Some(1.5));
    assert_eq!(guarded.status, RunStatus::Finished);
    let [g] = &guarded.guarded[..] else {
        panic!("one event: {:?}", guarded.guarded)
    };
    assert_eq!(g.epoch, 1);
    assert!(
        g.reason.contains("not finite") || g.reason.contains("the loss is"),
        "{g:?}"
    );
    assert_eq!(trained(&guarded), trained(&record(1e30, false, None)));
}

#[test]
fn a_run_stopped_inside_a_guarded_epoch_resumes_bit_identically() {
    let whole = record(JUMP, true, Some(1.5));
    let fired_at = whole.guarded[0].step;
    // Before the guard fired (the checkpoint must keep the epoch's starting state to go back
    // to), after it fired (the retrial resumes unamplified), at the boundary after it.
    for (stop, after, next, keeps_start) in [
        ((1, 0), 0, (1, 1), true),
        ((1, fired_at - 1), 0, (1, fired_at), true),
        ((1, 2), 1, (1, 3), false),
        ((1, STEPS - 1), 1, (2, 0), false),
    ] {
        let path = scratch(&format!("stop-{}-{}-{after}", stop.0, stop.1));
        let mut watch = Watch {
            at: Some(stop),
            after,
            ..Watch::default()
        };
        let outcome = run(
            policy(JUMP, true).as_mut(),
            Some(1.5),
            Some(&path),
            None,
            &mut watch,
        );
        let ck = runs::stopped_at(outcome, &path, next);
        assert_eq!(ck.rollback.is_some(), keeps_start, "stopped at {stop:?}");
        let resumed = done(run(
            policy(JUMP, true).as_mut(),
            Some(1.5),
            Some(&path),
            Some(ck),
            &mut Watch::default(),
        ));
        assert_eq!(
            results(resumed),
            results(whole.clone()),
            "stopped at {stop:?} after {after} guard events"
        );
    }
}

#[test]
fn a_checkpoint_inside_a_guarded_epoch_without_its_starting_state_is_refused() {
    let path = scratch("no-start");
    let mut watch = Watch {
        at: Some((1, 0)),
        ..Watch::default()
    };
    run(
        policy(JUMP, true).as_mut(),
        Some(1.5),
        Some(&path),
        None,
        &mut watch,
    );
    let ck = Checkpoint::read(&path).unwrap();
    assert!(ck.rollback.is_some());
    Checkpoint::write(&path, &ck.state, &ck.model, &ck.momentum, None).unwrap();
    let ck = Checkpoint::read(&path).unwrap();
    let (train_set, test_set) = data();
    let dev = Cpu::seed_from_u64(3);
    let mut model = Net::build(&dev);
    let settings = ck.state.identity.settings.clone().unwrap();
    let mut policy = policy(JUMP, true);
    let e = Trainer::new("guard-test", &settings, policy.as_mut())
        .checkpoint(&path)
        .resume(ck)
        .run::<Net, Input, Cpu, 4>(&mut model, &dev, &train_set, &test_set)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a readable amp checkpoint (it stopped inside epoch 2, which the loss guard \
             watches, without the state the epoch started from)",
            path.display()
        )
    );
}
