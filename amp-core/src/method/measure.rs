//! Measures: how much one layer's parameter gradient fluctuated over the observation window.
//!
//! All measures read the per-step parameter-gradient L2 norms g_t (METHOD.md section 2) of one
//! layer, epoch by epoch, oldest first. Conventions shared by every measure here, so that a
//! layer with broken statistics can never be amplified by accident:
//! - A NaN anywhere in the statistics a measure reads makes the score NaN.
//! - Non-finite scores (NaN, +-inf) are never selected and are left out of every threshold
//!   (see [`crate::method::Threshold`]).
//! - Epochs without steps (`count == 0`) carry no information and are skipped.
//! - "No fluctuation" is 0: an all-zero gradient (a dead or frozen layer) scores 0, not NaN,
//!   so it stays comparable to the other layers (and is below any positive cut).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::stats::LayerEpoch;

/// A layer's statistics over the observation window -> one fluctuation score.
///
/// Implement this to add a measure; [`crate::method::Intelligent`] takes any `M: Measure`.
/// Object safe, so configs can hold a `Box<dyn Measure>`.
pub trait Measure: Send {
    /// The name used in configs and reports.
    fn name(&self) -> String;

    /// The score of one layer; `window` holds its epochs in the window, oldest first.
    fn score(&self, window: &[&LayerEpoch]) -> f64;

    /// How many observed epochs the measure needs for a finite score; selection configs with a
    /// shorter observation window are rejected.
    fn min_epochs(&self) -> usize {
        1
    }
}

impl<M: Measure + ?Sized> Measure for Box<M> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn score(&self, window: &[&LayerEpoch]) -> f64 {
        (**self).score(window)
    }
    fn min_epochs(&self) -> usize {
        (**self).min_epochs()
    }
}

/// `cv`: mean over the window's epochs of the coefficient of variation std(g_t) / mean(g_t)
/// within the epoch (population std, as [`crate::stats::Summary`] keeps it).
///
/// Per epoch: mean 0 and std 0 (all-zero gradient) gives 0. Epochs without steps are skipped;
/// a window with none left scores NaN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cv;

impl Measure for Cv {
    fn name(&self) -> String {
        "cv".into()
    }

    fn score(&self, window: &[&LayerEpoch]) -> f64 {
        let per_epoch = window
            .iter()
            .filter(|e| e.param.count > 0)
            .map(|e| ratio_or_zero(e.param.std, e.param.mean));
        mean_of(per_epoch)
    }
}

/// `rel_change`: mean over consecutive epoch pairs of the window of
/// |mu_e - mu_(e-1)| / mu_(e-1), mu = the epoch's mean g_t.
///
/// Needs two epochs with steps: a window with fewer scores NaN (never selected), and configs
/// with `observe_epochs < 2` are rejected. 0 -> 0 is no change (0); 0 -> x > 0 is +inf, which
/// is never selected (a layer that had no gradient has no scale to be relative to).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelChange;

impl Measure for RelChange {
    fn name(&self) -> String {
        "rel_change".into()
    }

    fn score(&self, window: &[&LayerEpoch]) -> f64 {
        let mus: Vec<f64> = window
            .iter()
            .filter(|e| e.param.count > 0)
            .map(|e| e.param.mean)
            .collect();
        mean_of(
            mus.windows(2)
                .map(|p| ratio_or_zero((p[1] - p[0]).abs(), p[0])),
        )
    }

    fn min_epochs(&self) -> usize {
        2
    }
}

/// `sign_flip`: the fraction of steps at which the first difference of g_t changes sign, over
/// the window's steps concatenated in order (training is one series; epoch boundaries are
/// ordinary steps).
///
/// With d_t = g_(t+1) - g_t over T steps, step t (1 <= t <= T-2) flips when
/// d_(t-1) * d_t < 0; the score is flips / (T - 2), so a strictly alternating series scores
/// 1, a monotone or constant one (all-zero gradients included) 0. A zero difference (plateau)
/// is no flip. Fewer than 3 steps: NaN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignFlip;

impl Measure for SignFlip {
    fn name(&self) -> String {
        "sign_flip".into()
    }

    fn score(&self, window: &[&LayerEpoch]) -> f64 {
        let g: Vec<f64> = window
            .iter()
            .flat_map(|e| e.param_steps.iter().copied())
            .collect();
        if g.len() < 3 || g.iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        let d: Vec<f64> = g.windows(2).map(|w| w[1] - w[0]).collect();
        let flips = d.windows(2).filter(|w| w[0] * w[1] < 0.0).count();
        flips as f64 / (g.len() - 2) as f64
    }
}

/// `num / den`, with 0 / 0 = 0 ("nothing, relative to nothing, did not move").
fn ratio_or_zero(num: f64, den: f64) -> f64 {
    if num == 0.0 && den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Arithmetic mean; NaN for no values (so an empty window is never selected).
fn mean_of(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// The built-in measures by config name: the runtime path maps a name onto the same impls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// [`Cv`].
    Cv,
    /// [`RelChange`].
    RelChange,
    /// [`SignFlip`].
    SignFlip,
}

impl MeasureKind {
    /// Every built-in measure, in the order METHOD.md lists them.
    pub const ALL: [MeasureKind; 3] = [
        MeasureKind::Cv,
        MeasureKind::RelChange,
        MeasureKind::SignFlip,
    ];

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            MeasureKind::Cv => "cv",
            MeasureKind::RelChange => "rel_change",
            MeasureKind::SignFlip => "sign_flip",
        }
    }

    /// The kind called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The measure itself, boxed for config-driven policies.
    pub fn build(self) -> Box<dyn Measure> {
        match self {
            MeasureKind::Cv => Box::new(Cv),
            MeasureKind::RelChange => Box::new(RelChange),
            MeasureKind::SignFlip => Box::new(SignFlip),
        }
    }
}

impl fmt::Display for MeasureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
