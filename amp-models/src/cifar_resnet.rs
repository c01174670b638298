//! The CIFAR ResNets of He et al. 2016, section 4.2, and their plain twins: a 3x3 stem to 16
//! channels, three stages of `k` basic blocks at 16, 32 and 64 channels (32x32, 16x16, 8x8),
//! global average pooling and a linear classifier; `6k + 2` weighted layers (ResNet-20, -32,
//! -44, -56, -110 for k = 3, 5, 7, 9, 18).
//!
//! The ResNets use the parameter-free option A shortcuts ([`zero_pad_shortcut`]); the plain
//! nets (He et al.'s baselines, `RES = false`) are the same blocks without any shortcut, so
//! ResNet-N and Plain-N have the same parameters and differ only in the forward pass. The
//! variant without batch norm is in [`crate::plain`].
//!
//! Candidate layers are the block convolutions (`layer2.0.conv1`): 6k of them; the stem and
//! the classifier are not candidates, as for the other ResNets.

use amp_core::amplifiable;
use amp_nn::{BatchNorm2D, Conv2DNoBias, GlobalAvgPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

use crate::shortcut::zero_pad_shortcut;

/// Two 3x3 conv - BN units from `I` to `O` channels, the first at stride `S`; with `RES`, plus
/// the option A shortcut: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)), without it
/// relu(bn2(conv2(relu(bn1(conv1 x))))).
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct CifarBlock<
    const I: usize,
    const O: usize,
    const S: usize,
    const RES: bool,
    E: Dtype,
    D: Device<E>,
> {
    pub conv1: Conv2DNoBias<I, O, 3, S, 1, E, D>,
    #[amp(skip)]
    pub bn1: BatchNorm2D<O, E, D>,
    pub conv2: Conv2DNoBias<O, O, 3, 1, 1, E, D>,
    #[amp(skip)]
    pub bn2: BatchNorm2D<O, E, D>,
}

block_forward!(
    CifarBlock<const I: usize, const O: usize, const S: usize, const RES: bool>,
    I -> O,
    |t, x| {
        let (input, shortcut) = if RES {
            (x.with_empty_tape(), Some(x))
        } else {
            (x, None)
        };
        let h = fwd!(t.conv1, input)?;
        let h = bn_relu!(t.bn1, h)?;
        let h = fwd!(t.conv2, h)?;
        match shortcut {
            Some(x) => amp_nn::add_relu(
                fwd!(t.bn2, h)?,
                zero_pad_shortcut::<I, O, S, _, _, _>(x)?,
            ),
            None => bn_relu!(t.bn2, h),
        }
    }
);

/// Declares a CIFAR stage of `k` blocks (`I` -> `O` at stride `S` in block 0) for a block
/// type, listing blocks 1..k.
macro_rules! cifar_stage {
    ($(#[$attr:meta])* $Name:ident, $Block:ident $(<$res:ident>)?, [$($f:ident $n:tt),*]) => {
        stage! {
            $(#[$attr])*
            $Name<const I: usize, const O: usize, const S: usize $(, const $res: bool)?>(I -> O) {
                first: $Block<I, O, S, $($res,)? E, D>,
                rest: $Block<O, O, 1, $($res,)? E, D> => [$($f $n),*],
            }
        }
    };
}
pub(crate) use cifar_stage;

/// Block lists of the CIFAR depths, shared with [`crate::plain`].
macro_rules! cifar_depths {
    ($m:ident, $Block:ident $(<$res:ident>)?, $S3:ident, $S5:ident, $S7:ident, $S9:ident, $S18:ident) => {
        $m!(/// Three blocks (ResNet-20).
            $S3, $Block $(<$res>)?, [b1 "1", b2 "2"]);
        $m!(/// Five blocks (ResNet-32).
            $S5, $Block $(<$res>)?, [b1 "1", b2 "2", b3 "3", b4 "4"]);
        $m!(/// Seven blocks (ResNet-44).
            $S7, $Block $(<$res>)?, [b1 "1", b2 "2", b3 "3", b4 "4", b5 "5", b6 "6"]);
        $m!(/// Nine blocks (ResNet-56).
            $S9, $Block $(<$res>)?, [b1 "1", b2 "2", b3 "3", b4 "4", b5 "5", b6 "6", b7 "7", b8 "8"]);
        $m!(/// Eighteen blocks (ResNet-110).
            $S18, $Block $(<$res>)?, [
            b1 "1", b2 "2", b3 "3", b4 "4", b5 "5", b6 "6", b7 "7", b8 "8", b9 "9", b10 "10",
            b11 "11", b12 "12", b13 "13", b14 "14", b15 "15", b16 "16", b17 "17"
        ]);
    };
}
pub(crate) use cifar_depths;

cifar_depths!(
    cifar_stage,
    CifarBlock<RES>,
    CifarStage3,
    CifarStage5,
    CifarStage7,
    CifarStage9,
    CifarStage18
);

/// Declares the CIFAR network of one depth, generic over `RES` (shortcuts or plain).
macro_rules! cifar_net {
    ($(#[$attr:meta])* $Name:ident: $Stage:ident) => {
        $(#[$attr])*
        #[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<const C: usize, const RES: bool, E: Dtype, D: Device<E>> {
            #[amp(skip)]
            pub conv1: Conv2DNoBias<3, 16, 3, 1, 1, E, D>,
            #[amp(skip)]
            pub bn1: BatchNorm2D<16, E, D>,
            #[amp(skip)]
            pub relu: ReLU,
            #[amp(block)]
            pub layer1: $Stage<16, 16, 1, RES, E, D>,
            #[amp(block)]
            pub layer2: $Stage<16, 32, 2, RES, E, D>,
            #[amp(block)]
            pub layer3: $Stage<32, 64, 2, RES, E, D>,
            #[amp(skip)]
            pub pool: GlobalAvgPool2D,
            #[amp(skip)]
            pub fc: Linear<64, C, E, D>,
        }
    };
}

cifar_net!(
    /// The 20-layer CIFAR network (k = 3): [`ResNet20`] or [`Plain20`].
    Cifar20: CifarStage3
);
cifar_net!(
    /// The 32-layer CIFAR network (k = 5): [`ResNet32`] or [`Plain32`].
    Cifar32: CifarStage5
);
cifar_net!(
    /// The 44-layer CIFAR network (k = 7): [`ResNet44`] or [`Plain44`].
    Cifar44: CifarStage7
);
cifar_net!(
    /// The 56-layer CIFAR network (k = 9): [`ResNet56`] or [`Plain56`].
    Cifar56: CifarStage9
);
cifar_net!(
    /// The 110-layer CIFAR network (k = 18): [`ResNet110`] or [`Plain110`].
    Cifar110: CifarStage18
);

/// ResNet-20 (He et al. 2016): 269,722 parameters for 10 classes, 18 candidate convolutions.
pub type ResNet20<const C: usize, E, D> = Cifar20<C, true, E, D>;
/// ResNet-32: 464,154 parameters for 10 classes.
pub type ResNet32<const C: usize, E, D> = Cifar32<C, true, E, D>;
/// ResNet-44: 658,586 parameters for 10 classes.
pub type ResNet44<const C: usize, E, D> = Cifar44<C, true, E, D>;
/// ResNet-56: 853,018 parameters for 10 classes.
pub type ResNet56<const C: usize, E, D> = Cifar56<C, true, E, D>;
/// ResNet-110: 1,727,962 parameters for 10 classes.
pub type ResNet110<const C: usize, E, D> = Cifar110<C, true, E, D>;
/// Plain-20: ResNet-20 without shortcuts (same parameters).
pub type Plain20<const C: usize, E, D> = Cifar20<C, false, E, D>;
/// Plain-32: ResNet-32 without shortcuts.
pub type Plain32<const C: usize, E, D> = Cifar32<C, false, E, D>;
/// Plain-44: ResNet-44 without shortcuts.
pub type Plain44<const C: usize, E, D> = Cifar44<C, false, E, D>;
/// Plain-56: ResNet-56 without shortcuts.
pub type Plain56<const C: usize, E, D> = Cifar56<C, false, E, D>;
/// Plain-110: ResNet-110 without shortcuts.
pub type Plain110<const C: usize, E, D> = Cifar110<C, false, E, D>;
