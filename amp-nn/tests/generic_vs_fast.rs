//! The device-generic path (what CUDA runs) must agree with the `Cpu` fast
//! path, in f32, on outputs and all gradients, including batched chunks.

mod common;

use amp_nn::PoolKind;
use common::*;

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|x| *x as f32).collect()
}
fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|x| *x as f64).collect()
}

const TOL: f64 = 1e-5;

#[test]
fn conv2d_generic_equals_fast() {
    // n large enough that the fast path batches several images per chunk.
    for &(k, s, p, bias, n, h, w) in &[
        (3, 1, 1, true, 9, 6, 5),
        (3, 2, 1, false, 7, 8, 8),
        (1, 2, 0, true, 5, 7, 6),
        (1, 1, 0, false, 4, 3, 3),
        (3, 1, 0, true, 3, 4, 9),
        // Training-sized batches of small late-stage maps: many images per chunk, many
        // chunks, several weight-gradient groups.
        (3, 1, 1, true, 64, 2, 2),
        (3, 1, 1, false, 64, 4, 4),
        (1, 2, 0, false, 64, 4, 4),
        (3, 2, 1, false, 33, 8, 8),
        (3, 1, 1, false, 128, 1, 1),
    ] {
        let x = f32s(&rand_vec(n * 3 * h * w, 11));
        let wt = f32s(&rand_vec(4 * 3 * k * k, 12));
        let b = bias.then(|| f32s(&rand_vec(4, 13)));
        let run = |path, gy: Option<&[f32]>| match k {
            1 => run_conv::<1, f32>(path, &x, (n, h, w), &wt, b.as_deref(), s, p, gy),
            _ => run_conv::<3, f32>(path, &x, (n, h, w), &wt, b.as_deref(), s, p, gy),
        };
        let gy = f32s(&rand_vec(run(Path::Fast, None).y.len(), 14));
        let (a, g) = (run(Path::Fast, Some(&gy)), run(Path::Generic, Some(&gy)));
        let name = format!("conv k{k} s{s} p{p} n{n}");
        assert_eq!(a.shape, g.shape, "{name}");
        assert_close(&format!("{name} y"), &f64s(&a.y), &f64s(&g.y), TOL);
        assert_close(&format!("{name} gx"), &f64s(&a.gx), &f64s(&g.gx), TOL);
        assert_close(&format!("{name} gw"), &f64s(&a.gw), &f64s(&g.gw), TOL);
        if let (Some(x), Some(y)) = (&a.gb, &g.gb) {
            assert_close(&format!("{name} gb"), &f64s(x), &f64s(y), TOL);
        }
    }
}

#[test]
fn pool2d_generic_equals_fast() {
    for &(kind, k, s, p) in &[
        (PoolKind::Max, 3, 2, 1),
        (PoolKind::Avg, 2, 2, 0),
        (PoolKind::Avg, 3, 1, 1),
    ] {
        let (n, h, w) = (3, 7, 6);
        let x = f32s(&rand_vec(n * 3 * h * w, 15));
        let len = run_pool::<f32>(Path::Fast, kind, &x, (n, h, w), k, s, p, None)
            .0
            .len();
        let gy = f32s(&rand_vec(len, 16));
        let a = run_pool(Path::Fast, kind, &x, (n, h, w), k, s, p, Some(&gy));
        let g = run_pool(Path::Generic, kind, &x, (n, h, w), k, s, p, Some(&gy));
        assert_eq!(a.1, g.1);
        assert_close(&format!("{kind:?} y"), &f64s(&a.0), &f64s(&g.0), TOL);
        assert_close(&format!("{kind:?} gx"), &f64s(&a.2), &f64s(&g.2), TOL);
    }
}

#[test]
fn batchnorm2d_generic_equals_fast() {
    // Odd maps, and training-sized batches of the 2x2 and 1x1 maps of late VGG stages.
    for (n, h, w) in [(5, 6, 7), (64, 2, 2), (128, 1, 1)] {
        let x = f32s(&rand_vec(n * 3 * h * w, 17));
        let (sc, bi) = (f32s(&rand_vec(3, 18)), f32s(&rand_vec(3, 19)));
        let (rm, rv) = (vec![0.1f32, 0.2, -0.3], vec![1.0f32, 0.5, 2.0]);
        let gy = f32s(&rand_vec(x.len(), 20));
        for train in [true, false] {
            let a = run_bn(Path::Fast, train, &x, (n, h, w), [&sc, &bi, &rm, &rv], &gy);
            let g = run_bn(
                Path::Generic,
                train,
                &x,
                (n, h, w),
                [&sc, &bi, &rm, &rv],
                &gy,
            );
            for (name, u, v) in [
                ("y", &a.y, &g.y),
                ("gx", &a.gx, &g.gx),
                ("gscale", &a.gscale, &g.gscale),
                ("gbias", &a.gbias, &g.gbias),
                ("running_mean", &a.running_mean, &g.running_mean),
                ("running_var", &a.running_var, &g.running_var),
            ] {
                assert_close(
                    &format!("bn train={train} {name}"),
                    &f64s(u),
                    &f64s(v),
                    1e-4,
                );
            }
        }
    }
}

/// Real network widths (64-512 channels): the GEMMs get large K and M, which the 3->4
/// channel cases above never exercise.
#[test]
fn conv2d_wide_channels_generic_equals_fast() {
    use amp_nn::{generic, NnDevice};
    use dfdx::prelude::*;

    fn check<const I: usize, const O: usize, const K: usize>(
        n: usize,
        hw: usize,
        s: usize,
        p: usize,
    ) {
        let dev = Cpu::seed_from_u64(3);
        let x: Tensor<(usize, Const<I>, usize, usize), f32, Cpu> =
            dev.sample_normal_like(&(n, Const::<I>, hw, hw));
        let w: Tensor<Rank4<O, I, K, K>, f32, Cpu> = dev.sample_normal();
        let run = |fast: bool| {
            let y = if fast {
                Cpu::conv2d(x.leaky_trace(), &w, None, s, p)
            } else {
                generic::conv2d(x.leaky_trace(), &w, None, s, p)
            }
            .unwrap();
            let yv = y.as_vec();
            let g = y.square().sum().backward();
            (yv, g.get(&x).as_vec(), g.get(&w).as_vec())
        };
        let (a, b) = (run(true), run(false));
        let name = format!("conv {I}->{O} k{K} s{s} p{p} n{n} {hw}x{hw}");
        let rel = |u: &[f32], v: &[f32]| {
            let scale = v.iter().map(|x| x.abs()).fold(0f32, f32::max).max(1e-6);
            u.iter()
                .zip(v)
                .map(|(x, y)| (x - y).abs() / scale)
                .fold(0f32, f32::max)
        };
        assert!(rel(&a.0, &b.0) < 1e-4, "{name} y: {}", rel(&a.0, &b.0));
        assert!(rel(&a.1, &b.1) < 1e-4, "{name} gx: {}", rel(&a.1, &b.1));
        assert!(rel(&a.2, &b.2) < 1e-4, "{name} gw: {}", rel(&a.2, &b.2));
    }
    check::<64, 128, 3>(16, 8, 1, 1);
    check::<128, 128, 3>(32, 4, 2, 1);
    check::<256, 512, 3>(8, 2, 1, 1);
    check::<512, 512, 3>(64, 1, 1, 1);
    check::<64, 128, 1>(16, 8, 2, 0);
}
