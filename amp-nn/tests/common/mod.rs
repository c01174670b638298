//! Shared test helpers: run each op on `Cpu` through either the fast path or
//! the generic path, returning outputs and the gradients of `sum(y * gy)`.
#![allow(dead_code)]

use amp_nn::{generic, NnDevice, PoolKind};
use dfdx::prelude::*;

/// Which implementation to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Fast,
    Generic,
}

pub type Img<E, T = NoneTape> = Tensor<(usize, Const<3>, usize, usize), E, Cpu, T>;

pub fn assert_close(name: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length mismatch");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / (1.0 + w.abs());
        assert!(
            err <= tol,
            "{name}[{i}]: got {g}, want {w} (rel err {err:e} > {tol:e})"
        );
    }
}

pub fn img<E: Dtype>(dev: &Cpu, data: &[E], n: usize, h: usize, w: usize) -> Img<E>
where
    Cpu: Device<E>,
{
    dev.tensor_from_vec(data.to_vec(), (n, Const::<3>, h, w))
}

/// Deterministic pseudo-random values in [-1, 1).
pub fn rand_vec(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

pub struct ConvOut<E> {
    pub y: Vec<E>,
    pub shape: (usize, usize, usize, usize),
    pub gx: Vec<E>,
    pub gw: Vec<E>,
    pub gb: Option<Vec<E>>,
}

/// Conv with 3 input and 4 output channels, kernel `K`.
#[allow(clippy::too_many_arguments)]
pub fn run_conv<const K: usize, E: Dtype + amp_nn::CpuFloat>(
    path: Path,
    x: &[E],
    (n, h, w): (usize, usize, usize),
    weight: &[E],
    bias: Option<&[E]>,
    s: usize,
    p: usize,
    gy: Option<&[E]>,
) -> ConvOut<E>
where
    Cpu: Device<E> + NnDevice<E>,
{
    let dev: Cpu = Default::default();
    let xt = img(&dev, x, n, h, w);
    let mut wt: Tensor<Rank4<4, 3, K, K>, E, Cpu> = dev.zeros();
    wt.copy_from(weight);
    let bt = bias.map(|b| {
        let mut t: Tensor<Rank1<4>, E, Cpu> = dev.zeros();
        t.copy_from(b);
        t
    });
    let y = match path {
        Path::Fast => Cpu::conv2d(xt.leaky_trace(), &wt, bt.as_ref(), s, p),
        Path::Generic => generic::conv2d(xt.leaky_trace(), &wt, bt.as_ref(), s, p),
    }
    .unwrap();
    let (yn, _, yh, yw) = *y.shape();
    let yv = y.as_vec();
    let gy = match gy {
        Some(g) => g.to_vec(),
        None => vec![E::zero(); yv.len()],
    };
    let gyt = dev.tensor_from_vec(gy, *y.shape());
    let g = y.try_mul(gyt).unwrap().sum().backward();
    ConvOut {
        y: yv,
        shape: (yn, 4, yh, yw),
        gx: g.get(&xt).as_vec(),
        gw: g.get(&wt).as_vec(),
        gb: bt.map(|b| g.get(&b).as_vec()),
    }
}

/// Pooling on 3-channel images; returns `(y, y_shape, gx)`.
#[allow(clippy::too_many_arguments)]
pub fn run_pool<E: Dtype + amp_nn::CpuFloat>(
    path: Path,
    kind: PoolKind,
    x: &[E],
    (n, h, w): (usize, usize, usize),
    k: usize,
    s: usize,
    p: usize,
    gy: Option<&[E]>,
) -> (Vec<E>, (usize, usize, usize, usize), Vec<E>)
where
    Cpu: Device<E> + NnDevice<E>,
{
    let dev: Cpu = Default::default();
    let xt = img(&dev, x, n, h, w);
    let y = match path {
        Path::Fast => Cpu::pool2d(xt.leaky_trace(), kind, k, s, p),
        Path::Generic => generic::pool2d(xt.leaky_trace(), kind, k, s, p),
    }
    .unwrap();
    let (yn, _, yh, yw) = *y.shape();
    let yv = y.as_vec();
    let gy = match gy {
        Some(g) => g.to_vec(),
        None => vec![E::zero(); yv.len()],
    };
    let gyt = dev.tensor_from_vec(gy, *y.shape());
    let g = y.try_mul(gyt).unwrap().sum().backward();
    (yv, (yn, 3, yh, yw), g.get(&xt).as_vec())
}

pub struct BnOut<E> {
    pub y: Vec<E>,
    pub gx: Vec<E>,
    pub gscale: Vec<E>,
    pub gbias: Vec<E>,
    pub running_mean: Vec<E>,
    pub running_var: Vec<E>,
}

/// Batch norm over 3 channels starting from the given parameters/running
/// statistics; `train` selects training mode.
#[allow(clippy::too_many_arguments)]
pub fn run_bn<E: Dtype + amp_nn::CpuFloat>(
    path: Path,
    train: bool,
    x: &[E],
    (n, h, w): (usize, usize, usize),
    params: [&[E]; 4],
    gy: &[E],
) -> BnOut<E>
where
    Cpu: Device<E> + NnDevice<E>,
{
    let dev: Cpu = Default::default();
    let xt = img(&dev, x, n, h, w);
    let mk = |v: &[E]| {
        let mut t: Tensor<Rank1<3>, E, Cpu> = dev.zeros();
        t.copy_from(v);
        t
    };
    let (scale, bias, mut rm, mut rv) =
        (mk(params[0]), mk(params[1]), mk(params[2]), mk(params[3]));
    let y = match (path, train) {
        (Path::Fast, true) => Cpu::batchnorm2d_train(
            xt.leaky_trace(),
            &scale,
            &bias,
            &mut rm,
            &mut rv,
            1e-5,
            0.1,
            false,
        ),
        (Path::Generic, true) => {
            generic::batchnorm2d_train(xt.leaky_trace(), &scale, &bias, &mut rm, &mut rv, 1e-5, 0.1)
        }
        (Path::Fast, false) => {
            Cpu::batchnorm2d_eval(xt.leaky_trace(), &scale, &bias, &rm, &rv, 1e-5, false)
        }
        (Path::Generic, false) => {
            generic::batchnorm2d_eval(xt.leaky_trace(), &scale, &bias, &rm, &rv, 1e-5)
        }
    }
    .unwrap();
    let yv = y.as_vec();
    let gyt = dev.tensor_from_vec(gy.to_vec(), *y.shape());
    let g = y.try_mul(gyt).unwrap().sum().backward();
    BnOut {
        y: yv,
        gx: g.get(&xt).as_vec(),
        gscale: g.get(&scale).as_vec(),
        gbias: g.get(&bias).as_vec(),
        running_mean: rm.as_vec(),
        running_var: rv.as_vec(),
    }
}

/// Central finite differences of `f` at `x`.
pub fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let eps = 1e-6;
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = xp[i];
            xp[i] = orig + eps;
            let fp = f(&xp);
            xp[i] = orig - eps;
            let fm = f(&xp);
            xp[i] = orig;
            (fp - fm) / (2.0 * eps)
        })
        .collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
