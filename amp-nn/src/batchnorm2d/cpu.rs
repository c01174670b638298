//! `Cpu` fast path for batch norm: fused kernels that touch the activation
//! memory as few times as possible (dfdx's composed version makes ~10 passes).
//!
//! Train forward: per channel a mean pass and a centred variance pass (the
//! channel's data is small enough to stay in cache for the second), then one
//! fused `y = x*a + b` pass. Backward: one pass for `sum(dy)` and
//! `sum(dy*(x-mean))` per channel, one fused pass for `dx`.
//! Statistics are accumulated in `f64` per plane for accuracy.
//!
//! With a fused ReLU the affine pass clamps at 0 as dfdx's ReLU does (`max(v, 0)`), and
//! backward first masks `dy` where `x * a + b` (the same arithmetic as forward, so the same
//! bits) is not positive, exactly as dfdx's ReLU backward would have produced it.

use super::op::{BatchNorm2DKernel, BnGeom};
use crate::cpu_util::{relu_grad, to_buf, CpuFloat};
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

/// The `n` planes of channel `ch` in an NCHW buffer.
fn planes<'a, E>(g: &BnGeom, buf: &'a [E], ch: usize) -> impl Iterator<Item = &'a [E]> + 'a {
    let (c, hw) = (g.c, g.hw);
    (0..g.n).map(move |i| &buf[(i * c + ch) * hw..][..hw])
}

/// `x * a + b`, clamped at 0 with a fused ReLU as dfdx's ReLU does.
#[inline(always)]
fn bn_out<E: CpuFloat>(x: E, a: E, b: E, relu: bool) -> E {
    let y = x * a + b;
    if relu {
        y.max(E::zero())
    } else {
        y
    }
}

/// `out = bn_out(x)` per plane, in parallel.
fn affine<E: CpuFloat>(g: &BnGeom, x: &[E], a: &[E], b: &[E], out: &mut [E]) {
    out.par_chunks_mut(g.hw)
        .zip(x.par_chunks(g.hw))
        .enumerate()
        .for_each(|(pl, (o, xp))| {
            let (a, b) = (a[pl % g.c], b[pl % g.c]);
            (o.iter_mut().zip(xp)).for_each(|(o, x)| *o = bn_out(*x, a, b, g.relu));
        });
}

/// dfdx's ReLU backward for the pre-activation `x * a[c] + b[c]`: `0 + (1 or 0) * dy`.
fn relu_masked<E: CpuFloat>(g: &BnGeom, x: &[E], dy: &[E], a: &[E], b: &[E]) -> Vec<E> {
    let mut out = vec![E::zero(); dy.len()];
    out.par_chunks_mut(g.hw)
        .zip(x.par_chunks(g.hw).zip(dy.par_chunks(g.hw)))
        .enumerate()
        .for_each(|(pl, (o, (xp, dp)))| {
            let (a, b) = (a[pl % g.c], b[pl % g.c]);
            for ((o, x), d) in o.iter_mut().zip(xp).zip(dp) {
                *o = relu_grad(bn_out(*x, a, b, false) > E::zero(), *d);
            }
        });
    out
}

fn to_e<E: CpuFloat>(v: f64) -> E {
    E::from_f64(v).unwrap()
}

/// Per-channel `(sum(dy), sum(dy * (x - center)))`.
fn grad_sums<E: CpuFloat>(g: &BnGeom, x: &[E], dy: &[E], center: &[f64]) -> Vec<(f64, f64)> {
    (0..g.c)
        .into_par_iter()
        .map(|ch| {
            let m: E = to_e(center[ch]);
            let mut s = (0.0, 0.0);
            for (xp, dp) in planes(g, x, ch).zip(planes(g, dy, ch)) {
                s.0 += lane_sum(dp, |v| v);
                s.1 += lane_sum2(xp, dp, |x, d| d * (x - m));
            }
            s
        })
        .collect()
}

