//! The loss guard (`amp.guard`): an amplified epoch whose training loss jumps is undone and
//! trained again without amplification.
//!
//! Why: on ResNet-56 in `output` mode with k = 2 (EXPERIMENTS.md, "ResNet-56 on 20 seeds")
//! the first amplified epoch blew the training loss up from the baseline's 2.1-2.3 to
//! 22-1,039 in 12 of 20 seeds, and those seeds lost on average, while the 8 whose amplified
//! epochs stayed calm all gained. The jump shows within the epoch, so a run can notice it and
//! go back. Not part of the papers' method (METHOD.md): an option of this project, off unless
//! a config sets it.
//!
//! The rule: while an amplified epoch trains, the mean loss of its steps so far is compared
//! after every step with `guard` times the previous epoch's training loss; a step whose loss
//! or gradients stop the run as diverged (not finite, or past `train.max_loss`) counts too.
//! When it fires, the model and the SGD momentum go back to what they were when the epoch
//! started, and the epoch trains again from its first step with no layer amplified (the same
//! batches and augmentation: they depend on seed, epoch and step only). Later epochs are
//! planned as usual, so the next amplified epoch tries again. The first epoch has no previous
//! loss, so it is never guarded. The event is kept in [`RunRecord::guarded`]; a checkpoint
//! written inside a guarded epoch holds the epoch's starting state beside the current one,
//! so a resumed run can still go back.

use dfdx::nn::tensor_collection::TensorCollection;
use serde::{Deserialize, Serialize};

use super::optim::Sgd;
use super::tensors::{read_tensors, write_tensors, NamedTensor};
use super::RunRecord;
use crate::method::EpochPlan;
use crate::AmpDevice;

/// One firing of the guard: which epoch was undone, where, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardEvent {
    /// The epoch (from 0) that was undone and trained again without amplification.
    pub epoch: usize,
    /// The step (from 0) at which the guard fired.
    pub step: usize,
    /// The mean training loss of the epoch's steps up to that one (the step's own loss when
    /// it diverged).
    #[serde(with = "crate::io::nan_as_null")]
    pub loss: f64,
    /// The loss the guard allowed: `guard` times the previous epoch's training loss.
    pub limit: f64,
    /// Why, in words.
    pub reason: String,
    /// The layers the undone attempt amplified.
    pub amplified: Vec<String>,
}

/// The state of a run at the start of a guarded epoch, to go back to.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollback {
    /// The model's tensors (running batch-norm statistics included).
    pub model: Vec<NamedTensor>,
    /// The SGD momentum buffers.
    pub momentum: Vec<NamedTensor>,
}

impl Rollback {
    /// Copies the model's tensors and the optimizer's momentum.
    pub(super) fn take<M, D>(model: &M, opt: &mut Sgd<D>) -> Result<Self, D::Err>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        Ok(Rollback {
            model: read_tensors(model)?,
            momentum: opt.state(model)?,
        })
    }

    /// Puts the model and the momentum back as they were when taken.
    pub(super) fn restore<M, D>(&self, model: &mut M, opt: &mut Sgd<D>) -> Result<(), D::Err>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        write_tensors(model, &self.model)?;
        opt.load_state(model, &self.momentum)
    }
}

/// The loss above which the guard undoes epoch `plan.epoch`: `guard` times the previous
/// epoch's training loss. `None` when there is no guard, the epoch amplifies nothing, the
/// guard already undid it, or there is no finite previous loss (the first epoch).
pub(super) fn limit(guard: Option<f64>, plan: &EpochPlan, record: &RunRecord) -> Option<f64> {
    let guard = guard?;
    if !plan.amplified.contains(&true) || record.guard_undid(plan.epoch) {
        return None;
    }
    let previous = plan.epoch.checked_sub(1)?;
    let loss = record
        .epochs
        .iter()
        .find(|e| e.epoch == previous)?
        .train_loss;
    loss.is_finite().then_some(guard * loss)
}

/// Whether a step of a guarded epoch undoes it, and why: `diverged` is the step's loss and
/// reason when it stopped the run as diverged, `mean` the mean loss of the epoch's finished
/// steps, `limit` the guard's. Returns the loss to report and the reason in words.
pub(super) fn fires(diverged: Option<(f64, &str)>, mean: f64, limit: f64) -> Option<(f64, String)> {
    if let Some((loss, reason)) = diverged {
        return Some((loss, reason.to_string()));
    }
    (mean > limit).then(|| {
        let why = "the epoch's mean training loss so far";
        (
            mean,
            format!("{why}, {mean:.4}, passed the guard's limit {limit:.4}"),
        )
    })
}

/// `plan` with no layer amplified: the plan of an epoch the guard undid.
pub(super) fn without_amplification(mut plan: EpochPlan) -> EpochPlan {
    plan.amplified.iter_mut().for_each(|a| *a = false);
    plan
}
