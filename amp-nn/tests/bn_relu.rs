//! Batch norm with its ReLU fused (`relu = true`, what `BatchNorm2D::try_forward_relu` and the
//! models' `bn_relu!` run) must be, on `Cpu`, batch norm followed by dfdx's ReLU bit for bit:
//! the output, the gradients of the input, scale and bias, and the running statistics, in
//! both modes, f32 and f64, with pre-activations that are exactly 0 (where `>` and `>=`
//! differ) and inputs shared with another branch (whose gradient lands in the same buffer).

use amp_nn::NnDevice;
use dfdx::prelude::*;

const C: usize = 3;
type Img = (usize, Const<C>, usize, usize);

/// Uniform values in [-1, 1) from a seed.
fn uniform<E: num_traits::Float>(n: usize, seed: u64) -> Vec<E> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            E::from(((s >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0).unwrap()
        })
        .collect()
}

/// Everything one batch-norm call produces: output, gradients of x, scale and bias, and
/// the running statistics afterwards.
type Outs<E> = [Vec<E>; 6];

/// Runs `sum(f(x) * gy) + sum(x * c)` with `f` = batch norm (+ ReLU), fused or not.
fn run<E>(train: bool, fused: bool) -> Outs<E>
where
    E: Dtype + num_traits::Float,
    Cpu: NnDevice<E>,
{
    let dev = Cpu::default();
    let shape: Img = (2, Const, 4, 5);
    let n = 2 * C * 20;
    let mean = [0.25, -0.5, 0.0];
    // In eval mode the pre-activation is exactly 0 where x equals the running mean and the
    // channel's bias is 0 (channels 0 and 2 here): put such values in every few entries.
    let mut xv = uniform::<E>(n, 7);
    for i in (0..n).step_by(4) {
        xv[i] = E::from(mean[(i / 20) % C]).unwrap();
    }
    let x = dev.tensor_from_vec(xv, shape);
    let t1 = |v: [f64; C]| dev.tensor_from_vec(v.map(|v| E::from(v).unwrap()).to_vec(), (Const,));
    let (scale, bias) = (t1([1.5, -0.75, 0.5]), t1([0.0, 0.3, 0.0]));
    let (mut rm, mut rv) = (t1(mean), t1([0.8, 1.3, 2.0]));
    let gy = dev.tensor_from_vec(uniform::<E>(n, 11), shape);
    let c = dev.tensor_from_vec(uniform::<E>(n, 13), shape);

    let xt = x.leaky_trace();
    let other = (xt.with_empty_tape() * c).sum::<(), _>();
    let y = if train {
        let y = Cpu::batchnorm2d_train(xt, &scale, &bias, &mut rm, &mut rv, 1e-5, 0.1, fused);
        if fused {
            y.unwrap()
        } else {
            y.unwrap().relu()
        }
    } else {
        let y = Cpu::batchnorm2d_eval(xt, &scale, &bias, &rm, &rv, 1e-5, fused);
        if fused {
            y.unwrap()
        } else {
            y.unwrap().relu()
        }
    };
    let yv = y.as_vec();
    let g = ((y * gy).sum::<(), _>() + other).backward();
    [
        yv,
        g.get(&x).as_vec(),
        g.get(&scale).as_vec(),
        g.get(&bias).as_vec(),
        rm.as_vec(),
        rv.as_vec(),
    ]
}

fn bits<E: num_traits::Float>(v: &[E]) -> Vec<(u64, i16, i8)> {
    v.iter().map(|x| x.integer_decode()).collect()
}

fn check<E>(train: bool)
where
    E: Dtype + num_traits::Float,
    Cpu: NnDevice<E>,
{
    let (fused, reference) = (run::<E>(train, true), run::<E>(train, false));
    let names = [
        "y",
        "grad x",
        "grad scale",
        "grad bias",
        "running mean",
        "running var",
    ];
    for ((name, f), r) in names.iter().zip(&fused).zip(&reference) {
        assert_eq!(bits(f), bits(r), "{name} (train: {train}): {f:?} vs {r:?}");
    }
    // The case is not vacuous: the ReLU cut some outputs (and their gradients) and passed
    // others.
    let y = &fused[0];
    assert!(y.iter().any(|v| *v == E::zero()) && y.iter().any(|v| *v > E::zero()));
}

#[test]
fn train_mode_matches_bn_then_relu_bit_for_bit() {
    check::<f32>(true);
    check::<f64>(true);
}

#[test]
fn eval_mode_matches_bn_then_relu_bit_for_bit() {
    check::<f32>(false);
    check::<f64>(false);
}

/// The eval pre-activation really is exactly 0 at the planted entries (else the test above
/// would not reach the `> 0` boundary).
#[test]
fn eval_case_has_exact_zero_pre_activations() {
    let dev = Cpu::default();
    let shape: Img = (2, Const, 4, 5);
    let mut xv = uniform::<f32>(2 * C * 20, 7);
    for i in (0..xv.len()).step_by(4) {
        xv[i] = [0.25, -0.5, 0.0][(i / 20) % C];
    }
    let x = dev.tensor_from_vec(xv, shape);
    let t1 = |v: [f32; C]| dev.tensor_from_vec(v.to_vec(), (Const,));
    let (scale, bias) = (t1([1.5, -0.75, 0.5]), t1([0.0, 0.3, 0.0]));
    let (rm, rv) = (t1([0.25, -0.5, 0.0]), t1([0.8, 1.3, 2.0]));
    let pre = Cpu::batchnorm2d_eval(x, &scale, &bias, &rm, &rv, 1e-5, false).unwrap();
    let zeros = pre.as_vec().iter().filter(|v| **v == 0.0).count();
    assert!(zeros >= 20, "only {zeros} exact zeros");
}
