//! `Cuda`: `relu(a + b)` runs the device-generic path (dfdx's add and ReLU) for now. The
//! kernels for it are in `scripts/gpu/pending/cuda-next.patch`, waiting for a GPU to check them.

use super::op::AddReluKernel;
use crate::cuda::context::DevPtr;
use dfdx::prelude::*;
use dfdx::tensor::{Cuda, CudaError};

impl AddReluKernel<f32> for Cuda {
    /// No kernel here, so nothing is ever saved.
    type Saved = std::convert::Infallible;

    fn add_relu_forward<S: Shape>(
        _a: &Tensor<S, f32, Cuda>,
        _b: &Tensor<S, f32, Cuda>,
        _record: bool,
    ) -> Result<Option<(Tensor<S, f32, Cuda>, Self::Saved)>, CudaError> {
        Ok(None)
    }

    fn add_relu_backward(
        _n: usize,
        saved: &Self::Saved,
        _gy: &DevPtr,
        _ga: &mut DevPtr,
        _gb: &mut DevPtr,
    ) -> Result<(), CudaError> {
        match *saved {}
    }
}
