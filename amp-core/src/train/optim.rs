//! SGD whose state a checkpoint can save and restore.
//!
//! dfdx's `Sgd` keeps its momentum buffers in a private field, so a run that uses it cannot be
//! resumed exactly. This optimizer owns the same buffers and calls dfdx's own SGD kernel
//! (`SgdConfig::try_update`) on them, so an update is bit-identical to dfdx's `Sgd` (tested
//! in `tests/tests/checkpoint.rs`), and the buffers can be read out and written back.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::optim::SgdConfig;
use dfdx::prelude::*;

use super::tensors::NamedTensor;
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
        M::iter_tensors(&mut RecursiveWalker {
            m: model,
            f: &mut Update { opt: self, grads },
        })?;
        Ok(())
    }

    /// The momentum buffers, named like the model's tensors (zeros where no step ran yet).
    pub fn state<M: TensorCollection<f32, D>>(
        &mut self,
        model: &M,
    ) -> Result<Vec<NamedTensor>, D::Err> {
        let mut r = ReadState {
            velocity: &mut self.velocity,
            out: Vec::new(),
        };
        M::iter_tensors(&mut RecursiveWalker {
            m: (model, String::new()),
            f: &mut r,
        })?;
        Ok(r.out)
    }

    /// Restores momentum buffers saved by [`Sgd::state`]; the names and shapes were checked
    /// against the model beforehand. Buffers not in `stored` stay zero.
    pub fn load_state<M: TensorCollection<f32, D>>(
        &mut self,
        model: &mut M,
        stored: &[NamedTensor],
    ) -> Result<(), D::Err> {
        M::iter_tensors(&mut RecursiveWalker {
            m: (model, String::new()),
            f: &mut WriteState {
                velocity: &mut self.velocity,
                stored,
            },
        })?;
        Ok(())
    }
}

struct Update<'a, D: Device<f32>> {
    opt: &'a mut Sgd<D>,
    grads: &'a mut Gradients<f32, D>,
}

impl<D: AmpDevice<f32>> TensorVisitor<f32, D> for Update<'_, D> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        p: &mut Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let g = self.grads.get_or_alloc_mut(p)?;
        let v = self.opt.velocity.get_or_alloc_mut(p)?;
        self.opt.cfg.try_update(p, v, g)?;
        Ok(None)
    }
}

struct ReadState<'a, D: Device<f32>> {
    velocity: &'a mut Gradients<f32, D>,
    out: Vec<NamedTensor>,
}

impl<D: AmpDevice<f32>> TensorVisitor<f32, D> for ReadState<'_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (p, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        self.velocity.try_alloc_for(p)?;
        self.out.push(NamedTensor {
            name,
            shape: p.shape().concrete().into_iter().collect(),
            values: self.velocity.get(p).as_vec(),
        });
        Ok(None)
    }
}

struct WriteState<'a, D: Device<f32>> {
    velocity: &'a mut Gradients<f32, D>,
    stored: &'a [NamedTensor],
}

impl<D: AmpDevice<f32>> TensorVisitor<f32, D> for WriteState<'_, D> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (p, name): (&mut Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        if let Some(s) = self.stored.iter().find(|s| s.name == name) {
            let dev = p.device().clone();
            let v = self.velocity.get_or_alloc_mut(p)?;
            dev.buffer_write(v, &s.values);
        }
        Ok(None)
    }
}
