//! `Cpu` fast path for max/average pooling: one parallel pass over the
//! `(image, channel)` planes forward, one backward. Max pooling remembers the
//! arg-max of every window (first maximum wins, like PyTorch) so backward is a
//! scatter.

use super::op::{Pool2DKernel, PoolGeom};
use crate::backend::PoolKind;
use crate::cpu_util::{to_buf, CpuFloat};
use crate::shape::valid_out_range;
use dfdx::prelude::*;
use rayon::prelude::*;

fn max_forward<E: CpuFloat>(g: &PoolGeom, x: &[E], out: &mut [E], arg: &mut [u32]) {
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

fn avg_forward<E: CpuFloat>(g: &PoolGeom, x: &[E], out: &mut [E]) {
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

/// Scatters each output gradient to its window's arg-max.
fn max_backward<E: CpuFloat>(g: &PoolGeom, arg: &[u32], gy: &[E], gx: &mut [E]) {
    let (hw, howo) = (g.h * g.w, g.ho * g.wo);
    gx.par_chunks_mut(hw).enumerate().for_each(|(pl, gxp)| {
        let gyp = &gy[pl * howo..(pl + 1) * howo];
        let ap = &arg[pl * howo..(pl + 1) * howo];
        for (v, i) in gyp.iter().zip(ap) {
            gxp[*i as usize] += *v;
        }
    });
}

fn avg_backward<E: CpuFloat>(g: &PoolGeom, gy: &[E], gx: &mut [E]) {
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

/// Max pooling's `Cpu` kernels keep each window's arg-max (an index into its plane).
impl<E: CpuFloat> Pool2DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    type Saved = Option<Vec<u32>>;

    fn pool2d_forward<S: Shape, So: Shape>(
        g: &PoolGeom,
        x: &Tensor<S, E, Cpu>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, E, Cpu>, Self::Saved)>, CpuError> {
        let xbuf = to_buf(x);
        let mut out = vec![E::zero(); g.planes * g.ho * g.wo];
        let arg = match g.kind {
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
        let out = x.device().try_tensor_from_vec(out, out_shape)?;
        Ok(Some((out, arg)))
    }

    fn pool2d_backward(
        g: &PoolGeom,
        arg: &Option<Vec<u32>>,
        gy: &Vec<E>,
        gx: &mut Vec<E>,
    ) -> Result<(), CpuError> {
        match arg {
            Some(arg) => max_backward(g, arg, gy, gx),
            None => avg_backward(g, gy, gx),
        }
        Ok(())
    }
}
