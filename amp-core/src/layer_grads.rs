//! Reading and scaling the parameter gradients of each candidate layer after backward.
//!
//! Used by the trainer for the statistics of METHOD.md section 2 (parameter-gradient norm per
//! layer and step) and for `param` mode, which scales a layer's parameter gradients in place
//! before the optimizer sees them.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorRef,
};
use dfdx::prelude::*;

use crate::backend::{AmpDevice, NormAcc};
use crate::registry::{LayerParams, LayerVisitor};
use crate::tap::AmpState;

/// L2 norm of each candidate layer's parameter gradient (all its trainable tensors together).
///
/// `grads` must hold a gradient for every parameter, as those from `model.alloc_grads()` do.
pub fn layer_grad_norms<E, D, M>(model: &M, grads: &mut Gradients<E, D>) -> Vec<f64>
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    let acc = NormAcc::new(M::LAYER_COUNT);
    add_param_sq(model, grads, &acc, 0);
    acc.take().into_iter().map(f64::sqrt).collect()
}

/// The gradient norms of one training step, per candidate layer (L2).
#[derive(Debug, Clone, PartialEq)]
pub struct StepNorms {
    /// Of each layer's parameter gradients, as [`layer_grad_norms`] measures them.
    pub param: Vec<f64>,
    /// Of the gradient at each layer's output, as its tap saw it (before scaling), as
    /// [`AmpState::take_output_norms`] returns them.
    pub output: Vec<f64>,
}

/// Both norm vectors of the step that just finished, read back in one transfer (on a GPU: one
/// copy and one synchronisation per step, into accumulators `state` keeps from step to step),
/// and the accumulators reset for the next step.
///
/// The values are those of [`layer_grad_norms`] and [`AmpState::take_output_norms`].
pub fn step_norms<E, D, M>(model: &M, grads: &mut Gradients<E, D>, state: &AmpState) -> StepNorms
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    let layers = state.layers();
    assert_eq!(
        layers,
        M::LAYER_COUNT,
        "the state was made for another model"
    );
    add_param_sq(model, grads, state.norms(), layers);
    let mut all: Vec<f64> = state.norms().take().into_iter().map(f64::sqrt).collect();
    let param = all.split_off(layers);
    StepNorms { param, output: all }
}

/// Adds each candidate layer's squared parameter-gradient norm into slot `offset + layer`.
fn add_param_sq<E, D, M>(model: &M, grads: &mut Gradients<E, D>, acc: &NormAcc, offset: usize)
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    let mut v = PerLayer {
        grads,
        op: Op::SqNorm { acc, offset },
    };
    model.visit_layers(0, &mut v);
}

/// Multiplies the parameter gradients of layer `i` by `factors[i]` (1.0 leaves it untouched).
pub fn scale_layer_grads<E, D, M>(model: &M, grads: &mut Gradients<E, D>, factors: &[f64])
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    assert_eq!(
        factors.len(),
        M::LAYER_COUNT,
        "one factor per candidate layer"
    );
    if factors.iter().all(|&k| k == 1.0) {
        return;
    }
    let mut v = PerLayer {
        grads,
        op: Op::Scale(factors),
    };
    model.visit_layers(0, &mut v);
}

#[derive(Clone, Copy)]
enum Op<'a> {
    /// Sums layer `i` into slot `offset + i` of the accumulator, read once at the end (one
    /// GPU transfer for all layers).
    SqNorm {
        acc: &'a NormAcc,
        offset: usize,
    },
    Scale(&'a [f64]),
}

struct PerLayer<'g, 'a, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    op: Op<'a>,
}

impl<'g, 'a, E: Dtype, D: AmpDevice<E>> LayerVisitor<E, D> for PerLayer<'g, 'a, E, D> {
    fn visit<M: TensorCollection<E, D>>(&mut self, index: usize, layer: &M) {
        let mut t = EachTensor {
            grads: self.grads,
            index,
            op: self.op,
        };
        // The visitor below never fails: its only fallible step (allocating a missing
        // gradient) is reported by dfdx as a device error, which on CPU cannot happen.
        let _ = M::iter_tensors(&mut RecursiveWalker {
            m: layer,
            f: &mut t,
        });
    }
}

struct EachTensor<'g, 'a, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    index: usize,
    op: Op<'a>,
}

impl<'g, 'a, E: Dtype, D: AmpDevice<E>> TensorVisitor<E, D> for EachTensor<'g, 'a, E, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, E, D>,
        t: &Tensor<S, E, D>,
    ) -> Result<Option<Tensor<S, E, D>>, Self::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let dev = t.device().clone();
        let g = self.grads.get_or_alloc_mut(t)?;
        match self.op {
            Op::SqNorm { acc, offset } => dev.measure_and_scale(g, acc, offset + self.index, 1.0),
            Op::Scale(k) => {
                if k[self.index] != 1.0 {
                    dev.grad_scale(g, k[self.index]);
                }
            }
        }
        Ok(None)
    }
}
