//! Phase schedules: the scaled default for any epoch count, and the coverage errors.

use amp_core::method::{Phase, PhaseSchedule, Schedule, ScheduleError};

fn ranges(s: &PhaseSchedule) -> Vec<(std::ops::Range<usize>, f64, bool)> {
    s.phases()
        .iter()
        .map(|p| (p.epochs.clone(), p.lr, p.amplify))
        .collect()
}

fn phase(a: usize, b: usize, amplify: bool) -> Phase {
    Phase {
        epochs: a..b,
        lr: 0.1,
        amplify,
        factor: 2.0,
        warmup: false,
    }
}

#[test]
fn default_schedule_for_16_epochs() {
    let s = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    assert_eq!(s.epochs(), 16);
    let r = ranges(&s);
    assert_eq!(r.len(), 3);
    assert_eq!((r[0].0.clone(), r[0].2), (0..8, true));
    assert_eq!((r[1].0.clone(), r[1].2), (8..12, false));
    assert_eq!((r[2].0.clone(), r[2].2), (12..16, false));
    assert_eq!(r[0].1, 0.4);
    assert!((r[1].1 - 0.04).abs() < 1e-15 && (r[2].1 - 0.004).abs() < 1e-15);
    let p = s.phase(9).unwrap();
    assert_eq!((p.index, p.phase.epochs, p.phase.factor), (1, 8..12, 2.0));
    assert!(s.phase(16).is_none());
}

#[test]
fn default_schedule_rounds_up_and_drops_empty_phases() {
    let starts = |e| -> Vec<std::ops::Range<usize>> {
        ranges(&PhaseSchedule::scaled_default(e, 1.0, 2.0).unwrap())
            .into_iter()
            .map(|r| r.0)
            .collect()
    };
    assert_eq!(starts(1), vec![0..1]);
    assert_eq!(starts(2), vec![0..1, 1..2]);
    assert_eq!(starts(3), vec![0..2, 2..3]);
    assert_eq!(starts(4), vec![0..2, 2..3, 3..4]);
    assert_eq!(starts(5), vec![0..3, 3..4, 4..5]);
    assert_eq!(starts(10), vec![0..5, 5..8, 8..10]);
    assert_eq!(
        PhaseSchedule::scaled_default(0, 1.0, 2.0),
        Err(ScheduleError::NoEpochs)
    );
    // The first phase is always the amplified high-lr one.
    for e in 1..=3 {
        let s = PhaseSchedule::scaled_default(e, 1.0, 2.0).unwrap();
        assert!(s.phases()[0].amplify && s.phases()[0].lr == 1.0);
    }
}

#[test]
fn baseline_is_the_same_schedule_without_amplification() {
    let s = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    let b = s.without_amplification();
    assert!(b.phases().iter().all(|p| !p.amplify));
    for e in 0..16 {
        assert_eq!(s.phase(e).unwrap().phase.lr, b.phase(e).unwrap().phase.lr);
    }
}

#[test]
fn phases_may_be_listed_in_any_order() {
    let s = PhaseSchedule::new(6, vec![phase(3, 6, false), phase(0, 3, true)]).unwrap();
    assert_eq!(s.phases()[0].epochs, 0..3);
    assert_eq!(s.phase(4).unwrap().index, 1);
}

