//! Single-threaded GFLOP/s of `gemm` 0.15 (dfdx's, AVX2 on stable) against
//! `gemm` 0.19 with `x86-v4` (AVX-512) on the GEMM shapes amp-nn's convs run.
//!
//! `cargo run --release -p amp-nn --example gemm_bench`
//!
//! Shapes are `(m, n, k)` with row-major `dst (m x n) = lhs (m x k) * rhs (k x n)`,
//! and the transposed operands the backward pass uses.

use std::time::Instant;

#[derive(Clone, Copy)]
enum Op {
    /// forward and data gradient: lhs row-major, rhs row-major
    Nn,
    /// weight gradient: rhs is the transpose of a row-major `n x k`
    Nt,
    /// data gradient: lhs is the transpose of a row-major `k x m`
    Tn,
}

fn time(f: &mut dyn FnMut(), flops: f64) -> f64 {
    f();
    let mut reps = 0;
    let t = Instant::now();
    while t.elapsed().as_secs_f64() < 0.3 {
        f();
        reps += 1;
    }
    flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn main() {
    // (m, n, k, op, what)
    let shapes = [
        (32, 1024, 27, Op::Nn, "fwd 3->32 32x32"),
        (64, 1024, 288, Op::Nn, "fwd 32->64 32x32"),
        (64, 1024, 576, Op::Nn, "fwd 64->64 32x32"),
        (64, 576, 1024, Op::Nt, "wgrad 64->64 32x32"),
        (576, 64, 1024, Op::Nt, "wgrad^T 64->64 32x32"),
        (288, 64, 1024, Op::Nt, "wgrad^T 32->64 32x32"),
        (27, 32, 1024, Op::Nt, "wgrad^T 3->32 32x32"),
        (32, 27, 1024, Op::Nt, "wgrad 3->32 32x32"),
        (4608, 512, 512, Op::Nt, "wgrad^T 512->512 4x4 x32"),
        (1152, 128, 1024, Op::Nt, "wgrad^T 128->128 16x16 x4"),
        (128, 1152, 1024, Op::Nt, "wgrad 128->128 16x16 x4"),
        // the weight gradient computed transposed (`^T`) is the faster one
        (64, 576, 4096, Op::Nt, "wgrad 64->64 32x32 x4"),
        (64, 288, 1024, Op::Nt, "wgrad 32->64 32x32"),
        (576, 1024, 64, Op::Tn, "dgrad 64->64 32x32"),
        (128, 1024, 1152, Op::Nn, "fwd 128->128 16x16 x4"),
        (256, 1024, 2304, Op::Nn, "fwd 256->256 8x8 x16"),
        (512, 512, 4608, Op::Nn, "fwd 512->512 4x4 x32"),
        (512, 4608, 512, Op::Nt, "wgrad 512->512 4x4 x32"),
        (4608, 512, 512, Op::Tn, "dgrad 512->512 4x4 x32"),
    ];
    println!("| GEMM (m, n, k) | what | gemm 0.15 GFLOP/s | gemm 0.19 x86-v4 GFLOP/s |");
    println!("|---|---|---|---|");
    for (m, n, k, op, what) in shapes {
        let a = vec![1.0f32; m * k];
        let b = vec![1.0f32; k * n];
        let mut c = vec![0.0f32; m * n];
        // (rs, cs) of lhs and rhs
        let (lrs, lcs) = match op {
            Op::Tn => (1, m as isize),
            _ => (k as isize, 1),
        };
        let (rrs, rcs) = match op {
            Op::Nt => (1, k as isize),
            _ => (n as isize, 1),
        };
        let (drs, dcs) = (n as isize, 1);
        let flops = 2.0 * (m * n * k) as f64;
        let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        // SAFETY (both GEMMs below): `a`, `b` and `c` live to the end of this iteration and
        // hold m*k, k*n and m*n elements, which the strides above describe for each `op`;
        // `c` is the only one written and aliases neither input.
        let g15 = time(
            &mut || unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    cp,
                    dcs,
                    drs,
                    false,
                    ap,
                    lcs,
                    lrs,
                    bp,
                    rcs,
                    rrs,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            },
            flops,
        );
        let g19 = time(
            &mut || unsafe {
                gemm19::gemm(
                    m,
                    n,
                    k,
                    cp,
                    dcs,
                    drs,
                    false,
                    ap,
                    lcs,
                    lrs,
                    bp,
                    rcs,
                    rrs,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm19::Parallelism::None,
                )
            },
            flops,
        );
        println!("| ({m}, {n}, {k}) | {what} | {g15:.1} | {g19:.1} |");
    }
}
