//! Bottleneck ResNets for CIFAR (He et al. 2016, expansion 4, as in torchvision with the
//! stride on the 3x3 convolution): ResNet-50 ([3, 4, 6, 3] blocks) and ResNet-101
//! ([3, 4, 23, 3]), with the CIFAR stem of [`crate::resnet`] (3x3 stride 1, no pooling).
//!
//! Each stage starts with a block whose shortcut is a 1x1 projection with batch norm (stride
//! 1 in stage 1, where only the width changes from 64 to 256; stride 2 after). Candidate
//! layers are the block convolutions and projections (`layer3.0.conv2`, `layer3.0.shortcut`):
//! 52 for ResNet-50, 103 for ResNet-101; the stem and the classifier are not candidates.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2DNoBias, GlobalAvgPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

/// 1x1 (`C` -> `M`) - 3x3 (`M` -> `M`) - 1x1 (`M` -> `C`), each with batch norm, plus the
/// identity: relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1 x)))))) + x).
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Bottleneck<const C: usize, const M: usize, E: Dtype, D: Device<E>> {
    pub conv1: Conv2DNoBias<C, M, 1, 1, 0, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<M, E, D>,
    pub conv2: Conv2DNoBias<M, M, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<M, E, D>,
    pub conv3: Conv2DNoBias<M, C, 1, 1, 0, E, D>,
    #[amp(skip)]
    pub bn3: BatchNorm2D<C, E, D>,
}

/// A bottleneck block from `I` to `O` channels at stride `S` (on the 3x3 convolution), with
/// a 1x1 stride-`S` projection shortcut and batch norm.
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct BottleneckDown<
    const I: usize,
    const M: usize,
    const O: usize,
    const S: usize,
    E: Dtype,
    D: Device<E>,
> {
    pub conv1: Conv2DNoBias<I, M, 1, 1, 0, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<M, E, D>,
    pub conv2: Conv2DNoBias<M, M, 3, S, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<M, E, D>,
    pub conv3: Conv2DNoBias<M, O, 1, 1, 0, E, D>,
    #[amp(skip)]
    pub bn3: BatchNorm2D<O, E, D>,
    pub shortcut: Conv2DNoBias<I, O, 1, S, 0, E, D>,
    #[amp(skip)]
    pub shortcut_bn: BatchNorm2D<O, E, D>,
}

block_forward!(Bottleneck<const C: usize, const M: usize>, C -> C, |t, x| {
    let h = fwd!(t.conv1, x.with_empty_tape())?;
    let h = bn_relu!(t.bn1, h)?;
    let h = fwd!(t.conv2, h)?;
    let h = bn_relu!(t.bn2, h)?;
    let h = fwd!(t.conv3, h)?;
    amp_nn::add_relu(fwd!(t.bn3, h)?, x)
});

block_forward!(
    BottleneckDown<const I: usize, const M: usize, const O: usize, const S: usize>,
    I -> O,
    |t, x| {
        let s = fwd!(t.shortcut, x.with_empty_tape())?;
        let s = fwd!(t.shortcut_bn, s)?;
        let h = fwd!(t.conv1, x)?;
        let h = bn_relu!(t.bn1, h)?;
        let h = fwd!(t.conv2, h)?;
        let h = bn_relu!(t.bn2, h)?;
        let h = fwd!(t.conv3, h)?;
        amp_nn::add_relu(fwd!(t.bn3, h)?, s)
    }
);

stage! {
    /// A projection bottleneck block, then two identity ones.
    BottleneckStage3<const I: usize, const M: usize, const O: usize, const S: usize>(I -> O) {
        first: BottleneckDown<I, M, O, S, E, D>,
        rest: Bottleneck<O, M, E, D> => [b1 "1", b2 "2"],
    }
}

stage! {
    /// A projection bottleneck block, then three identity ones.
    BottleneckStage4<const I: usize, const M: usize, const O: usize, const S: usize>(I -> O) {
        first: BottleneckDown<I, M, O, S, E, D>,
        rest: Bottleneck<O, M, E, D> => [b1 "1", b2 "2", b3 "3"],
    }
}

stage! {
    /// A projection bottleneck block, then five identity ones.
    BottleneckStage6<const I: usize, const M: usize, const O: usize, const S: usize>(I -> O) {
        first: BottleneckDown<I, M, O, S, E, D>,
        rest: Bottleneck<O, M, E, D> => [b1 "1", b2 "2", b3 "3", b4 "4", b5 "5"],
    }
}

stage! {
    /// A projection bottleneck block, then 22 identity ones (ResNet-101's stage 3).
    BottleneckStage23<const I: usize, const M: usize, const O: usize, const S: usize>(I -> O) {
        first: BottleneckDown<I, M, O, S, E, D>,
        rest: Bottleneck<O, M, E, D> => [
            b1 "1", b2 "2", b3 "3", b4 "4", b5 "5", b6 "6", b7 "7", b8 "8", b9 "9", b10 "10",
            b11 "11", b12 "12", b13 "13", b14 "14", b15 "15", b16 "16", b17 "17", b18 "18",
            b19 "19", b20 "20", b21 "21", b22 "22",
        ],
    }
}

/// Declares a bottleneck ResNet for 32x32 inputs from its four stage types.
macro_rules! bottleneck_resnet {
    ($(#[$attr:meta])* $Name:ident: $S1:ident, $S2:ident, $S3:ident, $S4:ident) => {
        $(#[$attr])*
        #[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<const C: usize, E: Dtype, D: Device<E>> {
            #[amp(skip)]
            pub conv1: Conv2DNoBias<3, 64, 3, 1, 1, E, D>,
            #[amp(skip)]
            pub bn1: BatchNorm2D<64, E, D>,
            #[amp(skip)]
            pub relu: ReLU,
            #[amp(block)]
            pub layer1: $S1<64, 64, 256, 1, E, D>,
            #[amp(block)]
            pub layer2: $S2<256, 128, 512, 2, E, D>,
            #[amp(block)]
            pub layer3: $S3<512, 256, 1024, 2, E, D>,
            #[amp(block)]
            pub layer4: $S4<1024, 512, 2048, 2, E, D>,
            #[amp(skip)]
            pub pool: GlobalAvgPool2D,
            #[amp(skip)]
            pub fc: Linear<2048, C, E, D>,
        }
    };
}

bottleneck_resnet!(
    /// ResNet-50 for 32x32 inputs with `C` classes: [3, 4, 6, 3] bottleneck blocks, 52
    /// candidate convolutions, 23,520,842 parameters for C = 10.
    ResNet50: BottleneckStage3, BottleneckStage4, BottleneckStage6, BottleneckStage3
);

bottleneck_resnet!(
    /// ResNet-101 for 32x32 inputs with `C` classes: [3, 4, 23, 3] bottleneck blocks, 103
    /// candidate convolutions, 42,512,970 parameters for C = 10.
    ResNet101: BottleneckStage3, BottleneckStage4, BottleneckStage23, BottleneckStage3
);
