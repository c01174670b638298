//! From a validated config to the method's types: the same impls a statically typed
//! composition uses, behind boxes.

use super::error::ConfigError;
use super::experiment::{ExperimentConfig, SelectConfig, SelectKind};
use crate::method::{AmpPolicy, Explicit, Policy, Selector};

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
}
