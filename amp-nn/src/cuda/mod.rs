//! The device-resident `Cuda` path: what amp-nn's CUDA kernels share.
//!
//! Each op keeps its CUDA code beside its other implementations: `conv2d/op.rs` declares the
//! op's kernel trait and records its backward pass on the tape (once, for every device);
//! `conv2d/cuda.rs` implements that trait for `Cuda` (locating buffers, launching) and
//! `conv2d/cuda.cu` holds the kernels, compiled at run time by NVRTC, so no nvcc is needed for
//! amp-nn's own kernels; likewise for `batchnorm2d/` and `pool/`. A new GPU kernel goes into
//! its op's `cuda.cu`, its module into `context.rs`'s `MODULES`.
//! GEMMs go through cuBLAS ([`gemm`]). This module holds the plumbing they share:
//!
//! - [`locate`]: a `Cuda` tensor's device pointer, which dfdx 0.13 keeps private, read from
//!   its `Debug` output (compiled and unit-tested everywhere; used only with `cuda`);
//! - `context`: per-GPU set-up (cuBLAS handle, kernel modules, the pointer self-test) and the
//!   fallback to the device-generic path when set-up fails;
//! - [`gemm`]: row-major SGEMM on raw device pointers (the layout mapping is tested anywhere);
//! - `memory`: `retain_freed_memory`, the GPU memory pool kept between steps.
//!
//! Only `f32` runs these kernels; `Cuda` with `f64` runs the device-generic path.

pub mod locate;

#[cfg(feature = "cuda")]
pub(crate) mod context;
pub mod gemm;
#[cfg(feature = "cuda")]
pub mod memory;
#[cfg(feature = "cuda")]
pub mod profile;

#[cfg(feature = "cuda")]
pub use context::{kernels_status, tf32_requested};
#[cfg(feature = "cuda")]
pub use memory::retain_freed_memory;

/// `AMP_NN_CUDA=generic` runs dfdx's generic ops on `Cuda` instead of amp-nn's kernels:
/// the reference to compare the kernels with, and a way around a kernel bug.
pub fn generic_requested() -> bool {
    std::env::var("AMP_NN_CUDA").is_ok_and(|v| v == "generic")
}
