//! The GPU check (scripts/gpu/run.sh runs it on a GPU machine): amp-nn's CUDA kernels against
//! its Cpu kernels, op by op and for a whole tapped training step, then training-step
//! throughput on the GPU.
//!
//! ```text
//! gpu_check parity            per-op forward/backward parity + run-to-run bit identity
//! gpu_check step              one tapped ResNet-18 step, Cpu vs Cuda (loss and norms)
//! gpu_check bench MODEL TAPS  MODEL = resnet18|vgg16, TAPS = off|on; batch 128, 32x32
//! ```
//!
//! Every result is one line starting with `RESULT`, for the check script to turn into its
//! table. Tolerances: per tensor, max |cuda - cpu| / max |cpu| <= 1e-4 (fp32, TF32 off;
//! `AMP_CUDA_TF32=1` turns it on for the GEMMs, and the parity check then reports it).
//! `AMP_NN_CUDA=generic` runs dfdx's generic ops instead of amp-nn's kernels (the "before").
//!
//! Build (needs a CUDA toolkit, README "CUDA build"):
//! `cargo build --release -p amp-examples --features cuda --example gpu_check`

use std::time::Instant;

use amp_core::layer_grads::{layer_grad_norms, step_norms};
use amp_core::train::optim::Sgd;
use amp_core::train::Classifier;
use amp_core::{AmpDevice, AmpState, Mode};
use amp_models::{ResNet18, Vgg16};
use amp_nn::{NnDevice, PoolKind};
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::{BuildModule, ToDevice, ZeroGrads};
use dfdx::optim::{Momentum, SgdConfig, WeightDecay};
use dfdx::prelude::*;
use dfdx::tensor::Cuda;

type Images = (usize, Const<3>, usize, usize);
const TOL: f64 = 1e-4;

/// Deterministic pseudo-normal host data (the same on both devices).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    fn normal(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (0..4).map(|_| self.next()).sum::<f32>() - 2.0)
            .collect()
    }
}

/// One op's outputs: the forward values and every gradient, named.
type Outs = Vec<(&'static str, Vec<f32>)>;

/// An op case's output values, and the gradients of `sum(y * r)` for a random `r` (so that
/// every output element's gradient differs).
fn values_and_grads<S: Shape, D: NnDevice<f32>>(
    y: Tensor<S, f32, D, OwnedTape<f32, D>>,
    rng: &mut Rng,
) -> (Vec<f32>, Gradients<f32, D>) {
    let r = y
        .device()
        .tensor_from_vec(rng.normal(y.shape().num_elements()), *y.shape());
    let yv = y.as_vec();
    (yv, (y * r).sum::<(), _>().backward())
}

fn conv<D: NnDevice<f32>, const C: usize, const O: usize, const K: usize>(
    dev: &D,
    (n, h, s, p, bias): (usize, usize, usize, usize, bool),
) -> Outs {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (C * 131 + O * 7 + K) as u64);
    let x = dev.tensor_from_vec(rng.normal(n * C * h * h), (n, Const::<C>, h, h));
    let w: Tensor<Rank4<O, C, K, K>, f32, D> =
        dev.tensor_from_vec(rng.normal(O * C * K * K), (Const, Const, Const, Const));
    let b: Tensor<Rank1<O>, f32, D> = dev.tensor_from_vec(rng.normal(O), (Const,));
    let y = D::conv2d(x.leaky_trace(), &w, bias.then_some(&b), s, p).unwrap();
    let (yv, g) = values_and_grads(y, &mut rng);
    let mut out = vec![
        ("y", yv),
        ("grad x", g.get(&x).as_vec()),
        ("grad w", g.get(&w).as_vec()),
    ];
    if bias {
        out.push(("grad b", g.get(&b).as_vec()));
    }
    out
}

