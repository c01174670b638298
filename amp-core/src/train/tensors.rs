//! A model's tensors by name, as host values: what a checkpoint stores and restores.
//!
//! dfdx walks a model's tensors through `TensorCollection` (`train::walk`); with the name
//! viewer each tensor comes with its dotted path of struct fields (`layer1.b0.conv1.weight`).
//! Every tensor is included, running batch-norm statistics too: a resumed run must continue
//! from exactly the same state.

use dfdx::nn::tensor_collection::TensorCollection;

use super::walk;
use crate::AmpDevice;

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
    D: AmpDevice<f32>,
{
    read(model, true)
}

/// Every tensor's name and shape, with its values only when `values` (checking a checkpoint
/// against a model needs no copy of the weights).
fn read<M, D>(model: &M, values: bool) -> Result<Vec<NamedTensor>, D::Err>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    let mut tensors = Vec::new();
    walk::named(model, &mut |t| {
        tensors.push(NamedTensor {
            name: t.name,
            shape: t.tensor.dims(),
            values: if values {
                t.tensor.values()
            } else {
                Vec::new()
            },
        });
        Ok(())
    })?;
    Ok(tensors)
}

/// Why stored tensors do not fit a model. Names are the stored ones, as the checkpoint file
/// spells them (`model.fc.weight`, `rollback.momentum.fc.weight`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorMismatch {
    #[error("the checkpoint lacks `{0}`, which this model has")]
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

/// Which of a model's tensors a stored set holds: all of them (the model's state), or the
/// trainable ones (SGD's momentum buffers, one per trainable tensor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Every,
    Trainable,
}

/// Checks that `stored` has exactly the tensors of `model` that `holds` says (names and
/// shapes), before anything is written into the model or the optimizer: a tensor of another
/// shape would otherwise stop the run with a panic, not an error naming it. `prefix` is the
/// stored tensors' prefix in the checkpoint file (`model.`, `rollback.momentum.`), so an
/// error names the tensor as the file does.
pub fn check_tensors<M, D>(
    model: &M,
    stored: &[NamedTensor],
    holds: Holds,
    prefix: &str,
) -> Result<(), TensorMismatch>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    // Visiting names and shapes cannot fail: nothing is allocated.
    let mut shapes: Vec<(String, Vec<usize>)> = Vec::new();
    let _ = walk::named(model, &mut |t| {
        if holds == Holds::Every || t.trainable {
            shapes.push((t.name, t.tensor.dims()));
        }
        Ok(())
    });
    for (name, shape) in &shapes {
        match stored.iter().find(|t| &t.name == name) {
            None => return Err(TensorMismatch::Missing(format!("{prefix}{name}"))),
            Some(t) if &t.shape != shape => {
                return Err(TensorMismatch::Shape {
                    name: format!("{prefix}{name}"),
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
        let name = format!("{prefix}{}", first.name);
        return Err(TensorMismatch::Extra(extra.len(), name));
    }
    Ok(())
}

/// Writes `stored` into `model`'s tensors by name; call [`check_tensors`] first.
pub fn write_tensors<M, D>(model: &mut M, stored: &[NamedTensor]) -> Result<(), D::Err>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    // The names come from the read-only walk; the mutable one visits the same tensors in the
    // same order (both are the model's `iter_tensors`), so the i-th of one is the i-th of the
    // other. The shapes are compared on the way, to be sure.
    let names = read(model, false)?;
    let mut i = 0;
    walk::each_mut(model, &mut |_, t| {
        let NamedTensor { name, shape, .. } = &names[i];
        assert_eq!(
            &t.dims(),
            shape,
            "tensor {i} ({name}) moved between two walks"
        );
        if let Some(s) = stored.iter().find(|s| &s.name == name) {
            t.copy_values(&s.values);
        }
        i += 1;
        Ok(())
    })?;
    Ok(())
}