#[test]
fn coverage_errors_name_phases_and_epochs() {
    let err = PhaseSchedule::new(10, vec![phase(0, 4, true), phase(6, 10, false)]).unwrap_err();
    assert_eq!(
        err,
        ScheduleError::Gap {
            gap: 4..6,
            after: Some(0),
            before: Some(1)
        }
    );
    assert_eq!(
        err.to_string(),
        "epochs 4..6 are in no phase (between phase 0 and phase 1)"
    );

    let err = PhaseSchedule::new(10, vec![phase(0, 6, true), phase(4, 10, false)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "phases 0 (epochs 0..6) and 1 (epochs 4..10) overlap on epochs 4..6"
    );
    // A phase inside another.
    let err = PhaseSchedule::new(10, vec![phase(0, 10, true), phase(2, 4, false)]).unwrap_err();
    assert!(matches!(err, ScheduleError::Overlap { overlap, .. } if overlap == (2..4)));

    let err = PhaseSchedule::new(10, vec![phase(1, 10, true)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "epochs 0..1 are in no phase (before phase 0, the first one)"
    );
    let err = PhaseSchedule::new(10, vec![phase(0, 8, true)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "epochs 8..10 are in no phase (after phase 0, the last one)"
    );
    let err = PhaseSchedule::new(10, vec![phase(0, 12, true)]).unwrap_err();
    assert!(matches!(
        err,
        ScheduleError::PastEnd {
            phase: 0,
            epochs: 10,
            ..
        }
    ));
    let err = PhaseSchedule::new(10, vec![phase(0, 10, true), phase(5, 5, true)]).unwrap_err();
    assert!(matches!(err, ScheduleError::EmptyPhase { phase: 1, .. }));
    assert_eq!(PhaseSchedule::new(10, vec![]), Err(ScheduleError::NoPhases));
    let mut bad = phase(0, 10, true);
    bad.lr = 0.0;
    assert!(matches!(
        PhaseSchedule::new(10, vec![bad.clone()]),
        Err(ScheduleError::BadLr { .. })
    ));
    bad.lr = 0.1;
    bad.factor = f64::NAN;
    assert!(matches!(
        PhaseSchedule::new(10, vec![bad]),
        Err(ScheduleError::BadFactor { .. })
    ));
}

/// A two-phase schedule over 4 epochs: a warm-up phase over epochs 0..2 at lr 0.8, then 0.1.
fn warmup_schedule() -> PhaseSchedule {
    PhaseSchedule::new(
        4,
        vec![
            Phase {
                epochs: 0..2,
                lr: 0.8,
                amplify: true,
                factor: 2.0,
                warmup: true,
            },
            Phase {
                epochs: 2..4,
                lr: 0.1,
                amplify: false,
                factor: 2.0,
                warmup: false,
            },
        ],
    )
    .unwrap()
}

#[test]
fn warmup_rises_linearly_over_the_phase_steps_to_exactly_lr() {
    let s = warmup_schedule();
    // 4 steps per epoch: the phase has T = 8 steps, step t trains at 0.8 (t + 1) / 8.
    let e0 = s.phase(0).unwrap();
    let e1 = s.phase(1).unwrap();
    assert_eq!((e0.epoch_in_phase, e1.epoch_in_phase), (0, 1));
    let lrs: Vec<f64> = (0..4)
        .map(|i| e0.lr_at(i, 4))
        .chain((0..4).map(|i| e1.lr_at(i, 4)))
        .collect();
    let want = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    for (got, want) in lrs.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{lrs:?}");
    }
    assert_eq!(e1.lr_at(3, 4), 0.8, "the last step is exactly lr");
    // A phase without warm-up keeps its lr at every step.
    let e2 = s.phase(2).unwrap();
    assert_eq!(e2.epoch_in_phase, 0);
    assert_eq!(s.phase(3).unwrap().epoch_in_phase, 1);
    assert!((0..4).all(|i| e2.lr_at(i, 4) == 0.1));
}

#[test]
fn warmup_over_one_epoch_of_one_step_is_lr() {
    let s = PhaseSchedule::new(
        1,
        vec![Phase {
            epochs: 0..1,
            lr: 0.3,
            amplify: false,
            factor: 1.0,
            warmup: true,
        }],
    )
    .unwrap();
    let p = s.phase(0).unwrap();
    assert_eq!(p.lr_at(0, 1), 0.3);
    // lr * 1 / 3, in f64.
    assert_eq!(p.lr_at(0, 3), 0.3 / 3.0);
    // Past the epoch's last step the rate stays at that step's.
    assert_eq!(p.lr_at(7, 3), 0.3);
}
