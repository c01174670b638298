//! What taps cost: one SGD training step of amp-models' ResNet-18 (batch 64, 32x32) without
//! an active run (the un-tapped network), and with an active run in each mode, measuring and
//! amplifying every candidate layer. Same process, same inputs, alternating order.
//!
//! Run: `cargo run --release -p amp-examples --example tap_overhead -- [steps]`

use std::time::Instant;

use amp_core::layer_grads::{scale_layer_grads, step_norms};
use amp_core::{AmpState, Amplifiable, Mode};
use amp_models::ResNet18;
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig, WeightDecay};
use dfdx::prelude::*;

type Net = ResNet18<10, f32, Cpu>;

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // The process-wide settings of the `amp` binary, so that the step is the one it trains.
    amp_nn::retain_freed_memory();
    amp_nn::free_consumed_gradients(true);
    let dev = Cpu::seed_from_u64(0);
    let mut net = Net::build(&dev);
    let mut opt = Sgd::new(
        &net,
        SgdConfig {
            lr: 0.01,
            momentum: Some(Momentum::Classic(0.9)),
            weight_decay: Some(WeightDecay::L2(5e-4)),
        },
    );
    let x: Tensor<(usize, Const<3>, usize, usize), f32, Cpu> =
        dev.sample_normal_like(&(64, Const::<3>, 32, 32));
    let mut labels = vec![0f32; 64 * 10];
    (0..64).for_each(|i| labels[i * 10 + i % 10] = 1.0);
    let y: Tensor<(usize, Const<10>), f32, Cpu> = dev.tensor_from_vec(labels, (64, Const::<10>));
    let mut grads = net.alloc_grads();

    let variants: [(&str, Option<Mode>); 4] = [
        ("no active run (un-tapped)", None),
        ("output mode, all 19 amplified", Some(Mode::Output)),
        ("input mode, all 19 amplified", Some(Mode::Input)),
        ("param mode, all 19 amplified", Some(Mode::Param)),
    ];
    let mut times = vec![Vec::new(); variants.len()];
    for round in 0..steps + 1 {
        for (v, (_, mode)) in variants.iter().enumerate() {
            let t = Instant::now();
            let state = mode.map(|m| {
                let s = AmpState::new(Net::LAYER_COUNT, m);
                s.set_amplified(&[true; 19], 2.0);
                s
            });
            {
                let _run = state.as_ref().map(|s| s.activate());
                let logits = net.forward_mut(x.clone().trace(grads));
                grads = cross_entropy_with_logits_loss(logits, y.clone()).backward();
            }
            if let Some(s) = &state {
                let _ = step_norms(&net, &mut grads, s);
                if s.mode() == Mode::Param {
                    scale_layer_grads(&net, &mut grads, &s.factors());
                }
            }
            opt.update(&mut net, &grads).unwrap();
            net.zero_grads(&mut grads);
            if round > 0 {
                times[v].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let base = median(&mut times[0].clone());
    println!("ResNet-18 training step, batch 64, 32x32, {steps} steps each (median ms)");
    for ((name, _), t) in variants.iter().zip(&mut times) {
        let m = median(t);
        println!(
            "{name:<32} {m:>8.1} ms  ({:+.1}% vs un-tapped)",
            (m / base - 1.0) * 100.0
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
