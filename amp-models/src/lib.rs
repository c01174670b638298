//! Amplifiable networks, all declared with `#[amplifiable]`.

pub mod mlp;

pub use mlp::Mlp;
