//! Device-generic batch norm from public dfdx ops (the path `Cuda` uses); the
//! same math as dfdx's own `BatchNorm2D`, with dfdx autograd for backward.

use dfdx::prelude::*;

/// Generic [`crate::NnDevice::batchnorm2d_train`]; see there for semantics.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm2d_train<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    running_mean: &mut Tensor<Rank1<C>, E, D>,
    running_var: &mut Tensor<Rank1<C>, E, D>,
    epsilon: f64,
    momentum: f64,
) -> Result<Tensor<(B, Const<C>, H, W), E, D, T>, D::Err> {
    let shape = *x.shape();
    let n = (shape.0.size() * shape.2.size() * shape.3.size()) as f64;
    let mean = x.retaped::<T>().try_mean::<Rank1<C>, Axes3<0, 2, 3>>()?;
    running_mean.try_axpy(1.0 - momentum, &mean, momentum)?;
    let centered = x.try_sub(mean.try_broadcast_like(&shape)?)?;
    let var = centered
        .retaped::<T>()
        .try_square()?
        .try_mean::<Rank1<C>, Axes3<0, 2, 3>>()?;
    running_var.try_axpy(1.0 - momentum, &var, momentum * n / (n - 1.0))?;
    let std = var.try_add(E::from_f64(epsilon).unwrap())?.try_sqrt()?;
    let a = scale
        .retaped::<T>()
        .try_div(std)?
        .try_broadcast_like(&shape)?;
    let b = bias.retaped::<T>().try_broadcast_like(&shape)?;
    centered.try_mul(a)?.try_add(b)
}

/// Generic [`crate::NnDevice::batchnorm2d_eval`]; see there for semantics.
pub fn batchnorm2d_eval<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    running_mean: &Tensor<Rank1<C>, E, D>,
    running_var: &Tensor<Rank1<C>, E, D>,
    epsilon: f64,
) -> Result<Tensor<(B, Const<C>, H, W), E, D, T>, D::Err> {
    let shape = *x.shape();
    let std = running_var
        .clone()
        .try_add(E::from_f64(epsilon).unwrap())?
        .try_sqrt()?;
    let a = scale
        .retaped::<T>()
        .try_div(std)?
        .try_broadcast_like(&shape)?;
    let centered = x.try_sub(running_mean.clone().try_broadcast_like(&shape)?)?;
    let b = bias.retaped::<T>().try_broadcast_like(&shape)?;
    centered.try_mul(a)?.try_add(b)
}
