//! From a validated config to the method's types: the same impls a statically typed
//! composition uses, behind boxes.

use super::error::ConfigError;
use super::experiment::{ExperimentConfig, SelectConfig, SelectKind};
use crate::method::{AmpPolicy, Explicit, PhaseSchedule, Policy, Selector};

impl ExperimentConfig {
    /// The selector over the model's candidate layers `layers` (forward order).
    pub fn build_selector<S: AsRef<str>>(
        &self,
        layers: &[S],
    ) -> Result<Box<dyn Selector>, ConfigError> {
        self.validate_layers(layers)?;
        if let Some(selector) = self.layer_free_selector()? {
            return Ok(selector);
        }
        let valid: Vec<String> = layers.iter().map(|l| l.as_ref().to_string()).collect();
        let names = self.amp.select.layers.as_deref().unwrap_or_default();
        let explicit = Explicit::new(names, &valid).map_err(|e| {
            let i = names.iter().position(|n| *n == e.name).unwrap_or(0);
            self.origin
                .unknown_layer(format!("amp.select.layers[{i}]"), e)
        })?;
        Ok(Box::new(explicit))
    }

    /// The policy the trainer drives, over the model's candidate layers `layers` (forward
    /// order): validates the config and the layer names, then joins selector and schedule.
    pub fn build_policy<S: AsRef<str>>(
        &self,
        layers: &[S],
    ) -> Result<Box<dyn AmpPolicy>, ConfigError> {
        self.validate()?;
        let selector = self.build_selector(layers)?;
        let schedule = self.schedule()?;
        let names = layers.iter().map(|l| l.as_ref().to_string()).collect();
        Ok(Box::new(Policy::new(names, selector, schedule)))
    }

    /// The baseline of this experiment: the identical recipe and schedule with no layer
    /// amplified, named `<name>-baseline`.
    pub fn baseline(&self) -> ExperimentConfig {
        let mut baseline = self.clone();
        baseline.name = format!("{}-baseline", self.name);
        baseline.amp.select = SelectConfig {
            kind: SelectKind::None,
            ..SelectConfig::default()
        };
        baseline
    }

    /// Drops an explicit `[[schedule]]` that amplifies in no phase and otherwise is the
    /// default schedule, phase for phase (epochs, learning rate bit for bit, warm-up): a
    /// baseline that writes the default out trains exactly as one that omits it (the test
    /// `a_baseline_writing_out_the_default_schedule_trains_bit_identically` checks that), so
    /// grids and reports take the two for one recipe. Split or merged phases, another
    /// rounding of a learning rate, or any amplified phase keep the schedule. Returns whether
    /// it dropped one.
    pub fn drop_default_schedule(&mut self) -> bool {
        let Some(phases) = &self.schedule else {
            return false;
        };
        let Ok(default) =
            PhaseSchedule::scaled_default(self.train.epochs, self.train.lr, self.amp.factor)
        else {
            return false;
        };
        let is_default = phases.len() == default.phases().len()
            && phases.iter().zip(default.phases()).all(|(p, d)| {
                !p.amplify
                    && p.epochs.0 == d.epochs
                    && p.lr.to_bits() == d.lr.to_bits()
                    && p.warmup == d.warmup
            });
        if is_default {
            self.schedule = None;
        }
        is_default
    }
}
