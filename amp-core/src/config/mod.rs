//! Experiment configs (TOML on disk) that map onto the method's types.
//!
//! ```toml
//! name = "intelligent-cv-mean"
//!
//! [train]
//! epochs = 16          # required
//! lr = 0.4             # required
//! batch_size = 128     # defaults: 128, 0.9, 5e-4, 0
//! momentum = 0.9
//! weight_decay = 5e-4
//! seed = 0
//!
//! [amp]                # omitted: no amplification
//! mode = "output"      # output (default) | input | param
//! factor = 2.0         # k, default 2.0
//!
//! [amp.select]
//! kind = "intelligent" # all | none (default) | explicit | random | intelligent
//! measure = "cv"       # cv | rel_change | sign_flip
//! threshold = "mean"   # "mean" | "median" | { quantile = 0.75 } | { top_k = 5 } | { fixed = 0.3 }
//! direction = "above"  # above (default) | below
//! observe_epochs = 2   # default 2
//! reselect = "never"   # "never" (default) | { every = 4 }
//! # explicit: layers = ["layer1.0.conv1", ...] (or a block: ["layer1"])
//! # random:   ratio = 0.3, seed = 7 (default train.seed), resample = "fixed" | "per_phase"
//!
//! # Omitted: the default schedule scaled to train.epochs (see
//! # `PhaseSchedule::scaled_default`). Or explicit phases covering 0..epochs exactly once:
//! [[schedule]]
//! epochs = "0..8"      # start..end, end excluded
//! lr = 0.4
//! amplify = true
//! # factor = 3.0       # default amp.factor
//! ```
//!
//! Every default is this project's own choice, not a number from the papers. Errors
//! ([`ConfigError`]) name the file, the field and its line:column.

mod build;
mod error;
mod experiment;
mod location;
mod plan;
mod validate;

pub use error::{ConfigError, Location, Origin};
pub use experiment::{
    AmpConfig, EpochRange, ExperimentConfig, PhaseConfig, SelectConfig, SelectKind, TrainConfig,
    DEFAULT_OBSERVE_EPOCHS, TOML_INT_MAX,
};
pub use plan::{Overrides, RunPlan};
pub use validate::check_run_name;
