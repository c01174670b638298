//! The `Cpu` fast path must be bit-reproducible: the same inputs give the same
//! output and gradient bits on every run, and whatever the rayon thread count
//! (training runs are compared bit for bit, e.g. a baseline run against an
//! amplified run during observation epochs).
//!
//! Shapes are chosen so that convolutions split the batch into several chunks,
//! several chunks per weight-gradient group, and a batch that is not a
//! multiple of the chunk size.

use amp_nn::NnDevice;
use dfdx::prelude::*;

const N: usize = 40;
const CI: usize = 16;
const CO: usize = 24;

type X<const C: usize, T = NoneTape> = Tensor<(usize, Const<C>, usize, usize), f32, Cpu, T>;

/// Deterministic pseudo-random values in [-1, 1).
fn rand_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn input<const C: usize>(dev: &Cpu, hw: usize, seed: u64) -> X<C> {
    dev.tensor_from_vec(rand_vec(N * C * hw * hw, seed), (N, Const, hw, hw))
}

/// Backward of `sum(y * gy)` for a fixed pseudo-random `gy`.
fn backward<S: Shape>(
    y: Tensor<S, f32, Cpu, OwnedTape<f32, Cpu>>,
    seed: u64,
) -> Gradients<f32, Cpu> {
    let dev = y.device().clone();
    let gy = dev.tensor_from_vec(rand_vec(y.shape().num_elements(), seed), *y.shape());
    (y * gy).sum().backward()
}

/// Outputs and gradients (as bits) of one conv configuration.
fn conv<const K: usize>(hw: usize, s: usize, p: usize, with_bias: bool) -> Vec<(String, Vec<u32>)> {
    let dev: Cpu = Default::default();
    let x = input::<CI>(&dev, hw, 1);
    let mut w: Tensor<Rank4<CO, CI, K, K>, f32, Cpu> = dev.zeros();
    w.copy_from(&rand_vec(CO * CI * K * K, 2));
    let mut b: Tensor<Rank1<CO>, f32, Cpu> = dev.zeros();
    b.copy_from(&rand_vec(CO, 3));
    let bias = with_bias.then_some(&b);
    let y = Cpu::conv2d(x.leaky_trace(), &w, bias, s, p).unwrap();
    let yv = y.as_vec();
    let g = backward(y, 4);
    let name = format!("conv k{K} s{s} p{p} bias {with_bias} {hw}x{hw}");
    let mut out = vec![
        (format!("{name} y"), bits(&yv)),
        (format!("{name} gx"), bits(&g.get(&x).as_vec())),
        (format!("{name} gw"), bits(&g.get(&w).as_vec())),
    ];
    if with_bias {
        out.push((format!("{name} gb"), bits(&g.get(&b).as_vec())));
    }
    out
}

/// Training-mode batch norm: output, gradients and running statistics.
fn batchnorm(hw: usize) -> Vec<(String, Vec<u32>)> {
    let dev: Cpu = Default::default();
    let x = input::<CI>(&dev, hw, 5);
    let mut scale: Tensor<Rank1<CI>, f32, Cpu> = dev.zeros();
    scale.copy_from(&rand_vec(CI, 6));
    let mut bias: Tensor<Rank1<CI>, f32, Cpu> = dev.zeros();
    bias.copy_from(&rand_vec(CI, 7));
    let mut rm: Tensor<Rank1<CI>, f32, Cpu> = dev.zeros();
    let mut rv: Tensor<Rank1<CI>, f32, Cpu> = dev.ones();
    let y = Cpu::batchnorm2d_train(
        x.leaky_trace(),
        &scale,
        &bias,
        &mut rm,
        &mut rv,
        1e-5,
        0.1,
        false,
    )
    .unwrap();
    let yv = y.as_vec();
    let g = backward(y, 8);
    let name = format!("bn {hw}x{hw}");
    vec![
        (format!("{name} y"), bits(&yv)),
        (format!("{name} gx"), bits(&g.get(&x).as_vec())),
        (format!("{name} gscale"), bits(&g.get(&scale).as_vec())),
        (format!("{name} gbias"), bits(&g.get(&bias).as_vec())),
        (format!("{name} running_mean"), bits(&rm.as_vec())),
        (format!("{name} running_var"), bits(&rv.as_vec())),
    ]
}

fn maxpool() -> Vec<(String, Vec<u32>)> {
    let dev: Cpu = Default::default();
    let x = input::<CI>(&dev, 12, 9);
    let y = Cpu::pool2d(x.leaky_trace(), amp_nn::PoolKind::Max, 3, 2, 1).unwrap();
    let yv = y.as_vec();
    let g = backward(y, 10);
    vec![
        ("maxpool y".into(), bits(&yv)),
        ("maxpool gx".into(), bits(&g.get(&x).as_vec())),
    ]
}

/// Every op under test, forward and backward.
fn run_all() -> Vec<(String, Vec<u32>)> {
    let mut out = Vec::new();
    for hw in [12, 4] {
        out.extend(conv::<3>(hw, 1, 1, true));
        out.extend(conv::<3>(hw, 1, 1, false));
        out.extend(conv::<3>(hw, 2, 1, true));
        out.extend(conv::<3>(hw, 2, 1, false));
        out.extend(conv::<1>(hw, 1, 0, true));
        out.extend(conv::<1>(hw, 1, 0, false));
        out.extend(conv::<1>(hw, 2, 0, false));
        out.extend(batchnorm(hw));
    }
    out.extend(maxpool());
    out
}

fn assert_same_bits(a: &[(String, Vec<u32>)], b: &[(String, Vec<u32>)], what: &str) {
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(b) {
        let diff = x.iter().zip(y).filter(|(p, q)| p != q).count();
        assert!(
            diff == 0,
            "{what}: {name} differs in {diff} of {} values",
            x.len()
        );
    }
}

#[test]
fn same_inputs_give_same_bits() {
    let first = run_all();
    for _ in 0..3 {
        assert_same_bits(&first, &run_all(), "rerun");
    }
}

#[test]
fn bits_do_not_depend_on_thread_count() {
    let global = run_all();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let other = pool.install(run_all);
        assert_same_bits(
            &global,
            &other,
            &format!("{threads} threads vs global pool"),
        );
    }
}
