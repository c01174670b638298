//! The backend trait that layers dispatch through.
//!
//! Layers are written once against [`NnDevice`]; each device decides how to run the five
//! primitive ops. A device with kernels of its own (`Cpu`; `Cuda` with f32 behind the `cuda`
//! feature) implements each op's kernel trait (`conv2d/op.rs`, `pool/op.rs`,
//! `batchnorm2d/op.rs`, `add_relu/op.rs`) and routes the methods to the op's wiring there;
//! any other device keeps the defaults, [`crate::generic`], composed of public dfdx ops and
//! therefore working wherever dfdx does.

use dfdx::prelude::*;

/// Which reduction a pooling window applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum over the window; padding never wins (acts as `-inf`).
    Max,
    /// Mean over the window; padding counts as zeros
    /// (PyTorch's `count_include_pad=True`, its default).
    Avg,
}

/// Convolution, pooling, batch-norm and residual-add primitives for a dfdx device.
///
/// All ops take batched NCHW images `(B, Const<C>, H, W)` with a gradient tape
/// `T` (`OwnedTape` to record backward ops, `NoneTape` for inference) and
/// return tensors with runtime spatial sizes, because stable Rust cannot
/// compute output sizes in const generics.
pub trait NnDevice<E: Dtype>: Device<E> {
    // Every method defaults to the device-generic path (public dfdx ops only), which any
    // dfdx device runs; `Cpu` and `Cuda` (f32) override them all with their fast kernels.
    /// 2D cross-correlation with square `K x K` kernels, like
    /// `torch.nn.functional.conv2d(x, weight, bias, stride, padding)`.
    fn conv2d<
        B: Dim,
        const C: usize,
        H: Dim,
        W: Dim,
        const O: usize,
        const K: usize,
        T: Tape<E, Self>,
    >(
        x: Tensor<(B, Const<C>, H, W), E, Self, T>,
        weight: &Tensor<Rank4<O, C, K, K>, E, Self>,
        bias: Option<&Tensor<Rank1<O>, E, Self>>,
        stride: usize,
        padding: usize,
    ) -> Result<Tensor<(B, Const<O>, usize, usize), E, Self, T>, Self::Err> {
        crate::generic::conv2d(x, weight, bias, stride, padding)
    }

    /// Square-window max/average pooling (see [`PoolKind`] for padding).
    fn pool2d<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, Const<C>, H, W), E, Self, T>,
        kind: PoolKind,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Tensor<(B, Const<C>, usize, usize), E, Self, T>, Self::Err> {
        crate::generic::pool2d(x, kind, kernel, stride, padding)
    }

    /// Training-mode batch norm: normalises with batch statistics (biased
    /// variance) and updates the running statistics in place with
    /// `running = (1 - momentum) * running + momentum * batch_stat`, using the
    /// unbiased variance for `running_var`, as PyTorch does. With `relu`, returns
    /// `relu(batch_norm(x))`: what dfdx's ReLU after it gives (on `Cpu` the same bits), in one
    /// op where the device's kernels fuse it (`batchnorm2d/op.rs`).
    #[allow(clippy::too_many_arguments)]
    fn batchnorm2d_train<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, Const<C>, H, W), E, Self, T>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running_mean: &mut Tensor<Rank1<C>, E, Self>,
        running_var: &mut Tensor<Rank1<C>, E, Self>,
        epsilon: f64,
        momentum: f64,
        relu: bool,
    ) -> Result<Tensor<(B, Const<C>, H, W), E, Self, T>, Self::Err> {
        let (rm, rv) = (running_mean, running_var);
        let y = crate::generic::batchnorm2d_train(x, scale, bias, rm, rv, epsilon, momentum)?;
        crate::batchnorm2d::op::then_relu(y, relu)
    }

    /// Inference-mode batch norm with the running statistics (not updated).
    /// Gradients still flow to `x`, `scale` and `bias` when `T` records them. `relu` as for
    /// [`NnDevice::batchnorm2d_train`].
    fn batchnorm2d_eval<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, Const<C>, H, W), E, Self, T>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running_mean: &Tensor<Rank1<C>, E, Self>,
        running_var: &Tensor<Rank1<C>, E, Self>,
        epsilon: f64,
        relu: bool,
    ) -> Result<Tensor<(B, Const<C>, H, W), E, Self, T>, Self::Err> {
        let y =
            crate::generic::batchnorm2d_eval(x, scale, bias, running_mean, running_var, epsilon)?;
        crate::batchnorm2d::op::then_relu(y, relu)
    }

    /// `relu(a + b)` for tensors of equal shapes (the end of a residual block); see
    /// [`crate::add_relu()`].
    fn add_relu<S: Shape, T: Tape<E, Self> + Merge<R>, R: Tape<E, Self>>(
        a: Tensor<S, E, Self, T>,
        b: Tensor<S, E, Self, R>,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err> {
        crate::generic::add_relu(a, b)
    }
}

