//! Gradient taps: identity forward, amplification and measurement backward.

mod check;
pub mod context;
mod forward_once;
mod mode;
mod op;
mod state;
mod tapped;

pub use check::{check_taps, TapCheckError, TapProblem};
pub use context::{with_block_offset, ActiveGuard};
pub use mode::Mode;
pub use op::Tappable;
pub use state::AmpState;
pub use tapped::{Block, BlockMut, Tapped, TappedMut};
