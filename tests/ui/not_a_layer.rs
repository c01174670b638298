#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::Linear;
use dfdx::prelude::{Cpu, Device, Dtype};

#[amplifiable]
struct Net<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    label: String,
}

fn main() {}
