//! The models of amp-models: their layer registries and a tapped training step.

use amp_core::layer_grads::layer_grad_norms;
use amp_core::{AmpState, Amplifiable, Mode};
use amp_models::{ResNet18, SmallCnn, Vgg11, Vgg19};
use dfdx::prelude::*;

#[test]
fn resnet18_has_the_19_candidate_convolutions_of_the_reference_runs() {
    let names = ResNet18::<10, f32, Cpu>::layer_names();
    let mut want = vec![];
    for (stage, down) in [(1, false), (2, true), (3, true), (4, true)] {
        want.push(format!("layer{stage}.0.conv1"));
        want.push(format!("layer{stage}.0.conv2"));
        if down {
            want.push(format!("layer{stage}.0.shortcut"));
        }
        want.push(format!("layer{stage}.1.conv1"));
        want.push(format!("layer{stage}.1.conv2"));
    }
    assert_eq!(names, want);
    assert_eq!(ResNet18::<10, f32, Cpu>::LAYER_COUNT, 19);
    assert!(ResNet18::<10, f32, Cpu>::layers()
        .iter()
        .all(|l| l.kind == "Conv2DNoBias"));
}

#[test]
fn vgg_candidates_are_the_convolutions_and_the_classifier() {
    let v19 = Vgg19::<10, f32, Cpu>::layer_names();
    assert_eq!(v19.len(), 17);
    assert_eq!(v19[0], "stage1.0.conv");
    assert_eq!(v19[4], "stage3.0.conv");
    assert_eq!(v19[15], "stage5.3.conv");
    assert_eq!(v19[16], "fc");
    assert_eq!(Vgg11::<10, f32, Cpu>::LAYER_COUNT, 9);
    assert_eq!(
        SmallCnn::<10, f32, Cpu>::layer_names(),
        ["conv1", "conv2", "conv3", "fc"]
    );
}

/// One tapped training step through every block type at a small resolution: each candidate
/// gets a finite, non-zero gradient and an output-gradient measurement.
#[test]
fn resnet18_tapped_step_reaches_every_candidate() {
    let dev = Cpu::seed_from_u64(0);
    let mut net = ResNet18::<10, f32, Cpu>::build(&dev);
    let x: Tensor<(usize, Const<3>, usize, usize), f32, Cpu> =
        dev.sample_normal_like(&(2, Const::<3>, 8, 8));
    let state = AmpState::new(19, Mode::Output);
    state.set_amplified(&[true; 19], 2.0);
    let mut grads = {
        let _run = state.activate();
        let y = net.forward_mut(x.trace(net.alloc_grads()));
        assert_eq!(y.shape().0, 2);
        y.square().mean().backward()
    };
    let param = layer_grad_norms(&net, &mut grads);
    let output = state.take_output_norms();
    for (l, (p, o)) in param.iter().zip(&output).enumerate() {
        assert!(p.is_finite() && *p > 0.0, "layer {l}: param grad norm {p}");
        assert!(o.is_finite() && *o > 0.0, "layer {l}: output grad norm {o}");
    }
}
