//! `Cpu` fast path for batch norm: fused kernels that touch the activation
//! memory as few times as possible (dfdx's composed version makes ~10 passes).
//!
//! Train forward: per channel a mean pass and a centred variance pass (the
//! channel's data is small enough to stay in cache for the second), then one
//! fused `y = x*a + b` pass. Backward: one pass for `sum(dy)` and
//! `sum(dy*(x-mean))` per channel, one fused pass for `dx`.
//! Statistics are accumulated in `f64` per plane for accuracy.

use crate::cpu_util::{grad_mut, put_grad, take_grad, to_buf, CpuFloat};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Sum of `f(x)` with 8 independent accumulators so the loop vectorises
/// (float addition is not reassociated by the compiler).
#[inline]
fn lane_sum<E: CpuFloat>(xs: &[E], f: impl Fn(E) -> E) -> f64 {
    let mut acc = [E::zero(); 8];
    let mut chunks = xs.chunks_exact(8);
    for ch in &mut chunks {
        for i in 0..8 {
            acc[i] += f(ch[i]);
        }
    }
    let mut s = 0f64;
    for v in chunks.remainder() {
        s += f(*v).to_f64().unwrap();
    }
    s + acc.iter().map(|v| v.to_f64().unwrap()).sum::<f64>()
}

/// Same as [`lane_sum`] over pairs.
#[inline]
fn lane_sum2<E: CpuFloat>(xs: &[E], ys: &[E], f: impl Fn(E, E) -> E) -> f64 {
    let mut acc = [E::zero(); 8];
    let mut xc = xs.chunks_exact(8);
    let mut yc = ys.chunks_exact(8);
    for (x, y) in (&mut xc).zip(&mut yc) {
        for i in 0..8 {
            acc[i] += f(x[i], y[i]);
        }
    }
    let mut s = 0f64;
    for (x, y) in xc.remainder().iter().zip(yc.remainder()) {
        s += f(*x, *y).to_f64().unwrap();
    }
    s + acc.iter().map(|v| v.to_f64().unwrap()).sum::<f64>()
}

/// Geometry: `n` images, `c` channels, `hw` pixels per plane.
#[derive(Clone, Copy)]
struct BnGeom {
    n: usize,
    c: usize,
    hw: usize,
}

impl BnGeom {
    fn count(&self) -> usize {
        self.n * self.hw
    }
    /// The `n` planes of channel `ch` in an NCHW buffer.
    fn planes<'a, E>(&self, buf: &'a [E], ch: usize) -> impl Iterator<Item = &'a [E]> + 'a {
        let (c, hw) = (self.c, self.hw);
        (0..self.n).map(move |i| &buf[(i * c + ch) * hw..][..hw])
    }
}

/// `out = x * a[c] + b[c]` per plane, in parallel.
fn affine<E: CpuFloat>(g: BnGeom, x: &[E], a: &[E], b: &[E], out: &mut [E]) {
    out.par_chunks_mut(g.hw)
        .zip(x.par_chunks(g.hw))
        .enumerate()
        .for_each(|(pl, (o, xp))| {
            let (a, b) = (a[pl % g.c], b[pl % g.c]);
            o.iter_mut().zip(xp).for_each(|(o, x)| *o = *x * a + b);
        });
}

fn to_e<E: CpuFloat>(v: f64) -> E {
    E::from_f64(v).unwrap()
}

/// Per-channel `(sum(dy), sum(dy * (x - center)))`.
fn grad_sums<E: CpuFloat>(g: BnGeom, x: &[E], dy: &[E], center: &[f64]) -> Vec<(f64, f64)> {
    (0..g.c)
        .into_par_iter()
        .map(|ch| {
            let m: E = to_e(center[ch]);
            let mut s = (0.0, 0.0);
            for (xp, dp) in g.planes(x, ch).zip(g.planes(dy, ch)) {
                s.0 += lane_sum(dp, |v| v);
                s.1 += lane_sum2(xp, dp, |x, d| d * (x - m));
            }
            s
        })
        .collect()
}