/// Batch norm in either mode, with `relu` followed by a ReLU in the same op.
fn batchnorm<D: NnDevice<f32>, const C: usize>(
    dev: &D,
    n: usize,
    h: usize,
    train: bool,
    relu: bool,
) -> Outs {
    let mut rng = Rng(0x1234_5678 ^ C as u64);
    let xs: Vec<f32> = rng
        .normal(n * C * h * h)
        .iter()
        .map(|v| 3.0 * v + 1.5)
        .collect();
    let x = dev.tensor_from_vec(xs, (n, Const::<C>, h, h));
    let s: Tensor<Rank1<C>, f32, D> = dev.tensor_from_vec(rng.normal(C), (Const,));
    let b: Tensor<Rank1<C>, f32, D> = dev.tensor_from_vec(rng.normal(C), (Const,));
    let mut rm: Tensor<Rank1<C>, f32, D> = dev.tensor_from_vec(rng.normal(C), (Const,));
    let rv_vals: Vec<f32> = rng.normal(C).iter().map(|v| v.abs() + 0.5).collect();
    let mut rv: Tensor<Rank1<C>, f32, D> = dev.tensor_from_vec(rv_vals, (Const,));
    let y = if train {
        D::batchnorm2d_train(x.leaky_trace(), &s, &b, &mut rm, &mut rv, 1e-5, 0.1, relu).unwrap()
    } else {
        D::batchnorm2d_eval(x.leaky_trace(), &s, &b, &rm, &rv, 1e-5, relu).unwrap()
    };
    let (yv, g) = values_and_grads(y, &mut rng);
    vec![
        ("y", yv),
        ("grad x", g.get(&x).as_vec()),
        ("grad scale", g.get(&s).as_vec()),
        ("grad bias", g.get(&b).as_vec()),
        ("running mean", rm.as_vec()),
        ("running var", rv.as_vec()),
    ]
}

fn pool<D: NnDevice<f32>>(
    dev: &D,
    kind: PoolKind,
    (h, k, s, p): (usize, usize, usize, usize),
) -> Outs {
    let mut rng = Rng(0xabcdef ^ (h * 17 + k) as u64);
    let x = dev.tensor_from_vec(rng.normal(4 * 6 * h * h), (4, Const::<6>, h, h));
    let y = D::pool2d(x.leaky_trace(), kind, k, s, p).unwrap();
    let (yv, g) = values_and_grads(y, &mut rng);
    vec![("y", yv), ("grad x", g.get(&x).as_vec())]
}

/// `relu(a + b)` with the shortcut `b` without a tape, as a residual block calls it.
fn add_relu<D: NnDevice<f32>>(dev: &D, h: usize) -> Outs {
    let mut rng = Rng(0x5eed ^ h as u64);
    let shape = (4, Const::<8>, h, h);
    let n = 4 * 8 * h * h;
    let a = dev.tensor_from_vec(rng.normal(n), shape);
    let b = dev.tensor_from_vec(rng.normal(n), shape);
    let y = D::add_relu(a.leaky_trace(), b.clone()).unwrap();
    let (yv, g) = values_and_grads(y, &mut rng);
    vec![
        ("y", yv),
        ("grad a", g.get(&a).as_vec()),
        ("grad b", g.get(&b).as_vec()),
    ]
}

/// Every op case, on one device.
fn cases<D: NnDevice<f32>>(dev: &D) -> Vec<(&'static str, Outs)> {
    vec![
        (
            "conv 3x3 s1 p1 +bias 3->8 11x11",
            conv::<D, 3, 8, 3>(dev, (4, 11, 1, 1, true)),
        ),
        (
            "conv 3x3 s2 p1 16->32 12x12",
            conv::<D, 16, 32, 3>(dev, (4, 12, 2, 1, false)),
        ),
        (
            "conv 1x1 s2 p0 16->32 12x12",
            conv::<D, 16, 32, 1>(dev, (4, 12, 2, 0, false)),
        ),
        (
            "conv 1x1 s1 p0 +bias 8->8 7x7",
            conv::<D, 8, 8, 1>(dev, (4, 7, 1, 0, true)),
        ),
        (
            "conv 7x7 s2 p3 3->16 20x20",
            conv::<D, 3, 16, 7>(dev, (2, 20, 2, 3, false)),
        ),
        (
            "conv 3x3 s1 p1 64->64 32x32 b8",
            conv::<D, 64, 64, 3>(dev, (8, 32, 1, 1, false)),
        ),
        (
            "batchnorm train 16ch 9x9",
            batchnorm::<D, 16>(dev, 4, 9, true, false),
        ),
        (
            "batchnorm eval 16ch 9x9",
            batchnorm::<D, 16>(dev, 4, 9, false, false),
        ),
        (
            "batchnorm+relu train 16ch 9x9",
            batchnorm::<D, 16>(dev, 4, 9, true, true),
        ),
        (
            "batchnorm+relu eval 16ch 9x9",
            batchnorm::<D, 16>(dev, 4, 9, false, true),
        ),
        (
            "maxpool 2x2 s2 10x10",
            pool(dev, PoolKind::Max, (10, 2, 2, 0)),
        ),
        (
            "maxpool 3x3 s2 p1 11x11",
            pool(dev, PoolKind::Max, (11, 3, 2, 1)),
        ),
        (
            "avgpool 2x2 s2 10x10",
            pool(dev, PoolKind::Avg, (10, 2, 2, 0)),
        ),
        (
            "avgpool 3x3 s1 p1 9x9",
            pool(dev, PoolKind::Avg, (9, 3, 1, 1)),
        ),
        ("add + relu 8ch 13x13", add_relu(dev, 13)),
    ]
}

