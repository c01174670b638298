#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::{Device, Dtype};

#[amplifiable]
struct Net<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    // A plain number is not a layer: it needs `#[amp(skip)]`.
    temperature: f32,
    // `default` gives a plain number its built value; a module has none.
    #[amp(skip, default = 1.0)]
    relu: ReLU,
}

fn main() {}
