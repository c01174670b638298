//! The training loop: SGD with momentum and weight decay, cross-entropy, a learning rate and
//! an amplification plan per epoch from the policy, taps measuring every step; checkpoints
//! after every epoch and on request, resumption that continues bit for bit, and a stop when
//! the loss or a gradient stops being finite.

use std::path::Path;
use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::{Module, ModuleMut, ZeroGrads};
use dfdx::optim::{Momentum, SgdConfig, WeightDecay};
use dfdx::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::checkpoint::{Checkpoint, CheckpointError, CheckpointState, PartialEpoch, Position};
use super::guard::{self, GuardEvent, Rollback};
use super::init::initialize;
use super::optim::Sgd;
use super::run::{Outcome, Trainer};
use super::tensors::{check_tensors, read_tensors, write_tensors};
use super::{streams, BatchShape, EpochRecord, Observer, RunRecord, RunStatus, TrainSettings};
use crate::data::{assemble, epoch_order, Augment, ImageSet};
use crate::layer_grads::{scale_layer_grads, step_norms, StepNorms};
use crate::layer_weights::{layer_weight_norms, NormHold};
use crate::method::{AmpPolicy, EpochPlan};
use crate::stats::{EpochRecorder, StatsHistory};
use crate::{AmpDevice, AmpState, LayerParams, Mode};

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("model and data do not fit: {0}")]
    Shape(String),
    #[error("the training set is empty")]
    EmptyData,
    #[error(
        "the policy planned {got} amplification flags for a model with {want} candidate layers"
    )]
    PlanSize { got: usize, want: usize },
    #[error("the policy plans {policy} epochs, the run has {run}")]
    EpochCount { policy: usize, run: usize },
    #[error("the policy was built for layers [{policy}], the model has [{model}]")]
    Layers { policy: String, model: String },
    #[error("the device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Taps(#[from] crate::tap::TapCheckError),
}

/// A classifier with `C` classes taking batches of shape `S`, trainable by [`train`].
pub trait Classifier<S: Shape, D: AmpDevice<f32>, const C: usize>:
    LayerParams<f32, D>
    + TensorCollection<f32, D>
    + ModuleMut<
        Tensor<S, f32, D, OwnedTape<f32, D>>,
        Output = Tensor<(usize, Const<C>), f32, D, OwnedTape<f32, D>>,
        Error = D::Err,
    > + Module<Tensor<S, f32, D>, Output = Tensor<(usize, Const<C>), f32, D>, Error = D::Err>
{
}

impl<M, S: Shape, D: AmpDevice<f32>, const C: usize> Classifier<S, D, C> for M where
    M: LayerParams<f32, D>
        + TensorCollection<f32, D>
        + ModuleMut<
            Tensor<S, f32, D, OwnedTape<f32, D>>,
            Output = Tensor<(usize, Const<C>), f32, D, OwnedTape<f32, D>>,
            Error = D::Err,
        > + Module<Tensor<S, f32, D>, Output = Tensor<(usize, Const<C>), f32, D>, Error = D::Err>
{
}

/// Trains `model` on `train_set`, evaluating on `test_set` after every epoch.
///
/// The policy decides, at the start of each epoch, the learning rate, the factor and which
/// candidate layers are amplified; the taps read that plan in the backward pass. Every step
/// records each layer's parameter- and output-gradient norm; the policy sees the history of
/// finished epochs. The model is first initialized as `settings.init` says. A run whose loss
/// or gradients stop being finite ends early with [`RunStatus::Diverged`]. For checkpoints,
/// resumption and a stop flag use [`Trainer`].
#[allow(clippy::too_many_arguments)]
pub fn train<M, S, D, const C: usize>(
    name: &str,
    model: &mut M,
    dev: &D,
    train_set: &ImageSet,
    test_set: &ImageSet,
    settings: &TrainSettings,
    policy: &mut dyn AmpPolicy,
    observer: &mut dyn Observer,
) -> Result<RunRecord, TrainError>
where
    M: Classifier<S, D, C>,
    S: BatchShape,
    D: AmpDevice<f32>,
{
    let outcome = Trainer::new(name, settings, policy)
        .observer(observer)
        .run::<M, S, D, C>(model, dev, train_set, test_set)?;
    Ok(outcome
        .record()
        .expect("a run without a stop flag always runs to its end"))
}

