//! Amplifiable networks, all declared with `#[amplifiable]`: a perceptron and a small CNN for
//! quick runs, VGG and ResNet for CIFAR.

pub mod cnn;
pub mod mlp;

pub use cnn::SmallCnn;
pub use mlp::Mlp;
