//! ResNet for CIFAR (He et al. 2016, as commonly adapted to 32x32 inputs): a 3x3 stem, four
//! stages of basic blocks (64, 128, 256, 512 channels; stride 2 and a 1x1 projection
//! shortcut at the start of stages 2-4), global average pooling and a linear classifier.
//!
//! Candidate layers are the convolutions of the blocks, projections included, with PyTorch's
//! names (`layer2.0.conv1`, `layer2.0.shortcut`): 19 for ResNet-18. The stem and the
//! classifier are not candidates, matching the reference runs of METHOD.md section 6.

use amp_core::{amplifiable, AmpDevice, AmpDtype};
use amp_nn::{BatchNorm2D, Conv2DNoBias, GlobalAvgPool2D, NnDevice};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::nn::{Module, ModuleMut};
use dfdx::prelude::*;
use dfdx::tensor::Tape;

/// Feature maps inside the network: batch, `C` channels, runtime height and width.
pub type Maps<const C: usize, E, D, T> = Tensor<(usize, Const<C>, usize, usize), E, D, T>;

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

/// Generates `Module` (inference: running BN statistics) and `ModuleMut` (training) for a
/// block from one body, written against its tap view.
macro_rules! block_forward {
    ($Block:ident <$($c:ident),*>, $I:ident -> $O:ident, |$t:ident, $x:ident| $body:expr) => {
        impl<$(const $c: usize,)* E: AmpDtype, D: AmpDevice<E> + NnDevice<E>, T: Tape<E, D>>
            Module<Maps<$I, E, D, T>> for $Block<$($c,)* E, D>
        {
            type Output = Maps<$O, E, D, T>;
            type Error = D::Err;
            fn try_forward(&self, $x: Maps<$I, E, D, T>) -> Result<Self::Output, D::Err> {
                #[allow(unused_mut)]
                let mut $t = self.taps();
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        $m.try_forward($v)
                    };
                }
                $body
            }
        }

        impl<$(const $c: usize,)* E: AmpDtype, D: AmpDevice<E> + NnDevice<E>, T: Tape<E, D>>
            ModuleMut<Maps<$I, E, D, T>> for $Block<$($c,)* E, D>
        {
            type Output = Maps<$O, E, D, T>;
            type Error = D::Err;
            fn try_forward_mut(&mut self, $x: Maps<$I, E, D, T>) -> Result<Self::Output, D::Err> {
                let mut $t = self.taps_mut();
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        $m.try_forward_mut($v)
                    };
                }
                $body
            }
        }
    };
}

block_forward!(BasicBlock<C>, C -> C, |t, x| {
    let h = fwd!(t.conv1, x.with_empty_tape())?;
    let h = fwd!(t.bn1, h)?.try_relu()?;
    let h = fwd!(t.conv2, h)?;
    fwd!(t.bn2, h)?.try_add(x)?.try_relu()
});

block_forward!(DownBlock<I, O>, I -> O, |t, x| {
    let s = fwd!(t.shortcut, x.with_empty_tape())?;
    let s = fwd!(t.shortcut_bn, s)?;
    let h = fwd!(t.conv1, x)?;
    let h = fwd!(t.bn1, h)?.try_relu()?;
    let h = fwd!(t.conv2, h)?;
    fwd!(t.bn2, h)?.try_add(s)?.try_relu()
});

/// Stage 1 of ResNet-18: two basic blocks at 64 channels.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct Stage<const C: usize, E: Dtype, D: Device<E>> {
    #[amp(block, name = "0")]
    pub b0: BasicBlock<C, E, D>,
    #[amp(block, name = "1")]
    pub b1: BasicBlock<C, E, D>,
}

/// Stages 2-4 of ResNet-18: a down block, then a basic block.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct DownStage<const I: usize, const O: usize, E: Dtype, D: Device<E>> {
    #[amp(block, name = "0")]
    pub b0: DownBlock<I, O, E, D>,
    #[amp(block, name = "1")]
    pub b1: BasicBlock<O, E, D>,
}

/// ResNet-18 for 32x32 inputs with `C` classes (11.2 M parameters for C = 10).
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct ResNet18<const C: usize, E: Dtype, D: Device<E>> {
    #[amp(skip)]
    pub conv1: Conv2DNoBias<3, 64, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<64, E, D>,
    #[amp(skip)]
    pub relu: ReLU,
    #[amp(block)]
    pub layer1: Stage<64, E, D>,
    #[amp(block)]
    pub layer2: DownStage<64, 128, E, D>,
    #[amp(block)]
    pub layer3: DownStage<128, 256, E, D>,
    #[amp(block)]
    pub layer4: DownStage<256, 512, E, D>,
    #[amp(skip)]
    pub pool: GlobalAvgPool2D,
    #[amp(skip)]
    pub fc: Linear<512, C, E, D>,
}
