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
use crate::train::walk;
use crate::AmpDevice;

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

/// The trainer's `hold_weight_norms`: rescales each candidate layer's trainable parameters
/// (all its tensors together, as [`layer_weight_norms`] measures them) back to their norm
/// before the optimizer step. Which tensor belongs to which layer is found once, by the
/// layers' field paths ([`crate::LayerInfo::owns`]), the names dfdx's walk gives them.
pub struct NormHold {
    /// For each tensor in walk order, the candidate layer it belongs to.
    owners: Vec<Option<usize>>,
}

impl NormHold {
    /// The tensor-to-layer map of `model`.
    pub fn new<D, M>(model: &M) -> Result<Self, D::Err>
    where
        D: AmpDevice<f32>,
        M: LayerParams<f32, D> + TensorCollection<f32, D>,
    {
        let layers = M::layers();
        let mut owners = Vec::new();
        walk::named(model, &mut |t| {
            owners.push(layers.iter().position(|l| l.owns(&t.name)));
            Ok(())
        })?;
        // The macro names both from the same fields; a layer without tensors would be held
        // by nothing, silently.
        for (i, l) in layers.iter().enumerate() {
            assert!(
                owners.contains(&Some(i)),
                "candidate layer {i} (field path `{}`) owns no tensor of the model",
                l.field_path
            );
        }
        Ok(Self { owners })
    }

    /// Rescales each layer to the norm `target[layer]` (its [`layer_weight_norms`] before the
    /// step). A layer whose norm is now 0 or not finite is left as it is.
    pub fn restore<D, M>(&self, model: &mut M, target: &[f64]) -> Result<(), D::Err>
    where
        D: AmpDevice<f32>,
        M: LayerParams<f32, D> + TensorCollection<f32, D>,
    {
        assert_eq!(target.len(), M::LAYER_COUNT, "one norm per candidate layer");
        let scale: Vec<f32> = layer_weight_norms(model)
            .iter()
            .zip(target)
            .map(|(&now, &want)| {
                if now > 0.0 && now.is_finite() {
                    (want / now) as f32
                } else {
                    1.0
                }
            })
            .collect();
        let mut i = 0;
        walk::each_mut(model, &mut |trainable, t| {
            if let (true, Some(layer)) = (trainable, self.owners[i]) {
                if scale[layer] != 1.0 {
                    t.scale_values(scale[layer]);
                }
            }
            i += 1;
            Ok(())
        })
    }
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