/// `NnDevice` for a device that implements every op's kernel trait (`conv2d/op.rs`,
/// `pool/op.rs`, `batchnorm2d/op.rs`, `add_relu/op.rs`): each method runs the op's wiring on
/// the device's kernels. Arguments: the element type, then the impl's header.
macro_rules! with_kernels {
    ($E:ty, $($header:tt)*) => {
        $($header)* {
            fn conv2d<
                B: Dim,
                const C: usize,
                H: Dim,
                W: Dim,
                const O: usize,
                const K: usize,
                T: Tape<$E, Self>,
            >(
                x: Tensor<(B, Const<C>, H, W), $E, Self, T>,
                weight: &Tensor<Rank4<O, C, K, K>, $E, Self>,
                bias: Option<&Tensor<Rank1<O>, $E, Self>>,
                stride: usize,
                padding: usize,
            ) -> Result<Tensor<(B, Const<O>, usize, usize), $E, Self, T>, Self::Err> {
                crate::conv2d::op::conv2d(x, weight, bias, stride, padding)
            }

            fn pool2d<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<$E, Self>>(
                x: Tensor<(B, Const<C>, H, W), $E, Self, T>,
                kind: PoolKind,
                kernel: usize,
                stride: usize,
                padding: usize,
            ) -> Result<Tensor<(B, Const<C>, usize, usize), $E, Self, T>, Self::Err> {
                crate::pool::op::pool2d(x, kind, kernel, stride, padding)
            }

            fn batchnorm2d_train<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<$E, Self>>(
                x: Tensor<(B, Const<C>, H, W), $E, Self, T>,
                scale: &Tensor<Rank1<C>, $E, Self>,
                bias: &Tensor<Rank1<C>, $E, Self>,
                running_mean: &mut Tensor<Rank1<C>, $E, Self>,
                running_var: &mut Tensor<Rank1<C>, $E, Self>,
                epsilon: f64,
                momentum: f64,
                relu: bool,
            ) -> Result<Tensor<(B, Const<C>, H, W), $E, Self, T>, Self::Err> {
                let (rm, rv) = (running_mean, running_var);
                crate::batchnorm2d::op::train(x, scale, bias, rm, rv, epsilon, momentum, relu)
            }

            fn batchnorm2d_eval<B: Dim, const C: usize, H: Dim, W: Dim, T: Tape<$E, Self>>(
                x: Tensor<(B, Const<C>, H, W), $E, Self, T>,
                scale: &Tensor<Rank1<C>, $E, Self>,
                bias: &Tensor<Rank1<C>, $E, Self>,
                running_mean: &Tensor<Rank1<C>, $E, Self>,
                running_var: &Tensor<Rank1<C>, $E, Self>,
                epsilon: f64,
                relu: bool,
            ) -> Result<Tensor<(B, Const<C>, H, W), $E, Self, T>, Self::Err> {
                let (rm, rv) = (running_mean, running_var);
                crate::batchnorm2d::op::eval(x, scale, bias, rm, rv, epsilon, relu)
            }

            fn add_relu<S: Shape, T: Tape<$E, Self> + Merge<R>, R: Tape<$E, Self>>(
                a: Tensor<S, $E, Self, T>,
                b: Tensor<S, $E, Self, R>,
            ) -> Result<Tensor<S, $E, Self, T>, Self::Err> {
                crate::add_relu::op::add_relu(a, b)
            }
        }
    };
}

// Cpu: amp-nn's hand-written kernels (`*/cpu.rs`), f32 and f64.
with_kernels!(E, impl<E: crate::CpuFloat> NnDevice<E> for Cpu where Cpu: Device<E>);

// CUDA, f32: amp-nn's device-resident kernels (`*/cuda.rs`). Each op falls back to the
// device-generic path, saying so once, if the kernels cannot run on the GPU (see
// `crate::cuda`).
#[cfg(feature = "cuda")]
with_kernels!(f32, impl NnDevice<f32> for dfdx::tensor::Cuda);

/// CUDA, f64: the device-generic path (amp-nn's CUDA kernels are f32).
#[cfg(feature = "cuda")]
impl NnDevice<f64> for dfdx::tensor::Cuda {}
