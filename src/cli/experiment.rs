//! Running one experiment config on one model: what `amp train` and `amp demo` share.

use amp_core::config::ExperimentConfig;
use amp_core::data::{Augment, ImageSet};
use amp_core::train::{train, BatchShape, Classifier, RunRecord, TrainSettings};
use amp_core::Amplifiable;
use anyhow::Result;

use super::args::ModelName;
use super::models::{with_model, Dev, WithModel};
use super::progress::Bars;

/// Everything a run needs besides the model.
pub struct Experiment<'a> {
    pub config: &'a ExperimentConfig,
    pub train_set: &'a ImageSet,
    pub test_set: &'a ImageSet,
    pub augment: Augment,
    pub quiet: bool,
}

impl Experiment<'_> {
    /// Builds `model` (initialized from the config's seed) and trains it.
    pub fn run(self, model: ModelName) -> Result<RunRecord> {
        super::models::check_input(model, self.train_set.shape)?;
        let dev = Dev::seed_from_u64(self.config.train.seed);
        with_model(model, self.train_set.classes.len(), &dev, self)?
    }
}

impl WithModel for Experiment<'_> {
    type Output = Result<RunRecord>;

    fn run<M, S, const C: usize>(self, mut model: M, dev: &Dev) -> Result<RunRecord>
    where
        M: Classifier<S, Dev, C> + Amplifiable + Clone,
        S: BatchShape,
    {
        let cfg = self.config;
        let mut policy = cfg.build_policy(&M::layer_names())?;
        let settings = TrainSettings {
            epochs: cfg.train.epochs,
            batch_size: cfg.train.batch_size,
            momentum: cfg.train.momentum,
            weight_decay: cfg.train.weight_decay,
            augment: self.augment,
            seed: cfg.train.seed,
            mode: cfg.amp.mode,
            ..TrainSettings::default()
        };
        let mut bars = Bars::new(&cfg.name, cfg.train.epochs, self.quiet);
        let mut record = train::<M, S, Dev, C>(
            &cfg.name,
            &mut model,
            dev,
            self.train_set,
            self.test_set,
            &settings,
            policy.as_mut(),
            &mut bars,
        )?;
        record.config = cfg.to_toml();
        record.policy = policy.describe();
        Ok(record)
    }
}
