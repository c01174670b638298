//! One [`CudaCtx`] per GPU: cudarc's device, a cuBLAS handle on its stream and amp-nn's
//! NVRTC-compiled kernels, created at the first amp-nn op on that GPU, after a self-test of
//! the pointer scheme in [`super::locate`].
//!
//! If anything in that set-up fails (the self-test, NVRTC, cuBLAS), amp-nn says so once on
//! stderr and every op on that GPU runs the device-generic path instead: slower, never wrong.

use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::{sys as cublas_sys, CudaBlas};
use cudarc::driver::{CudaDevice, CudaFunction, DeviceRepr, LaunchAsync, LaunchConfig};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions};
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError, Gradients};

use super::locate::{Location, Locator};

/// The CUDA C source of one op's kernels and the entry points to load from it.
pub(crate) struct KernelModule {
    /// Module name (unique across amp-nn).
    pub name: &'static str,
    /// CUDA C source, compiled by NVRTC (no headers: plain C with `extern "C"` kernels).
    pub src: &'static str,
    /// The `extern "C" __global__` functions in `src`.
    pub funcs: &'static [&'static str],
}

/// Every op's kernels, compiled once per GPU. A new CUDA op adds its module here.
const MODULES: &[&KernelModule] = &[
    &crate::conv2d::cuda::KERNELS,
    &crate::batchnorm2d::cuda::KERNELS,
    &crate::pool::cuda::KERNELS,
];

/// What amp-nn's CUDA kernels need from one GPU.
pub(crate) struct CudaCtx {
    pub dev: Arc<CudaDevice>,
    pub blas: CudaBlas,
}

// SAFETY: `CudaBlas` holds a cuBLAS handle, used only by the thread that issues an op (each
// call binds the device to the calling thread first); cudarc itself marks `CudaDevice`
// Send + Sync. The handle is never used concurrently from two threads by amp-nn, whose ops
// run inside one dfdx forward/backward at a time per device.
unsafe impl Send for CudaCtx {}
unsafe impl Sync for CudaCtx {}

/// Contexts by CUDA context address (see [`Location::context`]); an error marks a GPU whose
/// set-up failed (and why), which therefore runs the generic path.
type Registry = Vec<(u64, Result<Arc<CudaCtx>, String>)>;
static CONTEXTS: OnceLock<Mutex<Registry>> = OnceLock::new();

/// Whether amp-nn's CUDA kernels run on `dev` (setting them up on first use), or why not.
pub fn kernels_status(dev: &Cuda) -> Result<(), String> {
    let probe: Tensor<Rank1<1>, f32, Cuda> = dev.try_zeros().map_err(|e| format!("{e:?}"))?;
    let loc = locate(&probe).ok_or("a Cuda tensor's Debug output has an unexpected layout")?;
    context_for(&loc, dev);
    let all = CONTEXTS.get_or_init(Default::default).lock();
    let all = all.unwrap_or_else(|e| e.into_inner());
    match all.iter().find(|(c, _)| *c == loc.context) {
        Some((_, Ok(_))) => Ok(()),
        Some((_, Err(why))) => Err(why.clone()),
        None => Err("no context".into()),
    }
}

/// The context for the GPU that holds `loc`, creating it on first use; `None` means: use the
/// device-generic path (the reason was printed once).
pub(crate) fn context_for(loc: &Location, dev: &Cuda) -> Option<Arc<CudaCtx>> {
    let mut all = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, ctx)) = all.iter().find(|(c, _)| *c == loc.context) {
        return ctx.as_ref().ok().cloned();
    }
    let setup = if super::generic_requested() {
        Err("AMP_NN_CUDA=generic".to_string())
    } else {
        CudaCtx::new(dev, loc.context)
    };
    let ctx = setup.map(Arc::new);
    if let Err(why) = &ctx {
        eprintln!(
            "amp-nn: the fast CUDA kernels are off on this GPU ({why}); convolution, pooling \
             and batch norm run dfdx's generic ops instead (correct, slower)"
        );
    }
    all.push((loc.context, ctx.clone()));
    ctx.ok()
}

