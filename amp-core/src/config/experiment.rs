//! The experiment config as it is written on disk (TOML), and its parsing.
//!
//! Every field a file may hold is here, and nothing else (`deny_unknown_fields`), so a
//! misspelled key is an error rather than a silently ignored setting. Selection is one flat
//! table with a `kind`, so that every value keeps its own line:column for errors; its fields
//! are checked against the kind in [`super::validate`].

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, Origin};
use crate::method::{DirectionKind, MeasureKind, Resample, Reselect, ThresholdKind};
use crate::tap::Mode;
use crate::train::Init;

/// One experiment: training recipe, amplification and schedule.
///
/// ```toml
/// name = "intelligent-cv-mean"
/// [train]
/// epochs = 16
/// lr = 0.4
/// [amp]
/// factor = 2.0
/// [amp.select]
/// kind = "intelligent"
/// measure = "cv"
/// threshold = "mean"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The experiment's name, used for output folders and reports.
    pub name: String,
    /// The training recipe.
    pub train: TrainConfig,
    /// Amplification; omitted: none (a baseline).
    #[serde(default)]
    pub amp: AmpConfig,
    /// Explicit phases (`[[schedule]]`); omitted: [`crate::method::PhaseSchedule::scaled_default`]
    /// over `train.epochs`, `train.lr` and `amp.factor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Vec<PhaseConfig>>,
    /// Where the config came from, for error messages.
    #[serde(skip)]
    pub(crate) origin: Origin,
}

/// `[train]`: the training recipe. Defaults are this project's own choices (METHOD.md
/// section 5), not values fixed by the papers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Number of epochs E (at least 1).
    pub epochs: usize,
    /// Mini-batch size; default 128.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Base learning rate: the first phase's lr in the default schedule. With an explicit
    /// `[[schedule]]` the phases' own lrs are used and this one is only reported.
    pub lr: f64,
    /// SGD momentum, in [0, 1); default 0.9.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// L2 weight decay, >= 0; default 5e-4.
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// Seed of initialization, data order and (unless `amp.select.seed` is set) random
    /// selection; default 0.
    #[serde(default)]
    pub seed: u64,
    /// Stop the run as diverged when a mini-batch loss exceeds this (a non-finite loss or
    /// gradient always stops it); omitted: only non-finite values stop a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss: Option<f64>,
    /// How the weights start: `"default"` (the layers' own, PyTorch's defaults) or `"he"`
    /// (He et al. 2015, N(0, 2 / fan_in) for every convolution and linear weight, biases 0;
    /// [`crate::train::Init`]). Omitted: `"default"`, and not written out, so the configs
    /// (and grid cell ids) from before this field stay the same.
    #[serde(default, skip_serializing_if = "Init::is_default")]
    pub init: Init,
    /// After every optimizer step, rescale each candidate layer's parameters to the L2 norm
    /// they had before it ([`crate::layer_weights::NormHold`]). Behind batch norm a
    /// convolution's output ignores its weights' scale, so this keeps what the layer computes
    /// and takes away the growth of ‖w‖ that slows a layer's learning after amplified steps
    /// (EXPERIMENTS.md); on a candidate without batch norm after it, it changes the function.
    /// An analysis tool of this project, not part of the papers' method; the baseline of a
    /// config inherits it. It copies the candidates' parameters to the host and back at
    /// every step (cheap on the CPU, a sync per step on a GPU). Omitted: `false`, and not
    /// written out (configs and grid cell ids from before this field stay the same).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hold_weight_norms: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_batch_size() -> usize {
    128
}
fn default_momentum() -> f64 {
    0.9
}
fn default_weight_decay() -> f64 {
    5e-4
}
fn default_factor() -> f64 {
    2.0
}

/// `[amp]`: how the selected layers are amplified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmpConfig {
    /// Which gradient is multiplied: `output` (default), `input` or `param`.
    #[serde(default)]
    pub mode: Mode,
    /// Amplification factor k, positive and finite; default 2.0.
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Which layers; omitted: none.
    #[serde(default)]
    pub select: SelectConfig,
    /// The loss guard, a multiple greater than 1: an amplified epoch whose mean training loss
    /// so far passes `guard` times the previous epoch's (or whose loss or gradients stop
    /// being finite) is undone and trained again without amplification
    /// ([`crate::train::Rollback`]; the trainer's guard module says exactly what it does).
    /// An option of this project, not part of the papers' method. Omitted: no guard, and not
    /// written out (configs and grid cell ids from before this field stay the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<f64>,
}

impl Default for AmpConfig {
    fn default() -> Self {
        Self {
            mode: Mode::default(),
            factor: default_factor(),
            select: SelectConfig::default(),
            guard: None,
        }
    }
}

