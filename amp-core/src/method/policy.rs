//! The policy the trainer holds: once per epoch, the learning rate, the factor and the
//! amplified layers.

use serde::{Deserialize, Serialize};

use super::{Decision, PhasePlan, Schedule, SelectContext, Selector};
use crate::stats::StatsHistory;

/// What to do in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochPlan {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The schedule phase it falls in, in epoch order.
    pub phase: usize,
    /// Learning rate of this epoch's phase: of every step, or with warm-up the rate the
    /// phase rises to; the rate of each step is [`EpochPlan::lr_at`].
    pub lr: f64,
    /// Amplification factor k of this epoch's phase (in effect only where `amplified`).
    pub factor: f64,
    /// One flag per candidate layer; all false means no amplification this epoch.
    pub amplified: Vec<bool>,
    /// The selection, when one was (re)computed at the start of this epoch.
    pub decision: Option<Decision>,
    /// The schedule's plan of this epoch: its phase and position in it, for [`EpochPlan::lr_at`].
    pub schedule: PhasePlan,
}

impl EpochPlan {
    /// The learning rate of step `step` (from 0) of this epoch of `steps` steps: `lr`, or
    /// during a warm-up phase the linear ramp of [`PhasePlan::lr_at`].
    pub fn lr_at(&self, step: usize, steps: usize) -> f64 {
        self.schedule.lr_at(step, steps)
    }

    /// Indices of the amplified layers.
    pub fn amplified_layers(&self) -> Vec<usize> {
        (0..self.amplified.len())
            .filter(|&l| self.amplified[l])
            .collect()
    }

    /// Whether any layer is amplified.
    pub fn any_amplified(&self) -> bool {
        self.amplified.iter().any(|&a| a)
    }
}

/// Drives amplification through a run. Object safe: the trainer holds a `Box<dyn AmpPolicy>`.
pub trait AmpPolicy: Send {
    /// Called at the start of every epoch (from 0) with the statistics of all finished epochs
    /// (`history.epochs.len() >= epoch` is expected; a selection only reads epochs before it).
    ///
    /// # Panics
    /// When `epoch` is past the schedule's last epoch: the trainer and the schedule disagree
    /// on the run's length.
    fn plan_epoch(&mut self, epoch: usize, history: &StatsHistory) -> EpochPlan;

    /// Selector and schedule, for logs and the run record.
    fn describe(&self) -> String;

    /// The candidate layer names the policy was built for.
    fn layers(&self) -> &[String];

    /// The run's epoch count.
    fn epochs(&self) -> usize;
}

/// A selector and a schedule over a model's candidate layers.
///
/// Statically typed (`Policy<Intelligent<Cv, Mean, Above>, PhaseSchedule>`) or, from configs,
/// `Policy<Box<dyn Selector>, PhaseSchedule>`: the same code either way.
pub struct Policy<Sel, Sch> {
    layers: Vec<String>,
    selector: Sel,
    schedule: Sch,
    /// The selection in force: the epoch it was made at and its layers.
    current: Option<(usize, Vec<usize>)>,
}

impl<Sel: Selector, Sch: Schedule> Policy<Sel, Sch> {
    /// A policy for the candidate layers `layers` (forward order).
    pub fn new(layers: Vec<String>, selector: Sel, schedule: Sch) -> Self {
        Self {
            layers,
            selector,
            schedule,
            current: None,
        }
    }

    /// The selector.
    pub fn selector(&self) -> &Sel {
        &self.selector
    }

    /// The schedule.
    pub fn schedule(&self) -> &Sch {
        &self.schedule
    }
}

impl<Sel: Selector, Sch: Schedule> AmpPolicy for Policy<Sel, Sch> {
    fn plan_epoch(&mut self, epoch: usize, history: &StatsHistory) -> EpochPlan {
        let plan = self.schedule.phase(epoch).unwrap_or_else(|| {
            panic!(
                "epoch {epoch} is past the schedule, which has {} epochs",
                self.schedule.epochs()
            )
        });
        let at = self.selector.selected_at(epoch, &self.schedule);
        let mut decision = None;
        match at {
            None => self.current = None,
            Some(at) if self.current.as_ref().map(|c| c.0) != Some(at) => {
                let ctx = SelectContext {
                    layers: &self.layers,
                    history,
                    schedule: &self.schedule,
                };
                let sel = self.selector.select(at, &ctx);
                decision = Some(Decision {
                    epoch: at,
                    selector: self.selector.name(),
                    selected_names: sel
                        .selected
                        .iter()
                        .map(|&l| self.layers[l].clone())
                        .collect(),
                    selected: sel.selected.clone(),
                    candidates: self.layers.len(),
                    scoring: sel.scoring,
                });
                self.current = Some((at, sel.selected));
            }
            Some(_) => {}
        }
        let mut amplified = vec![false; self.layers.len()];
        if let (true, Some((_, selected))) = (plan.phase.amplify, &self.current) {
            selected.iter().for_each(|&l| amplified[l] = true);
        }
        EpochPlan {
            epoch,
            phase: plan.index,
            lr: plan.phase.lr,
            factor: plan.phase.factor,
            amplified,
            decision,
            schedule: plan,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} over {} epochs",
            self.selector.name(),
            self.schedule.epochs()
        )
    }

    fn layers(&self) -> &[String] {
        &self.layers
    }

    fn epochs(&self) -> usize {
        self.schedule.epochs()
    }
}
