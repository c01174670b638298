//! Amplifiable networks, all declared with `#[amplifiable]`: a perceptron and a small CNN for
//! quick runs, VGG and ResNet for CIFAR.

pub mod cnn;
pub mod mlp;
pub mod resnet;
pub mod vgg;

pub use cnn::SmallCnn;
pub use mlp::Mlp;
pub use resnet::ResNet18;
pub use vgg::{Vgg11, Vgg19};