/// Where a run stands between two steps.
struct Progress {
    /// The record so far; its `stats` is the history the policy reads.
    record: RunRecord,
    next: Position,
    /// The accumulators of the epoch in progress, when stopped inside one.
    partial: Option<PartialEpoch>,
    /// The plan of the epoch in progress, replayed when resuming inside it.
    plan: Option<EpochPlan>,
    /// The state a guarded epoch in progress started from, when resuming inside it.
    rollback: Option<Rollback>,
}

/// What a training step changes: the model on its device, its optimizer and its gradients.
struct Learner<'a, M, D: AmpDevice<f32>> {
    model: &'a mut M,
    dev: &'a D,
    opt: Sgd<D>,
    grads: Gradients<f32, D>,
}

/// What one step came to.
enum StepEnd {
    Trained,
    Diverged(RunStatus),
}

/// What the steps of one attempt at an epoch came to.
enum Steps {
    /// Every step ran: the epoch's accumulators, and its clock and seconds before it.
    Done(PartialEpoch, (Instant, f64)),
    /// The run ended inside the epoch (diverged, or stopped on request); boxed, as an
    /// outcome holds the whole record.
    Ended(Box<Outcome>),
    /// The loss guard undid the attempt, after this many seconds of the epoch.
    Guarded(GuardEvent, f64),
}

impl PartialEpoch {
    fn new(layers: usize) -> Self {
        PartialEpoch {
            recorder: EpochRecorder::new(layers),
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            seconds: 0.0,
        }
    }
}

/// Checks every tensor set of `ck` (the model, its momentum, and the state the loss guard
/// may go back to) against `model` before anything is loaded.
fn fits<M, D>(model: &M, ck: &Checkpoint) -> Result<(), CheckpointError>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    for (prefix, holds, tensors) in ck.tensor_sets() {
        check_tensors(model, tensors, holds, prefix).map_err(|error| CheckpointError::Tensors {
            path: ck.path.clone(),
            error,
        })?;
    }
    Ok(())
}

/// How a replayed plan differs from what the checkpoint's record says happened in its epoch:
/// the decision, and for finished epochs the learning rate, factor and amplified layers.
fn replay_differs(plan: &EpochPlan, record: &RunRecord, layers: &[String]) -> Option<String> {
    let e = plan.epoch;
    let recorded = record.decisions.iter().find(|d| d.epoch == e);
    if serde_json::to_string(&plan.decision.as_ref()).ok() != serde_json::to_string(&recorded).ok()
    {
        let show = |d: Option<&crate::method::Decision>| {
            d.map_or("no selection".to_string(), |d| d.selected_names.join(", "))
        };
        return Some(format!(
            "selection: checkpoint [{}], replayed [{}]",
            show(recorded),
            show(plan.decision.as_ref())
        ));
    }
    let done = record.epochs.iter().find(|r| r.epoch == e)?;
    let amplified: Vec<String> = (layers.iter().zip(&plan.amplified))
        .filter(|(_, &on)| on)
        .map(|(n, _)| n.clone())
        .collect();
    if (done.lr, done.factor, &done.amplified) != (plan.lr, plan.factor, &amplified) {
        return Some(format!(
            "lr {}, factor {}, amplified [{}] in the checkpoint; lr {}, factor {}, amplified [{}] replayed",
            done.lr,
            done.factor,
            done.amplified.join(", "),
            plan.lr,
            plan.factor,
            amplified.join(", ")
        ));
    }
    None
}

