//! Selectors and the policy: random counts and reproducibility, intelligent observation,
//! windows and reselection, what the trainer sees epoch by epoch.

use amp_core::method::{
    Above, All, AmpPolicy, Cv, Explicit, Intelligent, Mean, MethodError, NoLayers, PhaseSchedule,
    Policy, Random, RelChange, Resample, Reselect, SelectContext, Selector, TopK,
};
use amp_core::stats::{LayerEpoch, StatsHistory, Summary};

fn epoch(steps: &[f64]) -> LayerEpoch {
    LayerEpoch {
        param: Summary::of(steps),
        output: Summary::of(steps),
        param_steps: steps.to_vec(),
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("l{i}")).collect()
}

/// Three layers: cv 0.5 (fluctuating), 0 (steady), sqrt(2/3)/2 ~ 0.408, in every epoch.
fn history(epochs: usize) -> StatsHistory {
    let mut h = StatsHistory::new(names(3));
    for _ in 0..epochs {
        h.epochs.push(vec![
            epoch(&[1.0, 3.0]),
            epoch(&[2.0, 2.0]),
            epoch(&[1.0, 2.0, 3.0]),
        ]);
    }
    h
}

#[test]
fn random_counts_ceil_ratio_n() {
    let r = |ratio| Random::new(ratio, 0, Resample::Fixed).unwrap();
    assert_eq!(r(0.3).count(19), 6);
    assert_eq!(r(0.3).count(10), 3);
    assert_eq!(r(0.25).count(19), 5);
    assert_eq!(r(1.0).count(19), 19);
    assert_eq!(r(0.001).count(19), 1);
    assert_eq!(r(0.5).count(0), 0);
    for bad in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                Random::new(bad, 0, Resample::Fixed),
                Err(MethodError::BadRatio(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn random_is_reproducible_and_seeded() {
    let a = Random::new(0.3, 7, Resample::Fixed).unwrap();
    assert_eq!(a.draw(19, 0), a.draw(19, 0));
    let draws: Vec<Vec<usize>> = (0..8)
        .map(|s| Random::new(0.3, s, Resample::Fixed).unwrap().draw(19, 0))
        .collect();
    assert!(
        draws.iter().any(|d| *d != draws[0]),
        "different seeds give different layers"
    );
    let d = a.draw(19, 0);
    assert!(d.windows(2).all(|w| w[0] < w[1]) && d.iter().all(|&l| l < 19) && d.len() == 6);
}

#[test]
fn random_per_phase_draws_at_each_phase_start() {
    let schedule = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    let per_phase = Random::new(0.3, 3, Resample::PerPhase).unwrap();
    let fixed = Random::new(0.3, 3, Resample::Fixed).unwrap();
    assert_eq!(per_phase.selected_at(5, &schedule), Some(0));
    assert_eq!(per_phase.selected_at(9, &schedule), Some(8));
    assert_eq!(per_phase.selected_at(13, &schedule), Some(12));
    assert_eq!(fixed.selected_at(13, &schedule), Some(0));
    let h = StatsHistory::new(names(19));
    let layers = names(19);
    let ctx = SelectContext {
        layers: &layers,
        history: &h,
        schedule: &schedule,
    };
    // Draw 0 is the fixed draw; later phases draw again.
    assert_eq!(per_phase.select(0, &ctx), fixed.select(0, &ctx));
    let draws: Vec<_> = [0, 8, 12]
        .iter()
        .map(|&at| per_phase.select(at, &ctx).selected)
        .collect();
    assert!(draws[1] != draws[0] || draws[2] != draws[0]);
}

#[test]
fn all_none_explicit() {
    let schedule = PhaseSchedule::scaled_default(4, 0.1, 2.0).unwrap();
    let layers = names(4);
    let h = StatsHistory::new(layers.clone());
    let ctx = SelectContext {
        layers: &layers,
        history: &h,
        schedule: &schedule,
    };
    assert_eq!(All.select(0, &ctx).selected, vec![0, 1, 2, 3]);
    assert_eq!(NoLayers.selected_at(0, &schedule), None);
    let e = Explicit::new(&["l3", "l1", "l3"], &layers).unwrap();
    assert_eq!(e.select(0, &ctx).selected, vec![1, 3]);
    let err = Explicit::new(&["l1", "l9"], &layers).unwrap_err();
    assert_eq!(err.name, "l9");
    assert!(
        err.to_string()
            .contains("valid layer names: l0, l1, l2, l3"),
        "{err}"
    );
    assert!(err.to_string().contains("did you mean"), "{err}");
}

/// A block's name stands for the layers inside it, by whole dotted parts: `layer1` holds
/// `layer1.0.conv1` but not `layer10.conv1`, and an exact layer name wins over a prefix.
#[test]
fn explicit_block_names_select_the_layers_inside() {
    let layers: Vec<String> = [
        "conv1",
        "layer1.0.conv1",
        "layer1.0.conv2",
        "layer1.1.conv1",
        "layer10.conv1",
        "layer2.0.conv1",
    ]
    .map(String::from)
    .to_vec();
    let pick = |names: &[&str]| Explicit::new(names, &layers).map(|e| e.indices().to_vec());
    assert_eq!(pick(&["layer1"]).unwrap(), vec![1, 2, 3]);
    assert_eq!(pick(&["layer1.0"]).unwrap(), vec![1, 2]);
    assert_eq!(pick(&["layer10"]).unwrap(), vec![4]);
    assert_eq!(pick(&["conv1"]).unwrap(), vec![0], "the layer, not a block");
    assert_eq!(
        pick(&["layer2", "layer1.1.conv1", "layer1"]).unwrap(),
        vec![1, 2, 3, 5],
        "a layer named with its block counts once"
    );
    for no in ["layer", "layer1.", "layer1.0.conv", "layer3"] {
        assert_eq!(pick(&[no]).unwrap_err().name, no, "{no} names nothing");
    }
}

#[test]
fn intelligent_observes_then_selects_on_the_direction_side() {
    let sel = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
    let schedule = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    let mut policy = Policy::new(names(3), sel, schedule);
    let h = history(16);
    for e in 0..2 {
        let plan = policy.plan_epoch(e, &h);
        assert_eq!(plan.amplified, vec![false; 3]);
        assert!(plan.decision.is_none());
        assert_eq!(plan.lr, 0.4);
    }
    let plan = policy.plan_epoch(2, &h);
    let d = plan
        .decision
        .clone()
        .expect("the selection is made at epoch observe_epochs");
    assert_eq!(d.epoch, 2);
    let s = d.scoring.as_ref().unwrap();
    assert_eq!(s.window, 0..2);
    let cv2 = (2.0f64 / 3.0).sqrt() / 2.0;
    assert!(
        (s.scores[0] - 0.5).abs() < 1e-12
            && s.scores[1] == 0.0
            && (s.scores[2] - cv2).abs() < 1e-12
    );
    assert!((s.cut - (0.5 + cv2) / 3.0).abs() < 1e-12);
    assert_eq!(d.selected, vec![0, 2]);
    assert_eq!(d.selected_names, vec!["l0", "l2"]);
    assert_eq!(plan.amplified, vec![true, false, true]);
    assert_eq!(plan.factor, 2.0);
    assert_eq!(
        d.to_string(),
        format!("from epoch 3: intelligent(cv, mean, above, observe 2, reselect never) selected 2/3 layers (scored epochs 1-2, cut {:.6}): l0, l2", s.cut)
    );
    // Kept without a new decision; switched off with the phase.
    let plan = policy.plan_epoch(7, &h);
    assert!(plan.decision.is_none() && plan.amplified == vec![true, false, true]);
    let plan = policy.plan_epoch(8, &h);
    assert_eq!((plan.amplified, plan.phase), (vec![false; 3], 1));
    assert!((plan.lr - 0.04).abs() < 1e-15);
}

#[test]
fn intelligent_reselects_over_the_last_observe_epochs() {
    let sel = Intelligent::new(Cv, TopK(1), Above, 3, Reselect::Every(2)).unwrap();
    let schedule = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    assert_eq!(sel.selected_at(2, &schedule), None);
    assert_eq!(sel.selected_at(3, &schedule), Some(3));
    assert_eq!(sel.selected_at(4, &schedule), Some(3));
    assert_eq!(sel.selected_at(5, &schedule), Some(5));
    assert_eq!(sel.selected_at(8, &schedule), Some(7));
    let mut policy = Policy::new(names(3), sel, schedule);
    let h = history(16);
    let windows: Vec<_> = (0..8)
        .filter_map(|e| policy.plan_epoch(e, &h).decision)
        .map(|d| (d.epoch, d.scoring.unwrap().window))
        .collect();
    assert_eq!(windows, vec![(3, 0..3), (5, 2..5), (7, 4..7)]);
}

#[test]
fn a_resumed_policy_rederives_the_same_selection() {
    let make = || {
        Policy::new(
            names(3),
            Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap(),
            PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap(),
        )
    };
    let h = history(16);
    let mut fresh = make();
    let from_start: Vec<_> = (0..6).map(|e| fresh.plan_epoch(e, &h)).collect();
    let mut resumed = make();
    let plan = resumed.plan_epoch(5, &h);
    assert_eq!(plan.amplified, from_start[5].amplified);
    assert_eq!(plan.decision, from_start[2].decision);
}

#[test]
fn intelligent_checks_its_window() {
    assert_eq!(
        Intelligent::new(RelChange, Mean, Above, 1, Reselect::Never).unwrap_err(),
        MethodError::ObserveTooShort {
            measure: "rel_change".into(),
            needs: 2,
            observe_epochs: 1
        }
    );
    assert!(Intelligent::new(Cv, Mean, Above, 0, Reselect::Never).is_err());
    assert_eq!(
        Intelligent::new(Cv, Mean, Above, 2, Reselect::Every(0)).unwrap_err(),
        MethodError::ReselectZero
    );
}

#[test]
fn a_nan_layer_is_never_amplified() {
    let mut h = history(2);
    h.epochs[1][0] = epoch(&[1.0, f64::NAN]);
    let sel = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
    let mut policy = Policy::new(
        names(3),
        sel,
        PhaseSchedule::scaled_default(8, 0.1, 2.0).unwrap(),
    );
    let plan = policy.plan_epoch(2, &h);
    let s = plan.decision.unwrap().scoring.unwrap();
    assert!(s.scores[0].is_nan());
    // Cut over the two finite scores: (0 + 0.408) / 2.
    assert_eq!(plan.amplified, vec![false, false, true]);
}

#[test]
fn boxed_pieces_behave_like_static_ones() {
    use amp_core::method::{DirectionKind, MeasureKind, ThresholdKind};
    let h = history(4);
    let run = |p: &mut dyn AmpPolicy| (0..4).map(|e| p.plan_epoch(e, &h)).collect::<Vec<_>>();
    let schedule = PhaseSchedule::scaled_default(4, 0.1, 2.0).unwrap();
    let mut static_policy = Policy::new(
        names(3),
        Intelligent::new(Cv, Mean, Above, 1, Reselect::Never).unwrap(),
        schedule.clone(),
    );
    let boxed: Box<dyn Selector> = Box::new(
        Intelligent::new(
            MeasureKind::Cv.build(),
            ThresholdKind::Mean.build(),
            DirectionKind::Above.build(),
            1,
            Reselect::Never,
        )
        .unwrap(),
    );
    let mut dyn_policy: Box<dyn AmpPolicy> = Box::new(Policy::new(names(3), boxed, schedule));
    assert_eq!(run(&mut static_policy), run(dyn_policy.as_mut()));
    assert_eq!(dyn_policy.epochs(), 4);
    assert_eq!(dyn_policy.layers().len(), 3);
}

#[test]
#[should_panic(expected = "epoch 4 is past the schedule, which has 4 epochs")]
fn planning_past_the_schedule_panics() {
    let mut p = Policy::new(
        names(1),
        All,
        PhaseSchedule::scaled_default(4, 0.1, 2.0).unwrap(),
    );
    p.plan_epoch(4, &StatsHistory::new(names(1)));
}
