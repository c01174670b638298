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
    let (n, h, w) = (5, 6, 7);
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
