//! The CIFAR plain nets without batch norm: [`crate::cifar_resnet`]'s Plain-N with every
//! conv - BN unit replaced by a convolution with bias, no shortcut, no normalization. The
//! regime where gradients vanish with depth, which gradient amplification is meant for.
//!
//! Candidate layers are the block convolutions (`layer2.0.conv1`), as for Plain-N.

use amp_core::amplifiable;
use amp_nn::{Conv2D, GlobalAvgPool2D};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;

use crate::cifar_resnet::{cifar_depths, cifar_stage};

/// relu(conv2(relu(conv1 x))), from `I` to `O` channels, conv1 at stride `S`.
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Debug, Clone)]
pub struct PlainBlockNoBn<const I: usize, const O: usize, const S: usize, E: Dtype, D: Device<E>> {
    pub conv1: Conv2D<I, O, 3, S, 1, E, D>,
    pub conv2: Conv2D<O, O, 3, 1, 1, E, D>,
}

block_forward!(
    PlainBlockNoBn<const I: usize, const O: usize, const S: usize>,
    I -> O,
    |t, x| {
        let h = fwd!(t.conv1, x)?.try_relu()?;
        fwd!(t.conv2, h)?.try_relu()
    }
);

cifar_depths!(
    cifar_stage,
    PlainBlockNoBn,
    PlainStageNoBn3,
    PlainStageNoBn5,
    PlainStageNoBn7,
    PlainStageNoBn9,
    PlainStageNoBn18
);

/// Declares the plain network without batch norm of one depth.
macro_rules! plain_nobn_net {
    ($(#[$attr:meta])* $Name:ident: $Stage:ident) => {
        $(#[$attr])*
        #[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<const C: usize, E: Dtype, D: Device<E>> {
            #[amp(skip)]
            pub conv1: Conv2D<3, 16, 3, 1, 1, E, D>,
            #[amp(skip)]
            pub relu: ReLU,
            #[amp(block)]
            pub layer1: $Stage<16, 16, 1, E, D>,
            #[amp(block)]
            pub layer2: $Stage<16, 32, 2, E, D>,
            #[amp(block)]
            pub layer3: $Stage<32, 64, 2, E, D>,
            #[amp(skip)]
            pub pool: GlobalAvgPool2D,
            #[amp(skip)]
            pub fc: Linear<64, C, E, D>,
        }
    };
}

plain_nobn_net!(
    /// Plain-20 without batch norm: 269,034 parameters for 10 classes.
    Plain20NoBn: PlainStageNoBn3
);
plain_nobn_net!(
    /// Plain-32 without batch norm.
    Plain32NoBn: PlainStageNoBn5
);
plain_nobn_net!(
    /// Plain-44 without batch norm.
    Plain44NoBn: PlainStageNoBn7
);
plain_nobn_net!(
    /// Plain-56 without batch norm.
    Plain56NoBn: PlainStageNoBn9
);
plain_nobn_net!(
    /// Plain-110 without batch norm.
    Plain110NoBn: PlainStageNoBn18
);
