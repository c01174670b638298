#![allow(unused_imports)]
use amp_core::amplifiable;
use dfdx::nn::modules::Linear;
use dfdx::prelude::{Cpu, Device, Dtype};

#[amplifiable]
struct Net {
    fc: Linear<2, 2, f32, Cpu>,
}

fn main() {}
