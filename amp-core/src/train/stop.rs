//! A request to stop a run between two steps (Ctrl-C), shared between a signal handler and
//! the trainer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once to ask the trainer to stop after the current step, write a checkpoint and return.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the run to stop; returns whether it had already been asked.
    pub fn request(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }
    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