fn rel_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "shapes differ");
    let scale = a.iter().map(|v| v.abs() as f64).fold(1e-12, f64::max);
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max);
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    diff / scale
}

/// Whether amp-nn's kernels are on (a parity check of the generic fallback would prove
/// nothing about them), printed as a result row.
fn kernels_on(gpu: &Cuda) -> bool {
    let generic = amp_nn::cuda::generic_requested();
    let status = amp_nn::cuda::kernels_status(gpu);
    let ok = status.is_ok() != generic;
    println!(
        "RESULT parity | amp-nn CUDA kernels | {} | {}",
        if ok { "ok" } else { "FAIL" },
        match (&status, generic) {
            (Ok(()), _) =>
                "on (pointer self-test passed, NVRTC modules loaded, cuBLAS ready)".to_string(),
            (Err(why), true) => format!("off as asked: {why}"),
            (Err(why), false) => format!("OFF: {why}"),
        }
    );
    ok
}

fn parity() -> bool {
    let cpu = Cpu::seed_from_u64(0);
    let gpu = Cuda::seed_from_u64(0);
    if !kernels_on(&gpu) {
        return false;
    }
    let (c, g1, g2) = (cases(&cpu), cases(&gpu), cases(&gpu));
    let mut all_ok = true;
    for (((name, co), (_, go)), (_, go2)) in c.iter().zip(&g1).zip(&g2) {
        let worst = co
            .iter()
            .zip(go)
            .map(|((what, a), (_, b))| (rel_diff(a, b), *what))
            .fold((0.0, ""), |m, d| if d.0 > m.0 { d } else { m });
        let same = go
            .iter()
            .zip(go2)
            .all(|((_, a), (_, b))| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        let ok = worst.0 <= TOL && same;
        all_ok &= ok;
        println!(
            "RESULT parity | {name} | {} | max rel diff {:.2e} ({}), tol {TOL:.0e}; run-to-run {}",
            if ok { "ok" } else { "FAIL" },
            worst.0,
            if worst.1.is_empty() { "-" } else { worst.1 },
            if same {
                "bit-identical"
            } else {
                "DIFFERS (see gpu_check's step_parity)"
            },
        );
    }
    all_ok
}

/// One tapped step: every other candidate amplified (k = 2, output mode). Loss, per-layer
/// parameter- and output-gradient norms.
fn tapped_step<M: Classifier<Images, D, 10>, D: AmpDevice<f32>>(
    net: &mut M,
    x: Tensor<Images, f32, D>,
    y: Tensor<(usize, Const<10>), f32, D>,
) -> (f32, Vec<f64>, Vec<f64>) {
    let state = AmpState::new(M::LAYER_COUNT, Mode::Output);
    let every_other: Vec<bool> = (0..M::LAYER_COUNT).map(|i| i % 2 == 1).collect();
    state.set_amplified(&every_other, 2.0);
    let (loss, mut grads) = {
        let _run = state.activate();
        let logits = net.try_forward_mut(x.trace(net.alloc_grads())).unwrap();
        let loss = cross_entropy_with_logits_loss(logits, y);
        (loss.as_vec()[0], loss.backward())
    };
    let param = layer_grad_norms(net, &mut grads);
    (loss, param, state.take_output_norms())
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| (a - b).abs() / a.abs().max(b.abs()).max(1e-12))
        .fold(0.0, f64::max)
}

