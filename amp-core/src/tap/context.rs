//! Where a tap finds its run during the forward pass.
//!
//! A model is a plain dfdx module; it does not hold the run state. Before a training step the
//! trainer *activates* the run's [`AmpState`] on the current thread; taps look it up, capture it
//! in their backward closures, and turn their layer-local index into the run-wide one through the
//! offset of the enclosing amplifiable block. With no active run a tap does nothing at all, so a
//! model used outside amp (or in evaluation) is exactly the un-tapped network.

use std::cell::RefCell;

use super::AmpState;

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

struct Active {
    state: AmpState,
    /// Run-wide index of the first candidate layer of the block being run.
    offset: usize,
    /// Run-wide index of the candidate layer whose forward is running, if any.
    open: Option<usize>,
}

/// Keeps a run active on this thread until dropped; restores what was active before.
#[must_use = "the run is only active while the guard lives"]
pub struct ActiveGuard {
    previous: Option<Active>,
}

impl AmpState {
    /// Makes this run the one that taps on this thread report to, until the guard drops.
    ///
    /// Also starts a new record of which taps run (for [`super::check_taps`]): activate once
    /// per training step.
    pub fn activate(&self) -> ActiveGuard {
        self.reset_tap_log();
        let previous = ACTIVE.with(|a| {
            a.borrow_mut().replace(Active {
                state: self.clone(),
                offset: 0,
                open: None,
            })
        });
        ActiveGuard { previous }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ACTIVE.with(|a| *a.borrow_mut() = previous);
    }
}

/// The active run and the run-wide index of the block-local layer `local`, if a run is active.
pub(crate) fn lookup(local: usize) -> Option<(AmpState, usize)> {
    ACTIVE.with(|a| {
        a.borrow()
            .as_ref()
            .map(|act| (act.state.clone(), act.offset + local))
    })
}

/// Runs `f` (the forward of a nested amplifiable block) with the block's layers numbered from
/// `offset` (block-local) onwards.
pub fn with_block_offset<R>(offset: usize, f: impl FnOnce() -> R) -> R {
    let saved = ACTIVE.with(|a| {
        a.borrow_mut().as_mut().map(|act| {
            let saved = act.offset;
            act.offset += offset;
            saved
        })
    });
    // Restore the offset even if the block's forward panics.
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(saved) = self.0 {
                ACTIVE.with(|a| {
                    if let Some(act) = a.borrow_mut().as_mut() {
                        act.offset = saved;
                    }
                });
            }
        }
    }
    let _restore = Restore(saved);
    f()
}

/// Runs `f` (the forward of the candidate layer with block-local index `local`) as that
/// layer: counts the run and notes any candidate tapped inside it (see
/// [`super::check_taps`]). With no active run it just runs `f`.
pub(crate) fn within_layer<R>(local: usize, f: impl FnOnce() -> R) -> R {
    let entered = ACTIVE.with(|a| {
        a.borrow_mut().as_mut().map(|act| {
            let layer = act.offset + local;
            act.state.on_tap_forward(layer, act.open);
            act.open.replace(layer)
        })
    });
    // Close the layer even if its forward panics.
    struct Close(Option<Option<usize>>);
    impl Drop for Close {
        fn drop(&mut self) {
            if let Some(previous) = self.0 {
                ACTIVE.with(|a| {
                    if let Some(act) = a.borrow_mut().as_mut() {
                        act.open = previous;
                    }
                });
            }
        }
    }
    let _close = Close(entered);
    f()
}
