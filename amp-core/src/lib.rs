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
//!
//! # An own training loop
//!
//! [`train::train`] does all of this; a loop of your own must do the same five things:
//! 1. one [`AmpState`] per run, with one factor per candidate layer and the [`Mode`];
//! 2. a plan (which layers, which factor; an [`method::AmpPolicy`]'s `plan_epoch` gives one
//!    per epoch) set with [`AmpState::set_amplified`];
//! 3. [`AmpState::activate`] around each step's forward and backward: the taps find the run
//!    through it (without it the model is the plain network);
//! 4. after backward, read the norms ([`layer_grads::step_norms`]: both vectors in one
//!    transfer; or [`layer_grads::layer_grad_norms`] and [`AmpState::take_output_norms`]
//!    apart) and, on the first step, [`tap::check_taps`]: it
//!    catches declarations that compile but would amplify the wrong thing;
//! 5. in `param` mode, [`layer_grads::scale_layer_grads`] before the optimizer: in that mode
//!    the taps only measure, and nothing is amplified unless the loop scales the gradients.
//!
//! ```
//! use amp_core::layer_grads::{layer_grad_norms, scale_layer_grads};
//! use amp_core::tap::{check_taps, TapCheckError};
//! use amp_core::{amplifiable, AmpState, Amplifiable, Mode};
//! use dfdx::nn::modules::{Linear, ReLU};
//! use dfdx::optim::{Optimizer, Sgd, SgdConfig};
//! use dfdx::prelude::*;
//!
//! #[amplifiable]
//! struct Mlp<E: Dtype, D: Device<E>> {
//!     fc1: Linear<4, 8, E, D>,
//!     #[amp(skip)]
//!     act: ReLU,
//!     fc2: Linear<8, 2, E, D>,
//! }
//! type Net = Mlp<f32, Cpu>;
//!
//! fn main() -> Result<(), TapCheckError> {
//!     let dev = Cpu::seed_from_u64(0);
//!     let mut model = Net::build(&dev);
//!     let mut opt = Sgd::new(&model, SgdConfig::default());
//!     // 1. The run state; 2. the plan: amplify `fc1` by 2.
//!     let state = AmpState::new(Net::LAYER_COUNT, Mode::Param);
//!     let mut amplified = vec![false; Net::LAYER_COUNT];
//!     amplified[Net::FC1.index()] = true;
//!     state.set_amplified(&amplified, 2.0);
//!
//!     let mut grads = model.alloc_grads();
//!     for step in 0..3 {
//!         let x: Tensor<Rank2<16, 4>, f32, Cpu> = dev.sample_normal();
//!         // 3. Forward and backward with the run active.
//!         grads = {
//!             let _active = state.activate();
//!             model.forward_mut(x.traced(grads)).square().mean().backward()
//!         };
//!         // 4. The step's statistics, and the declaration check on the first step.
//!         let param_norms = layer_grad_norms(&model, &mut grads);
//!         let output_norms = state.take_output_norms();
//!         assert_eq!((param_norms.len(), output_norms.len()), (2, 2));
//!         if step == 0 {
//!             check_taps(&model, &state)?;
//!         }
//!         // 5. `param` mode: scale the amplified layers' parameter gradients.
//!         if state.mode() == Mode::Param {
//!             scale_layer_grads(&model, &mut grads, &state.factors());
//!             let scaled = layer_grad_norms(&model, &mut grads);
//!             assert!((scaled[0] - 2.0 * param_norms[0]).abs() <= 1e-5 * scaled[0]);
//!             assert_eq!(scaled[1], param_norms[1]);
//!         }
//!         opt.update(&mut model, &grads).expect("every parameter has a gradient");
//!         model.zero_grads(&mut grads);
//!     }
//!     Ok(())
//! }
//! ```

// Generated code names `::amp_core`, also inside this crate's own tests.
extern crate self as amp_core;

pub mod backend;
pub mod candidate;
pub mod config;
pub mod data;
pub mod io;
pub mod layer_grads;
pub mod layer_weights;
pub mod method;
pub mod registry;
pub mod stats;
pub mod suggest;
pub mod tap;
pub mod train;

pub use amp_macros::amplifiable;
pub use backend::{AmpDevice, AmpDtype};
pub use candidate::Candidate;
pub use registry::{
    Amplifiable, BlockId, Layer, LayerId, LayerInfo, LayerParams, LayerVisitor, UnknownLayer,
};
pub use tap::{AmpState, Mode};

/// Items that generated code refers to by path; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::candidate::NotABlock;
    pub use dfdx;
}