fn step_parity() -> bool {
    let cpu = Cpu::seed_from_u64(0);
    let gpu = Cuda::seed_from_u64(0);
    let mut cnet = ResNet18::<10, f32, Cpu>::build(&cpu);
    let mut gnet: ResNet18<10, f32, Cuda> = cnet.clone().to_device(&gpu);
    let n = 16;
    let x: Tensor<Images, f32, Cpu> =
        cpu.tensor_from_vec(Rng(7).normal(n * 3 * 32 * 32), (n, Const, 32, 32));
    let mut labels = vec![0f32; n * 10];
    (0..n).for_each(|i| labels[i * 10 + (i * 7) % 10] = 1.0);
    let y = cpu.tensor_from_vec(labels, (n, Const::<10>));
    let (cl, cp, co) = tapped_step(&mut cnet, x.clone(), y.clone());
    let (gx, gy) = (x.to_device(&gpu), y.to_device(&gpu));
    let (gl, gp, go) = tapped_step(&mut gnet, gx.clone(), gy.clone());
    // The same step again (the weights are unchanged; batch norm normalises by the batch):
    // amp's kernels do not depend on scheduling, but dfdx's `sum_to` (the loss, the linear
    // layer's bias gradient) adds with atomics where a sum spans blocks, so this is reported,
    // not required.
    let again = tapped_step(&mut gnet, gx, gy);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let same = again.0.to_bits() == gl.to_bits()
        && bits(&again.1) == bits(&gp)
        && bits(&again.2) == bits(&go);
    let tol = 1e-3;
    let loss_rel = ((cl - gl).abs() / cl.abs()) as f64;
    let (p, o) = (max_rel(&cp, &gp), max_rel(&co, &go));
    let ok = loss_rel <= tol && p <= tol && o <= tol;
    println!(
        "RESULT step | ResNet-18 tapped step, batch {n} | {} | loss cpu {cl:.6} cuda {gl:.6}; per-layer |grad W| max rel diff {p:.2e}, |grad out| {o:.2e} ({} layers, every other x2); tol {tol:.0e}; run-to-run {}",
        if ok { "ok" } else { "FAIL" },
        cp.len(),
        if same { "bit-identical" } else { "DIFFERS (see gpu_check's step_parity)" },
    );
    ok
}

/// The high-water marks (MiB) of GPU 0's default memory pool, `(used, reserved)`, reset to
/// the current values when `reset`. cudarc allocates from this pool (`cuMemAllocAsync`) on
/// GPUs that support memory pools, so "used" counts every live allocation of dfdx and amp-nn,
/// dfdx's cache of freed buffers included (like PyTorch's "reserved" more than its
/// "allocated"); "reserved" is what the pool holds from the device.
fn pool_high_mib(reset: bool) -> Option<(f64, f64)> {
    use cudarc::driver::sys::{self, CUmemPool_attribute_enum as A};
    // SAFETY: driver queries on device 0's default pool, with out-pointers to locals that
    // outlive the calls.
    unsafe {
        let mut dev = 0;
        sys::cuDeviceGet(&mut dev, 0).result().ok()?;
        let mut pool = std::ptr::null_mut();
        sys::cuDeviceGetDefaultMemPool(&mut pool, dev)
            .result()
            .ok()?;
        let attrs = [
            A::CU_MEMPOOL_ATTR_USED_MEM_HIGH,
            A::CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH,
        ];
        if reset {
            for attr in attrs {
                let mut zero = 0u64;
                sys::cuMemPoolSetAttribute(pool, attr, &mut zero as *mut u64 as *mut _)
                    .result()
                    .ok()?;
            }
        }
        let mut v = [0u64; 2];
        for (out, attr) in v.iter_mut().zip(attrs) {
            sys::cuMemPoolGetAttribute(pool, attr, out as *mut u64 as *mut _)
                .result()
                .ok()?;
        }
        Some((v[0] as f64 / 1048576.0, v[1] as f64 / 1048576.0))
    }
}