/// The names of the layers `plan` amplifies.
fn amplified_names(layers: &[String], plan: &EpochPlan) -> Vec<String> {
    (layers.iter().zip(&plan.amplified))
        .filter(|(_, &on)| on)
        .map(|(n, _)| n.clone())
        .collect()
}

/// The guard's event when step `at` (which came to `end`, leaving the epoch's accumulators
/// `acc`) undoes its guarded epoch under `limit`; `None` when the epoch goes on.
fn guard_event(
    at: Position,
    end: &StepEnd,
    acc: &PartialEpoch,
    limit: f64,
    layers: &[String],
    plan: &EpochPlan,
) -> Option<GuardEvent> {
    let diverged = match end {
        StepEnd::Diverged(RunStatus::Diverged { loss, reason, .. }) => {
            Some((*loss, reason.as_str()))
        }
        _ => None,
    };
    let mean = acc.loss_sum / acc.seen.max(1) as f64;
    let (loss, reason) = guard::fires(diverged, mean, limit)?;
    Some(GuardEvent {
        epoch: at.epoch,
        step: at.step,
        loss,
        limit,
        reason,
        amplified: amplified_names(layers, plan),
    })
}

/// The current time as RFC 3339 (UTC, seconds), for provenance.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn device_err(e: impl std::fmt::Debug) -> TrainError {
    TrainError::Device(format!("{e:?}"))
}

