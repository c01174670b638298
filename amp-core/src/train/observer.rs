//! Progress reporting: the trainer tells an observer what happens; the CLI draws bars.

use super::EpochRecord;

/// Receives progress from a run. Every method has a do-nothing default.
pub trait Observer {
    /// An epoch starts; `steps` batches will follow.
    fn epoch_started(&mut self, _epoch: usize, _steps: usize) {}
    /// A training step finished with this mini-batch loss.
    fn step_finished(&mut self, _step: usize, _loss: f64) {}
    /// An epoch finished (training and evaluation).
    fn epoch_finished(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything (tests, library use).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;
impl Observer for Silent {}
