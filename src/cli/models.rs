//! The networks the CLI knows: one registry, [`MODELS`], from which `--model`, `amp layers`,
//! the input checks and the builders all come. Adding a model is one line in `models!` below.

use std::fmt;

use amp_core::train::{BatchShape, Classifier};
use amp_core::{AmpDevice, Amplifiable, LayerInfo};
use amp_models::*;
use amp_nn::NnDevice;
use anyhow::{bail, Result};
use dfdx::prelude::*;

/// The device the registry's layer lists are read on (building nothing).
type Dev = Cpu;

/// A device the CLI trains on: `Cpu`, and `Cuda` in a binary built with `--features cuda`.
pub trait TrainDevice: AmpDevice<f32> + NnDevice<f32> {}
impl<D: AmpDevice<f32> + NnDevice<f32>> TrainDevice for D {}

/// RGB images of any size, batch first.
type Images = (usize, Const<3>, usize, usize);
/// Flattened 3x16x16 images, for the perceptron.
type Flat768 = (usize, Const<768>);

/// The class counts every model is built for (CIFAR-10 and CIFAR-100).
pub const CLASS_COUNTS: [usize; 2] = [10, 100];

/// Something to do with a freshly built model of any type (the model types differ in their
/// input shape and class count, so this is a trait with a generic method, not a closure).
pub trait WithModel {
    type Output;
    fn run<M, S, D, const C: usize>(self, model: M, dev: &D) -> Self::Output
    where
        M: Classifier<S, D, C> + Amplifiable + Clone,
        S: BatchShape,
        D: TrainDevice;
}

/// What images a model takes, so that a mismatch is a clear error before training instead
/// of a shape panic deep inside the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Exactly this C x H x W (flattened into the first layer).
    Exact([usize; 3]),
    /// RGB images of at least N x N.
    AtLeast(usize),
    /// RGB images of 32x32 up to 63x63: five 2x2 max pools must leave 1x1x512 (VGG).
    Vgg,
}

