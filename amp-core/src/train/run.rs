//! What a run is given besides the model and the data: its name, recipe and policy, and the
//! optional machinery that makes it resumable (checkpoint path, a checkpoint to resume, a
//! stop flag) and traceable (provenance, the resolved config).

use std::path::PathBuf;

use super::checkpoint::{Checkpoint, Position, RunIdentity};
use super::{Observer, Provenance, RunRecord, Silent, StopFlag, TrainSettings};
use crate::layer_weights::NormHold;
use crate::method::AmpPolicy;

/// How a run ended.
// One value per run, moved once: boxing the record would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The run is over: finished, or diverged (see [`RunRecord::status`]).
    Done(RunRecord),
    /// A stop was requested; the run can continue from `checkpoint` (when one was asked for).
    Stopped {
        checkpoint: Option<PathBuf>,
        at: Position,
    },
}

impl Outcome {
    /// The record of a run that is over, `None` for a stopped one.
    pub fn record(self) -> Option<RunRecord> {
        match self {
            Outcome::Done(r) => Some(r),
            Outcome::Stopped { .. } => None,
        }
    }
}

/// A training run, configured with builder methods and started by [`Trainer::run`].
///
/// ```text
/// let outcome = Trainer::new("resnet18-seed0", &settings, policy.as_mut())
///     .observer(&mut bars)
///     .checkpoint("runs/x.ckpt.safetensors")
///     .resume(Checkpoint::read(path)?)
///     .run::<Net, Images, Cpu, 10>(&mut model, &dev, &train, &test)?;
/// ```
pub struct Trainer<'a> {
    pub(super) name: String,
    pub(super) settings: TrainSettings,
    pub(super) policy: &'a mut dyn AmpPolicy,
    pub(super) observer: Box<dyn Observer + 'a>,
    pub(super) checkpoint: Option<PathBuf>,
    pub(super) resume: Option<Checkpoint>,
    pub(super) stop: Option<StopFlag>,
    pub(super) provenance: Provenance,
    pub(super) config: String,
    /// Whether the first step's tap check ran.
    pub(super) taps_checked: bool,
    /// With `hold_weight_norms`: the model's tensor-to-layer map, made when the run starts.
    pub(super) norm_hold: Option<NormHold>,
}

impl<'a> Trainer<'a> {
    /// A run named `name` with these settings and policy; no checkpoints, silent.
    pub fn new(name: &str, settings: &TrainSettings, policy: &'a mut dyn AmpPolicy) -> Self {
        Self {
            name: name.to_string(),
            settings: settings.clone(),
            policy,
            observer: Box::new(Silent),
            checkpoint: None,
            resume: None,
            stop: None,
            provenance: Provenance::default(),
            config: String::new(),
            taps_checked: false,
            norm_hold: None,
        }
    }

    /// Reports progress to `observer`.
    pub fn observer(mut self, observer: &'a mut dyn Observer) -> Self {
        self.observer = Box::new(Forward(observer));
        self
    }

    /// Writes a checkpoint to `path` after every epoch and when stopped.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Continues from `checkpoint`; it is checked against this run before anything is loaded.
    pub fn resume(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Stops between two steps once `flag` is set.
    pub fn stop_flag(mut self, flag: StopFlag) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Where the run comes from; copied into the record. Its model name, data hash and limits
    /// are part of the run's identity, checked when resuming.
    pub fn provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = provenance;
        self
    }

    /// The resolved experiment config (TOML), kept in the record and the checkpoint.
    pub fn config(mut self, toml: impl Into<String>) -> Self {
        self.config = toml.into();
        self
    }

    pub(super) fn identity(&self, layers: &[String]) -> RunIdentity {
        RunIdentity {
            name: self.name.clone(),
            model: self.provenance.model.clone(),
            layers: layers.to_vec(),
            config: self.config.clone(),
            policy: self.policy.describe(),
            settings: Some(self.settings.clone()),
            data_hash: self
                .provenance
                .data
                .as_ref()
                .and_then(|d| d.content_hash.clone())
                .unwrap_or_default(),
            limit: self.provenance.limit,
            test_limit: self.provenance.test_limit,
        }
    }
}

/// Lets a borrowed observer live in the trainer's box.
struct Forward<'a>(&'a mut dyn Observer);

impl Observer for Forward<'_> {
    fn epoch_started(&mut self, epoch: usize, steps: usize, first: usize) {
        self.0.epoch_started(epoch, steps, first)
    }
    fn step_finished(&mut self, step: usize, loss: f64) {
        self.0.step_finished(step, loss)
    }
    fn eval_started(&mut self, batches: usize) {
        self.0.eval_started(batches)
    }
    fn eval_step(&mut self) {
        self.0.eval_step()
    }
    fn epoch_finished(&mut self, record: &super::EpochRecord) {
        self.0.epoch_finished(record)
    }
    fn checkpoint_written(&mut self, path: &std::path::Path, next: Position) {
        self.0.checkpoint_written(path, next)
    }
    fn guard_fired(&mut self, event: &super::GuardEvent) {
        self.0.guard_fired(event)
    }
}
