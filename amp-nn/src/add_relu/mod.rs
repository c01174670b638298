//! `relu(a + b)`: the end of every residual block. One op instead of dfdx's add and ReLU, so
//! the block's end is one pass over the data each way with no intermediate tensor, and on a
//! GPU one kernel instead of dfdx's broadcasting add (whose per-element index arithmetic is
//! 64-bit division) and its ReLU.

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
pub(crate) mod generic;
pub(crate) mod op;

use crate::NnDevice;
use dfdx::prelude::*;

/// `relu(a + b)` for two tensors of the same shape, with gradients to both: what dfdx's
/// `a.try_add(b)?.try_relu()` computes (the same values, and on `Cpu` the same bits forward
/// and backward), in one op. As for dfdx's add, `a` and `b` must be different tensors when
/// a tape records them, and their shapes must be equal.
pub fn add_relu<S, E, D, T, R>(
    a: Tensor<S, E, D, T>,
    b: Tensor<S, E, D, R>,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: NnDevice<E>,
    T: Tape<E, D> + Merge<R>,
    R: Tape<E, D>,
{
    D::add_relu(a, b)
}
