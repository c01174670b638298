//! VGG for CIFAR (Simonyan & Zisserman 2015, as commonly adapted to 32x32 inputs): five
//! stages of 3x3 convolutions with ReLU, each closed by a 2x2 max pool; after five pools a
//! 32x32 image is 1x1x512, classified by one linear layer. `Vgg11` ... `Vgg19` have batch
//! norm after every convolution; `Vgg11NoBn` ... `Vgg19NoBn` are the original networks
//! (convolution with bias and ReLU only), where gradients can vanish.
//!
//! Candidate layers are the convolutions and the classifier, named `stage<s>.<i>.conv`
//! (`stage3.2.conv` is the third conv of the third stage) and `fc`.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2D, Flatten2D, MaxPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

/// conv 3x3 (stride 1, padding 1) - batch norm - ReLU; only the conv is a candidate. The
/// batch norm and the ReLU run as one op (`bn_relu!`).
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct ConvBnRelu<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    pub conv: Conv2D<I, O, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn: BatchNorm2D<O, E, D>,
}

block_forward!(ConvBnRelu<const I: usize, const O: usize>, I -> O, |t, x| {
    let h = fwd!(t.conv, x)?;
    bn_relu!(t.bn, h)
});

/// conv 3x3 (stride 1, padding 1, with bias) - ReLU: the unit of the original VGG.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct ConvRelu<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    pub conv: Conv2D<I, O, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub relu: ReLU,
}

/// Declares a VGG stage: conv units `0`, `1`, ... of one type (`I` -> `O`, then `O` -> `O`),
/// then a 2x2 max pool.
macro_rules! vgg_stage {
    ($(#[$attr:meta])* $Name:ident: $Unit:ident [$($f:ident $n:tt),*]) => {
        $(#[$attr])*
        #[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
            #[amp(block, name = "0")]
            pub c0: $Unit<I, O, E, D>,
            $(
                #[amp(block, name = $n)]
                pub $f: $Unit<O, O, E, D>,
            )*
            #[amp(skip)]
            pub pool: MaxPool2D<2, 2>,
        }
    };
}

vgg_stage!(/// One conv-BN-ReLU unit, then a 2x2 max pool.
    Stage1: ConvBnRelu []);
vgg_stage!(/// Two conv-BN-ReLU units, then a 2x2 max pool.
    Stage2: ConvBnRelu [c1 "1"]);
vgg_stage!(/// Three conv-BN-ReLU units, then a 2x2 max pool.
    Stage3: ConvBnRelu [c1 "1", c2 "2"]);
vgg_stage!(/// Four conv-BN-ReLU units, then a 2x2 max pool.
    Stage4: ConvBnRelu [c1 "1", c2 "2", c3 "3"]);
vgg_stage!(/// One conv-ReLU unit, then a 2x2 max pool.
    Stage1NoBn: ConvRelu []);
vgg_stage!(/// Two conv-ReLU units, then a 2x2 max pool.
    Stage2NoBn: ConvRelu [c1 "1"]);
vgg_stage!(/// Three conv-ReLU units, then a 2x2 max pool.
    Stage3NoBn: ConvRelu [c1 "1", c2 "2"]);
vgg_stage!(/// Four conv-ReLU units, then a 2x2 max pool.
    Stage4NoBn: ConvRelu [c1 "1", c2 "2", c3 "3"]);

/// Declares a VGG for 32x32 inputs from its five stage types (64, 128, 256, 512, 512
/// channels) and a linear classifier with `C` outputs.
macro_rules! vgg {
    ($(#[$attr:meta])* $Name:ident: $S1:ident, $S2:ident, $S3:ident, $S4:ident, $S5:ident) => {
        $(#[$attr])*
        #[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<const C: usize, E: Dtype, D: Device<E>> {
            #[amp(block)]
            pub stage1: $S1<3, 64, E, D>,
            #[amp(block)]
            pub stage2: $S2<64, 128, E, D>,
            #[amp(block)]
            pub stage3: $S3<128, 256, E, D>,
            #[amp(block)]
            pub stage4: $S4<256, 512, E, D>,
            #[amp(block)]
            pub stage5: $S5<512, 512, E, D>,
            #[amp(skip)]
            pub flatten: Flatten2D<512>,
            pub fc: Linear<512, C, E, D>,
        }
    };
}

vgg!(
    /// VGG-11 with batch norm: 8 convolutions (64, M, 128, M, 256x2, M, 512x2, M, 512x2, M).
    Vgg11: Stage1, Stage1, Stage2, Stage2, Stage2
);
vgg!(
    /// VGG-13 with batch norm: 10 convolutions (64x2, M, 128x2, M, 256x2, M, 512x2, M, 512x2, M).
    Vgg13: Stage2, Stage2, Stage2, Stage2, Stage2
);
vgg!(
    /// VGG-16 with batch norm: 13 convolutions (64x2, M, 128x2, M, 256x3, M, 512x3, M, 512x3, M).
    Vgg16: Stage2, Stage2, Stage3, Stage3, Stage3
);
vgg!(
    /// VGG-19 with batch norm: 16 convolutions (64x2, M, 128x2, M, 256x4, M, 512x4, M, 512x4, M).
    Vgg19: Stage2, Stage2, Stage4, Stage4, Stage4
);
vgg!(
    /// VGG-11 without batch norm (the original: convolution with bias, ReLU).
    Vgg11NoBn: Stage1NoBn, Stage1NoBn, Stage2NoBn, Stage2NoBn, Stage2NoBn
);
vgg!(
    /// VGG-13 without batch norm.
    Vgg13NoBn: Stage2NoBn, Stage2NoBn, Stage2NoBn, Stage2NoBn, Stage2NoBn
);
vgg!(
    /// VGG-16 without batch norm.
    Vgg16NoBn: Stage2NoBn, Stage2NoBn, Stage3NoBn, Stage3NoBn, Stage3NoBn
);
vgg!(
    /// VGG-19 without batch norm.
    Vgg19NoBn: Stage2NoBn, Stage2NoBn, Stage4NoBn, Stage4NoBn, Stage4NoBn
);
