//! Training-step benchmark of amp-nn on `Cpu` against PyTorch CPU.
//!
//! `cargo run --release -p amp-nn --example bench [-- STEPS_A STEPS_B]`
//!
//! (a) three 3x3 convs 3->32->64->64 (pad 1, ReLU between) on 32x32, batch 64;
//! (b) CIFAR ResNet-18 (BasicBlocks, BN+ReLU, 1x1 stride-2 projections), batch 64.
//! One step = forward, backward, SGD (momentum 0.9) update. PyTorch runs the
//! same models via `examples/bench_torch.py` if `torch` imports.
//!
//! The bench calls [`amp_nn::retain_freed_memory`] first (as a training
//! binary should); pass `--default-malloc` to measure glibc's defaults, `--dfdx-add` to end
//! the residual blocks with dfdx's add and ReLU instead of `amp_nn::add_relu`, `--dfdx-relu`
//! to run dfdx's ReLU after batch norm instead of the fused `try_forward_mut_relu`, and
//! `--keep-grads` to keep every intermediate gradient to the end of the backward pass
//! (dfdx's behaviour; by default amp-nn's ops free them when used, as the `amp` binary has
//! them do, see `amp_nn::free_consumed_gradients`).

use amp_nn::{BatchNorm2D, Conv2D, Conv2DNoBias, GlobalAvgPool2D};
use dfdx::nn::modules::Linear;
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig};
use dfdx::prelude::*;
use std::time::Instant;

type E = f32;
type D = Cpu;
type Img<const C: usize> = Tensor<(usize, Const<C>, usize, usize), E, D, OwnedTape<E, D>>;
const BATCH: usize = 64;

/// Peak resident set size of this process in MiB (`VmHWM`).
fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets `VmHWM` so each model's peak is measured on its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn conv_flops(n: usize, c: usize, o: usize, k: usize, ho: usize, wo: usize) -> f64 {
    2.0 * (n * c * o * k * k * ho * wo) as f64
}

// ---- (a) three convs ----
type Convs = (
    Conv2D<3, 32, 3, 1, 1, E, D>,
    Conv2D<32, 64, 3, 1, 1, E, D>,
    Conv2D<64, 64, 3, 1, 1, E, D>,
);

fn convs_loss(m: &Convs, x: Img<3>) -> Tensor<Rank0, E, D, OwnedTape<E, D>> {
    let y = m.0.forward(x).relu();
    let y = m.1.forward(y).relu();
    m.2.forward(y).mean()
}

// ---- (b) ResNet-18 ----
type Bn<const C: usize> = BatchNorm2D<C, E, D>;
type Block<const C: usize> = (
    Conv2DNoBias<C, C, 3, 1, 1, E, D>,
    Bn<C>,
    Conv2DNoBias<C, C, 3, 1, 1, E, D>,
    Bn<C>,
);
type Down<const I: usize, const O: usize> = (
    Conv2DNoBias<I, O, 3, 2, 1, E, D>,
    Bn<O>,
    Conv2DNoBias<O, O, 3, 1, 1, E, D>,
    Bn<O>,
    Conv2DNoBias<I, O, 1, 2, 0, E, D>,
    Bn<O>,
);
type ResNet18 = (
    (Conv2DNoBias<3, 64, 3, 1, 1, E, D>, Bn<64>),
    (Block<64>, Block<64>),
    (Down<64, 128>, Block<128>),
    (Down<128, 256>, Block<256>),
    (Down<256, 512>, Block<512>),
    Linear<512, 10, E, D>,
);

fn block<const C: usize>(b: &mut Block<C>, x: Img<C>) -> Img<C> {
    let (x, tape) = x.split_tape();
    let y = b.0.forward(x.retaped()); // shortcut keeps the tape
    let y = bn_relu(&mut b.1, y);
    let y = b.3.forward_mut(b.2.forward(y));
    residual(y, x.put_tape(tape))
}

fn down<const I: usize, const O: usize>(b: &mut Down<I, O>, x: Img<I>) -> Img<O> {
    let (x, tape) = x.split_tape();
    let y = b.0.forward(x.retaped());
    let y = bn_relu(&mut b.1, y);
    let y = b.3.forward_mut(b.2.forward(y));
    let s = b.5.forward_mut(b.4.forward(x.put_tape(tape)));
    residual(y, s)
}

/// A block's end, `relu(y + s)`: amp-nn's fused op, or with `--dfdx-add` dfdx's add and ReLU
/// (to measure the difference).
fn residual<const C: usize>(y: Img<C>, s: Img<C>) -> Img<C> {
    static DFDX_ADD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DFDX_ADD.get_or_init(|| std::env::args().any(|a| a == "--dfdx-add")) {
        (y + s).relu()
    } else {
        amp_nn::add_relu(y, s).expect("Cpu ops do not fail")
    }
}

/// `relu(bn(y))`: amp-nn's fused op, or with `--dfdx-relu` dfdx's ReLU after batch norm.
fn bn_relu<const C: usize>(bn: &mut Bn<C>, y: Img<C>) -> Img<C> {
    static DFDX_RELU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DFDX_RELU.get_or_init(|| std::env::args().any(|a| a == "--dfdx-relu")) {
        bn.forward_mut(y).relu()
    } else {
        bn.try_forward_mut_relu(y).expect("Cpu ops do not fail")
    }
}

fn resnet_loss(
    m: &mut ResNet18,
    x: Img<3>,
    labels: &Tensor<(usize, Const<10>), E, D>,
) -> Tensor<Rank0, E, D, OwnedTape<E, D>> {
    let y = bn_relu(&mut (m.0).1, (m.0).0.forward(x));
    let y = block(&mut (m.1).1, block(&mut (m.1).0, y));
    let y = block(&mut (m.2).1, down(&mut (m.2).0, y));
    let y = block(&mut (m.3).1, down(&mut (m.3).0, y));
    let y = block(&mut (m.4).1, down(&mut (m.4).0, y));
    let y = m.5.forward(GlobalAvgPool2D.forward(y));
    cross_entropy_with_logits_loss(y, labels.clone())
}

