//! 2D convolution layers: [`Conv2D`] (with bias) and [`Conv2DNoBias`] (the
//! usual choice before a batch norm, which would cancel a bias anyway).

pub(crate) mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
pub(crate) mod generic;
mod im2col;
pub(crate) mod op;

use crate::NnDevice;
use dfdx::nn::tensor_collection::*;
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::*;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;
use rand_distr::Uniform;

/// PyTorch's default conv init (`kaiming_uniform_(a=sqrt(5))`, which reduces to
/// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`), used for weights and bias alike.
fn reset_uniform<S: Shape, E: Dtype + Float + SampleUniform, D: Device<E>>(
    t: &mut Tensor<S, E, D>,
    fan_in: usize,
) -> Result<(), D::Err> {
    let b: E = E::one() / E::from_usize(fan_in).unwrap().sqrt();
    t.try_fill_with_distr(Uniform::new(-b, b))
}

/// 2D convolution with bias: `I` input channels, `O` output channels, square
/// `K x K` kernel, stride `S`, zero padding `P`.
///
/// Input `(B, Const<I>, H, W)` with any dims, output
/// `(B, Const<O>, usize, usize)` of size `(H + 2P - K) / S + 1`.
///
/// ```rust
/// # use dfdx::prelude::*;
/// # use amp_nn::Conv2D;
/// let dev: Cpu = Default::default();
/// let conv: Conv2D<3, 8, 3, 1, 1, f32, Cpu> = BuildModule::build(&dev);
/// let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 5, 7));
/// let y = conv.forward(x);
/// assert_eq!(y.shape(), &(2, Const::<8>, 5, 7));
/// ```
#[derive(Debug, Clone)]
pub struct Conv2D<
    const I: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    E: Dtype,
    D: Storage<E>,
> {
    /// Filters, PyTorch layout `(out, in, kh, kw)`.
    pub weight: Tensor<Rank4<O, I, K, K>, E, D>,
    /// Per-output-channel bias.
    pub bias: Tensor<Rank1<O>, E, D>,
}

/// 2D convolution without bias; see [`Conv2D`].
#[derive(Debug, Clone)]
pub struct Conv2DNoBias<
    const I: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    E: Dtype,
    D: Storage<E>,
> {
    /// Filters, PyTorch layout `(out, in, kh, kw)`.
    pub weight: Tensor<Rank4<O, I, K, K>, E, D>,
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    TensorCollection<E, D> for Conv2D<I, O, K, S, P, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2D<I, O, K, S, P, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(|t| reset_uniform(t, I * K * K)),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(|t| reset_uniform(t, I * K * K)),
                ),
            ),
            |(weight, bias)| Conv2D { weight, bias },
        )
    }
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    TensorCollection<E, D> for Conv2DNoBias<I, O, K, S, P, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2DNoBias<I, O, K, S, P, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            Self::tensor(
                "weight",
                |s| &s.weight,
                |s| &mut s.weight,
                TensorOptions::reset_with(|t| reset_uniform(t, I * K * K)),
            ),
            |weight| Conv2DNoBias { weight },
        )
    }
}

/// Lets `dev.build_module::<Conv2D<..., E, D>, E>()` work like for dfdx's
/// builder types.
impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    BuildOnDevice<D, E> for Conv2D<I, O, K, S, P, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type Built = Self;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    BuildOnDevice<D, E> for Conv2DNoBias<I, O, K, S, P, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type Built = Self;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    NonMutableModule for Conv2D<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: Storage<E>,
{
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D>
    NonMutableModule for Conv2DNoBias<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: Storage<E>,
{
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E,
        D,
        B,
        H,
        W,
        T,
    > Module<Tensor<(B, Const<I>, H, W), E, D, T>> for Conv2D<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: NnDevice<E>,
    B: Dim,
    H: Dim,
    W: Dim,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<O>, usize, usize), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<I>, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        D::conv2d(x, &self.weight, Some(&self.bias), S, P)
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E,
        D,
        B,
        H,
        W,
        T,
    > Module<Tensor<(B, Const<I>, H, W), E, D, T>> for Conv2DNoBias<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: NnDevice<E>,
    B: Dim,
    H: Dim,
    W: Dim,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<O>, usize, usize), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<I>, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        D::conv2d(x, &self.weight, None, S, P)
    }
}
