//! `Cuda` fast path for max/average pooling (f32): one thread per output forward (max pooling
//! records the arg-max), one thread per input element backward, gathering. Kernels in
//! `cuda.cu`.

use crate::backend::PoolKind;
use crate::cuda::context::{context_for, locate, scratch, slot_ptr, DevPtr, KernelModule};
use crate::cuda::profile::section;
use crate::shape::conv_out_dim;
use cudarc::driver::{DevicePtr, DeviceRepr};
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError};

pub(crate) static KERNELS: KernelModule = KernelModule {
    name: "amp_nn_pool",
    src: include_str!("cuda.cu"),
    funcs: &["max_forward", "avg_forward", "pool_backward"],
};

/// `struct PoolDims` of cuda.cu, passed by value.
#[repr(C)]
#[derive(Clone, Copy)]
struct PoolDims {
    planes: i32,
    h: i32,
    w: i32,
    ho: i32,
    wo: i32,
    k: i32,
    s: i32,
    p: i32,
}

// SAFETY: a plain `repr(C)` struct of `int`s, laid out as cuda.cu's `PoolDims`.
unsafe impl DeviceRepr for PoolDims {}

/// The `Cuda` (f32) implementation of [`crate::NnDevice::pool2d`].
pub(crate) fn pool2d<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<f32, Cuda>>(
    x: Tensor<(B, Const<C>, H, W), f32, Cuda, T>,
    kind: PoolKind,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<C>, usize, usize), f32, Cuda, T>, CudaError> {
    assert!(
        2 * padding <= kernel,
        "pool padding {padding} must be at most half the kernel size {kernel}"
    );
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let located = locate(&x).and_then(|l| Some((context_for(&l, x.device())?, l.ptr)));
    let Some((ctx, xp)) = located else {
        return crate::generic::pool2d(x.put_tape(tape), kind, kernel, stride, padding);
    };
    let (b, _, h, w) = *x.shape();
    let (ho, wo) = (
        conv_out_dim(h.size(), kernel, stride, padding),
        conv_out_dim(w.size(), kernel, stride, padding),
    );
    let i = |v: usize| i32::try_from(v).expect("pooling dimension above i32::MAX");
    let d = PoolDims {
        planes: i(b.size() * C),
        h: i(h.size()),
        w: i(w.size()),
        ho: i(ho),
        wo: i(wo),
        k: i(kernel),
        s: i(stride),
        p: i(padding),
    };
    let out: Tensor<(B, Const<C>, usize, usize), f32, Cuda> =
        x.device().try_zeros_like(&(b, Const, ho, wo))?;
    let op = locate(&out)
        .expect("fresh tensors parse, as the self-test checked")
        .ptr;
    let n_out = b.size() * C * ho * wo;
    let arg = match kind {
        PoolKind::Max => {
            let arg = scratch::<i32>(&ctx, n_out)?;
            // SAFETY: xp is x's buffer (alive), op the fresh output, arg fresh scratch; all
            // sized by `d`.
            section(&ctx, "pool fwd", || unsafe {
                ctx.launch_n(
                    &KERNELS,
                    "max_forward",
                    n_out,
                    (xp, op, *arg.device_ptr(), d),
                )
            })?;
            Some(arg)
        }
        PoolKind::Avg => {
            // SAFETY: as above.
            section(&ctx, "pool fwd", || unsafe {
                ctx.launch_n(&KERNELS, "avg_forward", n_out, (xp, op, d))
            })?;
            None
        }
    };
    if T::OWNS_TAPE {
        // Backward needs no input values: max pooling's arg-max says where each gradient goes.
        let (x_g, o_g) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let gy = slot_ptr!(grads, &o_g);
            let gx = slot_ptr!(grads, &x_g);
            let argp: DevPtr = arg.as_ref().map_or(0, |a| *a.device_ptr());
            let n_in = d.planes as usize * d.h as usize * d.w as usize;
            // SAFETY: gradient slots shaped as x and out; `arg` (held) as written forward.
            section(&ctx, "pool bwd", || unsafe {
                ctx.launch_n(&KERNELS, "pool_backward", n_in, (gy, argp, gx, d))
            })
        });
    }
    Ok(out.put_tape(tape))
}
