//! Device-generic `relu(a + b)`: dfdx's own add and ReLU.

use dfdx::prelude::*;

/// Generic [`crate::NnDevice::add_relu`]; see [`crate::add_relu()`] for semantics.
pub fn add_relu<S, E, D, T, R>(
    a: Tensor<S, E, D, T>,
    b: Tensor<S, E, D, R>,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D> + Merge<R>,
    R: Tape<E, D>,
{
    a.try_add(b)?.try_relu()
}
