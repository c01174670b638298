//! The tap itself: the identity in the forward pass, the amplification in the backward pass.
//!
//! Two taps surround each candidate layer. The *output* tap sits on the layer's output tensor:
//! in the backward pass it sees dL/d(output) once every later op has added its share, records
//! its norm, and in `output` mode multiplies it in place, before the layer's own backward reads
//! it. The *input* tap exists only in `input` mode: it gives the layer its own copy of the input
//! (a fresh tensor id) so that only the gradient flowing back *through this layer* is scaled,
//! not that of other consumers of the same input (a residual shortcut, say).
//!
//! Neither tap touches the forward values: the output tap returns the very same tensor, the
//! input tap multiplies by exactly one. With no active run, or without a tape, both are no-ops.
//!
//! The output tap scales the gradient buffer of the layer's output *in place*, which is right
//! because that tensor is new: nothing else can have added to its gradient. A candidate layer
//! whose output keeps its input's tensor id (a pure reshape of a contiguous tensor) would
//! break that; candidates are layers with parameters, which always produce new tensors.

use dfdx::prelude::*;
use dfdx::tensor::{HasErr, Tape};

use super::context::lookup;
use super::Mode;
use crate::backend::AmpDevice;

/// A value a tap can sit on: a dfdx tensor on an [`AmpDevice`], with or without a tape.
pub trait Tappable: HasErr + Sized {
    /// Tap before the candidate layer with block-local index `local`.
    fn tap_input(self, local: usize) -> Result<Self, Self::Err>;
    /// Tap after the candidate layer with block-local index `local`.
    fn tap_output(self, local: usize) -> Self;
}

impl<S: Shape, E: Dtype, D: AmpDevice<E>, T: Tape<E, D>> Tappable for Tensor<S, E, D, T> {
    fn tap_input(self, local: usize) -> Result<Self, Self::Err> {
        if !T::OWNS_TAPE {
            return Ok(self);
        }
        let Some((state, layer)) = lookup(local) else {
            return Ok(self);
        };
        if state.mode() != Mode::Input {
            return Ok(self);
        }
        // `x * 1` is exact, and gives the layer an input of its own.
        let x = self.try_mul(E::ONE)?;
        let ghost = x.ghost();
        let dev = x.device().clone();
        let (x, mut tape) = x.split_tape();
        tape.add_backward_op(move |grads| {
            let k = state.input_factor(layer);
            if k != 1.0 {
                dev.grad_scale(grads.get_or_alloc_mut(&ghost)?, k);
            }
            Ok(())
        });
        Ok(x.put_tape(tape))
    }

    fn tap_output(self, local: usize) -> Self {
        if !T::OWNS_TAPE {
            return self;
        }
        let Some((state, layer)) = lookup(local) else {
            return self;
        };
        let ghost = self.ghost();
        let dev = self.device().clone();
        let (y, mut tape) = self.split_tape();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&ghost)?;
            let k = state.output_factor(layer);
            if let Some(acc) = state.output_acc(layer) {
                dev.measure_and_scale(g, acc, layer, k);
            }
            Ok(())
        });
        y.put_tape(tape)
    }
}
