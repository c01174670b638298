//! The trainer's passes over a model's tensors, through two walks per model type.
//!
//! dfdx visits a model's tensors with `TensorCollection::iter_tensors` and a visitor; every
//! visitor type instantiates the whole recursive walk again for every model type, and the
//! walk is most of the code a model brings into a binary. One visitor per pass (reading and
//! writing checkpoint tensors and momentum, the SGD update) was a third of the `amp`
//! binary's machine code: 6.8 of its 18.5 MB, 4.9 MB in the four checkpoint passes alone.
//! (dfdx's `alloc_grads` and `zero_grads` keep their own walk: the gradients' leaf list needs
//! tensor ids, which dfdx does not make public.)
//!
//! So there are two walks, [`named`] (read-only, with each tensor's dotted path) and
//! [`each_mut`] (mutable, no names, the same order), each with one visitor type, and a pass
//! is a closure over a type-erased tensor ([`AnyTensor`], [`AnyTensorMut`]): compiled once
//! per device, not once per model. What a pass does to a tensor whose shape only the walk
//! knows is a method of those traits, implemented once for every `Tensor<S, f32, D>`.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::optim::SgdConfig;
use dfdx::prelude::*;

use crate::AmpDevice;

/// A model tensor of any shape, as the read-only passes use it.
pub trait AnyTensor<D: AmpDevice<f32>> {
    /// Its shape, outermost dimension first.
    fn dims(&self) -> Vec<usize>;
    /// Its values in row-major order (a copy to the host).
    fn values(&self) -> Vec<f32>;
    /// The values of this tensor's slot in `slots` (a gradient or momentum map keyed by
    /// tensor), allocating a zero slot first where it has none.
    fn slot_values(&self, slots: &mut Gradients<f32, D>) -> Result<Vec<f32>, D::Err>;
    /// Writes `values` into this tensor's slot in `slots`, allocating it where missing.
    fn set_slot(&self, slots: &mut Gradients<f32, D>, values: &[f32]) -> Result<(), D::Err>;
}

/// A model tensor of any shape, as the passes that change the model use it.
pub trait AnyTensorMut<D: AmpDevice<f32>>: AnyTensor<D> {
    /// Overwrites its values (row-major; as many as it has).
    fn copy_values(&mut self, values: &[f32]);
    /// Multiplies its values by `k`, in place (through the host: the tensor keeps its id, so
    /// its momentum and gradient slots stay its own).
    fn scale_values(&mut self, k: f32);
    /// One step of dfdx's SGD kernel from this tensor's gradient in `grads` and momentum in
    /// `velocity` (both allocated where missing).
    fn sgd_update(
        &mut self,
        cfg: &SgdConfig,
        velocity: &mut Gradients<f32, D>,
        grads: &mut Gradients<f32, D>,
    ) -> Result<(), D::Err>;
}

impl<S: Shape, D: AmpDevice<f32>> AnyTensor<D> for Tensor<S, f32, D> {
    fn dims(&self) -> Vec<usize> {
        self.shape().concrete().into_iter().collect()
    }
    fn values(&self) -> Vec<f32> {
        self.as_vec()
    }
    fn slot_values(&self, slots: &mut Gradients<f32, D>) -> Result<Vec<f32>, D::Err> {
        slots.try_alloc_for(self)?;
        Ok(slots.get(self).as_vec())
    }
    fn set_slot(&self, slots: &mut Gradients<f32, D>, values: &[f32]) -> Result<(), D::Err> {
        let slot = slots.get_or_alloc_mut(self)?;
        self.device().buffer_write(slot, values);
        Ok(())
    }
}

impl<S: Shape, D: AmpDevice<f32>> AnyTensorMut<D> for Tensor<S, f32, D> {
    fn copy_values(&mut self, values: &[f32]) {
        self.copy_from(values);
    }
    fn scale_values(&mut self, k: f32) {
        let scaled: Vec<f32> = self.as_vec().into_iter().map(|v| v * k).collect();
        self.copy_from(&scaled);
    }
    fn sgd_update(
        &mut self,
        cfg: &SgdConfig,
        velocity: &mut Gradients<f32, D>,
        grads: &mut Gradients<f32, D>,
    ) -> Result<(), D::Err> {
        let g = grads.get_or_alloc_mut(self)?;
        let v = velocity.get_or_alloc_mut(self)?;
        cfg.try_update(self, v, g)
    }
}

