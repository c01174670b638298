//! Module wrappers that put taps around a layer, or a block offset around a nested block.
//!
//! `#[amplifiable]` builds its forward from these, and hands them to hand-written forwards
//! through the generated `taps()` / `taps_mut()` views, so a residual block written by hand
//! gets exactly the same taps as a generated sequence.

use dfdx::nn::{Module, ModuleMut};
use dfdx::tensor::HasErr;

use super::context::{with_block_offset, within_layer};
use super::Tappable;

/// A candidate layer with its taps, for `Module::forward` (evaluation or training without
/// running statistics).
#[derive(Debug)]
pub struct Tapped<'a, M> {
    layer: &'a M,
    local: usize,
}

/// A candidate layer with its taps, for `ModuleMut::forward_mut` (training).
#[derive(Debug)]
pub struct TappedMut<'a, M> {
    layer: &'a mut M,
    local: usize,
}

/// A nested amplifiable block, whose layers are numbered from `offset` in the parent.
#[derive(Debug)]
pub struct Block<'a, M> {
    block: &'a M,
    offset: usize,
}

/// A nested amplifiable block, for `ModuleMut::forward_mut`.
#[derive(Debug)]
pub struct BlockMut<'a, M> {
    block: &'a mut M,
    offset: usize,
}

impl<'a, M> Tapped<'a, M> {
    /// Wraps `layer`, the candidate with block-local index `local`.
    pub fn new(layer: &'a M, local: usize) -> Self {
        Self { layer, local }
    }
    /// The wrapped layer.
    pub fn layer(&self) -> &M {
        self.layer
    }
}

impl<'a, M> TappedMut<'a, M> {
    /// Wraps `layer`, the candidate with block-local index `local`.
    pub fn new(layer: &'a mut M, local: usize) -> Self {
        Self { layer, local }
    }
    /// The wrapped layer.
    pub fn layer(&mut self) -> &mut M {
        self.layer
    }
}

impl<'a, M> Block<'a, M> {
    /// Wraps a nested block whose first layer has block-local index `offset`.
    pub fn new(block: &'a M, offset: usize) -> Self {
        Self { block, offset }
    }
}

impl<'a, M> BlockMut<'a, M> {
    /// Wraps a nested block whose first layer has block-local index `offset`.
    pub fn new(block: &'a mut M, offset: usize) -> Self {
        Self { block, offset }
    }
}

impl<'a, X, M> Module<X> for Tapped<'a, M>
where
    X: Tappable,
    M: Module<X, Error = <X as HasErr>::Err>,
    M::Output: Tappable,
{
    type Output = M::Output;
    type Error = M::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        let x = x.tap_input(self.local)?;
        let y = within_layer(self.local, || self.layer.try_forward(x))?;
        Ok(y.tap_output(self.local))
    }
}

impl<'a, X, M> ModuleMut<X> for TappedMut<'a, M>
where
    X: Tappable,
    M: ModuleMut<X, Error = <X as HasErr>::Err>,
    M::Output: Tappable,
{
    type Output = M::Output;
    type Error = M::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        let x = x.tap_input(self.local)?;
        let layer = &mut *self.layer;
        let y = within_layer(self.local, move || layer.try_forward_mut(x))?;
        Ok(y.tap_output(self.local))
    }
}

impl<'a, X, M: Module<X>> Module<X> for Block<'a, M> {
    type Output = M::Output;
    type Error = M::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        with_block_offset(self.offset, || self.block.try_forward(x))
    }
}

impl<'a, X, M: ModuleMut<X>> ModuleMut<X> for BlockMut<'a, M> {
    type Output = M::Output;
    type Error = M::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        let block = &mut *self.block;
        with_block_offset(self.offset, move || block.try_forward_mut(x))
    }
}
