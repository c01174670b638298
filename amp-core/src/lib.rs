//! amp-core: gradient taps, per-layer gradient statistics, the amplification method
//! (measures, thresholds, selectors, schedules), experiment configs and the trainer.
//!
//! The pieces, in the order a training step meets them:
//! - [`tap`]: the identity-forward ops that `#[amplifiable]` puts around each candidate layer;
//!   in the backward pass they amplify and measure gradients, reading the run's [`tap::AmpState`].
//! - [`registry`]: the names, kinds and typed ids of a model's candidate layers.
//! - [`layer_grads`]: per-layer parameter-gradient norms and `param`-mode scaling.
//! - [`stats`]: per-step norms summarized per epoch, kept for the whole run.
//! - [`method`]: which layers are amplified when, with which factor and learning rate.
//! - [`config`]: TOML experiment configs that build a [`method::AmpPolicy`].
//! - [`train`]: the training loop and its run record; [`data`]: datasets and batches.
//! - [`backend`]: the two raw-buffer operations each dfdx device must provide; [`io`]:
//!   atomic file writes.

// Generated code names `::amp_core`, also inside this crate's own tests.
extern crate self as amp_core;

pub mod backend;
pub mod config;
pub mod data;
pub mod io;
pub mod layer_grads;
pub mod method;
pub mod registry;
pub mod stats;
pub mod tap;
pub mod train;

pub use amp_macros::amplifiable;
pub use backend::{AmpDevice, AmpDtype};
pub use registry::{
    Amplifiable, Layer, LayerId, LayerInfo, LayerParams, LayerVisitor, UnknownLayer,
};
pub use tap::{AmpState, Mode};

/// Items that generated code refers to by path; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use dfdx;
}