/// One tensor of a [`named`] walk.
pub struct Named<'a, D: AmpDevice<f32>> {
    /// Its dotted path in the model (`layer1.0.conv1.weight`).
    pub name: String,
    /// Whether optimizers update it (batch norm's running statistics are not).
    pub trainable: bool,
    /// The tensor itself, whatever its shape.
    pub tensor: &'a dyn AnyTensor<D>,
}

/// Calls `f` on every tensor of `model`, in the model's visiting order, with its name.
pub fn named<M, D>(model: &M, f: &mut NamedFn<'_, D>) -> Result<(), D::Err>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut NamedVisitor(f),
    })?;
    Ok(())
}

/// Calls `f` on every tensor of `model`, in the same order as [`named`], with whether it is
/// trainable.
pub fn each_mut<M, D>(model: &mut M, f: &mut MutFn<'_, D>) -> Result<(), D::Err>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut MutVisitor(f),
    })?;
    Ok(())
}

/// What [`named`] calls on each tensor.
pub type NamedFn<'f, D> = dyn FnMut(Named<'_, D>) -> Result<(), <D as HasErr>::Err> + 'f;
/// What [`each_mut`] calls on each tensor: whether it is trainable, and the tensor.
pub type MutFn<'f, D> =
    dyn FnMut(bool, &mut dyn AnyTensorMut<D>) -> Result<(), <D as HasErr>::Err> + 'f;

/// The one visitor type of [`named`].
struct NamedVisitor<'a, 'f, D: AmpDevice<f32>>(&'a mut NamedFn<'f, D>);
/// The one visitor type of [`each_mut`].
struct MutVisitor<'a, 'f, D: AmpDevice<f32>>(&'a mut MutFn<'f, D>);

impl<D: AmpDevice<f32>> TensorVisitor<f32, D> for NamedVisitor<'_, '_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        (self.0)(Named {
            name,
            trainable: opts.do_gradient_update,
            tensor: t,
        })?;
        Ok(None)
    }
}

impl<D: AmpDevice<f32>> TensorVisitor<f32, D> for MutVisitor<'_, '_, D> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &mut Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        (self.0)(opts.do_gradient_update, t)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::nn::builders::{BatchNorm1D, Linear};

    type Net = (Linear<2, 3>, BatchNorm1D<3>);

    #[test]
    fn both_walks_visit_every_tensor_in_the_same_order() {
        let dev = Cpu::seed_from_u64(0);
        let mut net = dev.build_module::<Net, f32>();
        let mut seen = Vec::new();
        named(&net, &mut |t| {
            seen.push((t.name, t.trainable, t.tensor.dims()));
            Ok(())
        })
        .unwrap();
        let want = [
            ("0.weight", true, vec![3, 2]),
            ("0.bias", true, vec![3]),
            ("1.scale", true, vec![3]),
            ("1.bias", true, vec![3]),
            ("1.running_mean", false, vec![3]),
            ("1.running_var", false, vec![3]),
        ];
        let want: Vec<_> = want.map(|(n, t, d)| (n.to_string(), t, d)).into();
        assert_eq!(seen, want);

        let mut i = 0;
        each_mut(&mut net, &mut |trainable, t| {
            assert_eq!((trainable, t.dims()), (want[i].1, want[i].2.clone()));
            let n = t.dims().iter().product::<usize>();
            t.copy_values(&vec![i as f32; n]);
            i += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(i, want.len());
        assert_eq!(net.0.bias.as_vec(), [1.0; 3]);
        assert_eq!(net.1.running_var.as_vec(), [5.0; 3]);
    }

    #[test]
    fn slots_are_allocated_on_first_use_and_written_in_place() {
        let dev = Cpu::seed_from_u64(0);
        let net = dev.build_module::<Linear<2, 3>, f32>();
        let mut slots = Gradients::leaky();
        let w: &dyn AnyTensor<Cpu> = &net.weight;
        assert_eq!(w.slot_values(&mut slots).unwrap(), [0.0; 6]);
        w.set_slot(&mut slots, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        assert_eq!(
            slots.get(&net.weight).as_vec(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        assert_eq!(
            w.slot_values(&mut slots).unwrap(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }
}