/// The peak of live allocations (MiB) over one more step run with dfdx's cache of freed
/// buffers emptied and disabled, so that every free returns to the memory pool: what
/// PyTorch's `max_memory_allocated` reports (parameters, gradients, optimizer state and the
/// step's tensors), where the pool's "used" figure during the timed steps also counts dfdx's
/// cache. Leaves the cache on again.
fn allocated_peak_mib<M>(gpu: &Cuda, step: &mut Step<'_>, net: &mut M) -> Option<f64>
where
    M: Classifier<Images, Cuda, 10>,
{
    gpu.synchronize();
    gpu.disable_cache();
    let _ = pool_high_mib(true)?;
    step.run(net, &mut Phases::new(gpu));
    gpu.synchronize();
    let peak = pool_high_mib(false).map(|(used, _)| used);
    gpu.enable_cache();
    peak
}

/// Sets the GPU's memory pool up as `amp` does (freed memory kept between steps), unless
/// AMP_CUDA_POOL=release asks for the driver's default (returned at every sync), to measure
/// what keeping it saves. Says which one it is.
fn memory_pool_setting(gpu: &Cuda) -> String {
    match std::env::var("AMP_CUDA_POOL").as_deref() {
        Ok("release") => "released at syncs".to_string(),
        _ => match amp_nn::cuda::retain_freed_memory(gpu) {
            Ok(()) => "retained".to_string(),
            Err(why) => format!("released at syncs ({why})"),
        },
    }
}

/// With AMP_NN_CUDA_PROFILE=1, the time of each phase of a step (synchronised before and
/// after), so that the time outside amp-nn's kernel sections is broken down; otherwise each
/// phase just runs.
struct Phases {
    gpu: Cuda,
    on: bool,
    totals: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new(gpu: &Cuda) -> Self {
        Self {
            gpu: gpu.clone(),
            on: amp_nn::cuda::profile::enabled(),
            totals: Vec::new(),
        }
    }

    fn time<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R {
        if !self.on {
            return f();
        }
        self.gpu.synchronize();
        let t = Instant::now();
        let r = f();
        self.gpu.synchronize();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        match self.totals.iter_mut().find(|(n, _)| *n == name) {
            Some(row) => row.1 += ms,
            None => self.totals.push((name, ms)),
        }
        r
    }
}

/// One training step as `amp train` runs it: forward, loss (read back), backward, with taps
/// the step's norms (read back), SGD, zeroed gradients.
struct Step<'a> {
    x: Tensor<Images, f32, Cuda>,
    y: Tensor<(usize, Const<10>), f32, Cuda>,
    state: Option<&'a AmpState>,
    opt: Sgd<Cuda>,
    grads: Gradients<f32, Cuda>,
}

impl Step<'_> {
    fn run<M: Classifier<Images, Cuda, 10>>(&mut self, net: &mut M, p: &mut Phases) {
        let active = self.state.map(AmpState::activate);
        let taped = std::mem::replace(&mut self.grads, Gradients::leaky());
        let logits = p.time("phase: forward (whole)", || {
            net.try_forward_mut(self.x.clone().trace(taped)).unwrap()
        });
        let loss = p.time("phase: loss + read", || {
            let l = cross_entropy_with_logits_loss(logits, self.y.clone());
            let value = l.as_vec()[0];
            assert!(value.is_finite(), "loss is {value}");
            l
        });
        self.grads = p.time("phase: backward (whole)", || loss.backward());
        drop(active);
        if let Some(state) = self.state {
            p.time("phase: norms read", || {
                step_norms(net, &mut self.grads, state)
            });
        }
        p.time("phase: SGD update", || {
            self.opt.update(net, &mut self.grads).unwrap()
        });
        p.time("phase: zero grads", || net.zero_grads(&mut self.grads));
    }
}

/// The profiled run's lines: each amp-nn section, the rest, and each phase of the step.
fn print_profile(name: &str, steps: usize, ms: f64, phases: &Phases) {
    let rows = amp_nn::cuda::profile::take();
    let accounted: f64 = rows.iter().map(|r| r.2).sum::<f64>() / steps as f64;
    for (section, calls, total) in rows {
        println!(
            "RESULT profile | {name}: {section} | {:.3} | ms per step ({} calls per step)",
            total / steps as f64,
            calls / steps as u64
        );
    }
    println!(
        "RESULT profile | {name}: everything else | {:.3} | ms per step: dfdx's ops (ReLU, adds, linear, loss, SGD), amp-core's taps, the host; step {ms:.2} ms with a sync per section",
        ms - accounted
    );
    for (phase, total) in &phases.totals {
        println!(
            "RESULT profile | {name}: {phase} | {:.3} | ms per step, amp-nn's sections inside it included",
            total / steps as f64
        );
    }
}

