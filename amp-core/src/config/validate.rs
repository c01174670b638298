//! Semantic checks of a parsed config: value domains, fields that fit the selection kind,
//! phases that cover the run exactly once, and (given the model) layer names.
//!
//! Checks run in file order (train, amp, select, schedule) and stop at the first error, which
//! names the file, the field and, when the text is at hand, its line:column.

use super::error::ConfigError;
use super::experiment::{ExperimentConfig, SelectKind, DEFAULT_OBSERVE_EPOCHS, TOML_INT_MAX};
use crate::method::{
    Intelligent, MeasureKind, MethodError, Phase, PhaseSchedule, Random, Reselect, Schedule,
    ScheduleError, Selector, ThresholdKind,
};
use crate::registry::UnknownLayer;

/// The `[amp.select]` fields and the kind each belongs to.
const SELECT_FIELDS: [(&str, SelectKind); 9] = [
    ("layers", SelectKind::Explicit),
    ("ratio", SelectKind::Random),
    ("seed", SelectKind::Random),
    ("resample", SelectKind::Random),
    ("measure", SelectKind::Intelligent),
    ("threshold", SelectKind::Intelligent),
    ("direction", SelectKind::Intelligent),
    ("observe_epochs", SelectKind::Intelligent),
    ("reselect", SelectKind::Intelligent),
];

/// Whether `name` can name a run's files: it becomes part of file names inside the output
/// folder, so it must not be empty, start with a dot, or hold a path separator.
pub fn check_run_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.starts_with('.') {
        return Err("must not start with `.` (it names files in the output folder)".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '=')))
    {
        return Err(format!(
            "may only hold letters, digits and `- _ . + =` (it names files in the output \
             folder); found {c:?}"
        ));
    }
    Ok(())
}

