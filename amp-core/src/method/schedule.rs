//! Schedules (METHOD.md section 4): epoch -> learning rate, amplification on/off, factor.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::ScheduleError;

/// Epoch -> what to train with. Object safe; [`PhaseSchedule`] is the implementation configs use.
pub trait Schedule: Send {
    /// The run's epoch count E; epochs are 0..E.
    fn epochs(&self) -> usize;

    /// The plan of `epoch`, or `None` for `epoch >= epochs()`.
    fn phase(&self, epoch: usize) -> Option<PhasePlan>;
}

impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn epochs(&self) -> usize {
        (**self).epochs()
    }
    fn phase(&self, epoch: usize) -> Option<PhasePlan> {
        (**self).phase(epoch)
    }
}

/// A run of epochs trained alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// The phase's epochs, `start..end`.
    pub epochs: Range<usize>,
    /// Learning rate.
    pub lr: f64,
    /// Whether the selected layers are amplified in this phase.
    pub amplify: bool,
    /// Amplification factor k (reported even when `amplify` is false).
    pub factor: f64,
    /// Whether the learning rate rises linearly to `lr` over the phase's steps
    /// ([`PhasePlan::lr_at`] has the formula); `false`: `lr` throughout.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
}

/// The phase an epoch falls in, numbered in epoch order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhasePlan {
    /// The phase's position in epoch order, from 0.
    pub index: usize,
    /// The phase itself.
    pub phase: Phase,
    /// The epoch's position in the phase, from 0 (`epoch - phase.epochs.start`).
    pub epoch_in_phase: usize,
}

impl PhasePlan {
    /// The learning rate of step `step` (from 0) of this epoch, which has `steps` steps.
    ///
    /// Without warm-up it is `lr`. With warm-up the rate rises linearly over the phase's
    /// `T = steps * (phase epochs)` steps: step `t = steps * epoch_in_phase + step` (from 0)
    /// trains at `lr * (t + 1) / T`, so the first step of the phase uses `lr / T` and the
    /// last uses `lr` exactly. Every epoch is assumed to have the same step count, as the
    /// trainer's epochs over a fixed training set do.
    pub fn lr_at(&self, step: usize, steps: usize) -> f64 {
        let lr = self.phase.lr;
        if !self.phase.warmup || steps == 0 {
            return lr;
        }
        let total = steps * self.phase.epochs.len();
        let t = steps * self.epoch_in_phase + step.min(steps - 1);
        lr * (t + 1) as f64 / total as f64
    }
}

/// Phases that cover every epoch of the run exactly once, kept in epoch order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSchedule {
    epochs: usize,
    phases: Vec<Phase>,
}

impl PhaseSchedule {
    /// Checks that `phases` (in any order; numbered in the given order in errors) cover
    /// `0..epochs` exactly once, with positive finite learning rates and factors.
    pub fn new(epochs: usize, phases: Vec<Phase>) -> Result<Self, ScheduleError> {
        if epochs == 0 {
            return Err(ScheduleError::NoEpochs);
        }
        if phases.is_empty() {
            return Err(ScheduleError::NoPhases);
        }
        for (i, p) in phases.iter().enumerate() {
            check_phase(i, p, epochs)?;
        }
        let order = cover_once(&phases, epochs)?;
        let phases = order.into_iter().map(|i| phases[i].clone()).collect();
        Ok(Self { epochs, phases })
    }

    /// This project's default, scaled to E epochs: `[0, h)` at `lr` with amplification on,
    /// `[h, t)` at lr/10 off, `[t, E)` at lr/100 off, where h = ceil(E/2) and t = ceil(3E/4).
    ///
    /// Rounding up keeps the amplified high-lr phase non-empty for every E >= 1; phases that
    /// come out empty are dropped (E = 1: one phase; E = 2: 0..1, 1..2; E = 3: 0..2, 2..3).
    pub fn scaled_default(epochs: usize, lr: f64, factor: f64) -> Result<Self, ScheduleError> {
        let half = epochs.div_ceil(2);
        let three_quarters = (3 * epochs).div_ceil(4).max(half);
        let phases = [
            (0..half, lr, true),
            (half..three_quarters, lr / 10.0, false),
            (three_quarters..epochs, lr / 100.0, false),
        ]
        .into_iter()
        .filter(|(r, _, _)| !r.is_empty())
        .map(|(epochs, lr, amplify)| Phase {
            epochs,
            lr,
            amplify,
            factor,
            warmup: false,
        })
        .collect();
        Self::new(epochs, phases)
    }

    /// The same schedule with amplification off in every phase: the baseline of a run.
    pub fn without_amplification(&self) -> Self {
        let mut baseline = self.clone();
        baseline.phases.iter_mut().for_each(|p| p.amplify = false);
        baseline
    }

    /// The phases, in epoch order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }
}

impl Schedule for PhaseSchedule {
    fn epochs(&self) -> usize {
        self.epochs
    }

    fn phase(&self, epoch: usize) -> Option<PhasePlan> {
        self.phases
            .iter()
            .position(|p| p.epochs.contains(&epoch))
            .map(|index| PhasePlan {
                index,
                phase: self.phases[index].clone(),
                epoch_in_phase: epoch - self.phases[index].epochs.start,
            })
    }
}

/// Phase `i` on its own: a non-empty range inside `0..epochs`, a positive finite lr and factor.
fn check_phase(i: usize, p: &Phase, epochs: usize) -> Result<(), ScheduleError> {
    if p.epochs.end <= p.epochs.start {
        return Err(ScheduleError::EmptyPhase {
            phase: i,
            range: p.epochs.clone(),
        });
    }
    if p.epochs.end > epochs {
        return Err(ScheduleError::PastEnd {
            phase: i,
            range: p.epochs.clone(),
            epochs,
        });
    }
    if !(p.lr.is_finite() && p.lr > 0.0) {
        return Err(ScheduleError::BadLr { phase: i, lr: p.lr });
    }
    if !(p.factor.is_finite() && p.factor > 0.0) {
        return Err(ScheduleError::BadFactor {
            phase: i,
            factor: p.factor,
        });
    }
    Ok(())
}

/// The phases' indexes in epoch order, once they cover `0..epochs` with no gap or overlap.
fn cover_once(phases: &[Phase], epochs: usize) -> Result<Vec<usize>, ScheduleError> {
    let mut order: Vec<usize> = (0..phases.len()).collect();
    order.sort_by_key(|&i| (phases[i].epochs.start, phases[i].epochs.end));
    let mut covered = 0;
    let mut prev: Option<usize> = None;
    for &i in &order {
        let r = &phases[i].epochs;
        if r.start > covered {
            return Err(ScheduleError::Gap {
                gap: covered..r.start,
                after: prev,
                before: Some(i),
            });
        }
        if let (true, Some(p)) = (r.start < covered, prev) {
            return Err(ScheduleError::Overlap {
                first: p,
                first_range: phases[p].epochs.clone(),
                second: i,
                second_range: r.clone(),
                overlap: r.start..covered.min(r.end),
            });
        }
        covered = r.end;
        prev = Some(i);
    }
    if covered < epochs {
        return Err(ScheduleError::Gap {
            gap: covered..epochs,
            after: prev,
            before: None,
        });
    }
    Ok(order)
}
