//! Which modules can be candidate layers: those with parameters, and not nested blocks.
//!
//! A candidate's tap measures and amplifies the gradient at its output, and its statistics
//! are those of its own parameters. Two mistakes used to compile silently and give wrong
//! amplification: a parameterless module (`ReLU`) as a candidate (parameter-gradient norm
//! always 0, yet selectable by `all`, random selection or `direction = "below"`), and a nested
//! `#[amplifiable]` block declared without `#[amp(block)]` (its taps reused the parent's
//! numbering, so two layers shared one index). `#[amplifiable]` asks every candidate field for
//! [`Candidate`], which only layers with parameters implement and which a block can never
//! implement, so both are compile errors at the field.

use dfdx::nn::modules::{
    BatchNorm1D, Bias2D, Embedding, LayerNorm1D, Linear, MultiHeadAttention, Repeated, Residual,
    UnbiasedLinear,
};
use dfdx::nn::prelu::{PReLU, PReLU1D};
use dfdx::prelude::*;

/// A module that can be a candidate layer of an `#[amplifiable]` struct: one with trainable
/// parameters, tapped as a whole.
///
/// Implemented for dfdx's layers with parameters and amp-nn's; implement it for your own
/// layer with parameters (`impl<E: Dtype, D: Device<E>> amp_core::Candidate for MyLayer<E, D> {}`).
/// A `Residual` or `Repeated` wrapper, or a tuple whose first module is a candidate, is one too.
/// `#[amplifiable]` structs are blocks, never candidates: nest them with `#[amp(block)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a candidate layer",
    label = "not a module with parameters (or a nested #[amplifiable] block)",
    note = "a nested #[amplifiable] block: mark the field `#[amp(block)]` (without it, the block's taps would reuse this struct's layer numbering and mix two layers)",
    note = "a module without parameters (activation, pooling, flatten, dropout): mark the field `#[amp(skip)]`; it still runs in the forward pass",
    note = "a layer of your own with parameters: `impl amp_core::Candidate for YourLayer {{}}`"
)]
pub trait Candidate {}

/// Implemented by nothing: `#[amplifiable]` implements [`Candidate`] for each struct it
/// declares under the bound `Self: NotABlock`, so using a block as a candidate layer fails on
/// this trait with a message that names the fix (and no one can implement `Candidate` for a
/// block by hand).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is an #[amplifiable] block, not a candidate layer",
    label = "mark this field `#[amp(block)]`",
    note = "without `#[amp(block)]` the block's own taps would reuse the parent's layer numbering: two layers would share one index, be amplified together and mix their statistics"
)]
pub trait NotABlock {}

macro_rules! candidates {
    ($($ty:ident <$(const $c:ident),*>),* $(,)?) => {
        $(impl<$(const $c: usize,)* E: Dtype, D: Storage<E>> Candidate for $ty<$($c,)* E, D> {})*
    };
}

candidates!(
    Linear<const I, const O>,
    UnbiasedLinear<const I, const O>,
    Embedding<const V, const M>,
    LayerNorm1D<const M>,
    BatchNorm1D<const C>,
    Bias2D<const C>,
);

impl<E: Dtype, D: Device<E>> Candidate for PReLU<E, D> {}
impl<C: ConstDim, E: Dtype, D: Device<E>> Candidate for PReLU1D<C, E, D> {}
impl<const M: usize, const H: usize, const K: usize, const V: usize, E: Dtype, D: Storage<E>>
    Candidate for MultiHeadAttention<M, H, K, V, E, D>
{
}
impl<F: Candidate> Candidate for Residual<F> {}
impl<T: Candidate, const N: usize> Candidate for Repeated<T, N> {}

macro_rules! tuple_candidates {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first: Candidate $(, $rest)*> Candidate for ($first, $($rest,)*) {}
    };
}
tuple_candidates!(A);
tuple_candidates!(A, B);
tuple_candidates!(A, B, C);
tuple_candidates!(A, B, C, F);
tuple_candidates!(A, B, C, F, G);
tuple_candidates!(A, B, C, F, G, H);
