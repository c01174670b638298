//! Invariants of thresholds, random selection, schedules and the policy, over random inputs.

use amp_core::method::{
    Above, AmpPolicy, Below, Cv, Direction, Intelligent, Mean, Median, Phase, PhaseSchedule,
    Policy, Random, Resample, Reselect, Schedule, Threshold, TopK,
};
use amp_core::stats::{LayerEpoch, StatsHistory, Summary};
use proptest::prelude::*;

/// Distinct scores in random order (distinct integers, scaled, so midpoints are exact).
fn distinct_scores() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::btree_set(-10_000i32..10_000, 1..60)
        .prop_map(|set| set.into_iter().map(|v| v as f64 / 8.0).collect::<Vec<_>>())
        .prop_shuffle()
}

/// Scores with repeats and some NaN / inf.
fn messy_scores() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            8 => (-20i32..20).prop_map(|v| v as f64 / 4.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ],
        0..50,
    )
}

proptest! {
    #[test]
    fn median_selects_half_of_distinct_scores(scores in distinct_scores()) {
        let n = scores.len();
        prop_assert_eq!(Median.apply(&scores, &Above).selected.len(), n / 2);
        prop_assert_eq!(Median.apply(&scores, &Below).selected.len(), n / 2);
    }

    #[test]
    fn top_k_selects_exactly_min_k_finite(scores in messy_scores(), k in 1usize..60, above in any::<bool>()) {
        let dir: &dyn Direction = if above { &Above } else { &Below };
        let cut = TopK(k).apply(&scores, dir);
        let finite = scores.iter().filter(|s| s.is_finite()).count();
        prop_assert_eq!(cut.selected.len(), k.min(finite));
        prop_assert!(cut.selected.windows(2).all(|w| w[0] < w[1]));
        // Every pick is at least as far on the direction side as every non-pick.
        for &p in &cut.selected {
            prop_assert!(scores[p].is_finite());
            for l in (0..scores.len()).filter(|l| scores[*l].is_finite() && !cut.selected.contains(l)) {
                prop_assert!(dir.rank(scores[p], scores[l]) != std::cmp::Ordering::Greater);
                // Ties go to the earlier layer.
                if scores[p] == scores[l] { prop_assert!(p < l); }
            }
        }
    }

    #[test]
    fn value_thresholds_select_exactly_the_strict_side(scores in messy_scores(), above in any::<bool>()) {
        let dir: &dyn Direction = if above { &Above } else { &Below };
        for t in [&Mean as &dyn Threshold, &Median] {
            let cut = t.apply(&scores, dir);
            let expected: Vec<usize> = (0..scores.len())
                .filter(|&l| scores[l].is_finite() && dir.beyond(scores[l], cut.value))
                .collect();
            prop_assert_eq!(&cut.selected, &expected);
            prop_assert_eq!(cut.value.is_nan(), scores.iter().all(|s| !s.is_finite()));
        }
    }

    #[test]
    fn random_selects_ceil_ratio_n_reproducibly(
        ratio_pm in 1u32..=1000, n in 0usize..200, seed in any::<u64>(), draw in 0u64..5,
    ) {
        let ratio = ratio_pm as f64 / 1000.0;
        let r = Random::new(ratio, seed, Resample::PerPhase).unwrap();
        let picked = r.draw(n, draw);
        // ceil(ratio_pm * n / 1000), in exact integers.
        let expected = if n == 0 { 0 } else { (ratio_pm as usize * n).div_ceil(1000) };
        prop_assert_eq!(picked.len(), expected);
        prop_assert!(picked.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(picked.iter().all(|&l| l < n));
        prop_assert_eq!(picked, r.draw(n, draw));
    }

    #[test]
    fn default_schedule_covers_every_epoch_once(epochs in 1usize..300, lr in 0.001f64..2.0) {
        let s = PhaseSchedule::scaled_default(epochs, lr, 2.0).unwrap();
        for e in 0..epochs {
            let covering = s.phases().iter().filter(|p| p.epochs.contains(&e)).count();
            prop_assert_eq!(covering, 1);
        }
        prop_assert!(s.phase(epochs).is_none());
        prop_assert!(s.phases()[0].amplify && s.phases()[0].lr == lr);
        prop_assert!(s.phases()[1..].iter().all(|p| !p.amplify && p.lr < lr));
    }

    #[test]
    fn any_partition_in_any_order_is_a_schedule(
        cuts in prop::collection::btree_set(1usize..100, 0..10), extra in 1usize..20, order in any::<u64>(),
    ) {
        let epochs = cuts.iter().max().copied().unwrap_or(0) + extra;
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied());
        bounds.push(epochs);
        let mut phases: Vec<Phase> = bounds.windows(2)
            .map(|w| Phase { epochs: w[0]..w[1], lr: 0.1, amplify: w[0] == 0, factor: 2.0, warmup: false })
            .collect();
        let len = phases.len();
        phases.rotate_left(order as usize % len);
        let s = PhaseSchedule::new(epochs, phases).unwrap();
        for e in 0..epochs {
            prop_assert_eq!(s.phases().iter().filter(|p| p.epochs.contains(&e)).count(), 1);
            prop_assert!(s.phase(e).unwrap().phase.epochs.contains(&e));
        }
        // Removing any one phase of several leaves a gap.
        if len > 1 {
            let mut fewer: Vec<Phase> = s.phases().to_vec();
            fewer.remove(order as usize % len);
            prop_assert!(PhaseSchedule::new(epochs, fewer).is_err());
        }
    }

    #[test]
    fn policy_amplifies_only_after_observation_and_in_amplified_phases(
        epochs in 1usize..24, observe in 1usize..6, layers in 1usize..8, seed in any::<u64>(),
    ) {
        let schedule = PhaseSchedule::scaled_default(epochs, 0.1, 2.0).unwrap();
        let names: Vec<String> = (0..layers).map(|i| format!("l{i}")).collect();
        let mut h = StatsHistory::new(names.clone());
        let mut x = seed | 1;
        for _ in 0..epochs {
            h.epochs.push((0..layers).map(|_| {
                let steps: Vec<f64> = (0..4).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x % 100) as f64 }).collect();
                LayerEpoch { param: Summary::of(&steps), output: Summary::of(&steps), param_steps: steps }
            }).collect());
        }
        let sel = Intelligent::new(Cv, Mean, Above, observe, Reselect::Every(3)).unwrap();
        let mut policy = Policy::new(names, sel, schedule.clone());
        for e in 0..epochs {
            let plan = policy.plan_epoch(e, &h);
            let on = schedule.phase(e).unwrap().phase.amplify;
            if e < observe || !on {
                prop_assert!(!plan.any_amplified());
            }
            if let Some(d) = plan.decision {
                prop_assert!(d.epoch >= observe && (d.epoch - observe) % 3 == 0);
                let w = d.scoring.unwrap().window;
                prop_assert_eq!(w, d.epoch - observe..d.epoch);
            }
        }
    }
}
