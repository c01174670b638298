//! The L2 norm of each candidate layer's parameters, as the trainer records it after every
//! epoch.
//!
//! Amplification changes weights, not only gradients: under batch norm a convolution's output
//! ignores the scale of its weights, so its gradient shrinks as 1/‖w‖ and a layer whose
//! amplified steps grew ‖w‖ learns more slowly ever after (EXPERIMENTS.md, Plain-20). The
//! records keep these norms so that a report can show the growth beside the accuracy.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorRef,
};
use dfdx::prelude::*;

use crate::registry::{LayerParams, LayerVisitor};

/// L2 norm of each candidate layer's trainable parameters (all its tensors together: a
/// convolution's weight and bias), in forward order. Reads the values to the host: once per
/// epoch, not per step.
pub fn layer_weight_norms<D, M>(model: &M) -> Vec<f64>
where
    D: Device<f32>,
    M: LayerParams<f32, D>,
{
    let mut sq = vec![0.0; M::LAYER_COUNT];
    model.visit_layers(0, &mut PerLayer(&mut sq));
    sq.into_iter().map(f64::sqrt).collect()
}

/// Adds each layer's squared norm into its slot.
struct PerLayer<'a>(&'a mut [f64]);

impl<D: Device<f32>> LayerVisitor<f32, D> for PerLayer<'_> {
    fn visit<M: TensorCollection<f32, D>>(&mut self, index: usize, layer: &M) {
        let mut sum = SquaredSum(0.0);
        // The visitor never fails: reading a tensor's values has no error path.
        let _ = M::iter_tensors(&mut RecursiveWalker {
            m: layer,
            f: &mut sum,
        });
        self.0[index] += sum.0;
    }
}

/// The sum of squares of the trainable tensors it visits.
struct SquaredSum(f64);

impl<D: Device<f32>> TensorVisitor<f32, D> for SquaredSum {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            self.0 += t
                .as_vec()
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>();
        }
        Ok(None)
    }
}
