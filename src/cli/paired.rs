//! The paired comparison of an amplified configuration with its baseline, seed by seed:
//! mean ± sd of the differences, how many seeds the amplified run is better in, the two-sided
//! p-value of the paired t-test and the 95% interval of the mean difference (Student's t with
//! n − 1 degrees of freedom). Grid reports and `report --summary` both say it this way.
//!
//! Pairing matters because seed noise is often as large as the effect: the difference of two
//! runs of the same seed removes what they share (initialization, data order).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::summary::MeanSd;

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
    /// The 95% confidence interval of the mean difference, `[low, high]`: mean ± t(n − 1,
    /// 0.975) · sd / √n; `null` with fewer than 2 pairs.
    pub ci95: Option<(f64, f64)>,
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
            ci95: t_interval(&d, 0.95),
            difference: MeanSd::of(&d),
        }
    }

    /// `0.074`, `<0.001`, or `—`.
    pub fn p_display(&self) -> String {
        p_display(self.p_value)
    }

    /// `-0.0200 to +0.0130`, or `—`.
    pub fn ci_display(&self) -> String {
        ci_display(self.ci95)
    }
}

/// `0.074`, `<0.001`, or `—` for no p-value.
pub fn p_display(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

/// `-0.0200 to +0.0130`, or `—` for no interval.
pub fn ci_display(ci: Option<(f64, f64)>) -> String {
    match ci {
        None => "—".into(),
        Some((lo, hi)) => format!("{lo:+.4} to {hi:+.4}"),
    }
}

/// The `level` confidence interval of the mean of `d` (Student's t with n − 1 degrees of
/// freedom); `None` with fewer than 2 values. Every value the same: the interval is that value.
pub fn t_interval(d: &[f64], level: f64) -> Option<(f64, f64)> {
    let m = MeanSd::of(d);
    if m.n < 2 || !m.sd.is_finite() {
        return None;
    }
    let dist = StudentsT::new(0.0, 1.0, (m.n - 1) as f64).ok()?;
    let half = dist.inverse_cdf(0.5 + level / 2.0) * m.sd / (m.n as f64).sqrt();
    Some((m.mean - half, m.mean + half))
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
        // Its 0.975 quantile solves t / sqrt(t² + 2) = 0.95: t² = 2 · 0.9025 / 0.0975.
        let q = (2.0 * 0.9025f64 / 0.0975).sqrt();
        let (lo, hi) = p.ci95.unwrap();
        close(lo, 0.02 - q * 0.01 / 3f64.sqrt(), 1e-9);
        close(hi, 0.02 + q * 0.01 / 3f64.sqrt(), 1e-9);
        assert_eq!(p.ci_display(), "-0.0048 to +0.0448");
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
        // The 0.975 quantile of the Cauchy distribution is tan(0.475 π); sd / √n = 0.02.
        let half = (0.475 * std::f64::consts::PI).tan() * 0.02;
        let (lo, hi) = p.ci95.unwrap();
        close(lo, 0.01 - half, 1e-9);
        close(hi, 0.01 + half, 1e-9);
    }

    #[test]
    fn undefined_tests_and_nan_sides() {
        assert_eq!(PairedDiff::of(&[(0, 0.8, 0.7)]).p_value, None);
        let same = PairedDiff::of(&[(0, 0.75, 0.5), (1, 0.625, 0.375)]);
        assert_eq!(same.p_value, None);
        assert_eq!(same.p_display(), "—");
        assert_eq!(same.ci95, Some((0.25, 0.25)));
        assert_eq!(PairedDiff::of(&[(0, 0.8, 0.7)]).ci95, None);
        assert_eq!(PairedDiff::of(&[(0, 0.8, 0.7)]).ci_display(), "—");
        let nan = PairedDiff::of(&[(0, f64::NAN, 0.7), (1, 0.6, 0.5)]);
        assert_eq!((nan.seeds.clone(), nan.difference.n), (vec![1], 1));
    }
}
