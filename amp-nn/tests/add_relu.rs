//! `amp_nn::add_relu` on `Cpu` must be dfdx's `a.try_add(b)?.try_relu()` bit for bit: the
//! output and both inputs' gradients, for the two ways a residual block calls it (the
//! shortcut taped and used by another branch too, whose gradient lands in the same buffer;
//! or the shortcut without a tape), in f32 and f64, with sums that are exactly 0 and -0, on
//! small tensors and on one of several parallel chunks.

use dfdx::prelude::*;

/// Values with exact zeros of both signs every few entries (so `a + b` hits 0, -0 and both
/// signs), else uniform in [-1, 1).
fn data<E: num_traits::Float>(n: usize, seed: u64) -> Vec<E> {
    let mut s = seed;
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = ((s >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0;
            E::from(match i % 7 {
                0 => 0.0,
                1 => -0.0,
                _ => r,
            })
            .unwrap()
        })
        .collect()
}

type Img = (usize, Const<3>, usize, usize);

/// `(y, grad a, grad b)` of `sum(relu(a + b) * gy) [+ sum(b * c)]`, the op fused or dfdx's.
/// With `shared`, `b` is traced and also feeds `b * c`, so its gradient gets two additions.
fn run<E>(fused: bool, shared: bool, seed: u64) -> (Vec<E>, Vec<E>, Vec<E>)
where
    E: Dtype + num_traits::Float,
    Cpu: amp_nn::NnDevice<E>,
{
    let dev = Cpu::default();
    // Seed 3: more than one parallel chunk (16384 elements) of the Cpu kernels, and a length
    // that is not a multiple of 64 (their mask words).
    let (h, w) = if seed == 3 { (61, 47) } else { (4, 5) };
    let shape: Img = (2, Const, h, w);
    let n = 2 * 3 * h * w;
    let t = |k: u64| dev.tensor_from_vec(data::<E>(n, seed * 10 + k), shape);
    let (a, b, gy, c) = (t(1), t(2), t(3), t(4));
    // Make a + b cancel exactly in a few places too.
    let (mut av, bv) = (a.as_vec(), b.as_vec());
    for i in (3..n).step_by(5) {
        av[i] = -bv[i];
    }
    let a = dev.tensor_from_vec(av, shape);
    let at = a.clone().trace(Gradients::leaky());
    let loss = if shared {
        let bt = b.clone().trace(Gradients::leaky());
        let other = (bt.with_empty_tape() * c).sum::<(), _>();
        let y = add_relu(fused, at, bt);
        (y * gy).sum::<(), _>() + other
    } else {
        // The shortcut without a tape (`x.with_empty_tape()` went to the other branch).
        let y = add_relu(fused, at, b.clone());
        (y * gy).sum::<(), _>()
    };
    let y = {
        let y = if fused {
            amp_nn::add_relu(a.clone(), b.clone()).unwrap()
        } else {
            (a.clone() + b.clone()).relu()
        };
        y.as_vec()
    };
    let g = loss.backward();
    (y, g.get(&a).as_vec(), g.get(&b).as_vec())
}

/// The op under test, or what it replaces.
fn add_relu<E, R>(
    fused: bool,
    a: Tensor<Img, E, Cpu, OwnedTape<E, Cpu>>,
    b: Tensor<Img, E, Cpu, R>,
) -> Tensor<Img, E, Cpu, OwnedTape<E, Cpu>>
where
    E: Dtype,
    Cpu: amp_nn::NnDevice<E>,
    R: Tape<E, Cpu>,
    OwnedTape<E, Cpu>: Merge<R>,
{
    if fused {
        amp_nn::add_relu(a, b).unwrap()
    } else {
        a.try_add(b).and_then(|s| s.try_relu()).unwrap()
    }
}

fn bits<E: num_traits::Float>(v: &[E]) -> Vec<u64> {
    v.iter()
        .map(|x| {
            let (m, e, s) = x.integer_decode();
            m ^ ((e as u64) << 52) ^ ((s as u64) << 63)
        })
        .collect()
}

fn same<E: num_traits::Float + std::fmt::Debug>(what: &str, got: &[E], want: &[E]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    assert!(
        bits(got) == bits(want),
        "{what}: differs from dfdx's add + relu\n  fused {got:?}\n  dfdx  {want:?}"
    );
}

fn check<E>()
where
    E: Dtype + num_traits::Float + std::fmt::Debug,
    Cpu: amp_nn::NnDevice<E>,
{
    for shared in [true, false] {
        for seed in 1..4 {
            let (y, ga, gb) = run::<E>(true, shared, seed);
            let (y0, ga0, gb0) = run::<E>(false, shared, seed);
            let case = format!("{} shared={shared} seed={seed}", std::any::type_name::<E>());
            same(&format!("{case} y"), &y, &y0);
            same(&format!("{case} grad a"), &ga, &ga0);
            same(&format!("{case} grad b"), &gb, &gb0);
            // Not vacuous: some outputs pass, some are cut, and b's gradient has both parts.
            assert!(y.iter().any(|v| *v > E::zero()) && y.iter().any(|v| *v == E::zero()));
            assert!(ga.iter().any(|v| *v != E::zero()) && ga.iter().any(|v| *v == E::zero()));
        }
    }
}

#[test]
fn add_relu_is_dfdx_add_then_relu_bit_for_bit_f32() {
    check::<f32>();
}

#[test]
fn add_relu_is_dfdx_add_then_relu_bit_for_bit_f64() {
    check::<f64>();
}
