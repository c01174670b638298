//! The few operations on raw gradient buffers that taps and the trainer need.
//!
//! dfdx's public tensor ops always allocate a new tensor, but a tap must scale a gradient
//! *in place* inside the backward pass (`Gradients::get_or_alloc_mut` hands out the raw
//! buffer), and the trainer reads per-layer gradient norms every step. Those two operations
//! are the whole backend surface of amp, so they live in one small trait, implemented for
//! each dfdx device: `Cpu` through its `Vec` buffer, `Cuda` with its own kernels (`cuda.rs`)
//! that leave the sums on the GPU until the step reads them all at once.

use dfdx::prelude::*;
use dfdx::tensor::Storage;
use rayon::prelude::*;

use crate::layer_grads::for_each_param_grad;
use crate::registry::LayerParams;

#[cfg(feature = "cuda")]
mod cuda;
mod norm_acc;

pub use norm_acc::{DeviceNorms, NormAcc};

/// A dfdx device on which amp can scale gradient buffers in place and measure them.
///
/// Measuring adds into a [`NormAcc`] instead of returning a number, so that a GPU can keep
/// the sums in its own memory and the trainer reads all of one step's norms in one transfer
/// (see [`NormAcc`]).
pub trait AmpDevice<E: Dtype>: Device<E> {
    /// Adds the sum of squares of `grad` (accumulated in f64) to `acc[slot]`, then multiplies
    /// `grad` by `k` in place unless `k` is exactly 1. The squares are of the values before
    /// the scaling.
    fn measure_and_scale(
        &self,
        grad: &mut <Self as Storage<E>>::Vec,
        acc: &NormAcc,
        slot: usize,
        k: f64,
    );
    /// Multiplies every element of a gradient buffer by `k`, in place.
    fn grad_scale(&self, grad: &mut <Self as Storage<E>>::Vec, k: f64);
    /// Overwrites a buffer (of the same length) with host values: how a checkpoint's
    /// optimizer state goes back into the buffers dfdx's SGD kernel updates.
    fn buffer_write(&self, buf: &mut <Self as Storage<E>>::Vec, src: &[E]);

    /// Adds each candidate layer's squared parameter-gradient norm (all its trainable tensors)
    /// into slot `offset + layer` of `acc`: the sums `measure_and_scale(g, acc, slot, 1.0)`
    /// makes of each tensor, added in the model's order. This default does exactly that; a
    /// device may measure all the tensors of a step at once instead (a GPU: a few launches
    /// for the whole model instead of two per tensor), with the same sums.
    fn add_layer_sq_norms<M>(
        model: &M,
        grads: &mut Gradients<E, Self>,
        acc: &NormAcc,
        offset: usize,
    ) where
        Self: Sized,
        M: LayerParams<E, Self>,
    {
        for_each_param_grad(model, grads, &mut |dev, g, layer| {
            dev.measure_and_scale(g, acc, offset + layer, 1.0)
        });
    }

    /// Sum of squares of every element of a gradient buffer, accumulated in f64, read back at
    /// once (on a GPU: a synchronisation; prefer [`Self::measure_and_scale`] in loops).
    fn grad_sq_norm(&self, grad: &mut <Self as Storage<E>>::Vec) -> f64 {
        let acc = NormAcc::new(1);
        self.measure_and_scale(grad, &acc, 0, 1.0);
        acc.take()[0]
    }
}

/// Elements per parallel chunk on `Cpu`. Fixed, so that a norm is summed in the same order
/// whatever the number of threads (bit-identical results from run to run).
const CPU_CHUNK: usize = 1 << 15;

macro_rules! cpu_impl {
    ($e:ty) => {
        impl AmpDevice<$e> for Cpu {
            fn measure_and_scale(
                &self,
                grad: &mut <Self as Storage<$e>>::Vec,
                acc: &NormAcc,
                slot: usize,
                k: f64,
            ) {
                let partial: Vec<f64> = grad
                    .par_chunks(CPU_CHUNK)
                    .map(|c| c.iter().map(|&g| (g as f64) * (g as f64)).sum::<f64>())
                    .collect();
                acc.add(slot, partial.iter().sum());
                if k != 1.0 {
                    self.grad_scale(grad, k);
                }
            }
            fn grad_scale(&self, grad: &mut <Self as Storage<$e>>::Vec, k: f64) {
                let k = k as $e;
                grad.par_chunks_mut(CPU_CHUNK)
                    .for_each(|c| c.iter_mut().for_each(|g| *g *= k));
            }
            fn buffer_write(&self, buf: &mut <Self as Storage<$e>>::Vec, src: &[$e]) {
                buf.copy_from_slice(src);
            }
        }
    };
}
cpu_impl!(f32);
cpu_impl!(f64);

/// The element types amp trains in: what dfdx's parameterized layers need to be built
/// (`Linear` initializes from a uniform distribution over floats).
pub trait AmpDtype: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform {}
impl<E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform> AmpDtype for E {}
