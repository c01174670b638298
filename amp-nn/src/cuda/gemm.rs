//! Row-major fp32 GEMM through cuBLAS (column-major), on raw device pointers.
//!
//! A row-major `C[m, n] = op(A)[m, k] * op(B)[k, n]` is the column-major product
//! `C^T[n, m] = op(B)^T[n, k] * op(A)^T[k, m]`: the same call with the operands swapped and
//! the leading dimensions unchanged (a row-major leading dimension is the row length).
//! [`ColMajorCall::for_row_major`] is that mapping, kept free of CUDA so that it is tested on
//! any machine (against a literal column-major GEMM, in the tests below).

/// A row-major matrix operand: device pointer, row length (leading dimension) and whether the
/// product uses it transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mat {
    pub ptr: u64,
    pub ld: usize,
    pub trans: bool,
}

impl Mat {
    /// Used as stored.
    pub fn n(ptr: u64, ld: usize) -> Self {
        Self {
            ptr,
            ld,
            trans: false,
        }
    }
    /// Used transposed.
    pub fn t(ptr: u64, ld: usize) -> Self {
        Self {
            ptr,
            ld,
            trans: true,
        }
    }
}

/// The arguments of a column-major `gemm(transa, transb, m, n, k, A, lda, B, ldb, C, ldc)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColMajorCall {
    pub transa: bool,
    pub transb: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: u64,
    pub lda: usize,
    pub b: u64,
    pub ldb: usize,
    pub ldc: usize,
}

impl ColMajorCall {
    /// The call that computes row-major `C[m, n] = op(a) * op(b)` (C's row length `ldc`).
    pub fn for_row_major((m, n, k): (usize, usize, usize), a: Mat, b: Mat, ldc: usize) -> Self {
        Self {
            transa: b.trans,
            transb: a.trans,
            m: n,
            n: m,
            k,
            a: b.ptr,
            lda: b.ld,
            b: a.ptr,
            ldb: a.ld,
            ldc,
        }
    }
}

/// `C[m, n] = op(A) * op(B) + beta * C` (row-major, `C` with leading dimension `ldc`).
///
/// # Safety
/// The pointers must hold matrices of the stated shapes and leading dimensions on the GPU of
/// `ctx`, and `c` must not overlap `a` or `b`.
#[cfg(feature = "cuda")]
pub(crate) unsafe fn sgemm(
    ctx: &super::context::CudaCtx,
    dims: (usize, usize, usize),
    a: Mat,
    b: Mat,
    beta: f32,
    c: u64,
    ldc: usize,
) -> Result<(), dfdx::tensor::CudaError> {
    use cudarc::cublas::sys::cublasOperation_t::{CUBLAS_OP_N, CUBLAS_OP_T};
    let call = ColMajorCall::for_row_major(dims, a, b, ldc);
    let int = |v: usize| i32::try_from(v).expect("GEMM dimension above i32::MAX");
    let op = |t: bool| if t { CUBLAS_OP_T } else { CUBLAS_OP_N };
    let alpha = 1.0f32;
    ctx.dev.bind_to_thread()?;
    cudarc::cublas::result::sgemm(
        *ctx.blas.handle(),
        op(call.transa),
        op(call.transb),
        int(call.m),
        int(call.n),
        int(call.k),
        &alpha,
        call.a as *const f32,
        int(call.lda),
        call.b as *const f32,
        int(call.ldb),
        &beta,
        c as *mut f32,
        int(call.ldc),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal column-major GEMM as BLAS defines it, on host buffers named by "pointer"
    /// (an index into `bufs`): `C = op(A) * op(B) + beta * C`.
    fn colmajor_gemm(call: &ColMajorCall, bufs: &[Vec<f64>], c: &mut [f64], beta: f64) {
        let (a, b) = (&bufs[call.a as usize], &bufs[call.b as usize]);
        let at = |i: usize, p: usize| {
            if call.transa {
                a[p + i * call.lda]
            } else {
                a[i + p * call.lda]
            }
        };
        let bt = |p: usize, j: usize| {
            if call.transb {
                b[j + p * call.ldb]
            } else {
                b[p + j * call.ldb]
            }
        };
        for i in 0..call.m {
            for j in 0..call.n {
                let s: f64 = (0..call.k).map(|p| at(i, p) * bt(p, j)).sum();
                c[i + j * call.ldc] = s + beta * c[i + j * call.ldc];
            }
        }
    }

    fn row_major(rows: usize, cols: usize, seed: usize) -> Vec<f64> {
        (0..rows * cols)
            .map(|i| ((i * 7 + seed * 13) % 11) as f64 - 5.0)
            .collect()
    }

    #[test]
    fn every_transpose_combination_computes_the_row_major_product() {
        let (m, n, k) = (3, 5, 4);
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            // A is stored m x k (or k x m when used transposed), B k x n (or n x k).
            let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
            let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
            let bufs = vec![row_major(a_rows, a_cols, 1), row_major(b_rows, b_cols, 2)];
            let a = Mat {
                ptr: 0,
                ld: a_cols,
                trans: ta,
            };
            let b = Mat {
                ptr: 1,
                ld: b_cols,
                trans: tb,
            };
            let get_a = |i: usize, p: usize| {
                if ta {
                    bufs[0][p * a_cols + i]
                } else {
                    bufs[0][i * a_cols + p]
                }
            };
            let get_b = |p: usize, j: usize| {
                if tb {
                    bufs[1][j * b_cols + p]
                } else {
                    bufs[1][p * b_cols + j]
                }
            };
            let init = row_major(m, n, 3);
            let mut c = init.clone();
            let call = ColMajorCall::for_row_major((m, n, k), a, b, n);
            colmajor_gemm(&call, &bufs, &mut c, 1.0);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 =
                        (0..k).map(|p| get_a(i, p) * get_b(p, j)).sum::<f64>() + init[i * n + j];
                    assert_eq!(c[i * n + j], want, "ta={ta} tb={tb} ({i},{j})");
                }
            }
        }
    }
}