/// Train-step time of model `M` at batch 128 (taps off, or on in `output` mode with every
/// candidate measured and amplified x2), 5 warm-up steps then `steps` timed; the memory
/// pool's peak over the timed steps.
fn bench<M>(name: &str, taps: bool, steps: usize)
where
    M: Classifier<Images, Cuda, 10> + BuildModule<Cuda, f32>,
{
    let gpu = Cuda::seed_from_u64(0);
    let pool = memory_pool_setting(&gpu);
    let mut net = M::build(&gpu);
    let n = 128;
    let mut labels = vec![0f32; n * 10];
    (0..n).for_each(|i| labels[i * 10 + (i * 7) % 10] = 1.0);
    let state = AmpState::new(M::LAYER_COUNT, Mode::Output);
    state.set_amplified(&vec![true; M::LAYER_COUNT], 2.0);
    let mut step = Step {
        x: gpu.tensor_from_vec(Rng(3).normal(n * 3 * 32 * 32), (n, Const, 32, 32)),
        y: gpu.tensor_from_vec(labels, (n, Const::<10>)),
        state: taps.then_some(&state),
        opt: Sgd::<Cuda>::new(SgdConfig {
            lr: 0.1,
            momentum: Some(Momentum::Classic(0.9)),
            weight_decay: Some(WeightDecay::L2(5e-4)),
        }),
        grads: net.alloc_grads(),
    };
    let mut phases = Phases::new(&gpu);
    for _ in 0..5 {
        step.run(&mut net, &mut phases);
    }
    gpu.synchronize();
    let _warm_up_sections = amp_nn::cuda::profile::take();
    phases.totals.clear();
    // Peak over the timed steps, as PyTorch's script measures it.
    let _ = pool_high_mib(true);
    let t = Instant::now();
    for _ in 0..steps {
        step.run(&mut net, &mut phases);
    }
    gpu.synchronize();
    let ms = t.elapsed().as_secs_f64() * 1000.0 / steps as f64;
    if phases.on {
        return print_profile(name, steps, ms, &phases);
    }
    let memory = match (pool_high_mib(false), allocated_peak_mib(&gpu, &mut step, &mut net)) {
        (Some((used, reserved)), Some(live)) => format!(
            "peak {live:.0} MiB allocated (one step without dfdx's cache); memory pool peak {used:.0} MiB used, {reserved:.0} MiB reserved"
        ),
        _ => "memory pool not readable".to_string(),
    };
    let path = match amp_nn::cuda::kernels_status(&gpu) {
        Ok(()) => "amp-nn kernels".to_string(),
        Err(why) => format!("dfdx generic ops ({why})"),
    };
    println!(
        "RESULT bench | {name} taps {} | {ms:.2} | ms/step, {:.0} img/s, batch {n}, {steps} steps; {memory}, {pool}; {path}; TF32 {}",
        if taps { "on (output mode, all measured, all x2)" } else { "off" },
        n as f64 * 1000.0 / ms,
        if amp_nn::cuda::tf32_requested() { "on" } else { "off" },
    );
}

fn main() {
    // As the `amp` binary: amp-nn's ops free each intermediate gradient when used (the checks
    // read only inputs' and parameters' gradients).
    amp_nn::free_consumed_gradients(true);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let steps = std::env::var("AMP_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let ok = match args.as_slice() {
        ["parity"] => parity(),
        ["step"] => step_parity(),
        ["bench", model, taps @ ("on" | "off")] => {
            let taps = *taps == "on";
            match *model {
                "resnet18" => bench::<ResNet18<10, f32, Cuda>>("ResNet-18", taps, steps),
                "vgg16" => bench::<Vgg16<10, f32, Cuda>>("VGG-16", taps, steps),
                other => {
                    eprintln!("gpu_check: unknown model {other} (resnet18, vgg16)");
                    std::process::exit(2);
                }
            }
            true
        }
        _ => {
            eprintln!("usage: gpu_check parity | step | bench resnet18|vgg16 on|off");
            std::process::exit(2);
        }
    };
    std::process::exit(if ok { 0 } else { 1 });
}
