//! From a config to a run: command-line overrides applied and checked, then the one
//! conversion to the trainer's settings and policy that the CLI and library users share.

use super::error::ConfigError;
use super::experiment::ExperimentConfig;
use crate::method::AmpPolicy;
use crate::train::TrainSettings;

/// Values given on the command line that replace the config's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--epochs`: the default schedule is rescaled to it; a config with explicit
    /// `[[schedule]]` phases cannot take it.
    pub epochs: Option<usize>,
    /// `--seed`.
    pub seed: Option<u64>,
}

/// Everything the trainer needs from a config, for one model.
pub struct RunPlan {
    /// The run's name (the config's `name`).
    pub name: String,
    /// Recipe: epochs, batch size, momentum, weight decay, seed, initialization, tap mode,
    /// divergence limit; augmentation and evaluation batch size are the defaults, for the
    /// caller to adapt to its data.
    pub settings: TrainSettings,
    /// The selector and schedule over the model's candidate layers.
    pub policy: Box<dyn AmpPolicy>,
    /// The resolved config (overrides applied, defaults written out), for the record.
    pub config: String,
}

impl ExperimentConfig {
    /// The config with `overrides` applied and validated again. An error names the flag and
    /// the config: an explicit schedule cannot be rescaled, and an observation window or
    /// phase that no longer fits is reported with the config's own field and line.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Result<Self, ConfigError> {
        if let Some(seed) = overrides.seed {
            self.train.seed = seed;
        }
        if let Some(epochs) = overrides.epochs {
            let origin = self.origin().to_string();
            let err = |message: String| ConfigError::Override {
                flag: format!("--epochs {epochs}"),
                origin: origin.clone(),
                message,
            };
            if epochs != self.train.epochs {
                if let Some(phases) = &self.schedule {
                    return Err(err(format!(
                        "it has {} explicit [[schedule]] phases for train.epochs = {}, which \
                         cannot be rescaled; drop --epochs, or remove the [[schedule]] tables \
                         to use the default schedule (scaled to any epoch count)",
                        phases.len(),
                        self.train.epochs
                    )));
                }
            }
            self.train.epochs = epochs;
            self.validate().map_err(|e| err(e.to_string()))?;
        }
        Ok(self)
    }

    /// The run this config describes on a model with candidate layers `layers`: validates
    /// the config and the layer names, builds the policy and the training settings.
    pub fn plan<S: AsRef<str>>(&self, layers: &[S]) -> Result<RunPlan, ConfigError> {
        let policy = self.build_policy(layers)?;
        let t = &self.train;
        let settings = TrainSettings {
            epochs: t.epochs,
            batch_size: t.batch_size,
            momentum: t.momentum,
            weight_decay: t.weight_decay,
            seed: t.seed,
            init: t.init,
            mode: self.amp.mode,
            max_loss: t.max_loss,
            hold_weight_norms: t.hold_weight_norms,
            guard: self.amp.guard,
            ..TrainSettings::default()
        };
        Ok(RunPlan {
            name: self.name.clone(),
            settings,
            policy,
            config: self.to_toml(),
        })
    }
}
