//! Intelligent selection (the 2023 paper): observe, score each layer's gradient fluctuation,
//! amplify the layers on one side of a threshold.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{
    Direction, Measure, MethodError, Schedule, Scoring, SelectContext, Selection, Selector,
    Threshold,
};
use crate::stats::StatsHistory;

/// When an intelligent selection is recomputed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reselect {
    /// Once, at epoch `observe_epochs` (this project's default).
    #[default]
    Never,
    /// Also every N epochs after that: at `observe_epochs + j * N`, j = 1, 2, ...
    Every(usize),
}

/// `intelligent { measure, threshold, direction, observe_epochs, reselect }`, generic over its
/// pieces so that each is checked by the compiler:
///
/// ```
/// use amp_core::method::{Above, Cv, Intelligent, Mean, Reselect};
/// let sel = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
/// ```
///
/// A threshold in the measure's place does not compile:
///
/// ```compile_fail
/// use amp_core::method::{Above, Intelligent, Mean, Reselect};
/// let sel = Intelligent::new(Mean, Mean, Above, 2, Reselect::Never);
/// ```
///
/// A new measure is one trait impl:
///
/// ```
/// use amp_core::method::{Above, Intelligent, Measure, Median, Reselect};
/// use amp_core::stats::LayerEpoch;
/// struct MaxOverMean;
/// impl Measure for MaxOverMean {
///     fn name(&self) -> String { "max_over_mean".into() }
///     fn score(&self, window: &[&LayerEpoch]) -> f64 {
///         window.iter().map(|e| e.param.max / e.param.mean).sum::<f64>() / window.len() as f64
///     }
/// }
/// let sel = Intelligent::new(MaxOverMean, Median, Above, 3, Reselect::Every(4)).unwrap();
/// ```
///
/// Semantics:
/// - Epochs `0..observe_epochs`: nothing is amplified; statistics are gathered.
/// - At each selection epoch s (`observe_epochs`, then every N epochs with `reselect`), the
///   window is the last `observe_epochs` finished epochs, `s - observe_epochs .. s`, so every
///   selection sees the same amount of evidence. Epochs in the window may have been amplified
///   (with reselection), and their statistics include that amplification's effect.
/// - Every layer gets `measure.score(window)`; the threshold is computed over all finite
///   scores; layers strictly on the direction side are selected. Non-finite scores are never
///   selected. Whether the selection is actually amplified in an epoch is the schedule's call.
#[derive(Debug, Clone, PartialEq)]
pub struct Intelligent<M, T, D> {
    measure: M,
    threshold: T,
    direction: D,
    observe_epochs: usize,
    reselect: Reselect,
}

impl<M: Measure, T: Threshold, D: Direction> Intelligent<M, T, D> {
    /// Checks that the window holds the epochs the measure needs (at least 1) and that a
    /// reselection period is at least 1.
    pub fn new(
        measure: M,
        threshold: T,
        direction: D,
        observe_epochs: usize,
        reselect: Reselect,
    ) -> Result<Self, MethodError> {
        let needs = measure.min_epochs().max(1);
        if observe_epochs < needs {
            return Err(MethodError::ObserveTooShort {
                measure: measure.name(),
                needs,
                observe_epochs,
            });
        }
        if reselect == Reselect::Every(0) {
            return Err(MethodError::ReselectZero);
        }
        Ok(Self {
            measure,
            threshold,
            direction,
            observe_epochs,
            reselect,
        })
    }

    /// The epochs scored for the selection made at epoch `at`, clipped to the epochs that
    /// `history` holds.
    pub fn window(&self, at: usize, history: &StatsHistory) -> Range<usize> {
        let end = at.min(history.epochs.len());
        at.saturating_sub(self.observe_epochs).min(end)..end
    }

    /// Each layer's score over `window` (a layer missing from the history scores NaN).
    pub fn scores(&self, layers: usize, window: Range<usize>, history: &StatsHistory) -> Vec<f64> {
        (0..layers)
            .map(|l| {
                let epochs: Option<Vec<_>> = history.epochs[window.clone()]
                    .iter()
                    .map(|e| e.get(l))
                    .collect();
                epochs.map_or(f64::NAN, |w| self.measure.score(&w))
            })
            .collect()
    }
}

impl<M: Measure, T: Threshold, D: Direction> Selector for Intelligent<M, T, D> {
    fn name(&self) -> String {
        let reselect = match self.reselect {
            Reselect::Never => "never".to_string(),
            Reselect::Every(n) => format!("every {n}"),
        };
        format!(
            "intelligent({}, {}, {}, observe {}, reselect {reselect})",
            self.measure.name(),
            self.threshold.name(),
            self.direction.name(),
            self.observe_epochs
        )
    }

    fn selected_at(&self, epoch: usize, _: &dyn Schedule) -> Option<usize> {
        let first = self.observe_epochs;
        let since = epoch.checked_sub(first)?;
        Some(match self.reselect {
            Reselect::Never => first,
            Reselect::Every(n) => first + since / n * n,
        })
    }

    fn select(&self, at: usize, ctx: &SelectContext<'_>) -> Selection {
        let window = self.window(at, ctx.history);
        let scores = self.scores(ctx.layers.len(), window.clone(), ctx.history);
        let cut = self.threshold.apply(&scores, &self.direction);
        Selection {
            selected: cut.selected,
            scoring: Some(Scoring {
                window,
                measure: self.measure.name(),
                threshold: self.threshold.name(),
                direction: self.direction.name(),
                scores,
                cut: cut.value,
            }),
        }
    }
}
