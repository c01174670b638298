//! Opt-in glibc malloc tuning for training loops on `Cpu`.
//!
//! A training step allocates and frees the same multi-megabyte activation and
//! gradient buffers every step. With glibc's defaults many of them are served
//! by fresh `mmap`s and unmapped on free, so every step pays page faults and
//! kernel page zeroing again; gradients accumulated into freshly zeroed
//! buffers even take two faults per page plus a TLB shootdown across cores.
//! That was 15-20% of a ResNet-18 step (`perf`), which this tuning removes.

/// Largest allocation glibc then serves from its heap instead of `mmap`
/// (its maximum on 64-bit, 32 MiB; ResNet-18 activations at batch 64 are
/// at most 16 MiB).
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory glibc keeps at the top of its heap before returning it.
const TRIM_THRESHOLD: i32 = 1 << 30;

/// Makes glibc malloc keep freed memory for reuse (heap allocations up to
/// 32 MiB, trimming only above 1 GiB free) instead of returning it to the OS
/// after every step.
///
/// This is a process-wide setting, so the library never applies it on its
/// own: call it once at start-up from a binary that trains on `Cpu`. Peak
/// RSS stays about the same (the same buffers are reused); memory freed at
/// the end of training is kept by the process. Returns `false` (and does
/// nothing) where the C library is not glibc or refuses the setting.
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is safe to
        // call at any time, from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
