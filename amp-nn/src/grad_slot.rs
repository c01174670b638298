//! A gradient buffer as a kernel sees it while an op's backward runs.
//!
//! A backward op reads the output's gradient and adds into the gradients of its inputs:
//! several slots of dfdx's `Gradients` at once. dfdx's own ops borrow them together with
//! `Gradients::muts_and_ref`, which is `pub(crate)`; from outside dfdx only
//! `get_or_alloc_mut` (one slot at a time) is public. So the tape wiring of each op
//! (`*/op.rs`) *takes* what a kernel needs out of each slot, runs the kernel, and puts it
//! back: on `Cpu` the vector itself (a move, never a copy), on `Cuda` the buffer's device
//! pointer (the memory stays in the slot).
//!
//! The op's *output* gradient is an exception: once the op's backward has read it, no other
//! backward op reads it again (every op that used the output was recorded later, so its
//! backward ran earlier). dfdx still keeps it until the whole backward pass ends, so that
//! every intermediate gradient of a step is alive at its end: that is where a training
//! step's memory peaks. With [`free_consumed_gradients`] on, amp-nn's ops free it at once.

use dfdx::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

static FREE_CONSUMED: AtomicBool = AtomicBool::new(false);

/// Whether amp-nn's ops free their output's gradient as soon as their backward has read it
/// (process-wide; off by default). It lowers a training step's peak memory (on `Cpu`; on
/// `Cuda` the slot is kept for now) and changes no value. Leave it off when reading
/// intermediate gradients after a backward pass (`Gradients::leaky()` keeps them all, and
/// `Gradients::get` of a freed one would panic); gradients from `alloc_grads`, which keep
/// only the parameters', lose nothing. The `amp` binary turns it on.
pub fn free_consumed_gradients(on: bool) {
    FREE_CONSUMED.store(on, Ordering::Relaxed);
}

/// Whether [`free_consumed_gradients`] is on.
pub fn frees_consumed_gradients() -> bool {
    FREE_CONSUMED.load(Ordering::Relaxed)
}

/// How a device hands its gradient slots to its kernels.
pub(crate) trait GradSlots<E>: Storage<E> {
    /// Whether this device's kernels may decline an op (answer `Ok(None)`), which then runs
    /// the device-generic path. `Cpu`'s never do, and for `Cpu` that fallback is never
    /// compiled: the ops branch on this constant (`*/op.rs`), and rustc does not generate code
    /// under a branch a constant rules out. Every binary that trains on `Cpu` is smaller and
    /// builds quicker for it (the generic path is instantiated per layer shape).
    const KERNELS_MAY_DECLINE: bool;
    /// What a kernel reads or adds into: `Vec<E>` on `Cpu`, a device pointer on `Cuda`.
    type Grad;
    /// The slot's contents, for the duration of one backward op.
    fn take_grad(slot: &mut Self::Vec) -> Self::Grad;
    /// Returns what [`GradSlots::take_grad`] took.
    fn put_grad(slot: &mut Self::Vec, grad: Self::Grad);
    /// Ends an op's use of its output's gradient: frees it with [`free_consumed_gradients`]
    /// on, else puts it back.
    fn done_with_output_grad(
        dev: &Self,
        slot: &mut Self::Vec,
        grad: Self::Grad,
    ) -> Result<(), Self::Err>;
}

impl<E: crate::CpuFloat> GradSlots<E> for Cpu {
    const KERNELS_MAY_DECLINE: bool = false;
    type Grad = Vec<E>;
    fn take_grad(slot: &mut Self::Vec) -> Vec<E> {
        std::mem::take(E::cpu_vec(slot))
    }
    fn put_grad(slot: &mut Self::Vec, grad: Vec<E>) {
        *E::cpu_vec(slot) = grad;
    }
    /// Freeing is not putting it back: `take_grad` left an empty vector in the slot.
    fn done_with_output_grad(_: &Cpu, slot: &mut Self::Vec, grad: Vec<E>) -> Result<(), CpuError> {
        if !frees_consumed_gradients() {
            Self::put_grad(slot, grad);
        }
        Ok(())
    }
}

#[cfg(feature = "cuda")]
impl GradSlots<f32> for dfdx::tensor::Cuda {
    /// When a tensor's device pointer cannot be located or the GPU's kernels cannot be set
    /// up (each says why once, `cuda/`), and for an op without a CUDA kernel yet
    /// (`add_relu`), the op runs the generic way.
    const KERNELS_MAY_DECLINE: bool = true;
    type Grad = crate::cuda::context::DevPtr;
    fn take_grad(slot: &mut Self::Vec) -> crate::cuda::context::DevPtr {
        use cudarc::driver::DevicePtrMut;
        *slot.device_ptr_mut()
    }
    /// Nothing to return: the kernel wrote through the pointer into the slot's own memory.
    fn put_grad(_slot: &mut Self::Vec, _grad: crate::cuda::context::DevPtr) {}
    /// Kept for now: freeing on the GPU is in `scripts/gpu/pending/` until checked there.
    fn done_with_output_grad(
        _: &Self,
        _slot: &mut Self::Vec,
        _grad: crate::cuda::context::DevPtr,
    ) -> Result<(), dfdx::tensor::CudaError> {
        Ok(())
    }
}

/// The panic of an op whose device's kernels declined it although the device says they never
/// do ([`GradSlots::KERNELS_MAY_DECLINE`]): a bug in that device's kernels, not in the input.
#[cold]
pub(crate) fn declined<D>(op: &str) -> ! {
    panic!(
        "amp-nn: the {op} kernels of {} declined an op, but the device says they never do",
        std::any::type_name::<D>()
    )
}
