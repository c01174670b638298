//! `Cpu` fast path for convolution: im2col + GEMM forward, and for backward a
//! weight-gradient GEMM against a recomputed column matrix plus a data-gradient
//! GEMM followed by col2im. Work is split into image chunks that run in
//! parallel on the rayon pool, each chunk calling single-threaded GEMMs.
//!
//! Column matrices are recomputed in backward rather than stored: storing them
//! would cost `K*K` times the activation memory, while recomputing is one
//! cheap memory pass next to the GEMMs.

use super::im2col::{col2im_add, im2col, ConvGeom};
use super::op::Conv2DKernel;
use crate::cpu_util::{gemm_st, row_major, to_buf, transposed, with_scratch, CpuFloat};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Forward: `out[n, o, :] = W (O x CKK) * col_n + bias`.
pub(crate) fn forward<E: CpuFloat>(
    g: &ConvGeom,
    x: &[E],
    w: &[E],
    bias: Option<&[E]>,
    out: &mut [E],
) {
    let (ckk, plane) = (g.ckk(), g.out_plane());
    let per_chunk = g.imgs_per_chunk();
    out.par_chunks_mut(per_chunk * g.out_img())
        .enumerate()
        .for_each(|(ci, out_chunk)| {
            let imgs = out_chunk.len() / g.out_img();
            let n0 = ci * per_chunk;
            let xs = &x[n0 * g.in_img()..(n0 + imgs) * g.in_img()];
            let ncol = imgs * plane;
            let run = |col: &[E], out_chunk: &mut [E]| {
                let lhs = row_major(w.as_ptr(), ckk);
                let rhs = row_major(col.as_ptr(), ncol);
                if imgs == 1 {
                    // (O x plane) is exactly the NCHW layout of one image.
                    let dst = row_major(out_chunk.as_mut_ptr(), ncol);
                    // SAFETY: `w` is O x CKK, `col` CKK x ncol (im2col of this chunk) and
                    // `out_chunk` O x ncol, all row-major; `out_chunk` is a distinct `&mut`.
                    unsafe { gemm_st(g.o, ncol, ckk, dst, false, lhs, rhs) };
                } else {
                    // GEMM into (O x imgs*plane), then scatter to NCHW.
                    with_scratch(1, g.o * ncol, |tmp: &mut [E]| {
                        let dst = row_major(tmp.as_mut_ptr(), ncol);
                        // SAFETY: as above, into the O x ncol scratch `tmp`, which no input
                        // aliases.
                        unsafe { gemm_st(g.o, ncol, ckk, dst, false, lhs, rhs) };
                        for img in 0..imgs {
                            for o in 0..g.o {
                                out_chunk[(img * g.o + o) * plane..][..plane]
                                    .copy_from_slice(&tmp[o * ncol + img * plane..][..plane]);
                            }
                        }
                    });
                }
            };
            if g.is_pointwise() {
                run(xs, out_chunk);
            } else {
                with_scratch(0, ckk * ncol, |col: &mut [E]| {
                    im2col(g, xs, imgs, col);
                    run(col, out_chunk);
                });
            }
            if let Some(b) = bias {
                for (i, row) in out_chunk.chunks_mut(plane).enumerate() {
                    let bo = b[i % g.o];
                    row.iter_mut().for_each(|v| *v += bo);
                }
            }
        });
}

/// Backward: accumulates into `gx` (input grad), `gw` (weight grad, `O x CKK`)
/// and `gb` (bias grad) from `gout` (output grad, NCHW).
///
/// Input gradients of different chunks are disjoint. The weight and bias
/// gradients are sums over all chunks; to keep their bits independent of
/// rayon's scheduling and thread count, consecutive chunks form a fixed number
/// of groups ([`ConvGeom::wgrad_groups`]), each group sums its chunks in order
/// into its own partial, and the partials are summed element-wise in group
/// order before being added to `gw`/`gb`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward<E: CpuFloat>(
    g: &ConvGeom,
    x: &[E],
    w: &[E],
    gout: &[E],
    gx: &mut [E],
    gw: &mut [E],
    gb: Option<&mut [E]>,
) {
    let per_chunk = g.imgs_per_chunk();
    let chunks = g.n.div_ceil(per_chunk);
    let chunks_per_group = chunks.div_ceil(g.wgrad_groups::<E>(chunks)).max(1);
    let group_imgs = chunks_per_group * per_chunk;
    let nb = if gb.is_some() { g.o } else { 0 };
    let partials: Vec<(Vec<E>, Vec<E>)> = gx
        .par_chunks_mut(group_imgs * g.in_img())
        .enumerate()
        .map(|(gi, gx_group)| {
            let mut pw = vec![E::zero(); g.o * g.ckk()];
            let mut pb = vec![E::zero(); nb];
            for (cj, gx_chunk) in gx_group.chunks_mut(per_chunk * g.in_img()).enumerate() {
                let n0 = gi * group_imgs + cj * per_chunk;
                chunk_backward(g, x, w, gout, n0, gx_chunk, &mut pw, &mut pb);
            }
            (pw, pb)
        })
        .collect();
    let (pw, pb) = sum_in_order(partials);
    add_transposed(gw, &pw, g.o, g.ckk());
    if let Some(gb) = gb {
        gb.iter_mut().zip(&pb).for_each(|(a, b)| *a += *b);
    }
}

