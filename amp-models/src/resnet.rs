//! ResNet for CIFAR (He et al. 2016, as commonly adapted to 32x32 inputs): a 3x3 stride-1
//! stem without pooling, four stages of basic blocks (64, 128, 256, 512 channels; stride 2
//! and a 1x1 projection shortcut with batch norm at the start of stages 2-4), global average
//! pooling and a linear classifier. ResNet-18 has [2, 2, 2, 2] blocks per stage, ResNet-34
//! [3, 4, 6, 3]; the bottleneck ResNets are in [`crate::bottleneck`].
//!
//! Candidate layers are the convolutions of the blocks, projections included, with PyTorch's
//! names (`layer2.0.conv1`, `layer2.0.shortcut`): 19 for ResNet-18, 35 for ResNet-34. The
//! stem and the classifier are not candidates, matching the reference runs of METHOD.md
//! section 6.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2DNoBias, GlobalAvgPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

pub use crate::forward::Maps;

/// Two 3x3 conv - BN units with an identity shortcut: relu(bn2(conv2(relu(bn1(conv1 x)))) + x).
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct BasicBlock<const C: usize, E: Dtype, D: Device<E>> {
    pub conv1: Conv2DNoBias<C, C, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<C, E, D>,
    pub conv2: Conv2DNoBias<C, C, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<C, E, D>,
}

/// A basic block that halves the resolution and changes the width: conv1 has stride 2, and
/// the shortcut is a 1x1 stride-2 convolution with batch norm.
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct DownBlock<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    pub conv1: Conv2DNoBias<I, O, 3, 2, 1, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<O, E, D>,
    pub conv2: Conv2DNoBias<O, O, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<O, E, D>,
    pub shortcut: Conv2DNoBias<I, O, 1, 2, 0, E, D>,
    #[amp(skip)]
    pub shortcut_bn: BatchNorm2D<O, E, D>,
}

block_forward!(BasicBlock<const C: usize>, C -> C, |t, x| {
    let h = fwd!(t.conv1, x.with_empty_tape())?;
    let h = bn_relu!(t.bn1, h)?;
    let h = fwd!(t.conv2, h)?;
    amp_nn::add_relu(fwd!(t.bn2, h)?, x)
});

block_forward!(DownBlock<const I: usize, const O: usize>, I -> O, |t, x| {
    let s = fwd!(t.shortcut, x.with_empty_tape())?;
    let s = fwd!(t.shortcut_bn, s)?;
    let h = fwd!(t.conv1, x)?;
    let h = bn_relu!(t.bn1, h)?;
    let h = fwd!(t.conv2, h)?;
    amp_nn::add_relu(fwd!(t.bn2, h)?, s)
});

stage! {
    /// Two basic blocks at `C` channels (ResNet-18's first stage).
    BasicStage2<const C: usize>(C -> C) {
        first: BasicBlock<C, E, D>,
        rest: BasicBlock<C, E, D> => [b1 "1"],
    }
}

stage! {
    /// Three basic blocks at `C` channels (ResNet-34's first stage).
    BasicStage3<const C: usize>(C -> C) {
        first: BasicBlock<C, E, D>,
        rest: BasicBlock<C, E, D> => [b1 "1", b2 "2"],
    }
}

stage! {
    /// A down block, then one basic block (ResNet-18's stages 2-4).
    DownStage2<const I: usize, const O: usize>(I -> O) {
        first: DownBlock<I, O, E, D>,
        rest: BasicBlock<O, E, D> => [b1 "1"],
    }
}

stage! {
    /// A down block, then two basic blocks (ResNet-34's stage 4).
    DownStage3<const I: usize, const O: usize>(I -> O) {
        first: DownBlock<I, O, E, D>,
        rest: BasicBlock<O, E, D> => [b1 "1", b2 "2"],
    }
}

stage! {
    /// A down block, then three basic blocks (ResNet-34's stage 2).
    DownStage4<const I: usize, const O: usize>(I -> O) {
        first: DownBlock<I, O, E, D>,
        rest: BasicBlock<O, E, D> => [b1 "1", b2 "2", b3 "3"],
    }
}

stage! {
    /// A down block, then five basic blocks (ResNet-34's stage 3).
    DownStage6<const I: usize, const O: usize>(I -> O) {
        first: DownBlock<I, O, E, D>,
        rest: BasicBlock<O, E, D> => [b1 "1", b2 "2", b3 "3", b4 "4", b5 "5"],
    }
}

/// Declares a basic-block ResNet for 32x32 inputs from its four stage types.
macro_rules! basic_resnet {
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
            pub layer1: $S1<64, E, D>,
            #[amp(block)]
            pub layer2: $S2<64, 128, E, D>,
            #[amp(block)]
            pub layer3: $S3<128, 256, E, D>,
            #[amp(block)]
            pub layer4: $S4<256, 512, E, D>,
            #[amp(skip)]
            pub pool: GlobalAvgPool2D,
            #[amp(skip)]
            pub fc: Linear<512, C, E, D>,
        }
    };
}

basic_resnet!(
    /// ResNet-18 for 32x32 inputs with `C` classes: [2, 2, 2, 2] basic blocks, 19 candidate
    /// convolutions, 11,173,962 parameters for C = 10.
    ResNet18: BasicStage2, DownStage2, DownStage2, DownStage2
);

basic_resnet!(
    /// ResNet-34 for 32x32 inputs with `C` classes: [3, 4, 6, 3] basic blocks, 35 candidate
    /// convolutions, 21,282,122 parameters for C = 10.
    ResNet34: BasicStage3, DownStage4, DownStage6, DownStage3
);
