//! A multi-layer perceptron: the smallest amplifiable network, for tests and quick experiments.

use amp_core::amplifiable;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

/// Three linear layers with ReLUs between them: `I -> H -> H -> O`.
#[amplifiable]
#[derive(Debug, Clone)]
pub struct Mlp<const I: usize, const H: usize, const O: usize, E: Dtype, D: Device<E>> {
    pub fc1: Linear<I, H, E, D>,
    #[amp(skip)]
    pub act1: ReLU,
    pub fc2: Linear<H, H, E, D>,
    #[amp(skip)]
    pub act2: ReLU,
    pub fc3: Linear<H, O, E, D>,
}
