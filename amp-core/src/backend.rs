//! The few operations on raw gradient buffers that taps and the trainer need.
//!
//! dfdx's public tensor ops always allocate a new tensor, but a tap must scale a gradient
//! *in place* inside the backward pass (`Gradients::get_or_alloc_mut` hands out the raw
//! buffer), and the trainer reads per-layer gradient norms every step. Those two operations
//! are the whole backend surface of amp, so they live in one small trait, implemented for
//! each dfdx device: `Cpu` through its `Vec` buffer, `Cuda` through cudarc.

use dfdx::prelude::*;
use dfdx::tensor::Storage;
use rayon::prelude::*;

/// A dfdx device on which amp can scale gradient buffers in place and measure them.
pub trait AmpDevice<E: Dtype>: Device<E> {
    /// Sum of squares of every element of a gradient buffer, accumulated in f64.
    fn grad_sq_norm(&self, grad: &<Self as Storage<E>>::Vec) -> f64;
    /// Multiplies every element of a gradient buffer by `k`, in place.
    fn grad_scale(&self, grad: &mut <Self as Storage<E>>::Vec, k: f64);
    /// Overwrites a buffer (of the same length) with host values: how a checkpoint's
    /// optimizer state goes back into the buffers dfdx's SGD kernel updates.
    fn buffer_write(&self, buf: &mut <Self as Storage<E>>::Vec, src: &[E]);
}

/// Elements per parallel chunk on `Cpu`. Fixed, so that a norm is summed in the same order
/// whatever the number of threads (bit-identical results from run to run).
const CPU_CHUNK: usize = 1 << 15;

macro_rules! cpu_impl {
    ($e:ty) => {
        impl AmpDevice<$e> for Cpu {
            fn grad_sq_norm(&self, grad: &<Self as Storage<$e>>::Vec) -> f64 {
                let partial: Vec<f64> = grad
                    .par_chunks(CPU_CHUNK)
                    .map(|c| c.iter().map(|&g| (g as f64) * (g as f64)).sum::<f64>())
                    .collect();
                partial.iter().sum()
            }
            fn grad_scale(&self, grad: &mut <Self as Storage<$e>>::Vec, k: f64) {
                let k = k as $e;
                grad.par_chunks_mut(CPU_CHUNK)
                    .for_each(|c| c.iter_mut().for_each(|g| *g *= k));
            }
            fn buffer_write(&self, buf: &mut <Self as Storage<$e>>::Vec, src: &[$e]) {
                buf.copy_from_slice(src);
            }
        }
    };
}
cpu_impl!(f32);
cpu_impl!(f64);

#[cfg(feature = "cuda")]
mod cuda {
    use super::AmpDevice;
    use dfdx::tensor::Cuda;
    use dfdx::tensor::Storage;

    // The buffers are copied through the host: these two calls run once per tapped layer per
    // step, far from the cost of the layers themselves, and need no kernel of their own.
    macro_rules! cuda_impl {
        ($e:ty) => {
            impl AmpDevice<$e> for Cuda {
                fn grad_sq_norm(&self, grad: &<Self as Storage<$e>>::Vec) -> f64 {
                    let slice: &cudarc::driver::CudaSlice<$e> = grad;
                    let host = slice
                        .device()
                        .dtoh_sync_copy(slice)
                        .expect("amp: copying a gradient from the GPU failed");
                    host.iter().map(|&g| (g as f64) * (g as f64)).sum()
                }
                fn grad_scale(&self, grad: &mut <Self as Storage<$e>>::Vec, k: f64) {
                    let slice: &mut cudarc::driver::CudaSlice<$e> = grad;
                    let dev = slice.device();
                    let mut host = dev
                        .dtoh_sync_copy(slice)
                        .expect("amp: copying a gradient from the GPU failed");
                    let k = k as $e;
                    host.iter_mut().for_each(|g| *g *= k);
                    dev.htod_sync_copy_into(&host, slice)
                        .expect("amp: copying a gradient to the GPU failed");
                }
                fn buffer_write(&self, buf: &mut <Self as Storage<$e>>::Vec, src: &[$e]) {
                    let slice: &mut cudarc::driver::CudaSlice<$e> = buf;
                    let dev = slice.device();
                    dev.htod_sync_copy_into(src, slice)
                        .expect("amp: copying optimizer state to the GPU failed");
                }
            }
        };
    }
    cuda_impl!(f32);
    cuda_impl!(f64);
}

/// The element types amp trains in: what dfdx's parameterized layers need to be built
/// (`Linear` initializes from a uniform distribution over floats).
pub trait AmpDtype: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform {}
impl<E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform> AmpDtype for E {}