/// Which selection rule `[amp.select]` describes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectKind {
    /// Every candidate layer.
    All,
    /// No layer (a baseline).
    #[default]
    None,
    /// The layers listed in `layers`.
    Explicit,
    /// `ratio`, `seed`, `resample`.
    Random,
    /// `measure`, `threshold`, `direction`, `observe_epochs`, `reselect`.
    Intelligent,
}

impl SelectKind {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            SelectKind::All => "all",
            SelectKind::None => "none",
            SelectKind::Explicit => "explicit",
            SelectKind::Random => "random",
            SelectKind::Intelligent => "intelligent",
        }
    }
}

impl fmt::Display for SelectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[amp.select]`: `kind` and the fields of that kind (others are rejected).
///
/// | kind | fields (default) |
/// |---|---|
/// | `all`, `none` | — |
/// | `explicit` | `layers = ["layer1.0.conv1", ...]` (required; a block's name, `"layer1"`, stands for every layer inside it) |
/// | `random` | `ratio` in (0, 1] (required), `seed` (`train.seed`), `resample = "fixed" \| "per_phase"` (`fixed`) |
/// | `intelligent` | `measure = "cv" \| "rel_change" \| "sign_flip"` (required), `threshold = "mean" \| "median" \| { quantile = q } \| { top_k = n } \| { fixed = v }` (required), `direction = "above" \| "below"` (`above`), `observe_epochs` (2), `reselect = "never" \| { every = n }` (`never`) |
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// The selection rule.
    pub kind: SelectKind,
    /// `explicit`: the layers' dotted names, or blocks' (`layer1`: every candidate inside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// `random`: the fraction of candidates, ceil(ratio x N) layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// `random`: the selection seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `random`: when to draw again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample: Option<Resample>,
    /// `intelligent`: the fluctuation measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<MeasureKind>,
    /// `intelligent`: the threshold over all layers' scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdKind>,
    /// `intelligent`: which side of the threshold is amplified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionKind>,
    /// `intelligent`: epochs observed before the first selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observe_epochs: Option<usize>,
    /// `intelligent`: when to select again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reselect: Option<Reselect>,
}

/// The default observation window of intelligent selection (this project's choice).
pub const DEFAULT_OBSERVE_EPOCHS: usize = 2;

/// The largest integer a TOML file holds (2^63 - 1): the bound of every count and seed in a
/// config, since configs are saved as TOML.
pub const TOML_INT_MAX: u64 = i64::MAX as u64;

/// `[[schedule]]`: one phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// The phase's epochs, written `"start..end"` (end excluded), e.g. `"0..8"`.
    pub epochs: EpochRange,
    /// Learning rate.
    pub lr: f64,
    /// Whether the selected layers are amplified in this phase.
    pub amplify: bool,
    /// Amplification factor of this phase; omitted: `amp.factor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// `warmup = true`: the learning rate rises linearly over the phase's steps, from
    /// `lr / T` at its first step to `lr` at its last (T = the phase's step count; see
    /// [`crate::method::PhasePlan::lr_at`]). Omitted: `false`, `lr` throughout.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
}

/// Epochs `start..end` (end excluded), written as the string `"start..end"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EpochRange(pub Range<usize>);

impl TryFrom<String> for EpochRange {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let parsed = s
            .split_once("..")
            .and_then(|(a, b)| Some(a.trim().parse().ok()?..b.trim().parse().ok()?));
        parsed.map(EpochRange).ok_or_else(|| {
            format!(
                "invalid epoch range `{s}`: expected \"start..end\" (end excluded), e.g. \"0..8\""
            )
        })
    }
}

impl From<EpochRange> for String {
    fn from(r: EpochRange) -> String {
        format!("{}..{}", r.0.start, r.0.end)
    }
}

impl ExperimentConfig {
    /// Reads, parses and validates (without the model: see
    /// [`ExperimentConfig::validate_layers`]) the config at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and validates config text; `origin` names it in errors (a file name).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let origin = Origin {
            name: origin.to_string(),
            text: Some(text.to_string()),
        };
        let mut config: Self = toml::from_str(text).map_err(|e| origin.syntax(text, &e))?;
        config.origin = origin;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML, for the run record (defaults written out where they are not
    /// `Option`s).
    ///
    /// # Panics
    /// On an integer above [`TOML_INT_MAX`], which [`validate`](Self::validate) refuses.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a validated ExperimentConfig is representable in TOML")
    }

    /// The name of the file (or text) the config came from; empty when built in code.
    pub fn origin(&self) -> &str {
        &self.origin.name
    }

    /// Names the config's origin in errors (for configs built in code).
    pub fn with_origin(mut self, name: &str) -> Self {
        self.origin.name = name.to_string();
        self
    }
}
