//! Weight initialization chosen by the config (`train.init`), applied to a built model.
//!
//! The layers initialize themselves when built, as PyTorch's do (amp-nn's `Conv2D` and dfdx's
//! `Linear`: uniform in ±1/sqrt(fan_in), variance 1/(3·fan_in)). Through a ReLU that scales
//! the signal's variance by fan_in · 1/(3·fan_in) · 1/2 = 1/6 per layer, forward and back: a
//! deep network without batch norm starts collapsed (EXPERIMENTS.md: Plain-20 without batch
//! norm, whose gradient fell by 2.48 ≈ sqrt(6) per layer). [`Init::He`] redraws them as
//! He et al. (2015) and the original ResNet and Plain networks do. It works on any model
//! through the tensor walk, by the tensors' names and shapes, so a model type needs no code
//! for it; the draws come from their own generator seeded by the run's seed, on the host, so
//! a seed gives the same weights on every device.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::walk;
use crate::AmpDevice;
use dfdx::nn::tensor_collection::TensorCollection;

/// How a model's weights start (`[train] init`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// As the layers built themselves: PyTorch's defaults (convolutions and linear layers
    /// uniform in ±1/sqrt(fan_in), weights and biases; batch norm scale 1, bias 0).
    #[default]
    Default,
    /// He et al. 2015 ("Delving deep into rectifiers"), fan-in mode: every convolution and
    /// linear weight from N(0, 2 / fan_in) (PyTorch's `kaiming_normal_`), their biases 0;
    /// batch norm as built. Keeps the variance of a ReLU network's activations from layer
    /// to layer, so a deep network without batch norm does not start collapsed.
    He,
}

impl Init {
    /// Whether this is the built-in initialization (nothing to redraw).
    pub fn is_default(&self) -> bool {
        *self == Init::Default
    }
}

/// As the config spells it (`"default"`, `"he"`), for messages.
impl std::fmt::Display for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Init::Default => "default",
            Init::He => "he",
        })
    }
}

/// What [`initialize`] does to one tensor of the walk.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// Left as built.
    Keep,
    /// Drawn from N(0, std²).
    Normal { std: f32 },
    /// Set to 0.
    Zero,
}

/// Redraws `model`'s weights as `init` says, from a generator seeded with `seed`; returns the
/// names of the tensors it changed, in the walk's order. [`Init::Default`] changes nothing.
///
/// A weight is a tensor named `weight` (the last part of its dotted path) of rank 4 (a
/// convolution, `(out, in, k, k)`: fan-in `in·k·k`) or rank 2 (a linear layer, `(out, in)`:
/// fan-in `in`); a bias is the `bias` beside such a weight. Batch norm's tensors are named
/// `scale`, `bias`, `running_*` beside no weight, so they are left alone.
pub fn initialize<M, D>(model: &mut M, init: Init, seed: u64) -> Result<Vec<String>, D::Err>
where
    M: TensorCollection<f32, D>,
    D: AmpDevice<f32>,
{
    if init.is_default() {
        return Ok(Vec::new());
    }
    let mut tensors = Vec::new();
    walk::named(model, &mut |t| {
        tensors.push((t.name, t.tensor.dims()));
        Ok(())
    })?;
    let fills = he_fills(&tensors);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut i = 0;
    walk::each_mut(model, &mut |_, t| {
        let n = t.dims().iter().product::<usize>();
        match fills[i] {
            Fill::Keep => {}
            Fill::Zero => t.copy_values(&vec![0.0; n]),
            Fill::Normal { std } => {
                let normal = Normal::new(0.0f32, std).expect("a positive finite std");
                let values: Vec<f32> = (0..n).map(|_| normal.sample(&mut rng)).collect();
                t.copy_values(&values);
            }
        }
        i += 1;
        Ok(())
    })?;
    Ok(tensors
        .into_iter()
        .zip(fills)
        .filter(|(_, f)| *f != Fill::Keep)
        .map(|((name, _), _)| name)
        .collect())
}

