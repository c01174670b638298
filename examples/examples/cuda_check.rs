//! The CUDA path on a GPU: the same tapped training step on `Cpu` (amp-nn's fast kernels) and
//! on `Cuda` (amp-nn's device-generic path, amp-core's CUDA backend) from the same weights and
//! inputs, compared value by value; then a few epochs of training on each device, timed.
//!
//! Build (needs a CUDA toolkit): `cargo run --release -p amp-examples --features cuda --example cuda_check`

use std::time::Instant;

use amp_core::data::{synthetic, Augment, SyntheticSpec};
use amp_core::layer_grads::layer_grad_norms;
use amp_core::method::{Above, Cv, Intelligent, Mean, PhaseSchedule, Policy, Reselect};
use amp_core::train::{train, RunRecord, Silent, TrainSettings};
use amp_core::{AmpDevice, AmpState, Amplifiable, Mode};
use amp_models::SmallCnn;
use amp_nn::NnDevice;
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::ToDevice;
use dfdx::prelude::*;

type Images = (usize, Const<3>, usize, usize);

/// One tapped forward/backward with `conv2` amplified (k = 2, output mode): loss, logits,
/// per-layer parameter- and output-gradient norms.
fn step<D: AmpDevice<f32> + NnDevice<f32>>(
    net: &mut SmallCnn<10, f32, D>,
    x: Tensor<Images, f32, D>,
    y: Tensor<(usize, Const<10>), f32, D>,
) -> (f32, Vec<f32>, Vec<f64>, Vec<f64>) {
    let state = AmpState::new(4, Mode::Output);
    state.set_amplified(&[false, true, false, false], 2.0);
    let (loss, logits, mut grads) = {
        let _run = state.activate();
        let logits = net.forward_mut(x.trace(net.alloc_grads()));
        let values = logits.as_vec();
        let loss = cross_entropy_with_logits_loss(logits, y);
        (loss.as_vec()[0], values, loss.backward())
    };
    let param = layer_grad_norms(net, &mut grads);
    (loss, logits, param, state.take_output_norms())
}

fn max_rel<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| {
            let (a, b) = (a.into(), b.into());
            (a - b).abs() / a.abs().max(b.abs()).max(1e-6)
        })
        .fold(0.0, f64::max)
}

fn run<D: AmpDevice<f32> + NnDevice<f32>>(dev: &D, epochs: usize) -> (RunRecord, f64) {
    let (mut tr, mut te) = synthetic(&SyntheticSpec::default());
    let stats = tr.channel_stats();
    tr.normalize(&stats);
    te.normalize(&stats);
    let mut net = SmallCnn::<10, f32, D>::build(dev);
    let layers = SmallCnn::<10, f32, D>::layer_names();
    let selector = Intelligent::new(Cv, Mean, Above, 2, Reselect::Never).unwrap();
    let schedule = PhaseSchedule::scaled_default(epochs, 0.05, 2.0).unwrap();
    let mut policy = Policy::new(layers, selector, schedule);
    let settings = TrainSettings {
        epochs,
        augment: Augment {
            crop_padding: 2,
            hflip: false,
        },
        ..TrainSettings::default()
    };
    let t = Instant::now();
    let r = train::<_, Images, D, 10>(
        "cuda-check",
        &mut net,
        dev,
        &tr,
        &te,
        &settings,
        &mut policy,
        &mut Silent,
    )
    .unwrap();
    (r, t.elapsed().as_secs_f64())
}

fn main() {
    let cpu = Cpu::seed_from_u64(0);
    let gpu = Cuda::seed_from_u64(0);
    let mut cnet = SmallCnn::<10, f32, Cpu>::build(&cpu);
    let mut gnet: SmallCnn<10, f32, Cuda> = cnet.clone().to_device(&gpu);
    let x: Tensor<Images, f32, Cpu> = cpu.sample_normal_like(&(32, Const::<3>, 16, 16));
    let mut labels = vec![0f32; 32 * 10];
    (0..32).for_each(|i| labels[i * 10 + (i * 7) % 10] = 1.0);
    let y = cpu.tensor_from_vec(labels, (32, Const::<10>));

    let (cl, clog, cp, co) = step(&mut cnet, x.clone(), y.clone());
    let (gl, glog, gp, go) = step(&mut gnet, x.to_device(&gpu), y.to_device(&gpu));
    println!("one tapped step (conv2 amplified x2), Cpu fast path vs Cuda generic path:");
    println!("  loss               cpu {cl:.6}  cuda {gl:.6}");
    println!(
        "  logits             max rel diff {:.2e}",
        max_rel(&clog, &glog)
    );
    println!(
        "  |grad W| per layer max rel diff {:.2e}  cpu {cp:.4?}",
        max_rel(&cp, &gp)
    );
    println!(
        "  |grad out| per layer max rel diff {:.2e}  cpu {co:.4?}",
        max_rel(&co, &go)
    );

    let epochs = 6;
    let (rc, tc) = run(&cpu, epochs);
    let (rg, tg) = run(&gpu, epochs);
    println!(
        "\nSmallCnn, synthetic 3x16x16, 8000 images, {epochs} epochs, intelligent cv/mean/above:"
    );
    println!("epoch  cpu test acc  cuda test acc  amplified (cpu | cuda)");
    for (a, b) in rc.epochs.iter().zip(&rg.epochs) {
        println!(
            "{:>5}  {:>12.3}  {:>13.3}  {:?} | {:?}",
            a.epoch + 1,
            a.test_acc,
            b.test_acc,
            a.amplified,
            b.amplified
        );
    }
    println!("wall time: cpu {tc:.1}s, cuda {tg:.1}s");
}
