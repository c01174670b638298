//! The amplification method (METHOD.md sections 3 and 4): which candidate layers are amplified
//! in which epoch, with which learning rate and factor.
//!
//! The pieces compose as types, so a research codebase extends one piece by implementing one
//! trait and the compiler rejects a piece used in the wrong slot:
//! - [`Measure`]: a layer's statistics over the observation window -> one score
//!   ([`Cv`], [`RelChange`], [`SignFlip`]).
//! - [`Threshold`]: all layers' scores -> a cut ([`Mean`], [`Median`], [`Quantile`], [`TopK`],
//!   [`Fixed`]).
//! - [`Direction`]: which side of the cut is amplified ([`Above`], [`Below`]).
//! - [`Selector`]: which layers are amplified from which epoch on ([`All`], [`NoLayers`],
//!   [`Explicit`], [`Random`], [`Intelligent`]).
//! - [`Schedule`]: epoch -> learning rate, amplification on/off, factor ([`PhaseSchedule`]).
//! - [`AmpPolicy`]: what the trainer holds (`Box<dyn AmpPolicy>`); [`Policy`] joins a selector
//!   and a schedule into one.
//!
//! The runtime (config-driven) path uses the same impls behind boxes: [`MeasureKind`],
//! [`ThresholdKind`] and [`DirectionKind`] name them, and `Box<dyn Measure>` etc. implement the
//! traits themselves, so `Intelligent<Box<dyn Measure>, Box<dyn Threshold>, Box<dyn Direction>>`
//! is the same code as a statically typed `Intelligent<Cv, Mean, Above>`.
//!
//! Every default here is this project's own choice (METHOD.md: the papers' available text does
//! not fix them).

mod decision;
mod direction;
mod error;
mod intelligent;
mod measure;
mod policy;
mod random;
mod schedule;
mod selector;
mod threshold;

pub use decision::{epochs_display, Decision, Scoring};
pub use direction::{Above, Below, Direction, DirectionKind};
pub use error::{MethodError, ScheduleError};
pub use intelligent::{Intelligent, Reselect};
pub use measure::{Cv, Measure, MeasureKind, RelChange, SignFlip};
pub use policy::{AmpPolicy, EpochPlan, Policy};
pub use random::{Random, Resample};
pub use schedule::{Phase, PhasePlan, PhaseSchedule, Schedule};
pub use selector::{layers_named, All, Explicit, NoLayers, SelectContext, Selection, Selector};
pub use threshold::{Cut, Fixed, Mean, Median, Quantile, Threshold, ThresholdKind, TopK};
