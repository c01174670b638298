//! VGG for CIFAR (Simonyan & Zisserman 2015, with batch norm, as commonly adapted to 32x32
//! inputs): stages of 3x3 convolutions with batch norm and ReLU, each closed by a 2x2 max
//! pool; after five pools a 32x32 image is 1x1x512, classified by one linear layer.
//!
//! Candidate layers are the convolutions and the classifier, named `stage<s>.<i>`
//! (`stage3.2` is the third conv of the third stage) and `fc`.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2D, Flatten2D, MaxPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

/// conv 3x3 (stride 1, padding 1) - batch norm - ReLU; only the conv is a candidate.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct ConvBnRelu<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    pub conv: Conv2D<I, O, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn: BatchNorm2D<O, E, D>,
    #[amp(skip)]
    pub relu: ReLU,
}

/// One conv unit, then a 2x2 max pool.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Stage1<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    #[amp(block, name = "0")]
    pub c0: ConvBnRelu<I, O, E, D>,
    #[amp(skip)]
    pub pool: MaxPool2D<2, 2>,
}

/// Two conv units, then a 2x2 max pool.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Stage2<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    #[amp(block, name = "0")]
    pub c0: ConvBnRelu<I, O, E, D>,
    #[amp(block, name = "1")]
    pub c1: ConvBnRelu<O, O, E, D>,
    #[amp(skip)]
    pub pool: MaxPool2D<2, 2>,
}

/// Four conv units, then a 2x2 max pool.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Stage4<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    #[amp(block, name = "0")]
    pub c0: ConvBnRelu<I, O, E, D>,
    #[amp(block, name = "1")]
    pub c1: ConvBnRelu<O, O, E, D>,
    #[amp(block, name = "2")]
    pub c2: ConvBnRelu<O, O, E, D>,
    #[amp(block, name = "3")]
    pub c3: ConvBnRelu<O, O, E, D>,
    #[amp(skip)]
    pub pool: MaxPool2D<2, 2>,
}

/// VGG-11 for 32x32 inputs: 8 convolutions (64, M, 128, M, 256x2, M, 512x2, M, 512x2, M) and a
/// linear classifier with `C` outputs.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Vgg11<const C: usize, E: Dtype, D: Device<E>> {
    #[amp(block)]
    pub stage1: Stage1<3, 64, E, D>,
    #[amp(block)]
    pub stage2: Stage1<64, 128, E, D>,
    #[amp(block)]
    pub stage3: Stage2<128, 256, E, D>,
    #[amp(block)]
    pub stage4: Stage2<256, 512, E, D>,
    #[amp(block)]
    pub stage5: Stage2<512, 512, E, D>,
    #[amp(skip)]
    pub flatten: Flatten2D<512>,
    pub fc: Linear<512, C, E, D>,
}

/// VGG-19 for 32x32 inputs: 16 convolutions (64x2, M, 128x2, M, 256x4, M, 512x4, M, 512x4, M)
/// and a linear classifier with `C` outputs.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Vgg19<const C: usize, E: Dtype, D: Device<E>> {
    #[amp(block)]
    pub stage1: Stage2<3, 64, E, D>,
    #[amp(block)]
    pub stage2: Stage2<64, 128, E, D>,
    #[amp(block)]
    pub stage3: Stage4<128, 256, E, D>,
    #[amp(block)]
    pub stage4: Stage4<256, 512, E, D>,
    #[amp(block)]
    pub stage5: Stage4<512, 512, E, D>,
    #[amp(skip)]
    pub flatten: Flatten2D<512>,
    pub fc: Linear<512, C, E, D>,
}
