#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::{Device, Dtype};

// `relu` has no parameters: as a candidate its gradient norm would always be 0.
#[amplifiable]
struct Net<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    relu: ReLU,
}

fn main() {}
