//! `Cuda` fast path for convolution (f32): im2col + one cuBLAS GEMM forward; backward
//! recomputes the column matrix for the weight-gradient GEMM, then reuses its memory for
//! the data-gradient GEMM and gathers it back with col2im. Kernels in `cuda.cu`.
//!
//! Every buffer stays on the GPU: inputs are read through their device pointers (see
//! `crate::cuda::locate`), the output is a fresh tensor written in place, and gradients go
//! straight into dfdx's gradient slots. Bitwise reproducible run to run on one GPU model (no
//! atomics; cuBLAS is deterministic on one stream).

use super::im2col::ConvGeom;
use super::op::Conv2DKernel;
use crate::cuda::context::{
    context_for, hold, locate, scratch, CudaCtx, DevPtr, Held, KernelModule,
};
use crate::cuda::gemm::{sgemm, Mat};
use crate::cuda::profile::section;
use cudarc::driver::{DevicePtr, DeviceRepr};
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError};
use std::sync::Arc;

pub(crate) static KERNELS: KernelModule = KernelModule {
    name: "amp_nn_conv2d",
    src: include_str!("cuda.cu"),
    funcs: &[
        "im2col",
        "col2im_add",
        "cnp_to_nchw",
        "nchw_to_cnp",
        "row_sum_add",
    ],
};

/// `struct ConvDims` of cuda.cu, passed by value.
#[repr(C)]
#[derive(Clone, Copy)]
struct ConvDims {
    n: i32,
    c: i32,
    h: i32,
    w: i32,
    k: i32,
    s: i32,
    p: i32,
    ho: i32,
    wo: i32,
}

// SAFETY: a plain `repr(C)` struct of `int`s, laid out as cuda.cu's `ConvDims`.
unsafe impl DeviceRepr for ConvDims {}

impl From<&ConvGeom> for ConvDims {
    fn from(g: &ConvGeom) -> Self {
        let i = |v: usize| i32::try_from(v).expect("convolution dimension above i32::MAX");
        Self {
            n: i(g.n),
            c: i(g.c),
            h: i(g.h),
            w: i(g.w),
            k: i(g.k),
            s: i(g.s),
            p: i(g.p),
            ho: i(g.ho),
            wo: i(g.wo),
        }
    }
}

/// What the backward pass needs: the GPU's context and the input and weight buffers, kept
/// alive (and, since dfdx copies a shared buffer before writing to it, unmodified) by the
/// tensors held here.
pub(crate) struct Saved {
    ctx: Arc<CudaCtx>,
    x: DevPtr,
    w: DevPtr,
    _held: [Held; 2],
}

impl Conv2DKernel<f32> for Cuda {
    type Saved = Saved;

    fn conv2d_forward<S: Shape, Sw: Shape, Sb: Shape, So: Shape>(
        g: &ConvGeom,
        x: &Tensor<S, f32, Cuda>,
        w: &Tensor<Sw, f32, Cuda>,
        b: Option<&Tensor<Sb, f32, Cuda>>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, f32, Cuda>, Saved)>, CudaError> {
        let located = (|| {
            let xl = locate(x)?;
            let ctx = context_for(&xl, x.device())?;
            let bp = match b {
                Some(b) => Some(locate(b)?.ptr),
                None => None,
            };
            Some((ctx, xl.ptr, locate(w)?.ptr, bp))
        })();
        let Some((ctx, xp, wp, bp)) = located else {
            return Ok(None);
        };
        let out: Tensor<So, f32, Cuda> = x.device().try_zeros_like(&out_shape)?;
        let op = locate(&out).expect("a tensor created here parses as the self-test checked");
        // SAFETY: xp, wp, bp are the buffers of x, w, b (alive for this call) with the shapes
        // in `g`; op is the fresh `out`, referenced nowhere else.
        unsafe { forward(&ctx, g, xp, wp, bp, op.ptr)? };
        let saved = Saved {
            ctx,
            x: xp,
            w: wp,
            _held: [hold(x), hold(w)],
        };
        Ok(Some((out, saved)))
    }

    fn conv2d_backward(
        g: &ConvGeom,
        s: &Saved,
        gout: &DevPtr,
        gx: &mut DevPtr,
        gw: &mut DevPtr,
        gb: Option<&mut DevPtr>,
    ) -> Result<(), CudaError> {
        // SAFETY: gradient slots have the shapes of their tensors; s.x, s.w as kept above.
        unsafe { backward(&s.ctx, g, s.x, s.w, *gout, *gx, *gw, gb.map(|b| *b)) }
    }
}

