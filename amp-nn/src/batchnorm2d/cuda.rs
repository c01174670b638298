//! `Cuda` fast path for batch norm (f32): one block per channel computes the statistics and
//! writes the output in the same kernel; backward is one kernel per pass. Kernels in
//! `cuda.cu`; formulas as in the Cpu path.
//!
//! The running statistics are replaced by fresh tensors the kernel writes (never written in
//! place, so a clone of the old ones held elsewhere keeps its values).

use crate::cuda::context::{context_for, locate, scratch, slot_ptr, CudaCtx, DevPtr, KernelModule};
use crate::cuda::profile::section;
use cudarc::driver::{DevicePtr, DeviceRepr};
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError};
use std::sync::Arc;

pub(crate) static KERNELS: KernelModule = KernelModule {
    name: "amp_nn_batchnorm2d",
    src: include_str!("cuda.cu"),
    funcs: &[
        "bn_train_forward",
        "bn_train_backward",
        "bn_eval_forward",
        "bn_eval_backward",
    ],
};

/// `struct BnArgs` of cuda.cu, passed by value; unused pointers are 0.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct BnArgs {
    x: DevPtr,
    scale: DevPtr,
    bias: DevPtr,
    rmean: DevPtr,
    rvar: DevPtr,
    y: DevPtr,
    new_rmean: DevPtr,
    new_rvar: DevPtr,
    saved: DevPtr,
    gy: DevPtr,
    gx: DevPtr,
    gscale: DevPtr,
    gbias: DevPtr,
    n: i32,
    c: i32,
    hw: i32,
    eps: f64,
    momentum: f64,
}

// SAFETY: a `repr(C)` struct of u64 (pointers), i32 and f64, laid out as cuda.cu's `BnArgs`
// (the same padding before `eps` on both sides).
unsafe impl DeviceRepr for BnArgs {}

type Img<B, const C: usize, H, W, T> = Tensor<(B, Const<C>, H, W), f32, Cuda, T>;

/// Context and the pointers of x, scale, bias, running mean and var; `None`: generic path.
fn locate_all<S: Shape, const C: usize>(
    x: &Tensor<S, f32, Cuda>,
    params: [&Tensor<Rank1<C>, f32, Cuda>; 4],
) -> Option<(Arc<CudaCtx>, [DevPtr; 5])> {
    let xl = locate(x)?;
    let ctx = context_for(&xl, x.device())?;
    let mut p = [xl.ptr, 0, 0, 0, 0];
    for (slot, t) in p[1..].iter_mut().zip(params) {
        *slot = locate(t)?.ptr;
    }
    Some((ctx, p))
}

/// The pointer of a tensor created by this op.
fn fresh<S: Shape>(t: &Tensor<S, f32, Cuda>) -> DevPtr {
    locate(t)
        .expect("fresh tensors parse, as the self-test checked")
        .ptr
}

fn dims<B: Dim, const C: usize, H: Dim, W: Dim>(s: &(B, Const<C>, H, W)) -> (i32, i32, i32) {
    let i = |v: usize| i32::try_from(v).expect("batch-norm dimension above i32::MAX");
    (i(s.0.size()), i(C), i(s.2.size() * s.3.size()))
}

