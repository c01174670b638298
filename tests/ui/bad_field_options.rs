#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::Linear;
use dfdx::prelude::{Cpu, Device, Dtype};

// Every misuse is reported, each at its own place.
#[amplifiable]
struct Net<E: Dtype, D: Device<E>> {
    #[amp(skp)]
    fc1: Linear<2, 2, E, D>,
    #[amp(skip, block)]
    fc2: Linear<2, 2, E, D>,
}

fn main() {}
