#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::{Device, Dtype};

#[amplifiable(forward = sequential, forward = manual)]
struct Net<E: Dtype, D: Device<E>> {
    #[amp(name = "a", name = "b")]
    fc: Linear<2, 2, E, D>,
    #[amp(skip)]
    #[amp(skip)]
    relu: ReLU,
}

#[amplifiable(crate = "amp_core", crate = "amp_core")]
struct Other<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
}

fn main() {}
