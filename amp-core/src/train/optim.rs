//! SGD whose state a checkpoint can save and restore.
//!
//! dfdx's `Sgd` keeps its momentum buffers in a private field, so a run that uses it cannot be
//! resumed exactly. This optimizer owns the same buffers and calls dfdx's own SGD kernel
//! (`SgdConfig::try_update`) on them, so an update is bit-identical to dfdx's `Sgd` (tested
//! in `tests/tests/checkpoint.rs`), and the buffers can be read out and written back.

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::optim::SgdConfig;
use dfdx::prelude::*;

use super::tensors::NamedTensor;
use super::walk;
use crate::AmpDevice;

/// SGD with momentum and weight decay (dfdx's semantics) over the trainable tensors of a model.
#[derive(Debug)]
pub struct Sgd<D: Device<f32>> {
    pub cfg: SgdConfig,
    velocity: Gradients<f32, D>,
}

impl<D: AmpDevice<f32>> Sgd<D> {
    /// An optimizer with zero momentum buffers (dfdx starts from zeros too).
    pub fn new(cfg: SgdConfig) -> Self {
        Self {
            cfg,
            velocity: Gradients::leaky(),
        }
    }

    /// One update of every trainable tensor of `model` from `grads` (which must hold a
    /// gradient for each, as those from `alloc_grads` do).
    pub fn update<M: TensorCollection<f32, D>>(
        &mut self,
        model: &mut M,
        grads: &mut Gradients<f32, D>,
    ) -> Result<(), D::Err> {
        let (cfg, velocity) = (&self.cfg, &mut self.velocity);
        walk::each_mut(model, &mut |trainable, p| {
            if trainable {
                p.sgd_update(cfg, velocity, grads)?;
            }
            Ok(())
        })
    }

    /// The momentum buffers, named like the model's tensors (zeros where no step ran yet).
    pub fn state<M: TensorCollection<f32, D>>(
        &mut self,
        model: &M,
    ) -> Result<Vec<NamedTensor>, D::Err> {
        let mut out = Vec::new();
        walk::named(model, &mut |t| {
            if t.trainable {
                out.push(NamedTensor {
                    shape: t.tensor.dims(),
                    values: t.tensor.slot_values(&mut self.velocity)?,
                    name: t.name,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Restores momentum buffers saved by [`Sgd::state`]; check their names and shapes
    /// against the model first (`check_tensors` with `Holds::Trainable`). Buffers not in
    /// `stored` stay zero.
    pub fn load_state<M: TensorCollection<f32, D>>(
        &mut self,
        model: &M,
        stored: &[NamedTensor],
    ) -> Result<(), D::Err> {
        walk::named(model, &mut |t| {
            if !t.trainable {
                return Ok(());
            }
            match stored.iter().find(|s| s.name == t.name) {
                Some(s) => t.tensor.set_slot(&mut self.velocity, &s.values),
                None => Ok(()),
            }
        })
    }
}
