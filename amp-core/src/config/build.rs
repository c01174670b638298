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
    /// amplified, named `<name>-baseline`. A loss guard guards amplified epochs only, so the
    /// baseline drops it (and trains, and is named in a grid, as a config without one).
    pub fn baseline(&self) -> ExperimentConfig {
        let mut baseline = self.clone();
        baseline.name = format!("{}-baseline", self.name);
        baseline.amp.guard = None;
        baseline.amp.select = SelectConfig {
            kind: SelectKind::None,
            ..SelectConfig::default()
        };
        baseline
    }

    /// Drops an explicit `[[schedule]]` that amplifies in no phase and otherwise trains as the
    /// default schedule: no warm-up, and every epoch at the default's learning rate, bit for
    /// bit. A baseline that writes the default out trains exactly as one that omits it (the
    /// test `a_baseline_writing_out_the_default_schedule_trains_bit_identically` checks that),
    /// so grids and reports take the two for one recipe. Phases split at other epochs count
    /// too (a config that moves amplification by splitting a phase shares the default's
    /// baselines): without warm-up a phase's boundaries change nothing but the phase index,
    /// which only selection reads, and a baseline selects nothing. Another rounding of a
    /// learning rate, a warm-up or any amplified phase keep the schedule. Returns whether it
    /// dropped one.
    pub fn drop_default_schedule(&mut self) -> bool {
        let Some(phases) = &self.schedule else {
            return false;
        };
        let epochs = self.train.epochs;
        let Ok(default) = PhaseSchedule::scaled_default(epochs, self.train.lr, self.amp.factor)
        else {
            return false;
        };
        let lr_bits = |e: usize| {
            let written = phases.iter().find(|p| p.epochs.0.contains(&e))?;
            let d = default.phases().iter().find(|d| d.epochs.contains(&e))?;
            (!d.warmup).then_some((written.lr.to_bits(), d.lr.to_bits()))
        };
        let is_default = phases
            .iter()
            .all(|p| !p.amplify && !p.warmup && p.epochs.0.end <= epochs)
            && (0..epochs).all(|e| lr_bits(e).is_some_and(|(w, d)| w == d));
        if is_default {
            self.schedule = None;
        }
        is_default
    }
}