/// `gx += dy * ka[c] + x * kb[c] + kc[c]`, per plane in parallel.
fn grad_affine<E: CpuFloat>(g: BnGeom, x: &[E], dy: &[E], k: &[(E, E, E)], gx: &mut [E]) {
    gx.par_chunks_mut(g.hw)
        .zip(x.par_chunks(g.hw).zip(dy.par_chunks(g.hw)))
        .enumerate()
        .for_each(|(pl, (gp, (xp, dp)))| {
            let (ka, kb, kc) = k[pl % g.c];
            for ((gv, xv), dv) in gp.iter_mut().zip(xp).zip(dp) {
                *gv += *dv * ka + *xv * kb + kc;
            }
        });
}

fn geom<B: Dim, const C: usize, H: Dim, W: Dim>(s: &(B, Const<C>, H, W)) -> BnGeom {
    BnGeom {
        n: s.0.size(),
        c: C,
        hw: s.2.size() * s.3.size(),
    }
}

/// The `Cpu` implementation of [`crate::NnDevice::batchnorm2d_train`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn train<B: Dim, const C: usize, H: Dim, W: Dim, E: CpuFloat, T: Tape<E, Cpu>>(
    x: Tensor<(B, Const<C>, H, W), E, Cpu, T>,
    scale: &Tensor<Rank1<C>, E, Cpu>,
    bias: &Tensor<Rank1<C>, E, Cpu>,
    running_mean: &mut Tensor<Rank1<C>, E, Cpu>,
    running_var: &mut Tensor<Rank1<C>, E, Cpu>,
    epsilon: f64,
    momentum: f64,
) -> Result<Tensor<(B, Const<C>, H, W), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let x = x.try_contiguous()?;
    let shape = *x.shape();
    let g = geom(&shape);
    let count = g.count() as f64;
    assert!(
        g.count() > 1,
        "batch norm needs more than one value per channel"
    );
    let (x, mut tape) = x.split_tape();
    let xbuf = to_buf(&x);
    let gamma = to_buf(scale);
    let beta = to_buf(bias);

    let stats: Vec<(f64, f64)> = (0..C)
        .into_par_iter()
        .map(|ch| {
            let mean = g.planes(&xbuf, ch).map(|p| lane_sum(p, |v| v)).sum::<f64>() / count;
            let m: E = to_e(mean);
            let var = g
                .planes(&xbuf, ch)
                .map(|p| lane_sum(p, |v| (v - m) * (v - m)))
                .sum::<f64>()
                / count;
            (mean, var)
        })
        .collect();
    let mean: Vec<f64> = stats.iter().map(|s| s.0).collect();
    let inv_std: Vec<f64> = stats.iter().map(|s| 1.0 / (s.1 + epsilon).sqrt()).collect();
    let a: Vec<E> = (0..C)
        .map(|c| to_e(gamma[c].to_f64().unwrap() * inv_std[c]))
        .collect();
    let b: Vec<E> = (0..C)
        .map(|c| to_e(beta[c].to_f64().unwrap() - mean[c] * a[c].to_f64().unwrap()))
        .collect();
    let mut out = vec![E::zero(); xbuf.len()];
    affine(g, &xbuf, &a, &b, &mut out);

    // Running statistics (off tape), unbiased variance like PyTorch.
    let rm = to_buf(running_mean);
    let rv = to_buf(running_var);
    let new_rm: Vec<E> = (0..C)
        .map(|c| to_e((1.0 - momentum) * rm[c].to_f64().unwrap() + momentum * mean[c]))
        .collect();
    let new_rv: Vec<E> = (0..C)
        .map(|c| {
            let unbiased = stats[c].1 * count / (count - 1.0);
            to_e((1.0 - momentum) * rv[c].to_f64().unwrap() + momentum * unbiased)
        })
        .collect();
    running_mean.copy_from(&new_rm);
    running_var.copy_from(&new_rv);

    let out = x.device().try_tensor_from_vec(out, shape)?;
    if T::OWNS_TAPE {
        let (x_g, s_g, b_g, o_g) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        drop(x);
        tape.add_backward_op(move |grads| {
            let dy = take_grad!(grads, &o_g);
            let sums = grad_sums(g, &xbuf, &dy, &mean);
            {
                let gs = grad_mut!(grads, &s_g);
                for c in 0..C {
                    gs[c] += to_e::<E>(sums[c].1 * inv_std[c]);
                }
            }
            {
                let gb = grad_mut!(grads, &b_g);
                for c in 0..C {
                    gb[c] += to_e::<E>(sums[c].0);
                }
            }
            let k: Vec<(E, E, E)> = (0..C)
                .map(|c| {
                    let gm = gamma[c].to_f64().unwrap();
                    let is = inv_std[c];
                    let ka = gm * is;
                    let kb = -gm * is * is * is * sums[c].1 / count;
                    let kc = -gm * is * sums[c].0 / count - kb * mean[c];
                    (to_e(ka), to_e(kb), to_e(kc))
                })
                .collect();
            {
                let gx = grad_mut!(grads, &x_g);
                grad_affine(g, &xbuf, &dy, &k, gx);
            }
            put_grad!(grads, &o_g, dy);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// The `Cpu` implementation of [`crate::NnDevice::batchnorm2d_eval`].
pub(crate) fn eval<B: Dim, const C: usize, H: Dim, W: Dim, E: CpuFloat, T: Tape<E, Cpu>>(
    x: Tensor<(B, Const<C>, H, W), E, Cpu, T>,
    scale: &Tensor<Rank1<C>, E, Cpu>,
    bias: &Tensor<Rank1<C>, E, Cpu>,
    running_mean: &Tensor<Rank1<C>, E, Cpu>,
    running_var: &Tensor<Rank1<C>, E, Cpu>,
    epsilon: f64,
) -> Result<Tensor<(B, Const<C>, H, W), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let x = x.try_contiguous()?;
    let shape = *x.shape();
    let g = geom(&shape);
    let (x, mut tape) = x.split_tape();
    let mut buf = to_buf(&x);
    let gamma = to_buf(scale);
    let beta = to_buf(bias);
    let mean: Vec<f64> = to_buf(running_mean)
        .iter()
        .map(|v| v.to_f64().unwrap())
        .collect();
    let inv_std: Vec<f64> = to_buf(running_var)
        .iter()
        .map(|v| 1.0 / (v.to_f64().unwrap() + epsilon).sqrt())
        .collect();
    let a: Vec<E> = (0..C)
        .map(|c| to_e(gamma[c].to_f64().unwrap() * inv_std[c]))
        .collect();
    let b: Vec<E> = (0..C)
        .map(|c| to_e(beta[c].to_f64().unwrap() - mean[c] * a[c].to_f64().unwrap()))
        .collect();
    // Only a recording tape needs the input kept for backward.
    let saved = if T::OWNS_TAPE {
        Some(buf.clone())
    } else {
        None
    };
    buf.par_chunks_mut(g.hw).enumerate().for_each(|(pl, p)| {
        let (a, b) = (a[pl % C], b[pl % C]);
        p.iter_mut().for_each(|v| *v = *v * a + b);
    });
    let out = x.device().try_tensor_from_vec(buf, shape)?;
    if let Some(xbuf) = saved {
        let (x_g, s_g, b_g, o_g) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        drop(x);
        tape.add_backward_op(move |grads| {
            let dy = take_grad!(grads, &o_g);
            let sums = grad_sums(g, &xbuf, &dy, &mean);
            {
                let gs = grad_mut!(grads, &s_g);
                for c in 0..C {
                    gs[c] += to_e::<E>(sums[c].1 * inv_std[c]);
                }
            }
            {
                let gb = grad_mut!(grads, &b_g);
                for c in 0..C {
                    gb[c] += to_e::<E>(sums[c].0);
                }
            }
            let k: Vec<(E, E, E)> = (0..C).map(|c| (a[c], E::zero(), E::zero())).collect();
            {
                let gx = grad_mut!(grads, &x_g);
                grad_affine(g, &xbuf, &dy, &k, gx);
            }
            put_grad!(grads, &o_g, dy);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}