/// Element-wise sum of the partials, always added in group order (so the
/// bits do not depend on how rayon splits the element ranges).
fn sum_in_order<E: CpuFloat>(mut partials: Vec<(Vec<E>, Vec<E>)>) -> (Vec<E>, Vec<E>) {
    const BLOCK: usize = 4096;
    if partials.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let (first, rest) = partials.split_first_mut().unwrap();
    first
        .0
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(i, dst)| {
            for (p, _) in rest.iter() {
                let src = &p[i * BLOCK..][..dst.len()];
                dst.iter_mut().zip(src).for_each(|(a, b)| *a += *b);
            }
        });
    for (_, p) in rest.iter() {
        first.1.iter_mut().zip(p).for_each(|(a, b)| *a += *b);
    }
    partials.swap_remove(0)
}

/// `gw (o x ckk) += t^T` for `t` stored `ckk x o`, in cache-sized tiles and
/// in parallel over row blocks of `gw` (each element gets one addition).
fn add_transposed<E: CpuFloat>(gw: &mut [E], t: &[E], o: usize, ckk: usize) {
    const TILE: usize = 32;
    if gw.is_empty() {
        return;
    }
    gw.par_chunks_mut(TILE * ckk)
        .enumerate()
        .for_each(|(bi, rows)| {
            let o0 = bi * TILE;
            let nrows = rows.len() / ckk;
            for r0 in (0..ckk).step_by(TILE) {
                for (i, row) in rows.chunks_mut(ckk).enumerate().take(nrows) {
                    let dst = &mut row[r0..(r0 + TILE).min(ckk)];
                    for (j, a) in dst.iter_mut().enumerate() {
                        *a += t[(r0 + j) * o + o0 + i];
                    }
                }
            }
        });
}

/// Backward of the images `n0..` covered by `gx_chunk`: writes their input
/// gradient and accumulates the *transposed* weight gradient (`CKK x O`) into
/// `pw` and, when `pb` is not empty, the bias gradient into `pb`.
#[allow(clippy::too_many_arguments)]
fn chunk_backward<E: CpuFloat>(
    g: &ConvGeom,
    x: &[E],
    w: &[E],
    gout: &[E],
    n0: usize,
    gx_chunk: &mut [E],
    pw: &mut [E],
    pb: &mut [E],
) {
    let (ckk, plane) = (g.ckk(), g.out_plane());
    let imgs = gx_chunk.len() / g.in_img();
    let ncol = imgs * plane;
    let go = &gout[n0 * g.out_img()..(n0 + imgs) * g.out_img()];
    let xs = &x[n0 * g.in_img()..(n0 + imgs) * g.in_img()];
    // `gmat` is the output gradient as an (O x imgs*plane) matrix.
    let mut body = |gmat: &[E], gx_chunk: &mut [E]| {
        for (o, b) in pb.iter_mut().enumerate() {
            *b += lane_sum(&gmat[o * ncol..(o + 1) * ncol]);
        }
        if g.is_pointwise() {
            // col == x, and the data gradient lands directly in gx.
            // SAFETY: a pointwise chunk is one image (`imgs_per_chunk`), so `xs` and
            // `gx_chunk` are CKK x ncol; `gx_chunk` is a `&mut` that no input aliases.
            unsafe {
                backward_gemms(
                    g,
                    ncol,
                    gmat,
                    w,
                    pw,
                    xs.as_ptr(),
                    gx_chunk.as_mut_ptr(),
                    true,
                )
            };
        } else {
            with_scratch(0, ckk * ncol, |col: &mut [E]| {
                im2col(g, xs, imgs, col);
                // SAFETY: `col` is CKK x ncol; it is both the first GEMM's input and the
                // second's output, which `backward_gemms` allows.
                let c = col.as_mut_ptr();
                unsafe { backward_gemms(g, ncol, gmat, w, pw, c, c, false) };
                col2im_add(g, col, imgs, gx_chunk);
            });
        }
    };
    if imgs == 1 {
        body(go, gx_chunk);
    } else {
        with_scratch(1, g.o * ncol, |t: &mut [E]| {
            for img in 0..imgs {
                for o in 0..g.o {
                    t[o * ncol + img * plane..][..plane]
                        .copy_from_slice(&go[(img * g.o + o) * plane..][..plane]);
                }
            }
            body(t, gx_chunk);
        });
    }
}

