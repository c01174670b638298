//! Thresholds and directions against hand-computed cuts and selections: ties, equal scores,
//! a single layer, non-finite scores.

use amp_core::method::{
    Above, Below, Direction, Fixed, Mean, Median, Quantile, Threshold, ThresholdKind, TopK,
};

const NAN: f64 = f64::NAN;

fn sel(t: &dyn Threshold, d: &dyn Direction, scores: &[f64]) -> (f64, Vec<usize>) {
    let cut = t.apply(scores, d);
    (cut.value, cut.selected)
}

#[test]
fn mean_and_median() {
    let s = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(sel(&Mean, &Above, &s), (2.5, vec![2, 3]));
    assert_eq!(sel(&Mean, &Below, &s), (2.5, vec![0, 1]));
    assert_eq!(sel(&Median, &Above, &s), (2.5, vec![2, 3]));
    // Odd count: the middle score, which itself is not selected.
    assert_eq!(sel(&Median, &Above, &[1.0, 5.0, 3.0]), (3.0, vec![1]));
    assert_eq!(sel(&Median, &Below, &[1.0, 5.0, 3.0]), (3.0, vec![0]));
}

#[test]
fn quantile_interpolates_linearly() {
    let s = [4.0, 1.0, 3.0, 2.0];
    // Sorted [1, 2, 3, 4]; q = 0.75: position 2.25 -> 3.25.
    assert_eq!(sel(&Quantile(0.75), &Above, &s), (3.25, vec![0]));
    assert_eq!(sel(&Quantile(0.0), &Above, &s), (1.0, vec![0, 2, 3]));
    assert_eq!(sel(&Quantile(1.0), &Above, &s), (4.0, vec![]));
    assert_eq!(sel(&Quantile(0.5), &Above, &s), sel(&Median, &Above, &s));
}

#[test]
fn top_k_picks_exactly_k_with_layer_order_tie_breaking() {
    let s = [1.0, 4.0, 3.0, 2.0];
    assert_eq!(sel(&TopK(2), &Above, &s), (3.0, vec![1, 2]));
    assert_eq!(sel(&TopK(1), &Below, &s), (1.0, vec![0]));
    assert_eq!(sel(&TopK(9), &Above, &s), (1.0, vec![0, 1, 2, 3]));
    // Ties: the earlier layers win.
    assert_eq!(
        sel(&TopK(2), &Above, &[1.0, 2.0, 2.0, 2.0]),
        (2.0, vec![1, 2])
    );
    assert_eq!(sel(&TopK(2), &Above, &[3.0, 3.0, 3.0]), (3.0, vec![0, 1]));
    assert_eq!(
        sel(&TopK(2), &Below, &[2.0, 1.0, 2.0, 1.0]),
        (1.0, vec![1, 3])
    );
}

#[test]
fn fixed_cut() {
    assert_eq!(
        sel(&Fixed(1.5), &Above, &[1.0, 2.0, 1.5, 3.0]),
        (1.5, vec![1, 3])
    );
    assert_eq!(
        sel(&Fixed(1.5), &Below, &[1.0, 2.0, 1.5, 3.0]),
        (1.5, vec![0])
    );
}

#[test]
fn ties_at_the_cut_are_not_selected() {
    let s = [1.0, 2.0, 2.0, 2.0];
    assert_eq!(sel(&Mean, &Above, &s), (1.75, vec![1, 2, 3]));
    assert_eq!(sel(&Median, &Above, &s), (2.0, vec![]));
    assert_eq!(sel(&Median, &Below, &s), (2.0, vec![0]));
}

#[test]
fn equal_scores_select_nothing_against_a_statistic() {
    let s = [0.3, 0.3, 0.3];
    for t in [&Mean as &dyn Threshold, &Median, &Quantile(0.9)] {
        assert_eq!(sel(t, &Above, &s).1, Vec::<usize>::new());
        assert_eq!(sel(t, &Below, &s).1, Vec::<usize>::new());
    }
}

#[test]
fn a_single_layer() {
    let s = [5.0];
    assert_eq!(sel(&Mean, &Above, &s), (5.0, vec![]));
    assert_eq!(sel(&Median, &Below, &s), (5.0, vec![]));
    assert_eq!(sel(&TopK(1), &Above, &s), (5.0, vec![0]));
    assert_eq!(sel(&Fixed(4.0), &Above, &s), (4.0, vec![0]));
}

#[test]
fn non_finite_scores_are_excluded_and_never_selected() {
    let s = [1.0, NAN, 3.0, 5.0];
    // Mean over {1, 3, 5} = 3.
    assert_eq!(sel(&Mean, &Above, &s), (3.0, vec![3]));
    assert_eq!(sel(&Mean, &Below, &s), (3.0, vec![0]));
    assert_eq!(sel(&Median, &Above, &s), (3.0, vec![3]));
    assert_eq!(sel(&TopK(10), &Above, &s), (1.0, vec![0, 2, 3]));
    assert_eq!(sel(&Fixed(0.0), &Above, &s), (0.0, vec![0, 2, 3]));
    // +inf is excluded from the mean and never selected.
    assert_eq!(
        sel(&Mean, &Above, &[1.0, f64::INFINITY, 3.0]),
        (2.0, vec![2])
    );
    // All non-finite: nothing, cut NaN.
    let (cut, picked) = sel(&Mean, &Above, &[NAN, NAN]);
    assert!(cut.is_nan() && picked.is_empty());
    let (cut, picked) = sel(&TopK(1), &Above, &[NAN]);
    assert!(cut.is_nan() && picked.is_empty());
    // No layers at all.
    assert!(sel(&Median, &Above, &[]).1.is_empty());
}

#[test]
fn kinds_build_the_same_impls_and_check_parameters() {
    let s = [1.0, 4.0, 3.0, 2.0];
    let pairs: [(ThresholdKind, &dyn Threshold); 5] = [
        (ThresholdKind::Mean, &Mean),
        (ThresholdKind::Median, &Median),
        (ThresholdKind::Quantile(0.25), &Quantile(0.25)),
        (ThresholdKind::TopK(3), &TopK(3)),
        (ThresholdKind::Fixed(2.5), &Fixed(2.5)),
    ];
    for (kind, t) in pairs {
        assert_eq!(kind.build().apply(&s, &Above), t.apply(&s, &Above));
        assert_eq!(kind.build().name(), t.name());
        assert!(kind.validate().is_ok());
    }
    assert!(ThresholdKind::Quantile(1.5).validate().is_err());
    assert!(ThresholdKind::Quantile(f64::NAN).validate().is_err());
    assert!(ThresholdKind::TopK(0).validate().is_err());
    assert!(ThresholdKind::Fixed(f64::INFINITY).validate().is_err());
    assert_eq!(ThresholdKind::Quantile(0.75).to_string(), "quantile(0.75)");
}