fn resnet_flops(n: usize) -> f64 {
    let mut f = conv_flops(n, 3, 64, 3, 32, 32);
    let mut hw = 32;
    let mut c = 64;
    for (o, s) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
        let ho = hw / s;
        f += conv_flops(n, c, o, 3, ho, ho) + conv_flops(n, o, o, 3, ho, ho);
        if s != 1 {
            f += conv_flops(n, c, o, 1, ho, ho);
        }
        f += 2.0 * conv_flops(n, o, o, 3, ho, ho);
        hw = ho;
        c = o;
    }
    f + 2.0 * (n * 512 * 10) as f64
}

fn sgd() -> SgdConfig {
    SgdConfig {
        lr: 0.01,
        momentum: Some(Momentum::Classic(0.9)),
        weight_decay: None,
    }
}

/// Times `steps` training steps after one warm-up step; returns ms/step.
fn time_steps(steps: usize, mut step: impl FnMut()) -> f64 {
    step();
    let t = Instant::now();
    for _ in 0..steps {
        step();
    }
    t.elapsed().as_secs_f64() * 1000.0 / steps as f64
}

/// Runs the PyTorch reference; `None` when torch is unavailable.
fn torch(which: &str, steps: usize) -> Option<(f64, f64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bench_torch.py");
    let threads = rayon::current_num_threads().to_string();
    let out = std::process::Command::new("python3")
        .args([
            script,
            which,
            &BATCH.to_string(),
            &steps.to_string(),
            &threads,
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last()?;
    let num = |key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len() + 3..];
        rest.split([',', '}']).next()?.trim().parse().ok()
    };
    Some((num("ms_per_step")?, num("peak_rss_mb")?))
}

fn report(name: &str, ms: f64, flops: f64, rss: f64, torch: Option<(f64, f64)>) {
    let gflops = flops / (ms * 1e-3) / 1e9;
    match torch {
        Some((tms, trss)) => println!(
            "| {name} | {ms:.1} | {gflops:.1} | {rss:.0} | {tms:.1} | {:.1} | {trss:.0} | {:.2}x |",
            flops / (tms * 1e-3) / 1e9,
            ms / tms
        ),
        None => {
            println!("| {name} | {ms:.1} | {gflops:.1} | {rss:.0} | pytorch not available | | | |")
        }
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (steps_a, steps_b) = (
        args.first().copied().unwrap_or(10),
        args.get(1).copied().unwrap_or(3),
    );
    let tuned = !std::env::args().any(|a| a == "--default-malloc") && amp_nn::retain_freed_memory();
    amp_nn::free_consumed_gradients(!std::env::args().any(|a| a == "--keep-grads"));
    println!(
        "intermediate gradients: {}",
        if amp_nn::frees_consumed_gradients() {
            "freed when used"
        } else {
            "kept to the end of backward"
        }
    );
    println!(
        "malloc: {}",
        if tuned {
            "amp_nn::retain_freed_memory()"
        } else {
            "glibc defaults"
        }
    );
    let dev: D = D::seed_from_u64(0);
    let x: Tensor<(usize, Const<3>, usize, usize), E, D> =
        dev.sample_normal_like(&(BATCH, Const, 32, 32));
    println!("rayon threads: {}", rayon::current_num_threads());
    println!("| model (batch {BATCH}) | amp-nn ms/step | amp-nn GFLOP/s | amp-nn peak RSS MiB | PyTorch ms/step | PyTorch GFLOP/s | PyTorch peak RSS MiB | ratio (amp-nn/PyTorch) |");
    println!("|---|---|---|---|---|---|---|---|");

    // (a)
    reset_peak_rss();
    {
        let mut m: Convs = BuildModule::build(&dev);
        let mut opt = Sgd::new(&m, sgd());
        let mut grads = Some(m.alloc_grads());
        let ms = time_steps(steps_a, || {
            let loss = convs_loss(&m, x.clone().traced(grads.take().unwrap()));
            let mut g = loss.backward();
            opt.update(&mut m, &g).unwrap();
            m.zero_grads(&mut g);
            grads = Some(g);
        });
        let flops = 3.0
            * (conv_flops(BATCH, 3, 32, 3, 32, 32)
                + conv_flops(BATCH, 32, 64, 3, 32, 32)
                + conv_flops(BATCH, 64, 64, 3, 32, 32));
        let rss = peak_rss_mb();
        report(
            "(a) 3 convs 3-32-64-64, 32x32",
            ms,
            flops,
            rss,
            torch("convs", steps_a),
        );
    }

    // (b)
    reset_peak_rss();
    {
        let mut m: ResNet18 = BuildModule::build(&dev);
        let mut opt = Sgd::new(&m, sgd());
        let mut grads = Some(m.alloc_grads());
        let labels: Tensor<(usize, Const<10>), E, D> =
            dev.sample_normal_like(&(BATCH, Const)).softmax::<Axis<1>>();
        let ms = time_steps(steps_b, || {
            let loss = resnet_loss(&mut m, x.clone().traced(grads.take().unwrap()), &labels);
            let mut g = loss.backward();
            opt.update(&mut m, &g).unwrap();
            m.zero_grads(&mut g);
            grads = Some(g);
        });
        let rss = peak_rss_mb();
        report(
            "(b) ResNet-18 CIFAR, 32x32",
            ms,
            3.0 * resnet_flops(BATCH),
            rss,
            torch("resnet18", steps_b),
        );
    }
}
