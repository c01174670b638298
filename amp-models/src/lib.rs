//! Amplifiable networks, all declared with `#[amplifiable]`: a perceptron and a small CNN for
//! quick runs, VGG (with and without batch norm), ImageNet-style ResNets with a CIFAR stem
//! (basic and bottleneck blocks), and the CIFAR ResNets of He et al. 2016 section 4.2 with
//! their plain (no shortcut) twins. The parameter counts, candidate layers and forward cost
//! of every model are in the table of `amp-models/README.md`.

#[macro_use]
mod forward;

pub mod bottleneck;
pub mod cifar_resnet;
pub mod cnn;
pub mod mlp;
pub mod plain;
pub mod resnet;
pub mod shortcut;
pub mod vgg;

pub use bottleneck::{ResNet101, ResNet50};
pub use cifar_resnet::{
    Plain110, Plain20, Plain32, Plain44, Plain56, ResNet110, ResNet20, ResNet32, ResNet44, ResNet56,
};
pub use cnn::SmallCnn;
pub use forward::Maps;
pub use mlp::Mlp;
pub use plain::{Plain110NoBn, Plain20NoBn, Plain32NoBn, Plain44NoBn, Plain56NoBn};
pub use resnet::{ResNet18, ResNet34};
pub use shortcut::zero_pad_shortcut;
pub use vgg::{Vgg11, Vgg11NoBn, Vgg13, Vgg13NoBn, Vgg16, Vgg16NoBn, Vgg19, Vgg19NoBn};