impl Trainer<'_> {
    /// Runs (or continues) the training; see [`train`] for what a run does.
    pub fn run<M, S, D, const C: usize>(
        mut self,
        model: &mut M,
        dev: &D,
        train_set: &ImageSet,
        test_set: &ImageSet,
    ) -> Result<Outcome, TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        self.check_inputs::<M, S, D, C>(train_set)?;
        let layers = M::layer_names();
        let s = &self.settings;
        let mut opt = Sgd::<D>::new(SgdConfig {
            lr: 0.0,
            momentum: (s.momentum != 0.0).then_some(Momentum::Classic(s.momentum)),
            weight_decay: (s.weight_decay != 0.0).then_some(WeightDecay::L2(s.weight_decay)),
        });
        let mut progress = match self.resume.take() {
            Some(ck) => self.restore(ck, &layers, model, &mut opt)?,
            None => {
                let init = self.settings.init;
                initialize(model, init, self.settings.seed).map_err(|e| {
                    TrainError::Device(format!(
                        "initializing the model (train.init = \"{init}\"): {e:?}"
                    ))
                })?;
                self.fresh(&layers)
            }
        };
        if self.settings.hold_weight_norms {
            self.norm_hold = Some(NormHold::new(model).map_err(device_err)?);
        }
        let state = AmpState::new(layers.len(), self.settings.mode);
        let mut learner = Learner {
            grads: model.alloc_grads(),
            model,
            dev,
            opt,
        };
        while progress.next.epoch < self.settings.epochs {
            let end = self.epoch::<M, S, D, C>(
                &mut progress,
                &state,
                &mut learner,
                (train_set, test_set),
            );
            match end? {
                None => {}
                Some(outcome) => {
                    state.clear();
                    return Ok(outcome);
                }
            }
        }
        state.clear();
        Ok(Outcome::Done(self.finish(progress.record)))
    }

    fn check_inputs<M, S, D, const C: usize>(&self, train_set: &ImageSet) -> Result<(), TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        if train_set.is_empty() {
            return Err(TrainError::EmptyData);
        }
        S::for_batch(1, train_set.shape).map_err(TrainError::Shape)?;
        if train_set.classes.len() > C {
            return Err(TrainError::Shape(format!(
                "the dataset has {} classes, the model outputs {C}",
                train_set.classes.len()
            )));
        }
        let layers = M::layer_names();
        if self.policy.epochs() != self.settings.epochs {
            return Err(TrainError::EpochCount {
                policy: self.policy.epochs(),
                run: self.settings.epochs,
            });
        }
        if self.policy.layers() != layers.as_slice() {
            return Err(TrainError::Layers {
                policy: self.policy.layers().join(", "),
                model: layers.join(", "),
            });
        }
        Ok(())
    }

    fn fresh(&self, layers: &[String]) -> Progress {
        let mut provenance = self.provenance.clone();
        provenance.seed = self.settings.seed;
        provenance.amp_version = env!("CARGO_PKG_VERSION").to_string();
        provenance.threads = rayon::current_num_threads();
        provenance.started = now();
        Progress {
            record: RunRecord {
                name: self.name.clone(),
                status: RunStatus::Finished,
                provenance,
                config: self.config.clone(),
                policy: self.policy.describe(),
                mode: self.settings.mode.to_string(),
                layers: layers.to_vec(),
                epochs: Vec::new(),
                decisions: Vec::new(),
                stats: StatsHistory::new(layers.to_vec()),
                guarded: Vec::new(),
            },
            next: Position::default(),
            partial: None,
            plan: None,
            rollback: None,
        }
    }

    /// Checks `ck` against this run, loads its tensors and optimizer state into `model` and
    /// `opt`, and replays the policy's plans over the restored history (checking that they
    /// make the recorded decisions again).
    fn restore<M, D>(
        &mut self,
        ck: Checkpoint,
        layers: &[String],
        model: &mut M,
        opt: &mut Sgd<D>,
    ) -> Result<Progress, TrainError>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        let path = ck.path.clone();
        let differences = self.identity(layers).differences(&ck.state.identity);
        if !differences.is_empty() {
            let path = path.clone();
            return Err(CheckpointError::Mismatch { path, differences }.into());
        }
        fits(model, &ck)?;
        write_tensors(model, &ck.model).map_err(device_err)?;
        opt.load_state(model, &ck.momentum).map_err(device_err)?;
        let st = ck.state;
        let plan = self.replay(&st, layers, &path)?;
        let guarded_inside = (plan.as_ref().filter(|_| st.partial.is_some()))
            .is_some_and(|p| guard::limit(self.settings.guard, p, &st.record).is_some());
        if guarded_inside && ck.rollback.is_none() {
            return Err(CheckpointError::Corrupt {
                path,
                why: format!(
                    "it stopped inside epoch {}, which the loss guard watches, without the \
                     state the epoch started from",
                    st.next.epoch + 1
                ),
            }
            .into());
        }
        let mut record = st.record;
        record.provenance.resumed.push(now());
        record.provenance.threads = rayon::current_num_threads();
        Ok(Progress {
            record,
            next: st.next,
            partial: st.partial,
            plan,
            rollback: ck.rollback,
        })
    }

    /// Plans every epoch the checkpoint's record has begun again, from its statistics, and
    /// checks that each plan makes the recorded decisions (an epoch the loss guard undid
    /// was retrained unamplified); the plan of the epoch to continue, if any.
    fn replay(
        &mut self,
        st: &CheckpointState,
        layers: &[String],
        path: &Path,
    ) -> Result<Option<EpochPlan>, CheckpointError> {
        let replayed = st.next.epoch + usize::from(st.partial.is_some());
        let mut plan = None;
        for e in 0..replayed.min(self.settings.epochs) {
            let history = StatsHistory {
                layers: layers.to_vec(),
                epochs: st.record.stats.epochs[..e].to_vec(),
            };
            let mut p = self.policy.plan_epoch(e, &history);
            if st.record.guard_undid(e) {
                p = guard::without_amplification(p);
            }
            if let Some(what) = replay_differs(&p, &st.record, layers) {
                let path = path.to_path_buf();
                return Err(CheckpointError::Replay {
                    path,
                    epoch: e,
                    what,
                });
            }
            if e == st.next.epoch {
                plan = Some(p);
            }
        }
        Ok(plan)
    }

    /// Runs the rest of epoch `progress.next.epoch`. `Some` when the run ends inside it
    /// (diverged, or stopped on request). Under the loss guard an amplified epoch whose loss
    /// jumps goes back to its start and trains again without amplification ([`super::guard`]).
    fn epoch<M, S, D, const C: usize>(
        &mut self,
        progress: &mut Progress,
        state: &AmpState,
        l: &mut Learner<'_, M, D>,
        (train_set, test_set): (&ImageSet, &ImageSet),
    ) -> Result<Option<Outcome>, TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        let epoch = progress.next.epoch;
        let layers = progress.record.layers.len();
        let mut plan = match progress.plan.take() {
            Some(p) => p,
            None => self.plan(epoch, &mut progress.record, layers)?,
        };
        let (acc, clock) = loop {
            let guard = match guard::limit(self.settings.guard, &plan, &progress.record) {
                Some(limit) => Some((limit, Self::rollback_point(progress, l)?)),
                None => None,
            };
            let guarded = guard.as_ref().map(|(limit, back)| (*limit, back));
            match self.steps::<M, S, D, C>(progress, &plan, guarded, state, l, train_set)? {
                Steps::Done(acc, clock) => break (acc, clock),
                Steps::Ended(outcome) => return Ok(Some(*outcome)),
                Steps::Guarded(event, seconds) => {
                    let (_, back) = guard.expect("only a guarded epoch is undone");
                    back.restore(l.model, &mut l.opt).map_err(device_err)?;
                    l.model.zero_grads(&mut l.grads);
                    self.observer.guard_fired(&event);
                    progress.record.guarded.push(event);
                    plan = guard::without_amplification(plan);
                    progress.next.step = 0;
                    progress.partial = Some(PartialEpoch {
                        seconds,
                        ..PartialEpoch::new(layers)
                    });
                }
            }
        };
        self.finish_epoch::<M, S, D, C>(progress, &plan, acc, clock, l, test_set)?;
        if epoch + 1 < self.settings.epochs && self.stop_requested() {
            return self.stopped(l, progress, None).map(Some);
        }
        self.save(l, progress, None)?;
        Ok(None)
    }

    /// The state a guarded epoch goes back to: the one its checkpoint kept when the run
    /// resumed inside it, otherwise the current one (the epoch's start).
    fn rollback_point<M, D>(
        progress: &mut Progress,
        l: &mut Learner<'_, M, D>,
    ) -> Result<Rollback, TrainError>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        if let Some(back) = progress.rollback.take() {
            return Ok(back);
        }
        // A run resumed inside a guarded epoch has its checkpoint's (`restore` checked that
        // there is one); any other epoch is at its start here.
        debug_assert_eq!(progress.next.step, 0);
        Rollback::take(l.model, &mut l.opt).map_err(device_err)
    }

    /// Trains the steps of `plan`'s epoch from `progress.next.step` on. With `guard` (the
    /// loss limit and the epoch's starting state), a step that diverges or takes the
    /// epoch's mean loss past the limit ends the attempt with [`Steps::Guarded`].
    fn steps<M, S, D, const C: usize>(
        &mut self,
        progress: &mut Progress,
        plan: &EpochPlan,
        guard: Option<(f64, &Rollback)>,
        state: &AmpState,
        l: &mut Learner<'_, M, D>,
        train_set: &ImageSet,
    ) -> Result<Steps, TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        let epoch = progress.next.epoch;
        state.set_amplified(&plan.amplified, plan.factor);
        let seed = self.settings.seed;
        let order = epoch_order(
            train_set.len(),
            self.settings.batch_size,
            &mut streams::order_rng(seed, epoch),
        );
        let layers = progress.record.layers.len();
        let mut acc = (progress.partial.take()).unwrap_or_else(|| PartialEpoch::new(layers));
        let (clock, before) = (Instant::now(), acc.seconds);
        let pad = black_after_normalization(train_set);
        self.observer
            .epoch_started(epoch, order.len(), progress.next.step);
        for step in progress.next.step..order.len() {
            l.opt.cfg.lr = plan.lr_at(step, order.len());
            let mut rng = streams::step_rng(seed, epoch, step);
            let augment = self.settings.augment;
            let batch = assemble(train_set, &order[step], augment, &pad, &mut rng);
            let at = Position { epoch, step };
            let image = train_set.shape;
            let end = self.step::<M, S, D, C>(at, batch, image, state, l, &mut acc)?;
            if let Some((limit, _)) = guard {
                let layers = &progress.record.layers;
                if let Some(event) = guard_event(at, &end, &acc, limit, layers, plan) {
                    let seconds = before + clock.elapsed().as_secs_f64();
                    return Ok(Steps::Guarded(event, seconds));
                }
            }
            if let StepEnd::Diverged(status) = end {
                return Ok(Steps::Ended(Box::new(
                    self.diverged(progress, status, plan),
                )));
            }
            if step + 1 < order.len() && self.stop_requested() {
                acc.seconds = before + clock.elapsed().as_secs_f64();
                progress.next = Position {
                    epoch,
                    step: step + 1,
                };
                progress.partial = Some(acc);
                let back = guard.map(|(_, back)| back);
                return (self.stopped(l, progress, back)).map(|o| Steps::Ended(Box::new(o)));
            }
        }
        Ok(Steps::Done(acc, (clock, before)))
    }

    /// Ends the run at a step that diverged under `plan`, naming the layers it amplified.
    fn diverged(
        &self,
        progress: &mut Progress,
        mut status: RunStatus,
        plan: &EpochPlan,
    ) -> Outcome {
        if let RunStatus::Diverged { amplified, .. } = &mut status {
            *amplified = amplified_names(&progress.record.layers, plan);
        }
        progress.record.status = status;
        Outcome::Done(self.finish(progress.record.clone()))
    }

    /// Closes the accounting of the epoch `plan` is for: its gradient statistics, the test
    /// accuracy, its record (whose seconds include the evaluation), and the next position.
    fn finish_epoch<M, S, D, const C: usize>(
        &mut self,
        progress: &mut Progress,
        plan: &EpochPlan,
        acc: PartialEpoch,
        (clock, before): (Instant, f64),
        l: &Learner<'_, M, D>,
        test_set: &ImageSet,
    ) -> Result<(), TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        let epoch = progress.next.epoch;
        progress.record.stats.epochs.push(acc.recorder.finish());
        let test_acc = evaluate_with::<M, S, D, C>(
            l.model,
            l.dev,
            test_set,
            self.settings.eval_batch_size,
            self.observer.as_mut(),
        )?;
        let epoch_record = EpochRecord {
            epoch,
            lr: plan.lr,
            factor: plan.factor,
            amplified: amplified_names(&progress.record.layers, plan),
            train_loss: acc.loss_sum / acc.seen as f64,
            train_acc: acc.correct as f64 / acc.seen as f64,
            test_acc,
            seconds: before + clock.elapsed().as_secs_f64(),
            weight_norms: layer_weight_norms(l.model),
        };
        self.observer.epoch_finished(&epoch_record);
        progress.record.epochs.push(epoch_record);
        progress.next = Position {
            epoch: epoch + 1,
            step: 0,
        };
        Ok(())
    }

    /// The policy's plan for `epoch`, its decision recorded.
    fn plan(
        &mut self,
        epoch: usize,
        record: &mut RunRecord,
        layers: usize,
    ) -> Result<EpochPlan, TrainError> {
        let plan = self.policy.plan_epoch(epoch, &record.stats);
        if plan.amplified.len() != layers {
            return Err(TrainError::PlanSize {
                got: plan.amplified.len(),
                want: layers,
            });
        }
        if let Some(d) = &plan.decision {
            record.decisions.push(d.clone());
        }
        Ok(plan)
    }

    /// One training step: forward with the taps active, backward, statistics, the divergence
    /// checks, the update.
    fn step<M, S, D, const C: usize>(
        &mut self,
        at: Position,
        batch: crate::data::Batch,
        image: [usize; 3],
        state: &AmpState,
        l: &mut Learner<'_, M, D>,
        acc: &mut PartialEpoch,
    ) -> Result<StepEnd, TrainError>
    where
        M: Classifier<S, D, C>,
        S: BatchShape,
        D: AmpDevice<f32>,
    {
        let (model, dev, opt, grads) = (&mut *l.model, l.dev, &mut l.opt, &mut l.grads);
        let n = batch.labels.len();
        let shape = S::for_batch(n, image).map_err(TrainError::Shape)?;
        let x = dev.tensor_from_vec(batch.pixels, shape);
        let y = one_hot::<D, C>(dev, &batch.labels);
        let (loss, logits) = {
            let _active = state.activate();
            let taped = std::mem::replace(grads, Gradients::leaky());
            let logits = model.try_forward_mut(x.trace(taped)).map_err(device_err)?;
            let logits_values = logits.as_vec();
            let loss = cross_entropy_with_logits_loss(logits, y);
            let loss_value = loss.as_vec()[0] as f64;
            *grads = loss.backward();
            (loss_value, logits_values)
        };
        let StepNorms {
            param: param_norms,
            output: output_norms,
        } = step_norms(model, grads, state);
        if !self.taps_checked {
            // Every candidate's tap ran exactly once, none inside another: a forward that
            // bypassed its taps fails here, on the first step, not silently.
            crate::tap::check_taps::<f32, D, M>(model, state)?;
            self.taps_checked = true;
        }
        if let Some(status) = self.divergence(at, loss, &param_norms) {
            return Ok(StepEnd::Diverged(status));
        }
        if self.settings.mode == Mode::Param {
            scale_layer_grads(model, grads, &state.factors());
        }
        let before = self.norm_hold.is_some().then(|| layer_weight_norms(model));
        opt.update(model, grads).map_err(device_err)?;
        if let (Some(hold), Some(before)) = (&self.norm_hold, before) {
            hold.restore(model, &before).map_err(device_err)?;
        }
        model.zero_grads(grads);
        acc.recorder.record_step(&param_norms, &output_norms);
        acc.loss_sum += loss * n as f64;
        acc.correct += count_correct::<C>(&logits, &batch.labels);
        acc.seen += n;
        self.observer.step_finished(at.step, loss);
        Ok(StepEnd::Trained)
    }

    /// Whether this step's loss or gradients end the run, and how.
    fn divergence(&self, at: Position, loss: f64, param_norms: &[f64]) -> Option<RunStatus> {
        let reason = if !loss.is_finite() {
            format!("the loss is {loss}")
        } else if let Some(max) = self.settings.max_loss.filter(|&m| loss > m) {
            format!("the loss {loss:.4} exceeds max_loss = {max}")
        } else if let Some(l) = param_norms.iter().position(|g| !g.is_finite()) {
            format!(
                "the parameter gradient of layer `{}` is not finite ({})",
                self.policy.layers()[l],
                param_norms[l]
            )
        } else {
            return None;
        };
        Some(RunStatus::Diverged {
            epoch: at.epoch,
            step: at.step,
            loss,
            reason,
            // Filled in by the epoch, which has the plan.
            amplified: Vec::new(),
        })
    }

    fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.requested())
    }

    /// Saves a checkpoint (when the run has a path for one) and reports the stop; `rollback`
    /// is the state a guarded epoch in progress started from.
    fn stopped<M, D>(
        &mut self,
        l: &mut Learner<'_, M, D>,
        progress: &Progress,
        rollback: Option<&Rollback>,
    ) -> Result<Outcome, TrainError>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        self.save(l, progress, rollback)?;
        Ok(Outcome::Stopped {
            checkpoint: self.checkpoint.clone(),
            at: progress.next,
        })
    }

    fn save<M, D>(
        &mut self,
        l: &mut Learner<'_, M, D>,
        progress: &Progress,
        rollback: Option<&Rollback>,
    ) -> Result<(), TrainError>
    where
        M: TensorCollection<f32, D>,
        D: AmpDevice<f32>,
    {
        let Some(path) = self.checkpoint.clone() else {
            return Ok(());
        };
        let state = CheckpointState {
            format: 1,
            identity: self.identity(&progress.record.layers),
            next: progress.next,
            record: progress.record.clone(),
            partial: progress.partial.clone(),
        };
        let tensors = read_tensors(l.model).map_err(device_err)?;
        let momentum = l.opt.state(l.model).map_err(device_err)?;
        Checkpoint::write(&path, &state, &tensors, &momentum, rollback)?;
        self.observer.checkpoint_written(&path, progress.next);
        Ok(())
    }

    fn finish(&self, mut record: RunRecord) -> RunRecord {
        record.provenance.finished = now();
        record
    }
}

