//! Progress reporting: the trainer tells an observer what happens; the CLI draws bars.

use std::path::Path;

use super::checkpoint::Position;
use super::{EpochRecord, GuardEvent};

/// Receives progress from a run. Every method has a do-nothing default.
pub trait Observer {
    /// An epoch starts (or resumes at `first_step`); `steps` batches in all.
    fn epoch_started(&mut self, _epoch: usize, _steps: usize, _first_step: usize) {}
    /// A training step finished with this mini-batch loss.
    fn step_finished(&mut self, _step: usize, _loss: f64) {}
    /// Evaluation of the test set starts: `batches` forward passes.
    fn eval_started(&mut self, _batches: usize) {}
    /// One evaluation batch is done.
    fn eval_step(&mut self) {}
    /// An epoch finished (training and evaluation).
    fn epoch_finished(&mut self, _record: &EpochRecord) {}
    /// A checkpoint was written; the run would continue at `next`.
    fn checkpoint_written(&mut self, _path: &Path, _next: Position) {}
    /// The loss guard undid the epoch in progress; it trains again from its first step
    /// without amplification (an `epoch_started` follows).
    fn guard_fired(&mut self, _event: &GuardEvent) {}
}

/// An observer that ignores everything (tests, library use).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;
impl Observer for Silent {}
