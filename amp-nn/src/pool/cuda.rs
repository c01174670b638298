//! `Cuda` fast path for max/average pooling (f32): one thread per output forward (max pooling
//! records the arg-max), one thread per input element backward, gathering. Kernels in
//! `cuda.cu`.

use super::op::{Pool2DKernel, PoolGeom};
use crate::backend::PoolKind;
use crate::cuda::context::{context_for, locate, scratch, CudaCtx, DevPtr, KernelModule};
use crate::cuda::profile::section;
use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr};
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError};
use std::sync::Arc;

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

impl From<&PoolGeom> for PoolDims {
    fn from(g: &PoolGeom) -> Self {
        let i = |v: usize| i32::try_from(v).expect("pooling dimension above i32::MAX");
        Self {
            planes: i(g.planes),
            h: i(g.h),
            w: i(g.w),
            ho: i(g.ho),
            wo: i(g.wo),
            k: i(g.k),
            s: i(g.s),
            p: i(g.p),
        }
    }
}

/// What the backward pass needs: the context and, for max pooling, the arg-max of each window
/// (backward needs no input values).
pub(crate) struct Saved {
    ctx: Arc<CudaCtx>,
    arg: Option<CudaSlice<i32>>,
}

impl Pool2DKernel<f32> for Cuda {
    type Saved = Saved;

    fn pool2d_forward<S: Shape, So: Shape>(
        g: &PoolGeom,
        x: &Tensor<S, f32, Cuda>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, f32, Cuda>, Saved)>, CudaError> {
        let located = locate(x).and_then(|l| Some((context_for(&l, x.device())?, l.ptr)));
        let Some((ctx, xp)) = located else {
            return Ok(None);
        };
        let d = PoolDims::from(g);
        let out: Tensor<So, f32, Cuda> = x.device().try_zeros_like(&out_shape)?;
        let op = locate(&out)
            .expect("fresh tensors parse, as the self-test checked")
            .ptr;
        let n_out = g.planes * g.ho * g.wo;
        let arg = match g.kind {
            PoolKind::Max => {
                let arg = scratch::<i32>(&ctx, n_out)?;
                // SAFETY: xp is x's buffer (alive), op the fresh output, arg fresh scratch;
                // all sized by `d`.
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
        Ok(Some((out, Saved { ctx, arg })))
    }

    fn pool2d_backward(
        g: &PoolGeom,
        s: &Saved,
        gy: &DevPtr,
        gx: &mut DevPtr,
    ) -> Result<(), CudaError> {
        let argp: DevPtr = s.arg.as_ref().map_or(0, |a| *a.device_ptr());
        let n_in = g.planes * g.h * g.w;
        let (ctx, d, gy, gx) = (&s.ctx, PoolDims::from(g), *gy, *gx);
        // SAFETY: gradient slots shaped as x and out; `arg` (saved) as written forward.
        section(ctx, "pool bwd", || unsafe {
            ctx.launch_n(&KERNELS, "pool_backward", n_in, (gy, argp, gx, d))
        })
    }
}
