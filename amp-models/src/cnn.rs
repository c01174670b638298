//! A small convolutional network: quick to train on CPU, deep enough to have several
//! candidate layers with different gradient behaviour.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2D, GlobalAvgPool2D, MaxPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

/// conv(3->16) - pool - conv(16->32) - pool - conv(32->64) - global average - linear(64->C).
///
/// Candidates: the three convolutions and the classifier. Works on any image size of at least
/// 4x4 (the pools halve it twice).
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct SmallCnn<const C: usize, E: Dtype, D: Device<E>> {
    pub conv1: Conv2D<3, 16, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<16, E, D>,
    #[amp(skip)]
    pub relu1: ReLU,
    #[amp(skip)]
    pub pool1: MaxPool2D<2, 2>,
    pub conv2: Conv2D<16, 32, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<32, E, D>,
    #[amp(skip)]
    pub relu2: ReLU,
    #[amp(skip)]
    pub pool2: MaxPool2D<2, 2>,
    pub conv3: Conv2D<32, 64, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn3: BatchNorm2D<64, E, D>,
    #[amp(skip)]
    pub relu3: ReLU,
    #[amp(skip)]
    pub gap: GlobalAvgPool2D,
    pub fc: Linear<64, C, E, D>,
}