/// Top-1 accuracy of `model` on `set`, without gradients (BatchNorm in evaluation mode).
pub fn evaluate<M, S, D, const C: usize>(
    model: &M,
    dev: &D,
    set: &ImageSet,
    batch_size: usize,
) -> Result<f64, TrainError>
where
    M: Classifier<S, D, C>,
    S: BatchShape,
    D: AmpDevice<f32>,
{
    evaluate_with::<M, S, D, C>(model, dev, set, batch_size, &mut super::Silent)
}

/// [`evaluate`], reporting each batch to `observer`.
pub fn evaluate_with<M, S, D, const C: usize>(
    model: &M,
    dev: &D,
    set: &ImageSet,
    batch_size: usize,
    observer: &mut dyn Observer,
) -> Result<f64, TrainError>
where
    M: Classifier<S, D, C>,
    S: BatchShape,
    D: AmpDevice<f32>,
{
    if set.is_empty() {
        return Ok(f64::NAN);
    }
    let mut correct = 0;
    let all: Vec<usize> = (0..set.len()).collect();
    let batch_size = batch_size.max(1);
    observer.eval_started(set.len().div_ceil(batch_size));
    for idx in all.chunks(batch_size) {
        let batch = assemble(
            set,
            idx,
            Augment::default(),
            &[],
            &mut StdRng::seed_from_u64(0),
        );
        let shape = S::for_batch(idx.len(), set.shape).map_err(TrainError::Shape)?;
        let x = dev.tensor_from_vec(batch.pixels, shape);
        let logits = model
            .try_forward(x)
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        correct += count_correct::<C>(&logits.as_vec(), &batch.labels);
        observer.eval_step();
    }
    Ok(correct as f64 / set.len() as f64)
}

fn one_hot<D: AmpDevice<f32>, const C: usize>(
    dev: &D,
    labels: &[usize],
) -> Tensor<(usize, Const<C>), f32, D> {
    let mut v = vec![0f32; labels.len() * C];
    for (i, &l) in labels.iter().enumerate() {
        v[i * C + l] = 1.0;
    }
    dev.tensor_from_vec(v, (labels.len(), Const::<C>))
}

fn count_correct<const C: usize>(logits: &[f32], labels: &[usize]) -> usize {
    logits
        .chunks(C)
        .zip(labels)
        .filter(|(row, &l)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
            best == l
        })
        .count()
}

/// The normalized value of a black pixel per channel, from the set's recorded normalization.
fn black_after_normalization(set: &ImageSet) -> Vec<f32> {
    set.normalization
        .as_ref()
        .map(|n| n.iter().map(|&(m, s)| -m / s).collect())
        .unwrap_or_else(|| vec![0.0; set.shape[0]])
}