/// The `Cuda` (f32) implementation of [`crate::NnDevice::batchnorm2d_train`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn train<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<f32, Cuda>>(
    x: Img<B, C, H, W, T>,
    scale: &Tensor<Rank1<C>, f32, Cuda>,
    bias: &Tensor<Rank1<C>, f32, Cuda>,
    running_mean: &mut Tensor<Rank1<C>, f32, Cuda>,
    running_var: &mut Tensor<Rank1<C>, f32, Cuda>,
    epsilon: f64,
    momentum: f64,
) -> Result<Img<B, C, H, W, T>, CudaError> {
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let Some((ctx, [xp, sp, bp, rmp, rvp])) =
        locate_all(&x, [scale, bias, running_mean, running_var])
    else {
        let x = x.put_tape(tape);
        return crate::generic::batchnorm2d_train(
            x,
            scale,
            bias,
            running_mean,
            running_var,
            epsilon,
            momentum,
        );
    };
    let shape = *x.shape();
    let (n, c, hw) = dims(&shape);
    assert!(
        n * hw > 1,
        "batch norm needs more than one value per channel"
    );
    let dev = x.device().clone();
    let out: Img<B, C, H, W, NoneTape> = dev.try_zeros_like(&shape)?;
    let new_rm: Tensor<Rank1<C>, f32, Cuda> = dev.try_zeros()?;
    let new_rv: Tensor<Rank1<C>, f32, Cuda> = dev.try_zeros()?;
    let saved = scratch::<f64>(&ctx, 2 * C)?;
    let args = BnArgs {
        x: xp,
        scale: sp,
        bias: bp,
        rmean: rmp,
        rvar: rvp,
        y: fresh(&out),
        new_rmean: fresh(&new_rm),
        new_rvar: fresh(&new_rv),
        saved: *saved.device_ptr(),
        n,
        c,
        hw,
        eps: epsilon,
        momentum,
        ..Default::default()
    };
    // SAFETY: the pointers are the buffers of the tensors above (alive during the call) with
    // the shapes in `args`; y, new_rmean, new_rvar are fresh tensors referenced nowhere else.
    section(&ctx, "batchnorm train fwd", || unsafe {
        ctx.launch_blocks(&KERNELS, "bn_train_forward", C, (args,))
    })?;
    *running_mean = new_rm;
    *running_var = new_rv;
    if T::OWNS_TAPE {
        let (x_g, s_g, b_g, o_g) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        let keep = (x, scale.clone(), saved);
        tape.add_backward_op(move |grads| {
            let _ = &keep;
            let args = BnArgs {
                gy: slot_ptr!(grads, &o_g),
                gscale: slot_ptr!(grads, &s_g),
                gbias: slot_ptr!(grads, &b_g),
                gx: slot_ptr!(grads, &x_g),
                ..args
            };
            // SAFETY: as in the forward pass; `saved` (held) has the statistics it wrote.
            section(&ctx, "batchnorm train bwd", || unsafe {
                ctx.launch_blocks(&KERNELS, "bn_train_backward", C, (args,))
            })
        });
    }
    Ok(out.put_tape(tape))
}

/// The `Cuda` (f32) implementation of [`crate::NnDevice::batchnorm2d_eval`].
pub(crate) fn eval<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<f32, Cuda>>(
    x: Img<B, C, H, W, T>,
    scale: &Tensor<Rank1<C>, f32, Cuda>,
    bias: &Tensor<Rank1<C>, f32, Cuda>,
    running_mean: &Tensor<Rank1<C>, f32, Cuda>,
    running_var: &Tensor<Rank1<C>, f32, Cuda>,
    epsilon: f64,
) -> Result<Img<B, C, H, W, T>, CudaError> {
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let Some((ctx, [xp, sp, bp, rmp, rvp])) =
        locate_all(&x, [scale, bias, running_mean, running_var])
    else {
        let x = x.put_tape(tape);
        return crate::generic::batchnorm2d_eval(
            x,
            scale,
            bias,
            running_mean,
            running_var,
            epsilon,
        );
    };
    let shape = *x.shape();
    let (n, c, hw) = dims(&shape);
    let out: Img<B, C, H, W, NoneTape> = x.device().try_zeros_like(&shape)?;
    let args = BnArgs {
        x: xp,
        scale: sp,
        bias: bp,
        rmean: rmp,
        rvar: rvp,
        y: fresh(&out),
        n,
        c,
        hw,
        eps: epsilon,
        ..Default::default()
    };
    let total = shape.num_elements();
    // SAFETY: as in `train`; `y` is the fresh `out`.
    section(&ctx, "batchnorm eval fwd", || unsafe {
        ctx.launch_n(&KERNELS, "bn_eval_forward", total, (args,))
    })?;
    if T::OWNS_TAPE {
        let (x_g, s_g, b_g, o_g) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        let keep = (x, scale.clone(), running_mean.clone(), running_var.clone());
        tape.add_backward_op(move |grads| {
            let _ = &keep;
            let args = BnArgs {
                gy: slot_ptr!(grads, &o_g),
                gscale: slot_ptr!(grads, &s_g),
                gbias: slot_ptr!(grads, &b_g),
                gx: slot_ptr!(grads, &x_g),
                ..args
            };
            // SAFETY: as in the forward pass, with the inputs held by the closure.
            section(&ctx, "batchnorm eval bwd", || unsafe {
                ctx.launch_blocks(&KERNELS, "bn_eval_backward", C, (args,))
            })
        });
    }
    Ok(out.put_tape(tape))
}