/// The two GEMMs of a chunk's backward over `ncol` columns: the weight gradient
/// `gW^T += col * gmat^T` into `pw`, then the columns' gradient `dcol = W^T * gmat`
/// into `dcol` (added to it with `accumulate`).
///
/// The transposed orientation of the weight gradient is the fast one for gemm here:
/// `gW^T = col * gout^T` runs at about 3x the rate of `gW = gout * col^T` on ResNet's
/// 32x32 layers (`examples/gemm_bench.rs`).
///
/// # Safety
/// `col` and `dcol` point to CKK x ncol elements, row-major; `gmat` is O x ncol and `w`
/// O x CKK. `dcol` may be `col` (the first GEMM has read it before the second writes), but
/// neither may alias `gmat`, `w` or `pw`, nor be accessed elsewhere during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn backward_gemms<E: CpuFloat>(
    g: &ConvGeom,
    ncol: usize,
    gmat: &[E],
    w: &[E],
    pw: &mut [E],
    col: *const E,
    dcol: *mut E,
    accumulate: bool,
) {
    let ckk = g.ckk();
    debug_assert_eq!(gmat.len(), g.o * ncol);
    debug_assert_eq!((w.len(), pw.len()), (g.o * ckk, g.o * ckk));
    // SAFETY: the shapes are those stated above (the caller's contract for `col` and
    // `dcol`, checked lengths for the slices); `pw` is a `&mut` no input aliases, and
    // `dcol` aliases at most `col`, which the first GEMM finishes reading before the
    // second starts.
    unsafe {
        gemm_st(
            ckk,
            g.o,
            ncol,
            row_major(pw.as_mut_ptr(), g.o),
            true,
            row_major(col, ncol),
            transposed(gmat.as_ptr(), ncol),
        );
        gemm_st(
            ckk,
            ncol,
            g.o,
            row_major(dcol, ncol),
            accumulate,
            transposed(w.as_ptr(), ckk),
            row_major(gmat.as_ptr(), ncol),
        );
    }
}

/// Sum with 8 independent accumulators, so the loop vectorises instead of
/// waiting on one add chain (the order is fixed, so the bits are too).
fn lane_sum<E: CpuFloat>(xs: &[E]) -> E {
    let mut acc = [E::zero(); 8];
    let mut chunks = xs.chunks_exact(8);
    for ch in &mut chunks {
        for i in 0..8 {
            acc[i] += ch[i];
        }
    }
    let tail = chunks.remainder().iter().fold(E::zero(), |a, v| a + *v);
    acc.iter().fold(tail, |a, v| a + *v)
}

/// The `Cpu` kernels keep the input and weight values (host copies) for backward.
impl<E: CpuFloat> Conv2DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    type Saved = (Vec<E>, Vec<E>);

    fn conv2d_forward<S: Shape, Sw: Shape, Sb: Shape, So: Shape>(
        g: &ConvGeom,
        x: &Tensor<S, E, Cpu>,
        w: &Tensor<Sw, E, Cpu>,
        b: Option<&Tensor<Sb, E, Cpu>>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, E, Cpu>, Self::Saved)>, CpuError> {
        let (xbuf, wbuf) = (to_buf(x), to_buf(w));
        let bbuf = b.map(to_buf);
        let mut out = vec![E::zero(); g.n * g.out_img()];
        forward(g, &xbuf, &wbuf, bbuf.as_deref(), &mut out);
        let out = x.device().try_tensor_from_vec(out, out_shape)?;
        Ok(Some((out, (xbuf, wbuf))))
    }

    fn conv2d_backward(
        g: &ConvGeom,
        (x, w): &Self::Saved,
        gout: &Vec<E>,
        gx: &mut Vec<E>,
        gw: &mut Vec<E>,
        gb: Option<&mut Vec<E>>,
    ) -> Result<(), CpuError> {
        backward(g, x, w, gout, gx, gw, gb.map(|b| &mut b[..]));
        Ok(())
    }
}
