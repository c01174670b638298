#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::Linear;
use dfdx::prelude::{Device, Dtype};

#[amplifiable]
struct Inner<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
}

// `inner` is an #[amplifiable] block: without `#[amp(block)]` its taps would reuse `first`'s
// layer index.
#[amplifiable]
struct Outer<E: Dtype, D: Device<E>> {
    first: Linear<2, 2, E, D>,
    inner: Inner<E, D>,
}

fn main() {}
