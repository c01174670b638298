//! Analytic gradients (fast path, f64) against central finite differences of
//! `L = sum(y * r)` for a fixed random `r`.

mod common;

use amp_nn::PoolKind;
use common::*;

const TOL: f64 = 1e-6;

#[test]
fn conv2d_gradients_match_finite_differences() {
    // (k, s, p, bias, h, w)
    for &(k, s, p, bias, h, w) in &[
        (3, 1, 1, true, 5, 7),
        (3, 2, 1, false, 5, 7),
        (3, 2, 2, true, 6, 5),
        (1, 1, 0, true, 5, 7),
        (1, 2, 0, false, 5, 7),
    ] {
        let n = 2;
        let x = rand_vec(n * 3 * h * w, 1);
        let wt = rand_vec(4 * 3 * k * k, 2);
        let b = bias.then(|| rand_vec(4, 3));
        let run = |x: &[f64], wt: &[f64], b: Option<&[f64]>, gy: Option<&[f64]>| match k {
            1 => run_conv::<1, f64>(Path::Fast, x, (n, h, w), wt, b, s, p, gy),
            _ => run_conv::<3, f64>(Path::Fast, x, (n, h, w), wt, b, s, p, gy),
        };
        let r = rand_vec(run(&x, &wt, b.as_deref(), None).y.len(), 4);
        let out = run(&x, &wt, b.as_deref(), Some(&r));
        let name = format!("conv k{k} s{s} p{p} bias={bias}");
        let loss = |x: &[f64], wt: &[f64], b: Option<&[f64]>| dot(&run(x, wt, b, None).y, &r);
        assert_close(
            &format!("{name} gx"),
            &out.gx,
            &numeric_grad(&x, |x| loss(x, &wt, b.as_deref())),
            TOL,
        );
        assert_close(
            &format!("{name} gw"),
            &out.gw,
            &numeric_grad(&wt, |wt| loss(&x, wt, b.as_deref())),
            TOL,
        );
        if let Some(b) = &b {
            assert_close(
                &format!("{name} gb"),
                out.gb.as_ref().unwrap(),
                &numeric_grad(b, |b| loss(&x, &wt, Some(b))),
                TOL,
            );
        }
    }
}

#[test]
fn pool2d_gradients_match_finite_differences() {
    for &(kind, k, s, p) in &[
        (PoolKind::Max, 2, 2, 0),
        (PoolKind::Max, 3, 2, 1),
        (PoolKind::Avg, 3, 1, 1),
        (PoolKind::Avg, 2, 2, 0),
    ] {
        let (n, h, w) = (2, 5, 7);
        let x = rand_vec(n * 3 * h * w, 5);
        let r = rand_vec(
            run_pool::<f64>(Path::Fast, kind, &x, (n, h, w), k, s, p, None)
                .0
                .len(),
            6,
        );
        let (_, _, gx) = run_pool(Path::Fast, kind, &x, (n, h, w), k, s, p, Some(&r));
        let num = numeric_grad(&x, |x| {
            dot(
                &run_pool(Path::Fast, kind, x, (n, h, w), k, s, p, None).0,
                &r,
            )
        });
        assert_close(&format!("{kind:?} k{k} s{s} p{p} gx"), &gx, &num, TOL);
    }
}

#[test]
fn batchnorm2d_gradients_match_finite_differences() {
    let (n, h, w) = (3, 4, 5);
    let x: Vec<f64> = rand_vec(n * 3 * h * w, 7)
        .iter()
        .map(|v| 3.0 * v + 1.0)
        .collect();
    let (scale, bias) = (rand_vec(3, 8), rand_vec(3, 9));
    let (rm, rv) = (vec![0.5, -0.2, 0.1], vec![1.5, 0.7, 2.0]);
    let gy = rand_vec(x.len(), 10);
    for train in [true, false] {
        let run = |x: &[f64], sc: &[f64], bi: &[f64]| {
            run_bn(Path::Fast, train, x, (n, h, w), [sc, bi, &rm, &rv], &gy)
        };
        let out = run(&x, &scale, &bias);
        let name = if train { "bn train" } else { "bn eval" };
        let loss = |x: &[f64], sc: &[f64], bi: &[f64]| dot(&run(x, sc, bi).y, &gy);
        assert_close(
            &format!("{name} gx"),
            &out.gx,
            &numeric_grad(&x, |x| loss(x, &scale, &bias)),
            TOL,
        );
        assert_close(
            &format!("{name} gscale"),
            &out.gscale,
            &numeric_grad(&scale, |s| loss(&x, s, &bias)),
            TOL,
        );
        assert_close(
            &format!("{name} gbias"),
            &out.gbias,
            &numeric_grad(&bias, |b| loss(&x, &scale, b)),
            TOL,
        );
    }
}
