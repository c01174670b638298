//! A model's tensors by name, as host values: what a checkpoint stores and restores.
//!
//! dfdx walks a model's tensors through `TensorCollection`; with the name viewer each tensor
//! comes with its dotted path (`layer1.0.conv1.weight`). Every tensor is included, running
//! batch-norm statistics too: a resumed run must continue from exactly the same state.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::prelude::*;

/// One tensor: its path in the model, its shape and its values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every tensor of `model`, in the model's visiting order.
pub fn read_tensors<M, D>(model: &M) -> Result<Vec<NamedTensor>, D::Err>
where
    M: TensorCollection<f32, D>,
    D: Device<f32>,
{
    read(model, true)
}

/// Every tensor's name and shape, with its values only when `values` (checking a checkpoint
/// against a model needs no copy of the weights).
fn read<M, D>(model: &M, values: bool) -> Result<Vec<NamedTensor>, D::Err>
where
    M: TensorCollection<f32, D>,
    D: Device<f32>,
{
    let mut out = Reader {
        tensors: Vec::new(),
        values,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut out,
    })?;
    Ok(out.tensors)
}

/// Why stored tensors do not fit a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorMismatch {
    #[error("the model has a tensor `{0}` that the checkpoint lacks")]
    Missing(String),
    #[error("tensor `{name}` has shape {want:?} in the model, {got:?} in the checkpoint")]
    Shape {
        name: String,
        want: Vec<usize>,
        got: Vec<usize>,
    },
    #[error("the checkpoint has {0} tensor(s) this model does not have, e.g. `{1}`")]
    Extra(usize, String),
}

/// Checks that `stored` has exactly the tensors of `model` (names and shapes), before
/// anything is written into the model.
pub fn check_tensors<M, D>(model: &M, stored: &[NamedTensor]) -> Result<(), TensorMismatch>
where
    M: TensorCollection<f32, D>,
    D: Device<f32>,
{
    // Visiting names and shapes cannot fail: nothing is allocated.
    let shapes: Vec<(String, Vec<usize>)> = read(model, false)
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.name, t.shape))
        .collect();
    for (name, shape) in &shapes {
        match stored.iter().find(|t| &t.name == name) {
            None => return Err(TensorMismatch::Missing(name.clone())),
            Some(t) if &t.shape != shape => {
                return Err(TensorMismatch::Shape {
                    name: name.clone(),
                    want: shape.clone(),
                    got: t.shape.clone(),
                })
            }
            Some(_) => {}
        }
    }
    let extra: Vec<&NamedTensor> = stored
        .iter()
        .filter(|t| !shapes.iter().any(|(n, _)| *n == t.name))
        .collect();
    if let Some(first) = extra.first() {
        return Err(TensorMismatch::Extra(extra.len(), first.name.clone()));
    }
    Ok(())
}

/// Writes `stored` into `model`'s tensors by name; call [`check_tensors`] first.
pub fn write_tensors<M, D>(model: &mut M, stored: &[NamedTensor]) -> Result<(), D::Err>
where
    M: TensorCollection<f32, D>,
    D: Device<f32>,
{
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut Writer(stored),
    })?;
    Ok(())
}

struct Reader {
    tensors: Vec<NamedTensor>,
    values: bool,
}
struct Writer<'a>(&'a [NamedTensor]);

impl<D: Device<f32>> TensorVisitor<f32, D> for Reader {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        self.tensors.push(NamedTensor {
            name,
            shape: t.shape().concrete().into_iter().collect(),
            values: if self.values { t.as_vec() } else { Vec::new() },
        });
        Ok(None)
    }
}

impl<D: Device<f32>> TensorVisitor<f32, D> for Writer<'_> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, f32, D>,
        (t, name): (&mut Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if let Some(stored) = self.0.iter().find(|s| s.name == name) {
            t.copy_from(&stored.values);
        }
        Ok(None)
    }
}