/// The location of a `Cuda` tensor's buffer, checked against its expected length.
pub(crate) fn locate<S: Shape>(t: &Tensor<S, f32, Cuda>) -> Option<Location> {
    let loc = Locator::locate(t)?;
    (loc.len >= t.shape().num_elements()).then_some(loc)
}

impl CudaCtx {
    fn new(dev: &Cuda, context: u64) -> Result<Self, String> {
        let cdev = device_of(dev).map_err(|e| format!("no cudarc device: {e:?}"))?;
        self_test(dev, &cdev, context)?;
        let blas = CudaBlas::new(cdev.clone()).map_err(|e| format!("cuBLAS: {e:?}"))?;
        // Plain fp32 GEMMs unless asked for TF32 (PyTorch's cuDNN default for convolutions).
        let mode = if tf32_requested() {
            cublas_sys::cublasMath_t::CUBLAS_TF32_TENSOR_OP_MATH
        } else {
            cublas_sys::cublasMath_t::CUBLAS_DEFAULT_MATH
        };
        // SAFETY: a valid handle just created by `CudaBlas::new`.
        unsafe { cublas_sys::cublasSetMathMode(*blas.handle(), mode) }
            .result()
            .map_err(|e| format!("cuBLAS math mode: {e:?}"))?;
        for m in MODULES {
            let ptx = compile_ptx_with_opts(m.src, CompileOptions::default())
                .map_err(|e| format!("NVRTC could not compile module {}: {e:?}", m.name))?;
            cdev.load_ptx(ptx, m.name, m.funcs)
                .map_err(|e| format!("loading module {}: {e:?}", m.name))?;
        }
        Ok(Self { dev: cdev, blas })
    }

    /// A kernel of one of [`MODULES`].
    pub fn func(&self, module: &KernelModule, name: &str) -> CudaFunction {
        self.dev
            .get_func(module.name, name)
            .unwrap_or_else(|| panic!("amp-nn: kernel {}::{name} is not loaded", module.name))
    }