/// The He fill of each tensor of a walk, from the tensors' names and shapes.
fn he_fills(tensors: &[(String, Vec<usize>)]) -> Vec<Fill> {
    let split = |name: &str| match name.rsplit_once('.') {
        Some((layer, last)) => (layer.to_string(), last.to_string()),
        None => (String::new(), name.to_string()),
    };
    let mut layers = HashSet::new();
    let mut fills: Vec<Fill> = tensors
        .iter()
        .map(|(name, dims)| {
            let (layer, last) = split(name);
            if last == "weight" && matches!(dims.len(), 2 | 4) {
                let fan_in: usize = dims[1..].iter().product();
                layers.insert(layer);
                Fill::Normal {
                    std: (2.0 / fan_in.max(1) as f64).sqrt() as f32,
                }
            } else {
                Fill::Keep
            }
        })
        .collect();
    for ((name, _), fill) in tensors.iter().zip(&mut fills) {
        let (layer, last) = split(name);
        if last == "bias" && layers.contains(&layer) {
            *fill = Fill::Zero;
        }
    }
    fills
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::nn::builders::{BatchNorm1D, Linear};
    use dfdx::prelude::*;

    fn t(name: &str, dims: &[usize]) -> (String, Vec<usize>) {
        (name.to_string(), dims.to_vec())
    }

    #[test]
    fn he_draws_conv_and_linear_weights_by_fan_in_and_zeroes_their_biases_only() {
        let tensors = [
            t("conv1.weight", &[16, 3, 3, 3]),
            t("bn1.scale", &[16]),
            t("bn1.bias", &[16]),
            t("bn1.running_mean", &[16]),
            t("layer1.0.conv1.weight", &[16, 16, 3, 3]),
            t("layer1.0.conv1.bias", &[16]),
            t("fc.weight", &[10, 64]),
            t("fc.bias", &[10]),
            t("weight", &[4, 8]),
            t("bias", &[4]),
        ];
        let std = |fan_in: f64| Fill::Normal {
            std: (2.0 / fan_in).sqrt() as f32,
        };
        assert_eq!(
            he_fills(&tensors),
            [
                std(27.0),
                Fill::Keep,
                Fill::Keep,
                Fill::Keep,
                std(144.0),
                Fill::Zero,
                std(64.0),
                Fill::Zero,
                std(8.0),
                Fill::Zero,
            ]
        );
    }

    type Net = (Linear<400, 300>, BatchNorm1D<300>, Linear<300, 2>);

    #[test]
    fn he_init_has_the_stated_statistics_and_is_seeded() {
        let dev = Cpu::seed_from_u64(0);
        let mut net = dev.build_module::<Net, f32>();
        let bn_scale = net.1.scale.as_vec();
        let changed = initialize(&mut net, Init::He, 7).unwrap();
        assert_eq!(changed, ["0.weight", "0.bias", "2.weight", "2.bias"]);

        let w = net.0.weight.as_vec();
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64;
        // 120,000 draws of N(0, 2/400): the sample variance is within 1% (about 2.5 sd).
        assert!(mean.abs() < 1e-3, "mean {mean}");
        assert!((var / (2.0 / 400.0) - 1.0).abs() < 0.01, "var {var}");
        assert_eq!(net.0.bias.as_vec(), vec![0.0; 300]);
        assert_eq!(net.2.bias.as_vec(), vec![0.0; 2]);
        assert_eq!(
            net.1.scale.as_vec(),
            bn_scale,
            "batch norm is left as built"
        );

        // The same seed gives the same weights, whatever the device's own generator did.
        let mut again = Cpu::seed_from_u64(99).build_module::<Net, f32>();
        initialize(&mut again, Init::He, 7).unwrap();
        assert_eq!(again.0.weight.as_vec(), w);
        initialize(&mut again, Init::He, 8).unwrap();
        assert_ne!(again.0.weight.as_vec(), w);
    }

    #[test]
    fn default_init_changes_nothing() {
        let dev = Cpu::seed_from_u64(0);
        let mut net = dev.build_module::<Net, f32>();
        let before = net.0.weight.as_vec();
        assert!(initialize(&mut net, Init::Default, 7).unwrap().is_empty());
        assert_eq!(net.0.weight.as_vec(), before);
    }

    /// Messages spell an initialization as the config does.
    #[test]
    fn init_displays_as_the_config_spells_it() {
        #[derive(Deserialize)]
        struct T {
            init: Init,
        }
        for init in [Init::Default, Init::He] {
            let toml = format!("init = \"{init}\"");
            assert_eq!(toml::from_str::<T>(&toml).unwrap().init, init);
        }
    }
}
