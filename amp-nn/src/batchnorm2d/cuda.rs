//! `Cuda` fast path for batch norm (f32): one block per channel computes the statistics and
//! writes the output in the same kernel; backward is one kernel per pass. Kernels in
//! `cuda.cu`; formulas as in the Cpu path.
//!
//! The running statistics are replaced by fresh tensors the kernel writes (never written in
//! place, so a clone of the old ones held elsewhere keeps its values).

use super::op::{BatchNorm2DKernel, BnGeom};
use crate::cuda::context::{
    context_for, hold, locate, scratch, CudaCtx, DevPtr, Held, KernelModule,
};
use crate::cuda::profile::section;
use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr};
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

impl BnArgs {
    /// The arguments shared by every kernel: input, parameters, running statistics, sizes.
    fn new(g: &BnGeom, [x, scale, bias, rmean, rvar]: [DevPtr; 5]) -> Self {
        let i = |v: usize| i32::try_from(v).expect("batch-norm dimension above i32::MAX");
        Self {
            x,
            scale,
            bias,
            rmean,
            rvar,
            n: i(g.n),
            c: i(g.c),
            hw: i(g.hw),
            eps: g.epsilon,
            momentum: g.momentum,
            ..Default::default()
        }
    }
}

/// What the backward pass needs: the kernel arguments of the forward pass (pointers into the
/// held tensors and the saved statistics), and which backward kernel runs them.
pub(crate) struct Saved {
    ctx: Arc<CudaCtx>,
    args: BnArgs,
    kernel: &'static str,
    label: &'static str,
    _held: Vec<Held>,
    _stats: Option<CudaSlice<f64>>,
}

impl BatchNorm2DKernel<f32> for Cuda {
    type Saved = Saved;
    // dfdx's ReLU runs after these kernels (the fused kernels are pending a GPU check).
    const FUSES_RELU: bool = false;

    fn bn_train_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, f32, Cuda>,
        scale: &Tensor<Rank1<C>, f32, Cuda>,
        bias: &Tensor<Rank1<C>, f32, Cuda>,
        running_mean: &mut Tensor<Rank1<C>, f32, Cuda>,
        running_var: &mut Tensor<Rank1<C>, f32, Cuda>,
    ) -> Result<Option<(Tensor<S, f32, Cuda>, Saved)>, CudaError> {
        let Some((ctx, ptrs)) = locate_all(x, [scale, bias, running_mean, running_var]) else {
            return Ok(None);
        };
        let dev = x.device().clone();
        let out: Tensor<S, f32, Cuda> = dev.try_zeros_like(x.shape())?;
        let new_rm: Tensor<Rank1<C>, f32, Cuda> = dev.try_zeros()?;
        let new_rv: Tensor<Rank1<C>, f32, Cuda> = dev.try_zeros()?;
        let stats = scratch::<f64>(&ctx, 2 * C)?;
        let args = BnArgs {
            y: fresh(&out),
            new_rmean: fresh(&new_rm),
            new_rvar: fresh(&new_rv),
            saved: *stats.device_ptr(),
            ..BnArgs::new(g, ptrs)
        };
        // SAFETY: the pointers are the buffers of the tensors above (alive during the call)
        // with the shapes in `args`; y, new_rmean, new_rvar are fresh tensors referenced
        // nowhere else.
        section(&ctx, "batchnorm train fwd", || unsafe {
            ctx.launch_blocks(&KERNELS, "bn_train_forward", C, (args,))
        })?;
        *running_mean = new_rm;
        *running_var = new_rv;
        let saved = Saved {
            ctx,
            args,
            kernel: "bn_train_backward",
            label: "batchnorm train bwd",
            // The old running statistics are not read backward.
            _held: vec![hold(x), hold(scale)],
            _stats: Some(stats),
        };
        Ok(Some((out, saved)))
    }

    fn bn_eval_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, f32, Cuda>,
        scale: &Tensor<Rank1<C>, f32, Cuda>,
        bias: &Tensor<Rank1<C>, f32, Cuda>,
        running_mean: &Tensor<Rank1<C>, f32, Cuda>,
        running_var: &Tensor<Rank1<C>, f32, Cuda>,
        record: bool,
    ) -> Result<Option<(Tensor<S, f32, Cuda>, Saved)>, CudaError> {
        let Some((ctx, ptrs)) = locate_all(x, [scale, bias, running_mean, running_var]) else {
            return Ok(None);
        };
        let out: Tensor<S, f32, Cuda> = x.device().try_zeros_like(x.shape())?;
        let args = BnArgs {
            y: fresh(&out),
            ..BnArgs::new(g, ptrs)
        };
        let total = g.count() * g.c;
        // SAFETY: as in `bn_train_forward`; `y` is the fresh `out`.
        section(&ctx, "batchnorm eval fwd", || unsafe {
            ctx.launch_n(&KERNELS, "bn_eval_forward", total, (args,))
        })?;
        let held = match record {
            true => vec![hold(x), hold(scale), hold(running_mean), hold(running_var)],
            false => Vec::new(),
        };
        let saved = Saved {
            ctx,
            args,
            kernel: "bn_eval_backward",
            label: "batchnorm eval bwd",
            _held: held,
            _stats: None,
        };
        Ok(Some((out, saved)))
    }

    fn bn_backward(
        g: &BnGeom,
        s: &Saved,
        gy: &DevPtr,
        gx: &mut DevPtr,
        gscale: &mut DevPtr,
        gbias: &mut DevPtr,
    ) -> Result<(), CudaError> {
        let args = BnArgs {
            gy: *gy,
            gx: *gx,
            gscale: *gscale,
            gbias: *gbias,
            ..s.args
        };
        let ctx = &s.ctx;
        // SAFETY: the forward pass's pointers, into tensors and statistics `s` holds; the
        // gradient slots have the shapes of their tensors.
        section(ctx, s.label, || unsafe {
            ctx.launch_blocks(&KERNELS, s.kernel, g.c, (args,))
        })
    }
}
