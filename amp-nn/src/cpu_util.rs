//! Shared plumbing for the `Cpu` fast paths: element trait, moving data in and
//! out of dfdx tensors with as few copies as the public API allows, and a
//! strided GEMM wrapper.

use dfdx::prelude::*;

/// Element types the hand-written `Cpu` kernels support (`f32`, `f64`).
///
/// `gemm` dispatches on the concrete type at run time, so the kernels are
/// written once, generically over this trait.
pub trait CpuFloat: Dtype + num_traits::Float + Send + Sync + 'static {
    /// The `Vec` behind a `Cpu` gradient buffer. In generic code with a
    /// `Cpu: Device<E>` bound the associated `Storage::Vec` type stays
    /// opaque, so the concrete impls (where it is known) do the unwrapping.
    fn cpu_vec(v: &mut <Cpu as Storage<Self>>::Vec) -> &mut Vec<Self>;
}
impl CpuFloat for f32 {
    fn cpu_vec(v: &mut <Cpu as Storage<f32>>::Vec) -> &mut Vec<f32> {
        v
    }
}
impl CpuFloat for f64 {
    fn cpu_vec(v: &mut <Cpu as Storage<f64>>::Vec) -> &mut Vec<f64> {
        v
    }
}

/// Copies the physical buffer of a *contiguous* `Cpu` tensor into a fresh
/// `Vec` (one `memcpy`). dfdx keeps tensor storage private, so this is the
/// cheapest public read. Callers make the tensor contiguous first
/// (`try_contiguous` is free when it already is).
pub(crate) fn to_buf<S: Shape, E: CpuFloat, T>(t: &Tensor<S, E, Cpu, T>) -> Vec<E>
where
    Cpu: Device<E>,
{
    let mut v = vec![E::zero(); t.shape().num_elements()];
    t.copy_into(&mut v);
    v
}

/// The gradient a ReLU passes back for an output gradient `g`, with dfdx's arithmetic (its
/// derivative, 1 or 0, times `g`, added into a zeroed buffer), so that the fused ops that end
/// in a ReLU give dfdx's bits: `g` where the ReLU's input was positive, else 0 (or NaN for a
/// NaN `g`, as `0 * NaN`).
#[inline(always)]
pub(crate) fn relu_grad<E: CpuFloat>(input_positive: bool, g: E) -> E {
    let d = if input_positive { E::one() } else { E::zero() };
    E::zero() + d * g
}

/// A row-major-or-strided matrix operand: pointer plus (row, col) strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<P> {
    pub ptr: P,
    pub rs: isize,
    pub cs: isize,
}

/// `dst (m x n) = [dst +] lhs (m x k) * rhs (k x n)`, single-threaded: the
/// callers already split work across the rayon pool, and nesting gemm's own
/// threading inside that only adds synchronisation on a 2-core machine.
///
/// Runs `gemm` 0.19, whose `x86-v4` feature gives AVX-512 kernels on stable
/// Rust (picked at run time when the CPU has AVX-512, AVX2/FMA otherwise):
/// about 2.5x the FLOP rate of dfdx's `gemm` 0.15 on the conv shapes
/// (`examples/gemm_bench.rs`). Results are bit-reproducible on a given
/// machine; a CPU with other SIMD features may round differently.
///
/// # Safety
/// Pointers/strides must describe valid, non-overlapping (dst vs inputs)
/// matrices of the given sizes.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_st<E: CpuFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: Mat<*mut E>,
    accumulate: bool,
    lhs: Mat<*const E>,
    rhs: Mat<*const E>,
) {
    if m == 0 || n == 0 {
        return;
    }
    gemm19::gemm(
        m,
        n,
        k,
        dst.ptr,
        dst.cs,
        dst.rs,
        accumulate,
        lhs.ptr,
        lhs.cs,
        lhs.rs,
        rhs.ptr,
        rhs.cs,
        rhs.rs,
        if accumulate { E::one() } else { E::zero() },
        E::one(),
        false,
        false,
        false,
        gemm19::Parallelism::None,
    );
}

/// Row-major `rows x cols` matrix starting at `ptr`.
pub(crate) fn row_major<P>(ptr: P, cols: usize) -> Mat<P> {
    Mat {
        ptr,
        rs: cols as isize,
        cs: 1,
    }
}

/// Transpose view of a row-major `rows x cols` matrix (so `cols x rows`).
pub(crate) fn transposed<P>(ptr: P, cols: usize) -> Mat<P> {
    Mat {
        ptr,
        rs: 1,
        cs: cols as isize,
    }
}

thread_local! {
    static SCRATCH: [std::cell::RefCell<Vec<u64>>; 2] = Default::default();
}

/// Runs `f` with an uninitialised-content (but initialised-memory) scratch
/// slice of `len` elements from this thread's scratch slot `slot` (0 or 1).
///
/// Conv kernels need multi-megabyte column buffers per work item; allocating
/// them fresh each time made the kernel zero-fill pages on every call (~20% of
/// a ResNet step in profiles). Reusing a per-thread buffer avoids that. The
/// contents are whatever the last user left: callers must overwrite them.
pub(crate) fn with_scratch<E: CpuFloat, R>(
    slot: usize,
    len: usize,
    f: impl FnOnce(&mut [E]) -> R,
) -> R {
    assert!(std::mem::align_of::<E>() <= std::mem::align_of::<u64>());
    let words = (len * std::mem::size_of::<E>()).div_ceil(8);
    SCRATCH.with(|s| {
        let mut buf = s[slot].borrow_mut();
        if buf.len() < words {
            buf.resize(words, 0);
        }
        // SAFETY: the buffer holds at least `len` E-sized, suitably aligned,
        // initialised elements (all bit patterns are valid f32/f64).
        let slice = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut E, len) };
        f(slice)
    })
}
