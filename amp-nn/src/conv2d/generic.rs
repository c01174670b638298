//! Device-generic convolution from public dfdx ops (the path `Cuda` uses).
//!
//! `out = sum over taps (kh, kw) of X_tap (B*Ho*Wo x C) * W[:, :, kh, kw]^T`,
//! with taps from [`crate::patches::window_taps`]. dfdx's autograd provides
//! the backward pass.

use crate::patches::{fresh_slice, window_taps};
use dfdx::prelude::*;

/// Generic [`crate::NnDevice::conv2d`]; see there for semantics.
pub fn conv2d<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    const O: usize,
    const K: usize,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    weight: &Tensor<Rank4<O, C, K, K>, E, D>,
    bias: Option<&Tensor<Rank1<O>, E, D>>,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<O>, usize, usize), E, D, T>, D::Err> {
    let b = x.shape().0;
    let (taps, side) = window_taps(x, K, stride, padding, E::from_f64(0.0).unwrap())?;
    let (ho, wo) = (taps[0].shape().2, taps[0].shape().3);
    let rows = b.size() * ho * wo;
    // Sliced per tap from a fresh reshape (dfdx's slice backward assigns, see
    // `patches`), so the weight gradient accumulates correctly.
    let w_flat = weight
        .clone()
        .try_reshape_like(&(Const::<O>, Const::<C>, K * K))?;
    let mut acc: Option<Tensor<(usize, Const<O>), E, D, T>> = None;
    for (t, tap) in taps.into_iter().enumerate() {
        let xm = tap
            .try_permute::<_, Axes4<0, 2, 3, 1>>()?
            .try_reshape_like(&(rows, Const::<C>))?;
        let wk = fresh_slice::<_, _, _, T, _>(&w_flat, (.., .., t..t + 1))?
            .try_reshape_like(&(Const::<O>, Const::<C>))?
            .try_permute::<_, Axes2<1, 0>>()?;
        let y = xm.try_matmul(wk)?;
        acc = Some(match acc {
            None => y,
            Some(a) => a.try_add(y)?,
        });
    }
    let mut y = acc.expect("kernel has at least one tap");
    if let Some(bias) = bias {
        y = y.try_add(
            bias.retaped::<T>()
                .try_broadcast_like(&(rows, Const::<O>))?,
        )?;
    }
    let y = y
        .try_reshape_like(&(b, ho, wo, Const::<O>))?
        .try_permute::<_, Axes4<0, 3, 1, 2>>()?
        .try_contiguous()?;
    let (y, tape) = y.split_tape();
    Ok(y.put_tape(tape.merge(side)))
}