fn ptr<T>(s: &cudarc::driver::CudaSlice<T>) -> DevPtr {
    *s.device_ptr()
}

/// `out = W * im2col(x) + bias`, NCHW.
///
/// # Safety
/// `x`, `w`, `bias` and `out` must be device buffers on `ctx`'s GPU with the sizes `g`
/// implies, alive until the queued work has run (stream order), and `out` referenced by
/// nothing else.
unsafe fn forward(
    ctx: &CudaCtx,
    g: &ConvGeom,
    x: DevPtr,
    w: DevPtr,
    bias: Option<DevPtr>,
    out: DevPtr,
) -> Result<(), CudaError> {
    let (np, ckk, d) = (g.n * g.out_plane(), g.ckk(), ConvDims::from(g));
    let col = scratch::<f32>(ctx, ckk * np)?;
    section(ctx, "conv fwd im2col", || {
        ctx.launch_n(&KERNELS, "im2col", ckk * np, (x, ptr(&col), d))
    })?;
    let t = scratch::<f32>(ctx, g.o * np)?;
    section(ctx, "conv fwd gemm", || {
        sgemm(
            ctx,
            (g.o, np, ckk),
            Mat::n(w, ckk),
            Mat::n(ptr(&col), np),
            0.0,
            ptr(&t),
            np,
        )
    })?;
    let plane = g.out_plane() as i32;
    section(ctx, "conv fwd to nchw", || {
        ctx.launch_n(
            &KERNELS,
            "cnp_to_nchw",
            g.n * g.out_img(),
            (
                ptr(&t),
                bias.unwrap_or(0),
                out,
                g.n as i32,
                g.o as i32,
                plane,
            ),
        )
    })?;
    Ok(())
}

/// Accumulates `gx`, `gw` (O x CKK) and `gb` from `gout` (NCHW).
///
/// # Safety
/// As [`forward`]: every pointer a device buffer of the size `g` implies, the gradients
/// dfdx's slots for x, the weight, the bias and the output.
#[allow(clippy::too_many_arguments)]
unsafe fn backward(
    ctx: &CudaCtx,
    g: &ConvGeom,
    x: DevPtr,
    w: DevPtr,
    gout: DevPtr,
    gx: DevPtr,
    gw: DevPtr,
    gb: Option<DevPtr>,
) -> Result<(), CudaError> {
    let (np, ckk, d) = (g.n * g.out_plane(), g.ckk(), ConvDims::from(g));
    let plane = g.out_plane() as i32;
    let gt = scratch::<f32>(ctx, g.o * np)?;
    section(ctx, "conv bwd from nchw", || {
        ctx.launch_n(
            &KERNELS,
            "nchw_to_cnp",
            g.o * np,
            (gout, ptr(&gt), g.n as i32, g.o as i32, plane),
        )
    })?;
    if let Some(gb) = gb {
        section(ctx, "conv bwd bias", || {
            ctx.launch_blocks(&KERNELS, "row_sum_add", g.o, (ptr(&gt), gb, np as u64))
        })?;
    }
    let col = scratch::<f32>(ctx, ckk * np)?;
    section(ctx, "conv bwd im2col", || {
        ctx.launch_n(&KERNELS, "im2col", ckk * np, (x, ptr(&col), d))
    })?;
    // gW += gT (O x NP) * col^T (NP x CKK)
    section(ctx, "conv bwd gemm weight", || {
        sgemm(
            ctx,
            (g.o, ckk, np),
            Mat::n(ptr(&gt), np),
            Mat::t(ptr(&col), np),
            1.0,
            gw,
            ckk,
        )
    })?;
    // gcol = W^T (CKK x O) * gT (O x NP), into the column buffer (the GEMM above, queued
    // first on the same stream, has read it by then).
    section(ctx, "conv bwd gemm data", || {
        sgemm(
            ctx,
            (ckk, np, g.o),
            Mat::t(w, ckk),
            Mat::n(ptr(&gt), np),
            0.0,
            ptr(&col),
            np,
        )
    })?;
    section(ctx, "conv bwd col2im", || {
        ctx.launch_n(&KERNELS, "col2im_add", g.n * g.in_img(), (ptr(&col), gx, d))
    })?;
    Ok(())
}
