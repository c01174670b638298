//! Outputs and gradients against PyTorch reference values committed in
//! `tests/fixtures/*.json` (written by `scripts/pytorch_fixtures.py`), on
//! both the fast and the generic path.

mod common;

use amp_nn::PoolKind;
use common::*;
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn f(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn u(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

const TOL: f64 = 1e-9;

#[test]
fn conv2d_matches_pytorch() {
    let cases = load("conv2d");
    assert!(cases.len() >= 8);
    for case in &cases {
        let (n, h, w, k, s, p) = (
            u(&case["n"]),
            u(&case["h"]),
            u(&case["w"]),
            u(&case["k"]),
            u(&case["s"]),
            u(&case["p"]),
        );
        let (x, wt, gy) = (f(&case["x"]), f(&case["weight"]), f(&case["gy"]));
        let bias = (!case["bias"].is_null()).then(|| f(&case["bias"]));
        for path in [Path::Fast, Path::Generic] {
            let out = match k {
                1 => run_conv::<1, f64>(path, &x, (n, h, w), &wt, bias.as_deref(), s, p, Some(&gy)),
                3 => run_conv::<3, f64>(path, &x, (n, h, w), &wt, bias.as_deref(), s, p, Some(&gy)),
                _ => unreachable!(),
            };
            let name = format!("{path:?} conv k{k} s{s} p{p} {h}x{w}");
            let ys: Vec<usize> = case["y_shape"].as_array().unwrap().iter().map(u).collect();
            assert_eq!(
                vec![out.shape.0, out.shape.1, out.shape.2, out.shape.3],
                ys,
                "{name}"
            );
            assert_close(&format!("{name} y"), &out.y, &f(&case["y"]), TOL);
            assert_close(&format!("{name} gx"), &out.gx, &f(&case["gx"]), TOL);
            assert_close(&format!("{name} gw"), &out.gw, &f(&case["gweight"]), TOL);
            if let Some(gb) = out.gb {
                assert_close(&format!("{name} gb"), &gb, &f(&case["gbias"]), TOL);
            }
        }
    }
}

#[test]
fn pool2d_matches_pytorch() {
    for case in &load("pool2d") {
        let (n, h, w, k, s, p) = (
            u(&case["n"]),
            u(&case["h"]),
            u(&case["w"]),
            u(&case["k"]),
            u(&case["s"]),
            u(&case["p"]),
        );
        let kind = match case["kind"].as_str().unwrap() {
            "max" => PoolKind::Max,
            _ => PoolKind::Avg,
        };
        for path in [Path::Fast, Path::Generic] {
            let (y, shape, gx) = run_pool(
                path,
                kind,
                &f(&case["x"]),
                (n, h, w),
                k,
                s,
                p,
                Some(&f(&case["gy"])),
            );
            let name = format!("{path:?} {kind:?} k{k} s{s} p{p}");
            let ys: Vec<usize> = case["y_shape"].as_array().unwrap().iter().map(u).collect();
            assert_eq!(vec![shape.0, shape.1, shape.2, shape.3], ys, "{name}");
            assert_close(&format!("{name} y"), &y, &f(&case["y"]), TOL);
            assert_close(&format!("{name} gx"), &gx, &f(&case["gx"]), TOL);
        }
    }
}

#[test]
fn batchnorm2d_matches_pytorch() {
    for case in &load("batchnorm2d") {
        let (n, h, w) = (u(&case["n"]), u(&case["h"]), u(&case["w"]));
        let (scale, bias) = (f(&case["scale"]), f(&case["bias"]));
        let (zeros, ones) = (vec![0.0; 3], vec![1.0; 3]);
        for path in [Path::Fast, Path::Generic] {
            let name = format!("{path:?} bn {n}x3x{h}x{w}");
            let tr = run_bn(
                path,
                true,
                &f(&case["x"]),
                (n, h, w),
                [&scale, &bias, &zeros, &ones],
                &f(&case["gy"]),
            );
            assert_close(&format!("{name} train y"), &tr.y, &f(&case["y"]), 1e-8);
            assert_close(&format!("{name} train gx"), &tr.gx, &f(&case["gx"]), 1e-8);
            assert_close(
                &format!("{name} train gscale"),
                &tr.gscale,
                &f(&case["gscale"]),
                1e-8,
            );
            assert_close(
                &format!("{name} train gbias"),
                &tr.gbias,
                &f(&case["gbias"]),
                1e-8,
            );
            assert_close(
                &format!("{name} running_mean"),
                &tr.running_mean,
                &f(&case["running_mean"]),
                1e-10,
            );
            assert_close(
                &format!("{name} running_var"),
                &tr.running_var,
                &f(&case["running_var"]),
                1e-10,
            );
            let ev = run_bn(
                path,
                false,
                &f(&case["x_eval"]),
                (n, h, w),
                [&scale, &bias, &tr.running_mean, &tr.running_var],
                &f(&case["gy_eval"]),
            );
            assert_close(&format!("{name} eval y"), &ev.y, &f(&case["y_eval"]), 1e-8);
            assert_close(
                &format!("{name} eval gx"),
                &ev.gx,
                &f(&case["gx_eval"]),
                1e-8,
            );
            assert_close(
                &format!("{name} eval gscale"),
                &ev.gscale,
                &f(&case["gscale_eval"]),
                1e-8,
            );
            assert_close(
                &format!("{name} eval gbias"),
                &ev.gbias,
                &f(&case["gbias_eval"]),
                1e-8,
            );
            assert_eq!(
                ev.running_mean, tr.running_mean,
                "eval must not update running stats"
            );
        }
    }
}
