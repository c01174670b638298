//! Device-generic pooling from public dfdx ops: the element-wise maximum or
//! the mean of the `k*k` window taps from [`crate::patches::window_taps`].

use crate::backend::PoolKind;
use crate::patches::window_taps;
use dfdx::prelude::*;

/// Generic [`crate::NnDevice::pool2d`]; see there for semantics.
pub fn pool2d<B: Dim, const C: usize, H: Dim, W: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    kind: PoolKind,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<C>, usize, usize), E, D, T>, D::Err> {
    assert!(
        2 * padding <= kernel,
        "pool padding {padding} must be at most half the kernel size {kernel}"
    );
    let pad_value = match kind {
        PoolKind::Max => E::from_f64(f64::NEG_INFINITY).unwrap(),
        PoolKind::Avg => E::from_f64(0.0).unwrap(),
    };
    let (taps, side) = window_taps(x, kernel, stride, padding, pad_value)?;
    let mut acc: Option<Tensor<(B, Const<C>, usize, usize), E, D, T>> = None;
    for tap in taps {
        acc = Some(match (acc, kind) {
            (None, _) => tap,
            (Some(a), PoolKind::Max) => a.try_maximum(tap)?,
            (Some(a), PoolKind::Avg) => a.try_add(tap)?,
        });
    }
    let mut y = acc.expect("kernel has at least one tap");
    if kind == PoolKind::Avg {
        y = y.try_mul(E::from_f64(1.0 / (kernel * kernel) as f64).unwrap())?;
    }
    let (y, tape) = y.split_tape();
    Ok(y.put_tape(tape.merge(side)))
}