/// `gx += dy * ka[c] + x * kb[c] + kc[c]`, per plane in parallel.
fn grad_affine<E: CpuFloat>(g: &BnGeom, x: &[E], dy: &[E], k: &[(E, E, E)], gx: &mut [E]) {
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

/// What backward needs from either mode: the input, the scale, and the statistics the
/// forward pass normalised with.
pub(crate) struct Saved<E> {
    /// The input (empty when nothing records a backward pass, which then never runs).
    x: Vec<E>,
    gamma: Vec<E>,
    /// Per-channel mean and `1 / sqrt(var + eps)` used forward.
    mean: Vec<f64>,
    inv_std: Vec<f64>,
    /// Training mode: the statistics depend on `x`, which adds two terms to its gradient.
    batch_stats: bool,
    /// With a fused ReLU, the forward affine coefficients `(a, b)`, to recompute where the
    /// pre-activation was positive.
    relu_ab: Option<(Vec<E>, Vec<E>)>,
}

/// `y = x * a + b` with `a = gamma * inv_std`, `b = beta - mean * a`, per channel.
fn affine_coefficients<E: CpuFloat>(
    gamma: &[E],
    beta: &[E],
    mean: &[f64],
    inv_std: &[f64],
) -> (Vec<E>, Vec<E>) {
    let a: Vec<E> = (gamma.iter().zip(inv_std))
        .map(|(g, is)| to_e(g.to_f64().unwrap() * is))
        .collect();
    let b: Vec<E> = (beta.iter().zip(mean).zip(&a))
        .map(|((b, m), a)| to_e(b.to_f64().unwrap() - m * a.to_f64().unwrap()))
        .collect();
    (a, b)
}

impl<E: CpuFloat> BatchNorm2DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    type Saved = Saved<E>;
    const FUSES_RELU: bool = true;

    fn bn_train_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, E, Cpu>,
        scale: &Tensor<Rank1<C>, E, Cpu>,
        bias: &Tensor<Rank1<C>, E, Cpu>,
        running_mean: &mut Tensor<Rank1<C>, E, Cpu>,
        running_var: &mut Tensor<Rank1<C>, E, Cpu>,
    ) -> Result<Option<(Tensor<S, E, Cpu>, Saved<E>)>, CpuError> {
        let count = g.count() as f64;
        let xbuf = to_buf(x);
        let gamma = to_buf(scale);
        let stats: Vec<(f64, f64)> = (0..C)
            .into_par_iter()
            .map(|ch| {
                let mean = planes(g, &xbuf, ch)
                    .map(|p| lane_sum(p, |v| v))
                    .sum::<f64>()
                    / count;
                let m: E = to_e(mean);
                let var = planes(g, &xbuf, ch)
                    .map(|p| lane_sum(p, |v| (v - m) * (v - m)))
                    .sum::<f64>()
                    / count;
                (mean, var)
            })
            .collect();
        let mean: Vec<f64> = stats.iter().map(|s| s.0).collect();
        let inv_std: Vec<f64> = (stats.iter())
            .map(|s| 1.0 / (s.1 + g.epsilon).sqrt())
            .collect();
        let (a, b) = affine_coefficients(&gamma, &to_buf(bias), &mean, &inv_std);
        let mut out = vec![E::zero(); xbuf.len()];
        affine(g, &xbuf, &a, &b, &mut out);

        // Running statistics (off tape), unbiased variance like PyTorch.
        let mom = g.momentum;
        let blend = |old: E, new: f64| to_e::<E>((1.0 - mom) * old.to_f64().unwrap() + mom * new);
        let new_rm: Vec<E> = (to_buf(running_mean).into_iter().zip(&mean))
            .map(|(old, m)| blend(old, *m))
            .collect();
        let new_rv: Vec<E> = (to_buf(running_var).into_iter().zip(&stats))
            .map(|(old, (_, var))| blend(old, var * count / (count - 1.0)))
            .collect();
        running_mean.copy_from(&new_rm);
        running_var.copy_from(&new_rv);

        let out = x.device().try_tensor_from_vec(out, *x.shape())?;
        let saved = Saved {
            x: xbuf,
            gamma,
            mean,
            inv_std,
            batch_stats: true,
            relu_ab: g.relu.then_some((a, b)),
        };
        Ok(Some((out, saved)))
    }

    fn bn_eval_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, E, Cpu>,
        scale: &Tensor<Rank1<C>, E, Cpu>,
        bias: &Tensor<Rank1<C>, E, Cpu>,
        running_mean: &Tensor<Rank1<C>, E, Cpu>,
        running_var: &Tensor<Rank1<C>, E, Cpu>,
        record: bool,
    ) -> Result<Option<(Tensor<S, E, Cpu>, Saved<E>)>, CpuError> {
        let mut buf = to_buf(x);
        let gamma = to_buf(scale);
        let mean: Vec<f64> = (to_buf(running_mean).iter())
            .map(|v| v.to_f64().unwrap())
            .collect();
        let inv_std: Vec<f64> = (to_buf(running_var).iter())
            .map(|v| 1.0 / (v.to_f64().unwrap() + g.epsilon).sqrt())
            .collect();
        let (a, b) = affine_coefficients(&gamma, &to_buf(bias), &mean, &inv_std);
        buf.par_chunks_mut(g.hw).enumerate().for_each(|(pl, p)| {
            let (a, b) = (a[pl % C], b[pl % C]);
            p.iter_mut().for_each(|v| *v = bn_out(*v, a, b, g.relu));
        });
        let saved = Saved {
            x: if record { to_buf(x) } else { Vec::new() },
            gamma,
            mean,
            inv_std,
            batch_stats: false,
            relu_ab: (g.relu && record).then_some((a, b)),
        };
        let out = x.device().try_tensor_from_vec(buf, *x.shape())?;
        Ok(Some((out, saved)))
    }

    fn bn_backward(
        g: &BnGeom,
        s: &Saved<E>,
        dy: &Vec<E>,
        gx: &mut Vec<E>,
        gs: &mut Vec<E>,
        gb: &mut Vec<E>,
    ) -> Result<(), CpuError> {
        let count = g.count() as f64;
        let masked = (s.relu_ab.as_ref()).map(|(a, b)| relu_masked(g, &s.x, dy, a, b));
        let dy = masked.as_ref().unwrap_or(dy);
        let sums = grad_sums(g, &s.x, dy, &s.mean);
        for c in 0..g.c {
            gs[c] += to_e::<E>(sums[c].1 * s.inv_std[c]);
            gb[c] += to_e::<E>(sums[c].0);
        }
        let k: Vec<(E, E, E)> = (0..g.c)
            .map(|c| {
                let (gm, is) = (s.gamma[c].to_f64().unwrap(), s.inv_std[c]);
                let ka = gm * is;
                if !s.batch_stats {
                    return (to_e(ka), E::zero(), E::zero());
                }
                let kb = -gm * is * is * is * sums[c].1 / count;
                let kc = -gm * is * sums[c].0 / count - kb * s.mean[c];
                (to_e(ka), to_e(kb), to_e(kc))
            })
            .collect();
        grad_affine(g, &s.x, dy, &k, gx);
        Ok(())
    }
}
