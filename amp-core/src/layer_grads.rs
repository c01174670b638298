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

/// L2 norm of each candidate layer's parameter gradient (all its trainable tensors together).
///
/// `grads` must hold a gradient for every parameter, as those from `model.alloc_grads()` do.
pub fn layer_grad_norms<E, D, M>(model: &M, grads: &mut Gradients<E, D>) -> Vec<f64>
where
    E: Dtype,
    D: AmpDevice<E>,
    M: LayerParams<E, D>,
{
    let mut v = PerLayer {
        grads,
        op: Op::SqNorm(NormAcc::new(M::LAYER_COUNT)),
    };
    model.visit_layers(0, &mut v);
    match v.op {
        Op::SqNorm(acc) => acc.take().into_iter().map(f64::sqrt).collect(),
        Op::Scale(_) => unreachable!(),
    }
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
        op: Op::Scale(factors.to_vec()),
    };
    model.visit_layers(0, &mut v);
}

enum Op {
    /// Sums into the accumulator, read once at the end (one GPU transfer for all layers).
    SqNorm(NormAcc),
    Scale(Vec<f64>),
}

struct PerLayer<'g, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    op: Op,
}

impl<'g, E: Dtype, D: AmpDevice<E>> LayerVisitor<E, D> for PerLayer<'g, E, D> {
    fn visit<M: TensorCollection<E, D>>(&mut self, index: usize, layer: &M) {
        let mut t = EachTensor {
            grads: self.grads,
            index,
            op: &mut self.op,
        };
        // The visitor below never fails: its only fallible step (allocating a missing
        // gradient) is reported by dfdx as a device error, which on CPU cannot happen.
        let _ = M::iter_tensors(&mut RecursiveWalker {
            m: layer,
            f: &mut t,
        });
    }
}

struct EachTensor<'a, E: Dtype, D: Device<E>> {
    grads: &'a mut Gradients<E, D>,
    index: usize,
    op: &'a mut Op,
}

impl<'a, E: Dtype, D: AmpDevice<E>> TensorVisitor<E, D> for EachTensor<'a, E, D> {
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
            Op::SqNorm(acc) => dev.measure_and_scale(g, acc, self.index, 1.0),
            Op::Scale(k) => {
                if k[self.index] != 1.0 {
                    dev.grad_scale(g, k[self.index]);
                }
            }
        }
        Ok(None)
    }
}
