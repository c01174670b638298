//! Flattening image features into the `(B, Const<N>)` rows a dfdx `Linear`
//! expects.

use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::*;

/// Flattens `(B, Const<C>, H, W)` (runtime `H, W`) to `(B, Const<N>)`.
///
/// `N` must equal `C * H * W`; since `H, W` are only known at run time this is
/// checked when called and panics with the offending sizes otherwise (a wrong
/// network definition is a programmer error). The reshape is free for
/// contiguous inputs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flatten2D<const N: usize>;

impl<const N: usize> ZeroSizedModule for Flatten2D<N> {}
impl<const N: usize> NonMutableModule for Flatten2D<N> {}

impl<
        const N: usize,
        B: Dim,
        const C: usize,
        H: Dim,
        W: Dim,
        E: Dtype,
        D: Device<E>,
        T: Tape<E, D>,
    > Module<Tensor<(B, Const<C>, H, W), E, D, T>> for Flatten2D<N>
{
    type Output = Tensor<(B, Const<N>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, _, h, w) = *x.shape();
        let (h, w) = (h.size(), w.size());
        assert!(
            C * h * w == N,
            "Flatten2D<{N}>: input has C*H*W = {C}*{h}*{w} = {} features, expected {N}",
            C * h * w
        );
        x.try_reshape_like(&(b, Const::<N>))
    }
}
