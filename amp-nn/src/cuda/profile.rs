//! `AMP_NN_CUDA_PROFILE=1`: where a step's GPU time goes, kernel by kernel.
//!
//! Each timed section synchronises the device before and after and adds the wall time to a
//! per-name total, so the totals are exact per section but the step itself runs serialised
//! (slower than without profiling). Time outside these sections is dfdx's own ops (ReLU,
//! residual adds, linear layers, the loss, the optimizer) and the host.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::context::CudaCtx;

static TABLE: Mutex<Vec<(&'static str, u64, f64)>> = Mutex::new(Vec::new());

/// Whether `AMP_NN_CUDA_PROFILE=1` (read once).
pub fn enabled() -> bool {
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var("AMP_NN_CUDA_PROFILE").is_ok_and(|v| v == "1");
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        s => s == 2,
    }
}

/// Runs `f`, adding its GPU time to `name` when profiling is on.
pub(crate) fn section<R>(ctx: &CudaCtx, name: &'static str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let _ = ctx.dev.synchronize();
    let t = Instant::now();
    let r = f();
    let _ = ctx.dev.synchronize();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    match table.iter_mut().find(|(n, _, _)| *n == name) {
        Some(row) => {
            row.1 += 1;
            row.2 += ms;
        }
        None => table.push((name, 1, ms)),
    }
    r
}

/// The totals so far, `(section, calls, milliseconds)`, largest first; resets them.
pub fn take() -> Vec<(&'static str, u64, f64)> {
    let mut table = std::mem::take(&mut *TABLE.lock().unwrap_or_else(|e| e.into_inner()));
    table.sort_by(|a, b| b.2.total_cmp(&a.2));
    table
}
