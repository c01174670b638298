//! The paired comparison of an amplified configuration with its baseline, seed by seed:
//! mean ± sd of the differences, how many seeds the amplified run is better in, and the
//! two-sided p-value of the paired t-test (Student's t with n − 1 degrees of freedom).
//!
//! Pairing matters because seed noise is often as large as the effect: the difference of two
//! runs of the same seed removes what they share (initialization, data order).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::super::summary::MeanSd;

/// Differences amplified − baseline over the seeds where both finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedDiff {
    /// The seeds paired.
    pub seeds: Vec<u64>,
    pub difference: MeanSd,
    /// Seeds where the amplified run is strictly better.
    pub better: usize,
    /// Two-sided p-value of the paired t-test; `null` with fewer than 2 pairs or when every
    /// difference is the same (the test is undefined).
    pub p_value: Option<f64>,
}

impl PairedDiff {
    /// From `(seed, amplified, baseline)` triples; pairs with a NaN side are left out.
    pub fn of(pairs: &[(u64, f64, f64)]) -> PairedDiff {
        let kept: Vec<&(u64, f64, f64)> = pairs
            .iter()
            .filter(|(_, a, b)| a.is_finite() && b.is_finite())
            .collect();
        let d: Vec<f64> = kept.iter().map(|(_, a, b)| a - b).collect();
        PairedDiff {
            seeds: kept.iter().map(|p| p.0).collect(),
            better: d.iter().filter(|x| **x > 0.0).count(),
            p_value: t_test(&d),
            difference: MeanSd::of(&d),
        }
    }

    /// `0.074`, `<0.001`, or `—`.
    pub fn p_display(&self) -> String {
        match self.p_value {
            None => "—".into(),
            Some(p) if p < 0.001 => "<0.001".into(),
            Some(p) => format!("{p:.3}"),
        }
    }
}

/// The two-sided p-value of a one-sample t-test of `d` against 0.
pub fn t_test(d: &[f64]) -> Option<f64> {
    let m = MeanSd::of(d);
    if m.n < 2 || m.sd.is_nan() || m.sd <= 0.0 {
        return None;
    }
    let t = m.mean / (m.sd / (m.n as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (m.n - 1) as f64).ok()?;
    Some((2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} != {b}");
    }

    /// With 2 degrees of freedom the t distribution has a closed form: the two-sided p-value
    /// of t is 1 − t / sqrt(t² + 2).
    #[test]
    fn p_value_matches_the_closed_form_for_three_pairs() {
        // Differences 0.01, 0.02, 0.03: mean 0.02, sd 0.01, t = 0.02 / (0.01 / √3) = 2√3.
        let p = PairedDiff::of(&[(0, 0.81, 0.80), (1, 0.72, 0.70), (2, 0.93, 0.90)]);
        close(p.difference.mean, 0.02, 1e-12);
        close(p.difference.sd, 0.01, 1e-12);
        assert_eq!(p.better, 3);
        let t = 2.0 * 3f64.sqrt();
        close(p.p_value.unwrap(), 1.0 - t / (t * t + 2.0).sqrt(), 1e-9);
        assert_eq!(p.p_display(), "0.074");
    }

    #[test]
    fn one_degree_of_freedom_is_the_cauchy_distribution() {
        // Differences +0.03, -0.01: mean 0.01, sd 0.02·√2, t = 0.01 / 0.02 = 0.5;
        // two-sided p = 1 − 2·atan(0.5)/π.
        let p = PairedDiff::of(&[(0, 0.83, 0.80), (4, 0.69, 0.70)]);
        assert_eq!(p.seeds, vec![0, 4]);
        assert_eq!(p.better, 1);
        close(
            p.p_value.unwrap(),
            1.0 - 2.0 * 0.5f64.atan() / std::f64::consts::PI,
            1e-9,
        );
    }

    #[test]
    fn undefined_tests_and_nan_sides() {
        assert_eq!(PairedDiff::of(&[(0, 0.8, 0.7)]).p_value, None);
        let same = PairedDiff::of(&[(0, 0.75, 0.5), (1, 0.625, 0.375)]);
        assert_eq!(same.p_value, None);
        assert_eq!(same.p_display(), "—");
        let nan = PairedDiff::of(&[(0, f64::NAN, 0.7), (1, 0.6, 0.5)]);
        assert_eq!((nan.seeds.clone(), nan.difference.n), (vec![1], 1));
    }
}
