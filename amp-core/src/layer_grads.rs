//! Reading and scaling the parameter gradients of each candidate layer after backward.
//!
//! Used by the trainer for the statistics of METHOD.md section 2 (parameter-gradient norm per
//! layer and step) and for `param` mode, which scales a layer's parameter gradients in place
//! before the optimizer sees them.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorRef,
};
use dfdx::prelude::*;
use dfdx::tensor::Storage;

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

/// Adds each candidate layer's squared parameter-gradient norm into slot `offset + layer`
/// (the device may measure all of them in one go: [`AmpDevice::add_layer_sq_norms`]).
fn add_param_sq<E, D, M>(model: &M, grads: &mut Gradients<E, D>, acc: &NormAcc, offset: usize)
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    D::add_layer_sq_norms(model, grads, acc, offset);
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
    for_each_param_grad(model, grads, &mut |dev, g, layer| {
        if factors[layer] != 1.0 {
            dev.grad_scale(g, factors[layer]);
        }
    });
}

/// What [`for_each_param_grad`] calls per tensor: the tensor's device, its gradient buffer and
/// the index of the candidate layer it belongs to.
pub(crate) type ParamGradFn<'f, E, D> = dyn FnMut(&D, &mut <D as Storage<E>>::Vec, usize) + 'f;

/// Calls `f` on every trainable parameter's gradient of every candidate layer, in the model's
/// order (layers in forward order, each layer's tensors in dfdx's order), allocating the
/// gradients `grads` lacks.
pub(crate) fn for_each_param_grad<E, D, M>(
    model: &M,
    grads: &mut Gradients<E, D>,
    f: &mut ParamGradFn<'_, E, D>,
) where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    model.visit_layers(0, &mut PerLayer { grads, f });
}

struct PerLayer<'g, 'f, 'h, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    f: &'f mut ParamGradFn<'h, E, D>,
}

impl<E: Dtype, D: AmpDevice<E>> LayerVisitor<E, D> for PerLayer<'_, '_, '_, E, D> {
    fn visit<M: TensorCollection<E, D>>(&mut self, index: usize, layer: &M) {
        let mut t = EachTensor {
            grads: self.grads,
            index,
            f: self.f,
        };
        // The visitor below never fails: its only fallible step (allocating a missing
        // gradient) is reported by dfdx as a device error, which on CPU cannot happen.
        let _ = M::iter_tensors(&mut RecursiveWalker {
            m: layer,
            f: &mut t,
        });
    }
}

struct EachTensor<'g, 'f, 'h, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    index: usize,
    f: &'f mut ParamGradFn<'h, E, D>,
}

impl<E: Dtype, D: AmpDevice<E>> TensorVisitor<E, D> for EachTensor<'_, '_, '_, E, D> {
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
        let g = self.grads.get_or_alloc_mut(t)?;
        (self.f)(t.device(), g, self.index);
        Ok(None)
    }
}
