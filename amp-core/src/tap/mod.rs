//! Gradient taps: identity forward, amplification and measurement backward.

pub mod context;
mod mode;
mod op;
mod state;
mod tapped;

pub use context::{with_block_offset, ActiveGuard};
pub use mode::Mode;
pub use op::Tappable;
pub use state::AmpState;
pub use tapped::{Block, BlockMut, Tapped, TappedMut};