fn positive_finite(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// A phase's epochs as the file writes them: `epochs = "a..b"`.
fn epochs_text(r: &std::ops::Range<usize>) -> String {
    format!("epochs = \"{}..{}\"", r.start, r.end)
}

impl ExperimentConfig {
    /// Checks everything that does not depend on the model. [`ExperimentConfig::load`] and
    /// [`ExperimentConfig::from_toml_str`] call it; call it again after editing a config in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let o = &self.origin;
        if let Err(why) = check_run_name(&self.name) {
            return Err(o.invalid("name", format!("name = {:?} {why}", self.name)));
        }
        self.check_toml_integers()?;
        self.check_train_fields()?;
        if !positive_finite(self.amp.factor) {
            return Err(o.invalid(
                "amp.factor",
                format!("factor k = {} must be positive and finite", self.amp.factor),
            ));
        }
        if let Some(g) = self.amp.guard.filter(|&g| !(g.is_finite() && g > 1.0)) {
            return Err(o.invalid(
                "amp.guard",
                format!(
                    "guard = {g} must be a finite multiple greater than 1 (of the previous \
                     epoch's training loss; 1.5 lets an amplified epoch's loss rise by half)"
                ),
            ));
        }
        self.check_select_fields()?;
        let schedule = self.schedule()?;
        if let Some(selector) = self.layer_free_selector()? {
            self.check_amplified_at_all(&schedule, selector.as_ref())?;
        }
        self.check_explicit_layers()?;
        Ok(())
    }

    /// `[train]`'s numbers: counts at least 1, a positive learning rate, momentum in [0, 1).
    fn check_train_fields(&self) -> Result<(), ConfigError> {
        let o = &self.origin;
        let t = &self.train;
        if let Some(m) = t.max_loss.filter(|&m| !positive_finite(m)) {
            return Err(o.invalid(
                "train.max_loss",
                format!("max_loss = {m} must be positive and finite"),
            ));
        }
        if t.epochs == 0 {
            return Err(o.invalid("train.epochs", "must be at least 1"));
        }
        if t.batch_size == 0 {
            return Err(o.invalid("train.batch_size", "must be at least 1"));
        }
        if !positive_finite(t.lr) {
            return Err(o.invalid(
                "train.lr",
                format!("lr = {} must be positive and finite", t.lr),
            ));
        }
        if !(0.0..1.0).contains(&t.momentum) {
            return Err(o.invalid(
                "train.momentum",
                format!("momentum = {} must be in [0, 1)", t.momentum),
            ));
        }
        if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
            return Err(o.invalid(
                "train.weight_decay",
                format!("weight_decay = {} must be finite and >= 0", t.weight_decay),
            ));
        }
        Ok(())
    }

    /// An explicit selection's `layers`: at least one, none twice. (Whether they name layers of
    /// the model is [`ExperimentConfig::validate_layers`]'s question.)
    fn check_explicit_layers(&self) -> Result<(), ConfigError> {
        let o = &self.origin;
        if let (SelectKind::Explicit, Some(names)) = (self.amp.select.kind, &self.amp.select.layers)
        {
            if names.is_empty() {
                return Err(o.invalid(
                    "amp.select.layers",
                    "lists no layer (use kind = \"none\" for no amplification)",
                ));
            }
            for (j, name) in names.iter().enumerate() {
                if let Some(i) = names[..j].iter().position(|n| n == name) {
                    return Err(o.invalid(
                        format!("amp.select.layers[{j}]"),
                        format!("`{name}` is listed twice (also at layers[{i}])"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A config is saved as TOML (in run records and grid cells), whose integers are signed 64
    /// bits: a count or seed above 2^63 - 1, set by a flag or in code, could not be written.
    fn check_toml_integers(&self) -> Result<(), ConfigError> {
        let (t, s) = (&self.train, &self.amp.select);
        let every = match s.reselect {
            Some(Reselect::Every(n)) => Some(n as u64),
            _ => None,
        };
        let fields = [
            ("train.epochs", Some(t.epochs as u64)),
            ("train.batch_size", Some(t.batch_size as u64)),
            ("train.seed", Some(t.seed)),
            ("amp.select.seed", s.seed),
            (
                "amp.select.observe_epochs",
                s.observe_epochs.map(|n| n as u64),
            ),
            ("amp.select.reselect.every", every),
        ];
        for (field, value) in fields {
            if let Some(v) = value.filter(|&v| v > TOML_INT_MAX) {
                return Err(self.origin.invalid(
                    field,
                    format!(
                        "{v} is above {TOML_INT_MAX} (2^63 - 1), the largest integer TOML holds \
                         (the run's config is saved as TOML)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks the layer names the config mentions against the model's candidate layers
    /// (`layers`, forward order): each names a layer or a block holding some
    /// ([`crate::method::layers_named`]); the error lists every valid name.
    pub fn validate_layers<S: AsRef<str>>(&self, layers: &[S]) -> Result<(), ConfigError> {
        let valid: Vec<String> = layers.iter().map(|l| l.as_ref().to_string()).collect();
        if let (SelectKind::Explicit, Some(names)) = (self.amp.select.kind, &self.amp.select.layers)
        {
            for (i, name) in names.iter().enumerate() {
                if crate::method::layers_named(name, &valid).is_empty() {
                    return Err(self.origin.unknown_layer(
                        format!("amp.select.layers[{i}]"),
                        UnknownLayer::new(name, valid),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Rejects fields of another kind and missing required fields.
    fn check_select_fields(&self) -> Result<(), ConfigError> {
        let s = &self.amp.select;
        let present = [
            s.layers.is_some(),
            s.ratio.is_some(),
            s.seed.is_some(),
            s.resample.is_some(),
            s.measure.is_some(),
            s.threshold.is_some(),
            s.direction.is_some(),
            s.observe_epochs.is_some(),
            s.reselect.is_some(),
        ];
        for ((field, owner), present) in SELECT_FIELDS.iter().zip(present) {
            if present && *owner != s.kind {
                return Err(self.origin.invalid(
                    format!("amp.select.{field}"),
                    format!(
                        "`{field}` is not a field of kind = \"{}\" (it belongs to kind = \"{owner}\")",
                        s.kind
                    ),
                ));
            }
        }
        let measures: Vec<&str> = MeasureKind::ALL.iter().map(|m| m.name()).collect();
        let required: &[(&str, bool, String)] = match s.kind {
            SelectKind::Explicit => {
                &[("layers", s.layers.is_some(), "a list of layer names".into())]
            }
            SelectKind::Random => &[("ratio", s.ratio.is_some(), "a fraction in (0, 1]".into())],
            SelectKind::Intelligent => &[
                (
                    "measure",
                    s.measure.is_some(),
                    format!("one of: {}", measures.join(", ")),
                ),
                (
                    "threshold",
                    s.threshold.is_some(),
                    "\"mean\", \"median\", { quantile = q }, { top_k = n } or { fixed = v }".into(),
                ),
            ],
            SelectKind::All | SelectKind::None => &[],
        };
        for (field, present, what) in required {
            if !present {
                return Err(self.origin.invalid(
                    format!("amp.select.{field}"),
                    format!("kind = \"{}\" needs `{field}`: {what}", s.kind),
                ));
            }
        }
        Ok(())
    }

    /// The selector of every kind but `explicit` (which needs the model's layer names), with
    /// its parameters checked; `None` for `explicit`.
    pub(crate) fn layer_free_selector(&self) -> Result<Option<Box<dyn Selector>>, ConfigError> {
        let s = &self.amp.select;
        let method_err =
            |field: &str, e: MethodError| self.origin.invalid(format!("amp.select.{field}"), e);
        Ok(Some(match s.kind {
            SelectKind::All => Box::new(crate::method::All),
            SelectKind::None => Box::new(crate::method::NoLayers),
            SelectKind::Explicit => return Ok(None),
            SelectKind::Random => Box::new(
                Random::new(
                    s.ratio.unwrap_or(f64::NAN),
                    s.seed.unwrap_or(self.train.seed),
                    s.resample.unwrap_or_default(),
                )
                .map_err(|e| method_err("ratio", e))?,
            ),
            SelectKind::Intelligent => {
                let threshold = s.threshold.unwrap_or(ThresholdKind::Mean);
                threshold
                    .validate()
                    .map_err(|e| method_err("threshold", e))?;
                let measure = s.measure.unwrap_or(MeasureKind::Cv);
                Box::new(
                    Intelligent::new(
                        measure.build(),
                        threshold.build(),
                        s.direction.unwrap_or_default().build(),
                        s.observe_epochs.unwrap_or(DEFAULT_OBSERVE_EPOCHS),
                        s.reselect.unwrap_or_default(),
                    )
                    .map_err(|e| match e {
                        MethodError::ReselectZero => method_err("reselect", e),
                        e => method_err("observe_epochs", e),
                    })?,
                )
            }
        }))
    }

    /// A selection that could never be amplified is a mistake, not an experiment.
    fn check_amplified_at_all(
        &self,
        schedule: &PhaseSchedule,
        selector: &dyn Selector,
    ) -> Result<(), ConfigError> {
        if self.amp.select.kind == SelectKind::None {
            return Ok(());
        }
        let amplified = (0..schedule.epochs()).any(|e| {
            schedule.phase(e).is_some_and(|p| p.phase.amplify)
                && selector.selected_at(e, schedule).is_some()
        });
        if amplified {
            return Ok(());
        }
        if !schedule.phases().iter().any(|p| p.amplify) {
            let field = if self.schedule.is_some() {
                "schedule"
            } else {
                "train.epochs"
            };
            return Err(self.origin.invalid(
                field,
                format!(
                    "no phase has amplify = true, so kind = \"{}\" would never be amplified",
                    self.amp.select.kind
                ),
            ));
        }
        let last = schedule
            .phases()
            .iter()
            .filter(|p| p.amplify)
            .map(|p| p.epochs.end - 1)
            .max()
            .unwrap_or(0);
        Err(self.origin.invalid(
            "amp.select.observe_epochs",
            format!(
                "observe_epochs = {}: the first selection is made at epoch {}, after the last amplified epoch ({last}), so nothing would ever be amplified",
                self.amp.select.observe_epochs.unwrap_or(DEFAULT_OBSERVE_EPOCHS),
                self.amp.select.observe_epochs.unwrap_or(DEFAULT_OBSERVE_EPOCHS),
            ),
        ))
    }

    /// The schedule: the `[[schedule]]` phases, or the default scaled to `train.epochs`.
    pub fn schedule(&self) -> Result<PhaseSchedule, ConfigError> {
        let epochs = self.train.epochs;
        let Some(phases) = &self.schedule else {
            return PhaseSchedule::scaled_default(epochs, self.train.lr, self.amp.factor)
                .map_err(|e| self.origin.invalid("train.epochs", e));
        };
        let built = phases
            .iter()
            .map(|p| Phase {
                epochs: p.epochs.0.clone(),
                lr: p.lr,
                amplify: p.amplify,
                factor: p.factor.unwrap_or(self.amp.factor),
                warmup: p.warmup,
            })
            .collect();
        PhaseSchedule::new(epochs, built).map_err(|e| self.schedule_error(e))
    }

    /// Says a schedule error in the file's terms: `schedule[i]` and its `epochs = "a..b"`.
    fn schedule_error(&self, e: ScheduleError) -> ConfigError {
        let o = &self.origin;
        let phases = self.schedule.as_deref().unwrap_or_default();
        let range_of = |i: usize| epochs_text(&phases[i].epochs.0);
        match e {
            ScheduleError::NoEpochs => o.invalid("train.epochs", "must be at least 1"),
            ScheduleError::NoPhases => o.invalid(
                "schedule",
                "an explicit schedule needs at least one phase (omit it for the default schedule)",
            ),
            ScheduleError::EmptyPhase { phase, range } => o.invalid(
                format!("schedule[{phase}].epochs"),
                format!(
                    "{} is empty: the end must be greater than the start",
                    epochs_text(&range)
                ),
            ),
            ScheduleError::PastEnd {
                phase,
                range,
                epochs,
            } => o.invalid(
                format!("schedule[{phase}].epochs"),
                format!(
                    "{} runs past the end of the run: train.epochs = {epochs} (epochs 0..{epochs})",
                    epochs_text(&range)
                ),
            ),
            ScheduleError::Overlap {
                first,
                second,
                overlap,
                ..
            } => o.invalid(
                format!("schedule[{second}].epochs"),
                format!(
                    "schedule[{second}] ({}) overlaps schedule[{first}] ({}) on epochs {}..{}",
                    range_of(second),
                    range_of(first),
                    overlap.start,
                    overlap.end
                ),
            ),
            ScheduleError::Gap { gap, after, before } => self.gap_error(gap, after, before),
            ScheduleError::BadLr { phase, lr } => o.invalid(
                format!("schedule[{phase}].lr"),
                format!("lr = {lr} must be positive and finite"),
            ),
            ScheduleError::BadFactor { phase, factor } => {
                let field = if phases[phase].factor.is_some() {
                    format!("schedule[{phase}].factor")
                } else {
                    "amp.factor".to_string()
                };
                o.invalid(
                    field,
                    format!("factor = {factor} must be positive and finite"),
                )
            }
        }
    }

    /// Says which epochs no phase covers, and where they are: between two phases, before the
    /// first or after the last (`after` and `before` index the neighbouring phases).
    fn gap_error(
        &self,
        gap: std::ops::Range<usize>,
        after: Option<usize>,
        before: Option<usize>,
    ) -> ConfigError {
        let phases = self.schedule.as_deref().unwrap_or_default();
        let range_of = |i: usize| epochs_text(&phases[i].epochs.0);
        let field = before
            .or(after)
            .map_or("schedule".to_string(), |i| format!("schedule[{i}].epochs"));
        let context = match (after, before) {
            (Some(a), Some(b)) => format!(
                "between schedule[{a}] ({}) and schedule[{b}] ({})",
                range_of(a),
                range_of(b)
            ),
            (None, Some(b)) => format!(
                "before schedule[{b}] ({}): the first phase must start at epoch 0",
                range_of(b)
            ),
            (Some(a), None) => format!(
                "after schedule[{a}] ({}): the last phase must end at train.epochs = {}",
                range_of(a),
                self.train.epochs
            ),
            (None, None) => String::new(),
        };
        self.origin.invalid(
            field,
            format!(
                "epochs {}..{} are in no phase, {context}",
                gap.start, gap.end
            ),
        )
    }
}
