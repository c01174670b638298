//! Thresholds: all candidate layers' scores -> a cut, and the layers on the direction side.
//!
//! Non-finite scores (NaN, +-inf: a layer with broken or undefined statistics) are left out of
//! the cut and are never selected. With no finite score at all, nothing is selected and the
//! cut is NaN.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Direction, MethodError};

/// The outcome of a threshold: the cut value and the selected layers (ascending indices).
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// The threshold value (NaN when no score was finite).
    pub value: f64,
    /// Indices of the selected layers, ascending.
    pub selected: Vec<usize>,
}

/// Scores -> cut. Implement [`Threshold::cut`] for a value-type threshold (everything strictly
/// on the direction side is selected); override [`Threshold::apply`] for a count-type one.
pub trait Threshold: Send {
    /// The name used in reports, with its parameter (`quantile(0.75)`).
    fn name(&self) -> String;

    /// The cut over `finite`: the finite scores, sorted ascending, never empty.
    fn cut(&self, finite: &[f64], direction: &dyn Direction) -> f64;

    /// Applies the threshold to every layer's score (`scores[l]`, possibly non-finite).
    fn apply(&self, scores: &[f64], direction: &dyn Direction) -> Cut {
        let finite = sorted_finite(scores);
        if finite.is_empty() {
            return Cut {
                value: f64::NAN,
                selected: Vec::new(),
            };
        }
        let value = self.cut(&finite, direction);
        let selected = (0..scores.len())
            .filter(|&l| scores[l].is_finite() && direction.beyond(scores[l], value))
            .collect();
        Cut { value, selected }
    }
}

impl<T: Threshold + ?Sized> Threshold for Box<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn cut(&self, finite: &[f64], direction: &dyn Direction) -> f64 {
        (**self).cut(finite, direction)
    }
    fn apply(&self, scores: &[f64], direction: &dyn Direction) -> Cut {
        (**self).apply(scores, direction)
    }
}

/// The finite scores, ascending.
fn sorted_finite(scores: &[f64]) -> Vec<f64> {
    let mut finite: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    finite
}

/// Linear-interpolation quantile of ascending `sorted` (numpy's default "linear" method):
/// position q * (n - 1), interpolated between its neighbours.
fn quantile_of(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    if lo == hi {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }
}

/// `mean`: the arithmetic mean of the finite scores.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean;

impl Threshold for Mean {
    fn name(&self) -> String {
        "mean".into()
    }
    fn cut(&self, finite: &[f64], _: &dyn Direction) -> f64 {
        finite.iter().sum::<f64>() / finite.len() as f64
    }
}

/// `median`: the 0.5 [`Quantile`] (the mean of the two middle scores for an even count).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Median;

impl Threshold for Median {
    fn name(&self) -> String {
        "median".into()
    }
    fn cut(&self, finite: &[f64], _: &dyn Direction) -> f64 {
        quantile_of(finite, 0.5)
    }
}

/// `quantile(q)`, q in [0, 1]: linear interpolation between the sorted finite scores
/// (numpy's default method). With `above`, q = 0.75 amplifies the top quarter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile(pub f64);

impl Threshold for Quantile {
    fn name(&self) -> String {
        format!("quantile({})", self.0)
    }
    fn cut(&self, finite: &[f64], _: &dyn Direction) -> f64 {
        quantile_of(finite, self.0)
    }
}

/// `top_k(n)`: exactly min(n, number of finite scores) layers, the furthest on the direction
/// side. Ties are broken by layer order (the earlier layer wins), so the pick is deterministic.
/// The reported cut is the score of the last layer picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopK(pub usize);

impl TopK {
    /// Layer indices in pick order: furthest on the direction side first, ties by index.
    fn ranked(scores: &[f64], direction: &dyn Direction) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..scores.len())
            .filter(|&l| scores[l].is_finite())
            .collect();
        // Stable sort over ascending indices: equal scores keep layer order.
        idx.sort_by(|&a, &b| direction.rank(scores[a], scores[b]));
        idx
    }
}

impl Threshold for TopK {
    fn name(&self) -> String {
        format!("top_k({})", self.0)
    }
    fn cut(&self, finite: &[f64], direction: &dyn Direction) -> f64 {
        let ranked = Self::ranked(finite, direction);
        match self.0.min(ranked.len()) {
            0 => f64::NAN,
            k => finite[ranked[k - 1]],
        }
    }
    fn apply(&self, scores: &[f64], direction: &dyn Direction) -> Cut {
        let ranked = Self::ranked(scores, direction);
        let k = self.0.min(ranked.len());
        let value = if k == 0 {
            f64::NAN
        } else {
            scores[ranked[k - 1]]
        };
        let mut selected = ranked[..k].to_vec();
        selected.sort_unstable();
        Cut { value, selected }
    }
}

/// `fixed(value)`: a cut set by hand, for scores whose scale is known (e.g. `sign_flip`, a
/// fraction in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed(pub f64);

impl Threshold for Fixed {
    fn name(&self) -> String {
        format!("fixed({})", self.0)
    }
    fn cut(&self, _: &[f64], _: &dyn Direction) -> f64 {
        self.0
    }
}

/// The built-in thresholds as written in configs: `"mean"`, `"median"`,
/// `{ quantile = 0.75 }`, `{ top_k = 5 }`, `{ fixed = 0.3 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdKind {
    /// [`Mean`].
    Mean,
    /// [`Median`].
    Median,
    /// [`Quantile`].
    Quantile(f64),
    /// [`TopK`].
    TopK(usize),
    /// [`Fixed`].
    Fixed(f64),
}

impl ThresholdKind {
    /// The config names of every built-in threshold.
    pub const NAMES: [&'static str; 5] = ["mean", "median", "quantile", "top_k", "fixed"];

    /// The config name, without parameter.
    pub fn name(self) -> &'static str {
        match self {
            ThresholdKind::Mean => "mean",
            ThresholdKind::Median => "median",
            ThresholdKind::Quantile(_) => "quantile",
            ThresholdKind::TopK(_) => "top_k",
            ThresholdKind::Fixed(_) => "fixed",
        }
    }

    /// Checks the parameter: quantile in [0, 1], top_k >= 1, fixed finite.
    pub fn validate(self) -> Result<(), MethodError> {
        match self {
            ThresholdKind::Quantile(q) if !(0.0..=1.0).contains(&q) => {
                Err(MethodError::BadQuantile(q))
            }
            ThresholdKind::TopK(0) => Err(MethodError::BadTopK),
            ThresholdKind::Fixed(v) if !v.is_finite() => Err(MethodError::BadFixed(v)),
            _ => Ok(()),
        }
    }

    /// The threshold itself, boxed for config-driven policies.
    pub fn build(self) -> Box<dyn Threshold> {
        match self {
            ThresholdKind::Mean => Box::new(Mean),
            ThresholdKind::Median => Box::new(Median),
            ThresholdKind::Quantile(q) => Box::new(Quantile(q)),
            ThresholdKind::TopK(n) => Box::new(TopK(n)),
            ThresholdKind::Fixed(v) => Box::new(Fixed(v)),
        }
    }
}

impl fmt::Display for ThresholdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdKind::Mean | ThresholdKind::Median => f.write_str(self.name()),
            ThresholdKind::Quantile(v) | ThresholdKind::Fixed(v) => {
                write!(f, "{}({v})", self.name())
            }
            ThresholdKind::TopK(n) => write!(f, "top_k({n})"),
        }
    }
}
