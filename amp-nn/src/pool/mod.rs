//! Pooling layers. They hold no parameters, so they are dfdx
//! `ZeroSizedModule`s and build/visit like dfdx's own pools.

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
pub(crate) mod generic;
pub(crate) mod op;

use crate::{NnDevice, PoolKind};
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::*;

/// Max pooling over `K x K` windows with stride `S` and padding `P`
/// (padding never wins; `P <= K/2` as in PyTorch).
#[derive(Debug, Default, Clone, Copy)]
pub struct MaxPool2D<const K: usize, const S: usize, const P: usize = 0>;

/// Average pooling over `K x K` windows with stride `S` and zero padding `P`
/// counted in the divisor (PyTorch's default `count_include_pad=True`).
#[derive(Debug, Default, Clone, Copy)]
pub struct AvgPool2D<const K: usize, const S: usize, const P: usize = 0>;

/// Mean over all spatial positions: `(B, Const<C>, H, W) -> (B, Const<C>)`,
/// which feeds a dfdx `Linear<C, _>` directly.
#[derive(Debug, Default, Clone, Copy)]
pub struct GlobalAvgPool2D;

macro_rules! pool_layer {
    ($Ty:ident, $kind:expr) => {
        impl<const K: usize, const S: usize, const P: usize> ZeroSizedModule for $Ty<K, S, P> {}
        impl<const K: usize, const S: usize, const P: usize> NonMutableModule for $Ty<K, S, P> {}

        impl<const K: usize, const S: usize, const P: usize, B, const C: usize, H, W, E, D, T>
            Module<Tensor<(B, Const<C>, H, W), E, D, T>> for $Ty<K, S, P>
        where
            B: Dim,
            H: Dim,
            W: Dim,
            E: Dtype,
            D: NnDevice<E>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(B, Const<C>, usize, usize), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, Const<C>, H, W), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                D::pool2d(x, $kind, K, S, P)
            }
        }
    };
}

pool_layer!(MaxPool2D, PoolKind::Max);
pool_layer!(AvgPool2D, PoolKind::Avg);

impl ZeroSizedModule for GlobalAvgPool2D {}
impl NonMutableModule for GlobalAvgPool2D {}

impl<B: Dim, const C: usize, H: Dim, W: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B, Const<C>, H, W), E, D, T>> for GlobalAvgPool2D
{
    type Output = Tensor<(B, Const<C>), E, D, T>;
    type Error = D::Err;

    /// A plain dfdx reduction: it is memory-bound and small next to the convs,
    /// so it needs no custom kernel.
    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        x.try_mean::<(B, Const<C>), Axes2<2, 3>>()
    }
}
