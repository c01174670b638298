//! Batch normalisation over the channel axis of NCHW images.

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
pub(crate) mod generic;
pub(crate) mod op;

use crate::NnDevice;
use dfdx::nn::tensor_collection::*;
use dfdx::nn::{BuildOnDevice, Module, ModuleMut};
use dfdx::prelude::*;

/// Batch norm for `(B, Const<C>, H, W)` images, matching PyTorch's
/// `BatchNorm2d(C)` defaults: `momentum = 0.1`, `epsilon = 1e-5`, affine
/// `scale = 1`, `bias = 0`, running mean 0 / variance 1.
///
/// - [`ModuleMut::forward_mut`]: training mode, normalises with the batch
///   statistics and updates the running statistics.
/// - [`Module::forward`]: evaluation mode, normalises with the running
///   statistics and leaves them unchanged.
///
/// Both accept any tape, so gradients flow in either mode when recorded.
#[derive(Debug, Clone)]
pub struct BatchNorm2D<const C: usize, E: Dtype, D: Storage<E>> {
    /// Affine scale (`gamma`).
    pub scale: Tensor<Rank1<C>, E, D>,
    /// Affine shift (`beta`).
    pub bias: Tensor<Rank1<C>, E, D>,
    /// Running mean, not trained by gradients.
    pub running_mean: Tensor<Rank1<C>, E, D>,
    /// Running (unbiased) variance, not trained by gradients.
    pub running_var: Tensor<Rank1<C>, E, D>,
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Weight of the new batch statistic in the running averages.
    pub momentum: f64,
}

impl<const C: usize, E: Dtype, D: Device<E>> TensorCollection<E, D> for BatchNorm2D<C, E, D> {
    type To<E2: Dtype, D2: Device<E2>> = BatchNorm2D<C, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "scale",
                    |s| &s.scale,
                    |s| &mut s.scale,
                    TensorOptions::reset_to_ones(),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_to_zeros(),
                ),
                Self::tensor(
                    "running_mean",
                    |s| &s.running_mean,
                    |s| &mut s.running_mean,
                    TensorOptions::detached(|t| t.try_fill_with_zeros()),
                ),
                Self::tensor(
                    "running_var",
                    |s| &s.running_var,
                    |s| &mut s.running_var,
                    TensorOptions::detached(|t| t.try_fill_with_ones()),
                ),
                Self::scalar(
                    "epsilon",
                    |s| &s.epsilon,
                    |s| &mut s.epsilon,
                    ScalarOptions::from_default(1e-5),
                ),
                Self::scalar(
                    "momentum",
                    |s| &s.momentum,
                    |s| &mut s.momentum,
                    ScalarOptions::from_default(0.1),
                ),
            ),
            |(scale, bias, running_mean, running_var, epsilon, momentum)| BatchNorm2D {
                scale,
                bias,
                running_mean,
                running_var,
                epsilon,
                momentum,
            },
        )
    }
}

/// Lets `dev.build_module::<BatchNorm2D<C, E, D>, E>()` work.
impl<const C: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for BatchNorm2D<C, E, D> {
    type Built = Self;
}

impl<B: Dim, const C: usize, H: Dim, W: Dim, E: Dtype, D: NnDevice<E>, T: Tape<E, D>>
    Module<Tensor<(B, Const<C>, H, W), E, D, T>> for BatchNorm2D<C, E, D>
{
    type Output = Tensor<(B, Const<C>, H, W), E, D, T>;
    type Error = D::Err;

    /// Evaluation mode: running statistics, not updated.
    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        self.eval(x, false)
    }
}

impl<B: Dim, const C: usize, H: Dim, W: Dim, E: Dtype, D: NnDevice<E>, T: Tape<E, D>>
    ModuleMut<Tensor<(B, Const<C>, H, W), E, D, T>> for BatchNorm2D<C, E, D>
{
    type Output = Tensor<(B, Const<C>, H, W), E, D, T>;
    type Error = D::Err;

    /// Training mode: batch statistics, running statistics updated.
    fn try_forward_mut(
        &mut self,
        x: Tensor<(B, Const<C>, H, W), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        self.train(x, false)
    }
}

type Img<B, const C: usize, H, W, E, D, T> = Tensor<(B, Const<C>, H, W), E, D, T>;

/// Batch norm followed by a ReLU, `relu(bn(x))`, as one op (the usual conv - BN - ReLU unit):
/// the same values as the module's forward and dfdx's ReLU after it (on `Cpu` the same bits,
/// gradients too), without keeping the pre-activation for the backward pass.
impl<const C: usize, E: Dtype, D: NnDevice<E>> BatchNorm2D<C, E, D> {
    /// Evaluation mode ([`Module::try_forward`]), then ReLU.
    pub fn try_forward_relu<B: Dim, H: Dim, W: Dim, T: Tape<E, D>>(
        &self,
        x: Img<B, C, H, W, E, D, T>,
    ) -> Result<Img<B, C, H, W, E, D, T>, D::Err> {
        self.eval(x, true)
    }

    /// Training mode ([`ModuleMut::try_forward_mut`]), then ReLU.
    pub fn try_forward_mut_relu<B: Dim, H: Dim, W: Dim, T: Tape<E, D>>(
        &mut self,
        x: Img<B, C, H, W, E, D, T>,
    ) -> Result<Img<B, C, H, W, E, D, T>, D::Err> {
        self.train(x, true)
    }

    fn eval<B: Dim, H: Dim, W: Dim, T: Tape<E, D>>(
        &self,
        x: Img<B, C, H, W, E, D, T>,
        relu: bool,
    ) -> Result<Img<B, C, H, W, E, D, T>, D::Err> {
        let (rm, rv) = (&self.running_mean, &self.running_var);
        D::batchnorm2d_eval(x, &self.scale, &self.bias, rm, rv, self.epsilon, relu)
    }

    fn train<B: Dim, H: Dim, W: Dim, T: Tape<E, D>>(
        &mut self,
        x: Img<B, C, H, W, E, D, T>,
        relu: bool,
    ) -> Result<Img<B, C, H, W, E, D, T>, D::Err> {
        let (rm, rv) = (&mut self.running_mean, &mut self.running_var);
        let (eps, mom) = (self.epsilon, self.momentum);
        D::batchnorm2d_train(x, &self.scale, &self.bias, rm, rv, eps, mom, relu)
    }
}
