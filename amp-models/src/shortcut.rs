//! The parameter-free "option A" shortcut of He et al. 2016 (section 4.2): where a CIFAR
//! ResNet stage halves the resolution and doubles the width, the identity is subsampled with
//! stride 2 and the new channels are zeros, so every ResNet-N has exactly the parameters of
//! its plain twin. Written from public dfdx ops (reshape, slice, concat), so it runs and
//! differentiates on any dfdx device.

use dfdx::prelude::*;

use crate::forward::Maps;

/// `x[:, :, ::S, ::S]` padded with zero channels from `I` to `O`: `(O - I) / 2` before and
/// the rest after, like the common PyTorch implementation
/// (`F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, O // 4, O // 4))` for `O = 2 I`).
///
/// The output has `ceil(H / S) x ceil(W / S)` pixels, what a 3x3 convolution with padding 1
/// and stride `S` produces, for any `H` and `W`. Its gradient is the output gradient of the
/// kept pixels and original channels, zero elsewhere.
pub fn zero_pad_shortcut<const I: usize, const O: usize, const S: usize, E, D, T>(
    x: Maps<I, E, D, T>,
) -> Result<Maps<O, E, D, T>, D::Err>
where
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    const {
        assert!(O >= I, "the option A shortcut only adds channels (O >= I)");
        assert!(S >= 1, "the stride S must be at least 1");
    }
    let x = subsample::<I, S, E, D, T>(x)?;
    let (b, _, h, w) = *x.shape();
    let dev = x.device().clone();
    let front = (O - I) / 2;
    let back = O - I - front;
    // Channels as a runtime dim, so that concatenation needs no const arithmetic.
    let mut y: Tensor<(usize, usize, usize, usize), E, D, T> = x.try_reshape_like(&(b, I, h, w))?;
    if front > 0 {
        // The zeros go first, so the tape moves onto them; concatenation merges it back.
        let (x, tape) = y.split_tape();
        let zeros = dev.try_zeros_like(&(b, front, h, w))?.put_tape(tape);
        y = (zeros, x).try_concat_along(Axis::<1>)?;
    }
    if back > 0 {
        let zeros = dev.try_zeros_like(&(b, back, h, w))?;
        y = (y, zeros).try_concat_along(Axis::<1>)?;
    }
    y.try_reshape_like(&(b, Const::<O>, h, w))
}

/// Every `S`-th row and column, starting with the first: zero rows and columns are appended
/// up to a multiple of `S`, then each group of `S` rows (and columns) keeps its first.
fn subsample<const C: usize, const S: usize, E, D, T>(
    x: Maps<C, E, D, T>,
) -> Result<Maps<C, E, D, T>, D::Err>
where
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    if S == 1 {
        return Ok(x);
    }
    let (b, _, h, w) = *x.shape();
    let (ho, wo) = (h.div_ceil(S), w.div_ceil(S));
    let (hp, wp) = (ho * S, wo * S);
    let dev = x.device().clone();
    let mut x = x;
    if hp > h {
        let zeros = dev.try_zeros_like(&(b, Const::<C>, hp - h, w))?;
        x = (x, zeros).try_concat_along(Axis::<2>)?;
    }
    if wp > w {
        let zeros = dev.try_zeros_like(&(b, Const::<C>, hp, wp - w))?;
        x = (x, zeros).try_concat_along(Axis::<3>)?;
    }
    // A row of the (.., S * wp) view is S image rows; its first wp values are the first row.
    let rows = x
        .try_reshape_like(&(b * C * ho, S * wp))?
        .try_slice((.., 0..wp))?;
    // A row of the (.., S) view is S neighbouring pixels of one image row.
    let cols = rows
        .try_reshape_like(&(b * C * ho * wo, S))?
        .try_slice((.., 0..1))?;
    cols.try_reshape_like(&(b, Const::<C>, ho, wo))
}