impl Input {
    fn check(self, [c, h, w]: [usize; 3]) -> std::result::Result<(), String> {
        let (ok, what) = match self {
            Input::Exact(s) => (
                [c, h, w] == s,
                format!("takes {}x{}x{} images", s[0], s[1], s[2]),
            ),
            Input::AtLeast(n) => (
                c == 3 && h >= n && w >= n,
                format!("takes RGB images of at least {n}x{n}"),
            ),
            Input::Vgg => (
                c == 3 && (32..64).contains(&h) && (32..64).contains(&w),
                "takes RGB images of 32x32 up to 63x63 (five 2x2 pools down to 1x1)".into(),
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(what)
        }
    }
}

/// One model of the registry.
#[derive(Debug)]
pub struct ModelEntry {
    /// The `--model` value (lowercase, kebab-case).
    pub name: &'static str,
    /// One line for `--help`.
    pub description: &'static str,
    /// The images it takes.
    pub input: Input,
    /// Its candidate layers (the same for every class count).
    pub layers: fn() -> Vec<LayerInfo>,
}

/// Declares the registry: for each model its `--model` name, type (with the const arguments
/// that precede the class count, `Mlp<768, 128>`), batch shape, input rule and description.
/// Generates [`MODELS`] and the builder that runs a [`WithModel`] on any of them for C = 10
/// or 100.
macro_rules! models {
    ($($name:literal => $Net:ident $(<$($arg:literal),*>)?, $S:ty, $input:expr, $desc:literal;)*) => {
        /// Every model the CLI knows, in `--help` order.
        pub static MODELS: &[ModelEntry] = &[$(
            ModelEntry {
                name: $name,
                description: $desc,
                input: $input,
                layers: <$Net<$($($arg,)*)? 10, f32, Dev>>::layers,
            },
        )*];

        /// Builds the model `name` for `classes` classes and hands it to `f`.
        fn dispatch<F: WithModel, D: TrainDevice>(name: &str, classes: usize, dev: &D, f: F) -> Option<F::Output> {
            $(
                if name == $name {
                    return match classes {
                        10 => Some(f.run::<_, $S, D, 10>(<$Net<$($($arg,)*)? 10, f32, D>>::build(dev), dev)),
                        100 => Some(f.run::<_, $S, D, 100>(<$Net<$($($arg,)*)? 100, f32, D>>::build(dev), dev)),
                        _ => None,
                    };
                }
            )*
            None
        }
    };
}

models! {
    "mlp" => Mlp<768, 128>, Flat768, Input::Exact([3, 16, 16]),
        "Three-layer perceptron on flattened 3x16x16 images";
    "cnn" => SmallCnn, Images, Input::AtLeast(4),
        "Small convolutional network (3 convs with batch norm)";
    "vgg11" => Vgg11, Images, Input::Vgg, "VGG-11 with batch norm, for 32x32 images";
    "vgg13" => Vgg13, Images, Input::Vgg, "VGG-13 with batch norm, for 32x32 images";
    "vgg16" => Vgg16, Images, Input::Vgg, "VGG-16 with batch norm, for 32x32 images";
    "vgg19" => Vgg19, Images, Input::Vgg, "VGG-19 with batch norm, for 32x32 images";
    "vgg11-nobn" => Vgg11NoBn, Images, Input::Vgg, "VGG-11 without batch norm (conv with bias, ReLU)";
    "vgg13-nobn" => Vgg13NoBn, Images, Input::Vgg, "VGG-13 without batch norm";
    "vgg16-nobn" => Vgg16NoBn, Images, Input::Vgg, "VGG-16 without batch norm";
    "vgg19-nobn" => Vgg19NoBn, Images, Input::Vgg, "VGG-19 without batch norm";
    "resnet18" => ResNet18, Images, Input::AtLeast(8), "ResNet-18 (basic blocks, CIFAR stem)";
    "resnet34" => ResNet34, Images, Input::AtLeast(8), "ResNet-34 (basic blocks, CIFAR stem)";
    "resnet50" => ResNet50, Images, Input::AtLeast(8), "ResNet-50 (bottleneck blocks, CIFAR stem)";
    "resnet101" => ResNet101, Images, Input::AtLeast(8), "ResNet-101 (bottleneck blocks, CIFAR stem)";
    "resnet20" => ResNet20, Images, Input::AtLeast(4), "CIFAR ResNet-20 (He et al. 2016, option A shortcuts)";
    "resnet32" => ResNet32, Images, Input::AtLeast(4), "CIFAR ResNet-32";
    "resnet44" => ResNet44, Images, Input::AtLeast(4), "CIFAR ResNet-44";
    "resnet56" => ResNet56, Images, Input::AtLeast(4), "CIFAR ResNet-56";
    "resnet110" => ResNet110, Images, Input::AtLeast(4), "CIFAR ResNet-110";
    "plain20" => Plain20, Images, Input::AtLeast(4), "Plain-20: ResNet-20 without shortcuts, with batch norm";
    "plain32" => Plain32, Images, Input::AtLeast(4), "Plain-32 (no shortcuts, batch norm)";
    "plain44" => Plain44, Images, Input::AtLeast(4), "Plain-44 (no shortcuts, batch norm)";
    "plain56" => Plain56, Images, Input::AtLeast(4), "Plain-56 (no shortcuts, batch norm)";
    "plain110" => Plain110, Images, Input::AtLeast(4), "Plain-110 (no shortcuts, batch norm)";
    "plain20-nobn" => Plain20NoBn, Images, Input::AtLeast(4), "Plain-20 without batch norm (conv with bias, ReLU)";
    "plain32-nobn" => Plain32NoBn, Images, Input::AtLeast(4), "Plain-32 without batch norm";
    "plain44-nobn" => Plain44NoBn, Images, Input::AtLeast(4), "Plain-44 without batch norm";
    "plain56-nobn" => Plain56NoBn, Images, Input::AtLeast(4), "Plain-56 without batch norm";
    "plain110-nobn" => Plain110NoBn, Images, Input::AtLeast(4), "Plain-110 without batch norm";
}

/// A model of [`MODELS`], by its `--model` name; parsed by clap from the registry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ModelName(&'static ModelEntry);

#[allow(non_upper_case_globals)]
impl ModelName {
    /// The small CNN: the default of `--model` (named like an enum variant for clap's
    /// `default_value_t = ModelName::Cnn`).
    pub const Cnn: ModelName = ModelName::named("cnn");

    /// The registry's model `name`; a compile-time error in a constant if there is none.
    pub const fn named(name: &str) -> ModelName {
        let mut i = 0;
        while i < MODELS.len() {
            if str_eq(MODELS[i].name, name) {
                return ModelName(&MODELS[i]);
            }
            i += 1;
        }
        panic!("no model of that name in the registry");
    }

    /// Looks a model up by its `--model` name (clap does it through [`clap::ValueEnum`];
    /// grid files through this).
    pub fn from_name(name: &str) -> Option<ModelName> {
        MODELS.iter().find(|m| m.name == name).map(ModelName)
    }

    /// The registry entry.
    pub fn entry(self) -> &'static ModelEntry {
        self.0
    }
}

/// `a == b`, in a `const fn`.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl PartialEq for ModelEntry {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for ModelEntry {}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Debug for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl clap::ValueEnum for ModelName {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::OnceLock<Vec<ModelName>> = std::sync::OnceLock::new();
        ALL.get_or_init(|| MODELS.iter().map(ModelName).collect())
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.name).help(self.0.description))
    }
}

/// Builds `name` for `classes` classes on `dev` (seeded, so the same seed gives the same
/// weights) and hands it to `f`.
pub fn with_model<F: WithModel, D: TrainDevice>(
    name: ModelName,
    classes: usize,
    dev: &D,
    f: F,
) -> Result<F::Output> {
    check_classes(name, classes)?;
    match dispatch(name.0.name, classes, dev, f) {
        Some(out) => Ok(out),
        None => bail!("model {name} is not in the registry"),
    }
}

