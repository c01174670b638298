//! `Cuda`: taps and norms on the GPU. A squared norm is added into a device-side slot of the
//! step's [`NormAcc`] (no transfer), scaling happens in the same pass, and the trainer reads
//! all slots with one copy per step. Kernels in `cuda.cu`, compiled by NVRTC once per GPU.

use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaDevice, CudaSlice, DeviceSlice, LaunchAsync, LaunchConfig};
use cudarc::nvrtc::compile_ptx;
use dfdx::tensor::{Cuda, Storage};

use super::{AmpDevice, DeviceNorms, NormAcc};

const MODULE: &str = "amp_core_grads";
const THREADS: u32 = 256;
/// At most this many blocks sum one norm: the grid, and so the summation order, depends only
/// on the length.
const MAX_BLOCKS: usize = 1024;

/// The element types with kernels here, and their names in CUDA C.
trait Real: cudarc::driver::DeviceRepr {
    const C_TYPE: &'static str;
    const SUFFIX: &'static str;
    /// The kernels' names for this type (no formatting on the training step).
    const MEASURE: &'static str;
    const ADD_PARTIALS: &'static str;
    const SCALE: &'static str;
}
impl Real for f32 {
    const C_TYPE: &'static str = "float";
    const SUFFIX: &'static str = "f32";
    const MEASURE: &'static str = "measure_scale_f32";
    const ADD_PARTIALS: &'static str = "add_partials_f32";
    const SCALE: &'static str = "scale_f32";
}
impl Real for f64 {
    const C_TYPE: &'static str = "double";
    const SUFFIX: &'static str = "f64";
    const MEASURE: &'static str = "measure_scale_f64";
    const ADD_PARTIALS: &'static str = "add_partials_f64";
    const SCALE: &'static str = "scale_f64";
}

/// Compiles and loads the kernels on `dev` unless already there (once per GPU).
fn ensure_loaded(dev: &Arc<CudaDevice>) {
    static LOADING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if dev.has_func(MODULE, f32::SCALE) {
        return;
    }
    let src = include_str!("cuda.cu");
    let both: String = [f32::C_TYPE, f64::C_TYPE]
        .iter()
        .zip([f32::SUFFIX, f64::SUFFIX])
        .map(|(t, s)| src.replace("REAL", t).replace("SUFFIX", s))
        .collect();
    let ptx = compile_ptx(both).expect("amp: NVRTC failed to compile amp-core's CUDA kernels");
    dev.load_ptx(
        ptx,
        MODULE,
        &[
            f32::MEASURE,
            f32::ADD_PARTIALS,
            f32::SCALE,
            f64::MEASURE,
            f64::ADD_PARTIALS,
            f64::SCALE,
        ],
    )
    .expect("amp: loading amp-core's CUDA kernels failed");
}

fn func(dev: &Arc<CudaDevice>, name: &str) -> cudarc::driver::CudaFunction {
    ensure_loaded(dev);
    dev.get_func(MODULE, name)
        .unwrap_or_else(|| panic!("amp: CUDA kernel {name} not loaded"))
}

/// The device part of a [`NormAcc`]: one f64 per slot, plus room for a norm's block sums.
struct CudaNorms {
    dev: Arc<CudaDevice>,
    sums: Mutex<CudaSlice<f64>>,
    partial: Mutex<CudaSlice<f64>>,
}

impl CudaNorms {
    fn new(dev: &Arc<CudaDevice>, slots: usize) -> Self {
        let alloc = |n: usize| {
            dev.alloc_zeros::<f64>(n.max(1))
                .expect("amp: allocating norm accumulators on the GPU failed")
        };
        Self {
            dev: dev.clone(),
            sums: Mutex::new(alloc(slots)),
            partial: Mutex::new(alloc(MAX_BLOCKS)),
        }
    }
}

impl DeviceNorms for CudaNorms {
    fn take(&self) -> Vec<f64> {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        let host = self
            .dev
            .dtoh_sync_copy(&*sums)
            .expect("amp: reading gradient norms from the GPU failed");
        self.dev
            .memset_zeros(&mut *sums)
            .expect("amp: resetting gradient norms on the GPU failed");
        host
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn measure_and_scale<E: Real>(grad: &mut CudaSlice<E>, acc: &NormAcc, slot: usize, k: f64) {
    if slot >= acc.slots() {
        return;
    }
    let dev = grad.device();
    let norms = acc
        .device(|slots| CudaNorms::new(&dev, slots))
        .expect("amp: a NormAcc used with two kinds of device");
    let n = grad.len();
    if n == 0 {
        return;
    }
    let blocks = n.div_ceil(THREADS as usize).min(MAX_BLOCKS);
    let cfg = |blocks: usize| LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    let partial = norms.partial.lock().unwrap_or_else(|e| e.into_inner());
    let mut sums = norms.sums.lock().unwrap_or_else(|e| e.into_inner());
    let scale = i32::from(k != 1.0);
    // SAFETY: the kernels' signatures are the argument lists below (cuda.cu); `grad` holds
    // `n` elements, `partial` MAX_BLOCKS >= blocks, `sums` `acc.slots()` > slot. The two
    // launches and any later use of `partial` are ordered on the device's stream.
    unsafe {
        func(&dev, E::MEASURE)
            .launch(cfg(blocks), (&mut *grad, n, k, scale, &*partial))
            .expect("amp: CUDA gradient kernel failed to launch");
        func(&dev, E::ADD_PARTIALS)
            .launch(cfg(1), (&*partial, blocks as i32, &mut *sums, slot as i32))
            .expect("amp: CUDA gradient kernel failed to launch");
    }
}

fn scale<E: Real>(grad: &mut CudaSlice<E>, k: f64) {
    let n = grad.len();
    if n == 0 {
        return;
    }
    let dev = grad.device();
    let cfg = LaunchConfig {
        grid_dim: (n.div_ceil(THREADS as usize) as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: `scale_*(REAL* g, size_t n, double k)` over the `n` elements of `grad`.
    unsafe {
        func(&dev, E::SCALE)
            .launch(cfg, (&mut *grad, n, k))
            .expect("amp: CUDA gradient kernel failed to launch");
    }
}

macro_rules! cuda_impl {
    ($e:ty) => {
        impl AmpDevice<$e> for Cuda {
            fn measure_and_scale(
                &self,
                grad: &mut <Self as Storage<$e>>::Vec,
                acc: &NormAcc,
                slot: usize,
                k: f64,
            ) {
                measure_and_scale::<$e>(grad, acc, slot, k);
            }
            fn grad_scale(&self, grad: &mut <Self as Storage<$e>>::Vec, k: f64) {
                scale::<$e>(grad, k);
            }
            fn buffer_write(&self, buf: &mut <Self as Storage<$e>>::Vec, src: &[$e]) {
                let slice: &mut CudaSlice<$e> = buf;
                let dev = slice.device();
                dev.htod_sync_copy_into(src, slice)
                    .expect("amp: copying optimizer state to the GPU failed");
            }
        }
    };
}
cuda_impl!(f32);
cuda_impl!(f64);