    /// Launches `name` with one thread per element of a range of `n` (`n` > 0).
    ///
    /// # Safety
    /// The arguments must match the kernel's signature, and every pointer in them must be
    /// valid for what the kernel reads and writes for indices below `n`.
    pub unsafe fn launch_n<P>(
        &self,
        module: &KernelModule,
        name: &str,
        n: usize,
        args: P,
    ) -> Result<(), CudaError>
    where
        CudaFunction: LaunchAsync<P>,
    {
        const THREADS: u32 = 256;
        let blocks = u32::try_from(n.div_ceil(THREADS as usize)).expect("grid too large");
        let cfg = LaunchConfig {
            grid_dim: (blocks.max(1), 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        self.func(module, name).launch(cfg, args)?;
        Ok(())
    }

    /// Launches `name` with `blocks` blocks of [`REDUCE_THREADS`] threads (reduction
    /// kernels, which size their shared memory for that many).
    ///
    /// # Safety
    /// As [`Self::launch_n`], for the indices the kernel derives from its block.
    pub unsafe fn launch_blocks<P>(
        &self,
        module: &KernelModule,
        name: &str,
        blocks: usize,
        args: P,
    ) -> Result<(), CudaError>
    where
        CudaFunction: LaunchAsync<P>,
    {
        let cfg = LaunchConfig {
            grid_dim: (u32::try_from(blocks).expect("grid too large").max(1), 1, 1),
            block_dim: (REDUCE_THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        self.func(module, name).launch(cfg, args)?;
        Ok(())
    }
}

/// Threads per block of the reduction kernels (their `.cu` files assume this value).
pub(crate) const REDUCE_THREADS: u32 = 512;

/// `AMP_CUDA_TF32=1` lets cuBLAS use TF32 tensor cores for amp-nn's fp32 GEMMs (faster,
/// about 10 bits of mantissa). Off by default: results then match fp32 arithmetic.
pub fn tf32_requested() -> bool {
    std::env::var("AMP_CUDA_TF32").is_ok_and(|v| v == "1")
}

/// cudarc's device behind a dfdx `Cuda`, reached through a gradient slot (the only public
/// handle on a `CudaSlice`).
pub(crate) fn device_of(dev: &Cuda) -> Result<Arc<CudaDevice>, CudaError> {
    let probe: Tensor<Rank1<1>, f32, Cuda> = dev.try_zeros()?;
    let mut grads = Gradients::<f32, Cuda>::leaky();
    let slot = grads.get_or_alloc_mut(&probe)?;
    Ok(slot.device())
}

/// Checks, on a tensor of known values, that [`locate`] finds its buffer (length, context and
/// values read through the raw pointer), that a write through the pointer of a fresh tensor
/// is what dfdx then reads, and that a clone shares the buffer while a new tensor does not.
fn self_test(dev: &Cuda, cdev: &Arc<CudaDevice>, context: u64) -> Result<(), String> {
    let fail = |what: &str| Err(format!("pointer self-test: {what}"));
    let n = 1000;
    let known: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 17.0).collect();
    let t = dev
        .try_tensor_from_vec(known.clone(), (n,))
        .map_err(|e| format!("{e:?}"))?;
    let Some(loc) = locate(&t) else {
        return fail("a Cuda tensor's Debug output has an unexpected layout");
    };
    if loc.len != n || loc.context != context {
        return fail("length or context read wrong");
    }
    let mut host = vec![0f32; n];
    cdev.synchronize().map_err(|e| format!("{e:?}"))?;
    // SAFETY: `loc.ptr` is the buffer of `t` (alive until the end of this function) and holds
    // `n` f32 values if the parse is right; if it were wrong the copy fails or reads other
    // device memory of this process, which the comparison below then rejects.
    unsafe { cudarc::driver::result::memcpy_dtoh_sync(&mut host, loc.ptr) }
        .map_err(|e| format!("pointer self-test: reading through the pointer failed: {e:?}"))?;
    if host
        .iter()
        .zip(&known)
        .any(|(a, b)| a.to_bits() != b.to_bits())
    {
        return fail("values read through the pointer differ from the tensor's");
    }
    let clone = t.clone();
    let fresh: Tensor<Rank1<1000>, f32, Cuda> = dev.try_zeros().map_err(|e| format!("{e:?}"))?;
    let (Some(c), Some(f)) = (locate(&clone), locate(&fresh)) else {
        return fail("a clone or fresh tensor did not parse");
    };
    if c.ptr != loc.ptr || f.ptr == loc.ptr {
        return fail("clones do not share, or fresh tensors share, a buffer");
    }
    let written: Vec<f32> = known.iter().map(|v| v * 3.0).collect();
    // SAFETY: `fresh` was just created here, so nothing else refers to its buffer of `n` f32.
    unsafe { cudarc::driver::result::memcpy_htod_sync(f.ptr, &written) }
        .map_err(|e| format!("pointer self-test: writing through the pointer failed: {e:?}"))?;
    if fresh.as_vec() != written {
        return fail("a value written through the pointer is not what dfdx reads");
    }
    Ok(())
}

/// A raw device pointer as a kernel argument (`const float*` / `float*` in CUDA C).
pub(crate) type DevPtr = u64;

/// A clone of a tensor, held by a backward op so that the buffer behind a pointer it
/// launches kernels on stays alive, and unmodified: dfdx copies a buffer that is shared
/// before writing to it. The shape is erased, since what an op saves does not depend on it.
pub(crate) struct Held(#[allow(dead_code)] Box<dyn std::any::Any>);

/// Holds a clone of `t` (a reference count, no copy of the data).
pub(crate) fn hold<S: Shape>(t: &Tensor<S, f32, Cuda>) -> Held {
    Held(Box::new(t.clone()))
}

/// Scratch memory on the device for the duration of one op (stream-ordered: freed after the
/// kernels queued before the drop).
pub(crate) fn scratch<T: DeviceRepr>(
    ctx: &CudaCtx,
    len: usize,
) -> Result<cudarc::driver::CudaSlice<T>, CudaError> {
    // SAFETY: every scratch buffer is fully written by a kernel before it is read.
    Ok(unsafe { ctx.dev.alloc::<T>(len.max(1)) }?)
}
