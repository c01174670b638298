//! Conv2D, pooling, flatten and batch norm for dfdx 0.13 on stable Rust.
//!
//! dfdx 0.13 keeps its convolution and pooling layers behind the `nightly`
//! feature because it computes output sizes in const generics. This crate
//! provides the same layers with *runtime* spatial sizes instead: images are
//! batched NCHW tensors `(B, Const<C>, H, W)` with any `H, W: Dim`, and layer
//! outputs are `(B, Const<C_OUT>, usize, usize)`.
//!
//! Every layer implements dfdx's [`TensorCollection`](dfdx::nn::tensor_collection::TensorCollection),
//! [`Module`](dfdx::nn::Module) and [`ModuleMut`](dfdx::nn::ModuleMut), so it
//! builds with `BuildModule::build(&dev)`, its parameters are seen by dfdx
//! optimizers, and `alloc_grads`/`zero_grads` work.
//!
//! The math lives behind the [`NnDevice`] backend trait. Each op's folder has the same
//! layout, after dfdx's own ops: `op.rs` declares the op's kernel trait (forward and
//! backward kernels of one device) and wires the backward pass onto the tape, once for all
//! devices; [`Cpu`](dfdx::tensor::Cpu) implements it with hand-written im2col + GEMM / fused
//! kernels (`cpu.rs`); `Cuda` (behind the `cuda` feature, f32) keeps every buffer on the GPU
//! with cuBLAS GEMMs and NVRTC-compiled kernels (`cuda.rs`, `cuda.cu`, plumbing in [`cuda`]);
//! any other device uses a path built only from public dfdx ops (`generic.rs`, see
//! [`generic`]), which is also callable on `Cpu` and `Cuda` so tests can compare against it.

// Tensor types with 4-D shapes, tapes and devices are long by nature in dfdx;
// aliasing each one would hide more than it helps.
#![allow(clippy::type_complexity)]

mod add_relu;
mod backend;
mod batchnorm2d;
mod candidate;
mod conv2d;
mod cpu_util;
pub mod cuda;
mod flatten;
mod grad_slot;
mod malloc;
mod patches;
mod pool;
mod shape;

pub use add_relu::add_relu;
pub use backend::{NnDevice, PoolKind};
pub use batchnorm2d::BatchNorm2D;
pub use conv2d::{Conv2D, Conv2DNoBias};
pub use cpu_util::CpuFloat;
pub use flatten::Flatten2D;
pub use grad_slot::{free_consumed_gradients, frees_consumed_gradients};
pub use malloc::retain_freed_memory;
pub use pool::{AvgPool2D, GlobalAvgPool2D, MaxPool2D};
pub use shape::conv_out_dim;

/// The device-generic implementations, built only from public dfdx ops.
///
/// These are what devices without kernels of their own run (`Cuda` with `f64`, or
/// `Cuda` when its kernels are off, see [`cuda`]); they are public so that callers
/// (and the test-suite) can run them on `Cpu` too and compare with the fast path.
pub mod generic {
    pub use crate::add_relu::generic::add_relu;
    pub use crate::batchnorm2d::generic::{batchnorm2d_eval, batchnorm2d_train};
    pub use crate::conv2d::generic::conv2d;
    pub use crate::pool::generic::pool2d;
}
