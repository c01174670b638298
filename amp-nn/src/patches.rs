//! Window extraction from public dfdx ops, shared by the generic convolution
//! and pooling paths.
//!
//! For each kernel tap `(kh, kw)` we need the strided sub-image
//! `x_pad[:, :, kh + s*i, kw + s*j]`. dfdx slicing has no step, so the padded
//! image is padded further to a multiple of the stride and reshaped so the
//! stride phase becomes its own axis: row `kh + s*i` of a length-`s*Q` axis is
//! element `(i + kh/s, kh%s)` of a `(Q, s)` view. Everything is slices,
//! reshapes and concatenations, which dfdx differentiates on every device.
//!
//! Caveat: dfdx 0.13's slice backward *assigns* the output gradient into the
//! input gradient instead of adding it, so slicing one tensor several times
//! (or slicing a tensor whose gradient already holds something) loses
//! gradient. [`fresh_slice`] therefore slices a fresh copy each time, whose
//! own backward accumulates.

use crate::shape::conv_out_dim;
use dfdx::prelude::*;

/// Padded length (a multiple of `s`) so every tap's strided range fits.
fn padded_len(input: usize, out: usize, k: usize, s: usize, p: usize) -> usize {
    s * (out + (k - 1) / s).max((input + p).div_ceil(s))
}

/// Concatenates constant `value` blocks of `before`/`after` elements on axis 2
/// (`AXIS == 2`) or 3 of a `(B, C, usize, usize)` image.
fn pad_axis<const AXIS: isize, B: Dim, const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<(B, Const<C>, usize, usize), E, D, T>,
    before: usize,
    after: usize,
    value: E,
) -> Result<Tensor<(B, Const<C>, usize, usize), E, D, T>, D::Err> {
    let (b, c, h, w) = *x.shape();
    let dev = x.device().clone();
    let block = |len: usize| -> Result<Tensor<(B, Const<C>, usize, usize), E, D, T>, D::Err> {
        let shape = if AXIS == 2 {
            (b, c, len, w)
        } else {
            (b, c, h, len)
        };
        let t = dev.try_tensor_from_vec(vec![value; shape.num_elements()], shape)?;
        Ok(t.retaped::<T>())
    };
    let mut x = x;
    if before > 0 {
        let pad = block(before)?;
        x = if AXIS == 2 {
            (pad, x).try_concat_along(Axis::<2>)?
        } else {
            (pad, x).try_concat_along(Axis::<3>)?
        };
    }
    if after > 0 {
        let pad = block(after)?;
        x = if AXIS == 2 {
            (x, pad).try_concat_along(Axis::<2>)?
        } else {
            (x, pad).try_concat_along(Axis::<3>)?
        };
    }
    Ok(x)
}

/// `t[slice]` with correct gradient accumulation (see the module docs).
pub(crate) fn fresh_slice<S, E: Dtype, D: Device<E>, T: Tape<E, D>, Sl: 'static>(
    t: &Tensor<S, E, D>,
    slice: Sl,
) -> Result<Tensor<S::Sliced, E, D, T>, D::Err>
where
    S: SliceShape<Sl>,
{
    t.retaped::<T>()
        .try_add(E::from_f64(0.0).unwrap())?
        .try_slice(slice)
}

/// All `k*k` window taps of `x`, each `(B, C, Ho, Wo)`, in `(kh, kw)`
/// row-major order, with padding filled by `pad_value`.
///
/// Each returned tensor carries its own piece of the gradient tape; the
/// returned extra tape holds the shared ops (padding) and must be merged into
/// the final result.
#[allow(clippy::type_complexity)]
pub(crate) fn window_taps<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    k: usize,
    s: usize,
    p: usize,
    pad_value: E,
) -> Result<(Vec<Tensor<(B, Const<C>, usize, usize), E, D, T>>, T), D::Err> {
    let (b, _, h, w) = *x.shape();
    let (h, w) = (h.size(), w.size());
    let (ho, wo) = (conv_out_dim(h, k, s, p), conv_out_dim(w, k, s, p));
    let (lh, lw) = (padded_len(h, ho, k, s, p), padded_len(w, wo, k, s, p));
    let x = x.try_reshape_like(&(b, Const::<C>, h, w))?;
    let x = pad_axis::<2, _, C, _, _, _>(x, p, lh - h - p, pad_value)?;
    let x = pad_axis::<3, _, C, _, _, _>(x, p, lw - w - p, pad_value)?;
    // (B, C, lh/s, s*lw): axis 3 holds (row phase, column).
    let x = x.try_reshape_like(&(b, Const::<C>, lh / s, s * lw))?;
    let (x, mut side) = x.split_tape();
    let mut taps = Vec::with_capacity(k * k);
    for kh in 0..k {
        let (q, ph) = (kh / s, kh % s);
        let rows = fresh_slice::<_, _, _, T, _>(&x, (.., .., q..q + ho, ph * lw..(ph + 1) * lw))?;
        // (B, C*ho, lw/s, s): axis 3 is the column phase.
        let rows = rows.try_reshape_like(&(b, C * ho, lw / s, s))?;
        let (rows, rows_tape) = rows.split_tape();
        side = side.merge(rows_tape);
        for kw in 0..k {
            let (q, ph) = (kw / s, kw % s);
            let tap = fresh_slice::<_, _, _, T, _>(&rows, (.., .., q..q + wo, ph..ph + 1))?
                .try_reshape_like(&(b, Const::<C>, ho, wo))?;
            taps.push(tap);
        }
    }
    Ok((taps, side))
}