/// Whether `name` can be built for `classes` classes.
pub fn check_classes(name: ModelName, classes: usize) -> Result<()> {
    if !CLASS_COUNTS.contains(&classes) {
        bail!("model {name} is built for 10 or 100 classes; the dataset has {classes} classes");
    }
    Ok(())
}

/// The candidate layers of `name`, without building it.
pub fn layer_infos(name: ModelName) -> Vec<LayerInfo> {
    (name.entry().layers)()
}

/// Whether `name` can take images of `shape` (C, H, W): a clear error instead of a shape
/// panic deep inside the network.
pub fn check_input(name: ModelName, shape: [usize; 3]) -> Result<()> {
    let [c, h, w] = shape;
    name.entry().input.check(shape).map_err(|what| {
        anyhow::anyhow!("model {name} {what}; the dataset's images are {c}x{h}x{w}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn the_default_is_the_registrys_cnn() {
        assert_eq!(ModelName::Cnn.entry().name, "cnn");
        assert_eq!(ModelName::from_name("cnn"), Some(ModelName::Cnn));
        assert_eq!(ModelName::from_name("resnet"), None);
    }

    #[test]
    fn names_are_unique_lowercase_kebab_case() {
        let names: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} twice");
            assert!(n
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
        assert_eq!(names.len(), 29);
        assert_eq!(ModelName::value_variants().len(), 29);
    }

    #[test]
    fn every_model_is_built_for_10_and_100_classes_and_nothing_else() {
        struct Classes;
        impl WithModel for Classes {
            type Output = (usize, usize);
            fn run<M, S, D, const C: usize>(self, _: M, _: &D) -> (usize, usize)
            where
                M: Classifier<S, D, C> + Amplifiable + Clone,
                S: BatchShape,
                D: TrainDevice,
            {
                (C, M::LAYER_COUNT)
            }
        }
        let dev = Dev::default();
        // The small ones only: building is what this checks, the big ones are counted in
        // tests/tests/model_zoo.rs.
        for name in ["mlp", "cnn", "resnet20", "plain20", "plain20-nobn"] {
            let m = ModelName::from_name(name).unwrap();
            let n = layer_infos(m).len();
            assert_eq!(with_model(m, 10, &dev, Classes).unwrap(), (10, n));
            assert_eq!(with_model(m, 100, &dev, Classes).unwrap(), (100, n));
            let err = with_model(m, 43, &dev, Classes).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("model {name} is built for 10 or 100 classes; the dataset has 43 classes")
            );
        }
    }

    #[test]
    fn every_candidates_field_path_names_its_weight_in_a_checkpoint() {
        /// The names `Checkpoint` saves the model's tensors under.
        struct TensorNames;
        impl WithModel for TensorNames {
            type Output = Vec<String>;
            fn run<M, S, D, const C: usize>(self, model: M, _: &D) -> Vec<String>
            where
                M: Classifier<S, D, C> + Amplifiable + Clone,
                S: BatchShape,
                D: TrainDevice,
            {
                let tensors = amp_core::train::tensors::read_tensors::<M, D>(&model).unwrap();
                tensors.into_iter().map(|t| t.name).collect()
            }
        }
        let dev = Dev::default();
        let mut renamed = 0;
        for entry in MODELS {
            let m = ModelName::from_name(entry.name).unwrap();
            let names = with_model(m, 10, &dev, TensorNames).unwrap();
            for layer in layer_infos(m) {
                let weight = format!("{}.weight", layer.field_path);
                assert!(
                    names.contains(&weight),
                    "{}: layer {} has no tensor {weight}",
                    entry.name,
                    layer.name
                );
                renamed += usize::from(layer.field_path != layer.name);
            }
        }
        // The ResNets' blocks are fields `b0`, `b1`, ... renamed `0`, `1`, ... (PyTorch's
        // names), so the two paths differ there.
        assert!(renamed > 0);
        let r20 = layer_infos(ModelName::from_name("resnet20").unwrap());
        assert_eq!(
            (r20[0].name.as_str(), r20[0].field_path.as_str()),
            ("layer1.0.conv1", "layer1.b0.conv1")
        );
    }

    #[test]
    fn input_checks_name_the_model_and_the_data() {
        let vgg = ModelName::from_name("vgg16-nobn").unwrap();
        assert!(check_input(vgg, [3, 32, 32]).is_ok());
        assert_eq!(
            check_input(vgg, [3, 16, 16]).unwrap_err().to_string(),
            "model vgg16-nobn takes RGB images of 32x32 up to 63x63 (five 2x2 pools down to 1x1); \
             the dataset's images are 3x16x16"
        );
        let mlp = ModelName::from_name("mlp").unwrap();
        assert_eq!(
            check_input(mlp, [3, 32, 32]).unwrap_err().to_string(),
            "model mlp takes 3x16x16 images; the dataset's images are 3x32x32"
        );
        assert!(check_input(ModelName::from_name("resnet110").unwrap(), [3, 4, 4]).is_ok());
    }
}
