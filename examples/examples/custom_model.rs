//! Defining a new amplifiable architecture in user code: a sequential stem, a hand-written
//! residual block, both tapped, and a run driven by an experiment config given as text.
//!
//! Run: `cargo run --release -p amp-examples --example custom_model`

use amp_core::config::ExperimentConfig;
use amp_core::data::{synthetic, Augment, SyntheticSpec};
use amp_core::train::{train, Silent, TrainSettings};
use amp_core::{amplifiable, AmpDevice, AmpDtype, Amplifiable};
use amp_nn::{BatchNorm2D, Conv2DNoBias, GlobalAvgPool2D, NnDevice};
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;
use dfdx::tensor::Tape;

type Maps<const C: usize, E, D, T> = Tensor<(usize, Const<C>, usize, usize), E, D, T>;

/// relu(x + bn(conv(x))): the residual branch is tapped, the shortcut is not.
#[amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
#[derive(Clone)]
struct Residual<const C: usize, E: Dtype, D: Device<E>> {
    conv: Conv2DNoBias<C, C, 3, 1, 1, E, D>,
    #[amp(skip)]
    bn: BatchNorm2D<C, E, D>,
}

// One forward for `Module` and `ModuleMut`: `fwd!` is `try_forward` or `try_forward_mut`.
amp_core::forward_once! {
    impl[const C: usize, E: AmpDtype, D: AmpDevice<E> + NnDevice<E>, T: Tape<E, D>] Residual<C, E, D>,
    |t, x: Maps<C, E, D, T>| -> Result<Maps<C, E, D, T>, D::Err> {
        let h = fwd!(t.bn, fwd!(t.conv, x.with_empty_tape())?)?;
        h.try_add(x)?.try_relu()
    }
}

/// stem conv -> two residual blocks -> global average -> linear.
#[amplifiable(bound = "D: amp_nn::NnDevice<E>")]
#[derive(Clone)]
struct TinyResNet<E: Dtype, D: Device<E>> {
    stem: Conv2DNoBias<3, 16, 3, 1, 1, E, D>,
    #[amp(skip)]
    bn: BatchNorm2D<16, E, D>,
    #[amp(skip)]
    relu: ReLU,
    #[amp(block)]
    res1: Residual<16, E, D>,
    #[amp(block)]
    res2: Residual<16, E, D>,
    #[amp(skip)]
    pool: GlobalAvgPool2D,
    head: Linear<16, 10, E, D>,
}

const CONFIG: &str = r#"
name = "tiny-resnet-explicit"
[train]
epochs = 4
lr = 0.05
[amp]
mode = "input"
factor = 3.0
[amp.select]
kind = "explicit"
layers = ["res1.conv", "res2.conv"]
"#;

fn main() -> anyhow::Result<()> {
    type Net = TinyResNet<f32, Cpu>;
    println!("candidate layers:");
    for l in Net::layers() {
        println!("  {:<10} {}", l.name, l.kind);
    }

    let config = ExperimentConfig::from_toml_str(CONFIG, "custom_model.rs")?;
    let mut policy = config.build_policy(&Net::layer_names())?;

    let (mut train_set, mut test_set) = synthetic(&SyntheticSpec {
        train: 2000,
        test: 500,
        ..SyntheticSpec::default()
    });
    let stats = train_set.channel_stats();
    train_set.normalize(&stats);
    test_set.normalize(&stats);

    let dev = Cpu::seed_from_u64(config.train.seed);
    let mut model = Net::build(&dev);
    let settings = TrainSettings {
        epochs: config.train.epochs,
        mode: config.amp.mode,
        augment: Augment {
            crop_padding: 2,
            hflip: false,
        },
        ..TrainSettings::default()
    };
    let record = train::<Net, (usize, Const<3>, usize, usize), Cpu, 10>(
        &config.name,
        &mut model,
        &dev,
        &train_set,
        &test_set,
        &settings,
        policy.as_mut(),
        &mut Silent,
    )?;
    for e in &record.epochs {
        println!(
            "epoch {}: test acc {:.3}, amplified {:?}",
            e.epoch + 1,
            e.test_acc,
            e.amplified
        );
    }

    // A misspelled layer is an error that lists the valid names.
    let bad = CONFIG.replace("res2.conv", "res2.cnv");
    match ExperimentConfig::from_toml_str(&bad, "custom_model.rs")?
        .build_policy(&Net::layer_names())
    {
        Err(err) => println!("\na config with a typo is rejected:\n{err}"),
        Ok(_) => anyhow::bail!("a config naming a missing layer was accepted"),
    }
    Ok(())
}
