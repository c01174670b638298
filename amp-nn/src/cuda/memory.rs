//! Keeping freed GPU memory for reuse: the CUDA counterpart of
//! [`crate::retain_freed_memory`].
//!
//! dfdx allocates every tensor and gradient through cudarc, which takes stream-ordered
//! allocations (`cuMemAllocAsync`) from the GPU's default memory pool wherever the GPU
//! supports pools. That pool's release threshold defaults to 0: at every synchronisation (a
//! training step has a few: the loss read, the norms read) it hands all memory not in use back
//! to the driver, so the next step maps the same amount again. PyTorch's caching allocator
//! keeps it. Raising the threshold makes the pool keep what it has reserved; the same buffers
//! then serve step after step, and the peak stays what one step needs.

use cudarc::driver::sys::{self, CUmemPool_attribute_enum as Attr};
use dfdx::tensor::Cuda;

/// Makes the default memory pool of `dev`'s GPU keep freed memory instead of returning it to
/// the driver at each synchronisation (release threshold: unlimited).
///
/// A setting of the GPU's pool, shared by everything in the process that uses that GPU, so
/// the library never applies it on its own: a binary that trains on the GPU calls it once
/// after opening the device (`amp` does). The error says why it could not be set (for
/// example, a GPU without memory pools, where allocations do not go through a pool at all).
pub fn retain_freed_memory(dev: &Cuda) -> Result<(), String> {
    let cdev = super::context::device_of(dev).map_err(|e| format!("no cudarc device: {e:?}"))?;
    let mut threshold = u64::MAX;
    // SAFETY: driver calls on a valid device handle (cudarc's, alive through `cdev`), with
    // out-pointers to locals that outlive the calls; the attribute takes a u64 by pointer.
    unsafe {
        let mut pool = std::ptr::null_mut();
        sys::cuDeviceGetDefaultMemPool(&mut pool, *cdev.cu_device())
            .result()
            .map_err(|e| format!("the GPU's default memory pool: {e:?}"))?;
        sys::cuMemPoolSetAttribute(
            pool,
            Attr::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            &mut threshold as *mut u64 as *mut std::ffi::c_void,
        )
        .result()
        .map_err(|e| format!("setting the memory pool's release threshold: {e:?}"))?;
    }
    Ok(())
}
