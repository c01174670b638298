//! The run state that taps read at backward time and write their measurements into.
//!
//! One [`AmpState`] belongs to one training run. The model never owns it: taps find it through
//! the thread's active context (see [`super::context`]) during the forward pass and capture a
//! handle in their backward closures. So the same model instance serves baseline epochs,
//! observation epochs and amplified epochs; the trainer only changes factors between steps.

use std::sync::{Arc, Mutex, MutexGuard};

use super::Mode;
use crate::backend::NormAcc;

/// Shared, cheaply clonable handle to a run's amplification state.
#[derive(Debug, Clone)]
pub struct AmpState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<StateInner>,
    /// Number of candidate layers, `L`.
    layers: usize,
    /// Squared L2 norms of one step, summed by the device that runs the backward pass (on a
    /// GPU: in GPU memory): slots `0..L` the gradient at each layer's output (added by the
    /// taps), slots `L..2L` each layer's parameter gradients (added by
    /// [`crate::layer_grads::step_norms`], which reads all `2L` in one transfer).
    norms: NormAcc,
}

#[derive(Debug)]
struct StateInner {
    mode: Mode,
    /// Factor per candidate layer; exactly 1.0 means "not amplified".
    factors: Vec<f64>,
    /// What the taps did in the forward passes since the last activation, for
    /// [`super::check_taps`].
    forward: TapLog,
}

/// Forward-pass tap invocations since the last [`AmpState::activate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TapLog {
    /// Times each candidate layer's tap ran.
    pub counts: Vec<u32>,
    /// `(inner, outer)`: a candidate's tap ran while candidate `outer`'s forward was running.
    pub nested: Vec<(usize, usize)>,
    /// Run-wide indices of taps beyond the last candidate layer.
    pub out_of_range: Vec<usize>,
}

impl AmpState {
    /// A state for `layers` candidate layers, none amplified.
    pub fn new(layers: usize, mode: Mode) -> Self {
        Self {
            inner: Arc::new(Shared {
                state: Mutex::new(StateInner {
                    mode,
                    factors: vec![1.0; layers],
                    forward: TapLog {
                        counts: vec![0; layers],
                        ..TapLog::default()
                    },
                }),
                layers,
                norms: NormAcc::new(2 * layers),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StateInner> {
        // A panic inside a backward closure cannot leave the numbers half-written in a way
        // that matters more than the panic itself, so a poisoned lock is still usable.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of candidate layers.
    pub fn layers(&self) -> usize {
        self.inner.layers
    }

    /// The mode of this run.
    pub fn mode(&self) -> Mode {
        self.lock().mode
    }

    /// The factor of a layer (1.0 when not amplified).
    pub fn factor(&self, layer: usize) -> f64 {
        self.lock().factors.get(layer).copied().unwrap_or(1.0)
    }

    /// All factors, in layer order.
    pub fn factors(&self) -> Vec<f64> {
        self.lock().factors.clone()
    }

    /// Sets every layer's factor: `k` for layers in `amplified`, 1.0 for the others.
    pub fn set_amplified(&self, amplified: &[bool], k: f64) {
        let mut s = self.lock();
        assert_eq!(
            amplified.len(),
            s.factors.len(),
            "one flag per candidate layer"
        );
        for (f, &on) in s.factors.iter_mut().zip(amplified) {
            *f = if on { k } else { 1.0 };
        }
    }

    /// Switches every layer off (factor 1.0).
    pub fn clear(&self) {
        self.lock().factors.iter_mut().for_each(|f| *f = 1.0);
    }

    /// Where the output tap of `layer` adds the squared norm of the gradient it sees (slot =
    /// layer); `None` for a tap beyond the last candidate layer (which
    /// [`super::check_taps`] reports).
    pub(crate) fn output_acc(&self, layer: usize) -> Option<&NormAcc> {
        (layer < self.inner.layers).then_some(&self.inner.norms)
    }

    /// The step's accumulators: slots `0..L` output-gradient, `L..2L` parameter-gradient
    /// squared norms.
    pub(crate) fn norms(&self) -> &NormAcc {
        &self.inner.norms
    }

    /// Called by an output tap in the backward pass: the factor to multiply the gradient at
    /// the layer's output by (1.0 = leave it alone).
    pub(crate) fn output_factor(&self, layer: usize) -> f64 {
        let s = self.lock();
        match s.mode {
            Mode::Output => s.factors.get(layer).copied().unwrap_or(1.0),
            Mode::Input | Mode::Param => 1.0,
        }
    }

    /// Called when a candidate layer's forward starts under its taps: counts the run of
    /// `layer`, and notes it when it runs inside the forward of candidate `inside`.
    pub(crate) fn on_tap_forward(&self, layer: usize, inside: Option<usize>) {
        let mut s = self.lock();
        let log = &mut s.forward;
        match log.counts.get_mut(layer) {
            Some(c) => *c = c.saturating_add(1),
            None if !log.out_of_range.contains(&layer) => log.out_of_range.push(layer),
            None => {}
        }
        if let Some(outer) = inside {
            if !log.nested.contains(&(layer, outer)) {
                log.nested.push((layer, outer));
            }
        }
    }

    /// Forgets the tap runs recorded so far (at each activation).
    pub(crate) fn reset_tap_log(&self) {
        let mut s = self.lock();
        let log = &mut s.forward;
        log.counts.iter_mut().for_each(|c| *c = 0);
        log.nested.clear();
        log.out_of_range.clear();
    }

    /// The tap runs recorded since the last activation.
    pub(crate) fn tap_log(&self) -> TapLog {
        self.lock().forward.clone()
    }

    /// Called by an input tap in the backward pass: the factor for dL/d(input).
    pub(crate) fn input_factor(&self, layer: usize) -> f64 {
        let s = self.lock();
        match s.mode {
            Mode::Input => s.factors.get(layer).copied().unwrap_or(1.0),
            Mode::Output | Mode::Param => 1.0,
        }
    }

    /// Takes the output-gradient norms of the step that just finished (L2, not squared) and
    /// resets the accumulators for the next one.
    ///
    /// On a GPU this is one transfer. [`crate::layer_grads::step_norms`] reads these and the
    /// parameter-gradient norms in a single one, as the trainer does.
    pub fn take_output_norms(&self) -> Vec<f64> {
        let mut all = self.inner.norms.take();
        all.truncate(self.inner.layers);
        all.into_iter().map(f64::sqrt).collect()
    }
}
