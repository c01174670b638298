//! Measures against hand-computed values, with the edge cases of METHOD.md section 3.

use amp_core::method::{Cv, Measure, MeasureKind, RelChange, SignFlip};
use amp_core::stats::{LayerEpoch, Summary};

fn epoch(steps: &[f64]) -> LayerEpoch {
    LayerEpoch {
        param: Summary::of(steps),
        output: Summary::of(steps),
        param_steps: steps.to_vec(),
    }
}

fn score(m: &dyn Measure, epochs: &[&[f64]]) -> f64 {
    let owned: Vec<LayerEpoch> = epochs.iter().map(|s| epoch(s)).collect();
    let window: Vec<&LayerEpoch> = owned.iter().collect();
    m.score(&window)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn cv_is_the_mean_of_per_epoch_std_over_mean() {
    // [1, 3]: mean 2, population std 1 -> 0.5.
    assert!(close(score(&Cv, &[&[1.0, 3.0]]), 0.5));
    // [1, 2, 3]: mean 2, std sqrt(2/3) -> sqrt(2/3)/2.
    assert!(close(
        score(&Cv, &[&[1.0, 2.0, 3.0]]),
        (2.0f64 / 3.0).sqrt() / 2.0
    ));
    // Constant epoch: 0. Mean over epochs: (0.5 + 0) / 2.
    assert!(close(
        score(&Cv, &[&[1.0, 3.0], &[2.0, 2.0, 2.0, 2.0]]),
        0.25
    ));
    // A single step has std 0.
    assert_eq!(score(&Cv, &[&[4.0]]), 0.0);
}

#[test]
fn cv_edge_cases() {
    // Zero gradients: 0, not NaN.
    assert_eq!(score(&Cv, &[&[0.0, 0.0, 0.0]]), 0.0);
    assert_eq!(score(&Cv, &[&[0.0, 0.0], &[1.0, 3.0]]), 0.25);
    // Epochs without steps are skipped; none left: NaN.
    assert!(close(score(&Cv, &[&[], &[1.0, 3.0]]), 0.5));
    assert!(score(&Cv, &[&[], &[]]).is_nan());
    assert!(score(&Cv, &[]).is_nan());
    // NaN in a statistic: NaN score.
    assert!(score(&Cv, &[&[1.0, f64::NAN], &[1.0, 3.0]]).is_nan());
}

#[test]
fn rel_change_is_the_mean_relative_change_of_epoch_means() {
    // Means 4 -> 5: 1/4.
    assert!(close(score(&RelChange, &[&[4.0], &[5.0]]), 0.25));
    // Means 2 -> 3 -> 1.5: (1/2 + 1.5/3) / 2 = 0.5.
    assert!(close(
        score(&RelChange, &[&[1.0, 3.0], &[3.0], &[1.0, 2.0]]),
        0.5
    ));
    // A decrease counts like an increase: 4 -> 3: 0.25.
    assert!(close(score(&RelChange, &[&[4.0], &[2.0, 4.0]]), 0.25));
    assert_eq!(RelChange.min_epochs(), 2);
}

#[test]
fn rel_change_edge_cases() {
    // One observed epoch: no pair, NaN (never selected; configs reject observe_epochs < 2).
    assert!(score(&RelChange, &[&[1.0, 2.0]]).is_nan());
    // Zero gradients throughout: no change, 0.
    assert_eq!(score(&RelChange, &[&[0.0, 0.0], &[0.0]]), 0.0);
    // From zero to non-zero: +inf (never selected).
    assert_eq!(score(&RelChange, &[&[0.0], &[1.0]]), f64::INFINITY);
    // An epoch without steps is skipped: pairs form across it.
    assert!(close(score(&RelChange, &[&[4.0], &[], &[5.0]]), 0.25));
    // NaN mean: NaN.
    assert!(score(&RelChange, &[&[f64::NAN], &[1.0]]).is_nan());
}

#[test]
fn sign_flip_is_the_fraction_of_direction_changes() {
    // d = [2, -1, 2]: two flips over 2 interior steps.
    assert_eq!(score(&SignFlip, &[&[1.0, 3.0, 2.0, 4.0]]), 1.0);
    // Monotone: 0.
    assert_eq!(score(&SignFlip, &[&[1.0, 2.0, 3.0, 4.0]]), 0.0);
    // d = [2, -1, 0, -1]: one flip; the plateau is no flip; 3 interior steps.
    assert!(close(
        score(&SignFlip, &[&[1.0, 3.0, 2.0, 2.0, 1.0]]),
        1.0 / 3.0
    ));
    // Epochs are one series: [1, 3] then [2] flips once at the boundary.
    assert_eq!(score(&SignFlip, &[&[1.0, 3.0], &[2.0]]), 1.0);
}

#[test]
fn sign_flip_edge_cases() {
    assert_eq!(score(&SignFlip, &[&[0.0, 0.0, 0.0, 0.0]]), 0.0);
    assert!(score(&SignFlip, &[&[1.0, 2.0]]).is_nan());
    assert!(score(&SignFlip, &[&[1.0, f64::NAN, 2.0, 1.0]]).is_nan());
}

#[test]
fn kinds_name_and_build_the_same_impls() {
    for kind in MeasureKind::ALL {
        assert_eq!(MeasureKind::from_name(kind.name()), Some(kind));
        assert_eq!(kind.build().name(), kind.name());
    }
    assert_eq!(MeasureKind::from_name("cvv"), None);
    let boxed = MeasureKind::Cv.build();
    assert_eq!(score(&boxed, &[&[1.0, 3.0]]), score(&Cv, &[&[1.0, 3.0]]));
}
