//! The networks the CLI knows, and the one generic entry point that runs code on any of them.

use amp_core::train::{BatchShape, Classifier};
use amp_core::Amplifiable;
use amp_models::{Mlp, ResNet18, SmallCnn, Vgg11, Vgg19};
use dfdx::prelude::*;

use super::args::ModelName;

/// The device the CLI trains on.
pub type Dev = Cpu;

/// RGB images of any size, batch first.
type Images = (usize, Const<3>, usize, usize);

/// Something to do with a freshly built model of any type (the model types differ in their
/// input shape and class count, so this is a trait with a generic method, not a closure).
pub trait WithModel {
    type Output;
    fn run<M, S, const C: usize>(self, model: M, dev: &Dev) -> Self::Output
    where
        M: Classifier<S, Dev, C> + Amplifiable + Clone,
        S: BatchShape;
}

/// Builds `name` on `dev` (seeded, so the same seed gives the same weights) and hands it to `f`.
pub fn with_model<F: WithModel>(name: ModelName, dev: &Dev, f: F) -> F::Output {
    match name {
        ModelName::Mlp => {
            f.run::<_, (usize, Const<768>), 10>(Mlp::<768, 128, 10, f32, Dev>::build(dev), dev)
        }
        ModelName::Cnn => f.run::<_, Images, 10>(SmallCnn::<10, f32, Dev>::build(dev), dev),
        ModelName::Vgg11 => f.run::<_, Images, 10>(Vgg11::<10, f32, Dev>::build(dev), dev),
        ModelName::Vgg19 => f.run::<_, Images, 10>(Vgg19::<10, f32, Dev>::build(dev), dev),
        ModelName::Resnet18 => f.run::<_, Images, 10>(ResNet18::<10, f32, Dev>::build(dev), dev),
    }
}

/// The candidate layers of `name`, without building it.
pub fn layer_infos(name: ModelName) -> Vec<amp_core::LayerInfo> {
    match name {
        ModelName::Mlp => Mlp::<768, 128, 10, f32, Dev>::layers(),
        ModelName::Cnn => SmallCnn::<10, f32, Dev>::layers(),
        ModelName::Vgg11 => Vgg11::<10, f32, Dev>::layers(),
        ModelName::Vgg19 => Vgg19::<10, f32, Dev>::layers(),
        ModelName::Resnet18 => ResNet18::<10, f32, Dev>::layers(),
    }
}

/// Whether `name` can take images of `shape` (C, H, W): a clear error instead of a shape
/// panic deep inside the network.
pub fn check_input(name: ModelName, [c, h, w]: [usize; 3]) -> anyhow::Result<()> {
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "model {name:?} {what}; the dataset's images are {c}x{h}x{w}"
            ))
        }
    };
    match name {
        ModelName::Mlp => need(
            [c, h, w] == [3, 16, 16],
            "takes 3x16x16 images (768 inputs)",
        ),
        ModelName::Cnn => need(
            c == 3 && h >= 4 && w >= 4,
            "takes RGB images of at least 4x4",
        ),
        // Five 2x2 max pools must leave exactly 1x1x512 for the classifier.
        ModelName::Vgg11 | ModelName::Vgg19 => need(
            c == 3 && (32..64).contains(&h) && (32..64).contains(&w),
            "takes RGB images of 32x32 up to 63x63 (five 2x2 pools down to 1x1)",
        ),
        ModelName::Resnet18 => need(
            c == 3 && h >= 8 && w >= 8,
            "takes RGB images of at least 8x8",
        ),
    }
}
