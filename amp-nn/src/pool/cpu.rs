//! `Cpu` fast path for max/average pooling: one parallel pass over the
//! `(image, channel)` planes forward, one backward. Max pooling remembers the
//! arg-max of every window (first maximum wins, like PyTorch) so backward is a
//! scatter.

use crate::backend::PoolKind;
use crate::cpu_util::{grad_mut, put_grad, take_grad, to_buf, CpuFloat};
use crate::shape::{conv_out_dim, valid_out_range};
use dfdx::prelude::*;
use rayon::prelude::*;

#[derive(Clone, Copy)]
struct PoolGeom {
    h: usize,
    w: usize,
    ho: usize,
    wo: usize,
    k: usize,
    s: usize,
    p: usize,
}

impl PoolGeom {
    /// Input rows/cols (as a range) covered by output `(oh, ow)`'s window.
    #[inline]
    fn window(&self, oh: usize, ow: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let r0 = (oh * self.s) as isize - self.p as isize;
        let c0 = (ow * self.s) as isize - self.p as isize;
        let clip = |a: isize, n: usize| a.clamp(0, n as isize) as usize;
        (
            clip(r0, self.h)..clip(r0 + self.k as isize, self.h),
            clip(c0, self.w)..clip(c0 + self.k as isize, self.w),
        )
    }
}

fn max_forward<E: CpuFloat>(g: PoolGeom, x: &[E], out: &mut [E], arg: &mut [u32]) {
    let (hw, howo) = (g.h * g.w, g.ho * g.wo);
    out.par_chunks_mut(howo)
        .zip(arg.par_chunks_mut(howo))
        .enumerate()
        .for_each(|(pl, (o, a))| {
            let plane = &x[pl * hw..(pl + 1) * hw];
            for oh in 0..g.ho {
                for ow in 0..g.wo {
                    let (rows, cols) = g.window(oh, ow);
                    let mut best = E::neg_infinity();
                    let mut best_i = rows.start * g.w + cols.start;
                    for r in rows {
                        for c in cols.clone() {
                            let v = plane[r * g.w + c];
                            if v > best || v.is_nan() {
                                best = v;
                                best_i = r * g.w + c;
                            }
                        }
                    }
                    o[oh * g.wo + ow] = best;
                    a[oh * g.wo + ow] = best_i as u32;
                }
            }
        });
}

fn avg_forward<E: CpuFloat>(g: PoolGeom, x: &[E], out: &mut [E]) {
    let (hw, howo) = (g.h * g.w, g.ho * g.wo);
    let inv = E::one() / E::from_usize(g.k * g.k).unwrap();
    out.par_chunks_mut(howo).enumerate().for_each(|(pl, o)| {
        let plane = &x[pl * hw..(pl + 1) * hw];
        for oh in 0..g.ho {
            for ow in 0..g.wo {
                let (rows, cols) = g.window(oh, ow);
                let mut acc = E::zero();
                for r in rows {
                    for v in &plane[r * g.w + cols.start..r * g.w + cols.end] {
                        acc += *v;
                    }
                }
                o[oh * g.wo + ow] = acc * inv;
            }
        }
    });
}

fn avg_backward<E: CpuFloat>(g: PoolGeom, gy: &[E], gx: &mut [E]) {
    let (hw, howo) = (g.h * g.w, g.ho * g.wo);
    let inv = E::one() / E::from_usize(g.k * g.k).unwrap();
    gx.par_chunks_mut(hw).enumerate().for_each(|(pl, gxp)| {
        let gyp = &gy[pl * howo..(pl + 1) * howo];
        // Tap-major loop so the inner loop is a contiguous strided add.
        for kh in 0..g.k {
            let (oh_lo, oh_hi) = valid_out_range(g.ho, g.h, kh, g.s, g.p);
            for kw in 0..g.k {
                let (ow_lo, ow_hi) = valid_out_range(g.wo, g.w, kw, g.s, g.p);
                for oh in oh_lo..oh_hi {
                    let ih = oh * g.s + kh - g.p;
                    for ow in ow_lo..ow_hi {
                        gxp[ih * g.w + ow * g.s + kw - g.p] += gyp[oh * g.wo + ow] * inv;
                    }
                }
            }
        }
    });
}

/// The `Cpu` implementation of [`crate::NnDevice::pool2d`].
pub(crate) fn pool2d<B: Dim, const C: usize, H: Dim, W: Dim, E: CpuFloat, T: Tape<E, Cpu>>(
    x: Tensor<(B, Const<C>, H, W), E, Cpu, T>,
    kind: PoolKind,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<C>, usize, usize), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    assert!(
        2 * padding <= kernel,
        "pool padding {padding} must be at most half the kernel size {kernel}"
    );
    let x = x.try_contiguous()?;
    let (b, _, h, w) = *x.shape();
    let g = PoolGeom {
        h: h.size(),
        w: w.size(),
        ho: conv_out_dim(h.size(), kernel, stride, padding),
        wo: conv_out_dim(w.size(), kernel, stride, padding),
        k: kernel,
        s: stride,
        p: padding,
    };
    let (x, mut tape) = x.split_tape();
    let xbuf = to_buf(&x);
    let planes = b.size() * C;
    let mut out = vec![E::zero(); planes * g.ho * g.wo];
    let arg = match kind {
        PoolKind::Max => {
            let mut arg = vec![0u32; out.len()];
            max_forward(g, &xbuf, &mut out, &mut arg);
            Some(arg)
        }
        PoolKind::Avg => {
            avg_forward(g, &xbuf, &mut out);
            None
        }
    };
    drop(xbuf);
    let out = x
        .device()
        .try_tensor_from_vec(out, (b, Const::<C>, g.ho, g.wo))?;
    if T::OWNS_TAPE {
        let (x_g, o_g) = (x.ghost(), out.ghost());
        drop(x);
        tape.add_backward_op(move |grads| {
            let gy = take_grad!(grads, &o_g);
            {
                let gx = grad_mut!(grads, &x_g);
                match &arg {
                    Some(arg) => {
                        let (hw, howo) = (g.h * g.w, g.ho * g.wo);
                        gx.par_chunks_mut(hw).enumerate().for_each(|(pl, gxp)| {
                            let gyp = &gy[pl * howo..(pl + 1) * howo];
                            let ap = &arg[pl * howo..(pl + 1) * howo];
                            for (v, i) in gyp.iter().zip(ap) {
                                gxp[*i as usize] += *v;
                            }
                        });
                    }
                    None => avg_backward(g, &gy, gx),
                }
            }
            put_grad!(grads, &o_g, gy);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}
