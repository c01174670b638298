//! A gradient buffer as a kernel sees it while an op's backward runs.
//!
//! A backward op reads the output's gradient and adds into the gradients of its inputs:
//! several slots of dfdx's `Gradients` at once. dfdx's own ops borrow them together with
//! `Gradients::muts_and_ref`, which is `pub(crate)`; from outside dfdx only
//! `get_or_alloc_mut` (one slot at a time) is public. So the tape wiring of each op
//! (`*/op.rs`) *takes* what a kernel needs out of each slot, runs the kernel, and puts it
//! back: on `Cpu` the vector itself (a move, never a copy), on `Cuda` the buffer's device
//! pointer (the memory stays in the slot).

use dfdx::prelude::*;

/// How a device hands its gradient slots to its kernels.
pub(crate) trait GradSlots<E>: Storage<E> {
    /// What a kernel reads or adds into: `Vec<E>` on `Cpu`, a device pointer on `Cuda`.
    type Grad;
    /// The slot's contents, for the duration of one backward op.
    fn take_grad(slot: &mut Self::Vec) -> Self::Grad;
    /// Returns what [`GradSlots::take_grad`] took.
    fn put_grad(slot: &mut Self::Vec, grad: Self::Grad);
}

impl<E: crate::CpuFloat> GradSlots<E> for Cpu {
    type Grad = Vec<E>;
    fn take_grad(slot: &mut Self::Vec) -> Vec<E> {
        std::mem::take(E::cpu_vec(slot))
    }
    fn put_grad(slot: &mut Self::Vec, grad: Vec<E>) {
        *E::cpu_vec(slot) = grad;
    }
}

#[cfg(feature = "cuda")]
impl GradSlots<f32> for dfdx::tensor::Cuda {
    type Grad = crate::cuda::context::DevPtr;
    fn take_grad(slot: &mut Self::Vec) -> crate::cuda::context::DevPtr {
        use cudarc::driver::DevicePtrMut;
        *slot.device_ptr_mut()
    }
    /// Nothing to return: the kernel wrote through the pointer into the slot's own memory.
    fn put_grad(_slot: &mut Self::Vec, _grad: crate::cuda::context::DevPtr) {}
}
