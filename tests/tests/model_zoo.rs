//! The model zoo of amp-models: exact parameter counts at 10 and 100 classes, candidate
//! layer names, forward shapes, the option A shortcut and its gradient, He initialization
//! (what it redraws, and that it keeps a deep network's signal), and a few SGD steps that
//! lower the loss of a CIFAR ResNet and of a bottleneck ResNet.

use amp_core::{AmpState, Amplifiable, Mode};
use amp_models::cifar_resnet::Cifar20;
use amp_models::*;
use dfdx::nn::NumParams;
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig};
use dfdx::prelude::*;

type Images = Tensor<(usize, Const<3>, usize, usize), f32, Cpu>;

/// Trainable parameters (batch-norm scale and shift count, running statistics do not) of `M`.
fn params<M: BuildOnDevice<Cpu, f32>>() -> usize
where
    M::Built: NumParams<f32, Cpu>,
{
    let dev = Cpu::seed_from_u64(0);
    M::build_on_device(&dev).num_trainable_params()
}

/// Asserts the parameter counts of a model at 10 and 100 classes.
macro_rules! assert_params {
    ($($M:ident: $c10:expr, $c100:expr;)*) => {
        $(
            assert_eq!(params::<$M<10, f32, Cpu>>(), $c10, "{} with 10 classes", stringify!($M));
            assert_eq!(params::<$M<100, f32, Cpu>>(), $c100, "{} with 100 classes", stringify!($M));
        )*
    };
}

/// The counts of issue 9, which match the PyTorch references (torchvision-style VGG with
/// one linear classifier, kuangliu's CIFAR ResNets, akamaster's ResNet-20 ... 110).
#[test]
fn vgg_parameter_counts_match_the_references() {
    assert_params! {
        Vgg11: 9_231_114, 9_277_284;
        Vgg13: 9_416_010, 9_462_180;
        Vgg16: 14_728_266, 14_774_436;
        Vgg19: 20_040_522, 20_086_692;
        Vgg11NoBn: 9_225_610, 9_271_780;
        Vgg13NoBn: 9_410_122, 9_456_292;
        Vgg16NoBn: 14_719_818, 14_765_988;
        Vgg19NoBn: 20_029_514, 20_075_684;
    }
}

#[test]
fn resnet_parameter_counts_match_the_references() {
    assert_params! {
        ResNet18: 11_173_962, 11_220_132;
        ResNet34: 21_282_122, 21_328_292;
        ResNet50: 23_520_842, 23_705_252;
        ResNet101: 42_512_970, 42_697_380;
    }
}

#[test]
fn cifar_resnet_and_plain_parameter_counts_match_the_references() {
    // Plain-N with batch norm has exactly ResNet-N's parameters: option A shortcuts have none.
    assert_params! {
        ResNet20: 269_722, 275_572;
        ResNet32: 464_154, 470_004;
        ResNet44: 658_586, 664_436;
        ResNet56: 853_018, 858_868;
        ResNet110: 1_727_962, 1_733_812;
        Plain20: 269_722, 275_572;
        Plain32: 464_154, 470_004;
        Plain44: 658_586, 664_436;
        Plain56: 853_018, 858_868;
        Plain110: 1_727_962, 1_733_812;
    }
}

/// Without batch norm every conv has a bias: for k blocks per stage, stem 3*16*9 + 16 = 448,
/// stage 1: 2k (16*16*9 + 16), stage 2: (16*32*9 + 32) + (32*32*9 + 32) + 2(k-1)(32*32*9 + 32),
/// stage 3 likewise at 64, classifier 64 C + C.
#[test]
fn plain_nets_without_batch_norm_count_conv_biases_and_nothing_else() {
    fn expected(k: usize, c: usize) -> usize {
        448 + 4640 * k + 13_888 + 18_496 * (k - 1) + 55_424 + 73_856 * (k - 1) + 64 * c + c
    }
    assert_eq!(expected(3, 10), 269_034);
    assert_params! {
        Plain20NoBn: expected(3, 10), expected(3, 100);
        Plain32NoBn: expected(5, 10), expected(5, 100);
        Plain44NoBn: expected(7, 10), expected(7, 100);
        Plain56NoBn: expected(9, 10), expected(9, 100);
        Plain110NoBn: expected(18, 10), expected(18, 100);
    }
}

/// PyTorch's names for the block convolutions of stages with the given block counts.
fn block_names(blocks: &[usize], convs: &[&str], projection: &[bool]) -> Vec<String> {
    let mut want = vec![];
    for (s, (&n, &proj)) in blocks.iter().zip(projection).enumerate() {
        for b in 0..n {
            for c in convs {
                want.push(format!("layer{}.{b}.{c}", s + 1));
            }
            if b == 0 && proj {
                want.push(format!("layer{}.0.shortcut", s + 1));
            }
        }
    }
    want
}

#[test]
fn resnet_candidates_are_the_block_convolutions_with_pytorch_names() {
    let basic = ["conv1", "conv2"];
    let bottleneck = ["conv1", "conv2", "conv3"];
    let down = [false, true, true, true];
    assert_eq!(
        ResNet34::<10, f32, Cpu>::layer_names(),
        block_names(&[3, 4, 6, 3], &basic, &down)
    );
    assert_eq!(ResNet34::<10, f32, Cpu>::LAYER_COUNT, 35);
    let all = [true; 4];
    assert_eq!(
        ResNet50::<10, f32, Cpu>::layer_names(),
        block_names(&[3, 4, 6, 3], &bottleneck, &all)
    );
    assert_eq!(ResNet50::<10, f32, Cpu>::LAYER_COUNT, 52);
    let r101 = ResNet101::<10, f32, Cpu>::layer_names();
    assert_eq!(r101, block_names(&[3, 4, 23, 3], &bottleneck, &all));
    assert_eq!(r101.len(), 103);
    assert_eq!(r101[39], "layer3.5.conv1");
    assert_eq!(r101[100], "layer4.2.conv1");
    assert!(ResNet101::<10, f32, Cpu>::layers()
        .iter()
        .all(|l| l.kind == "Conv2DNoBias"));
}

#[test]
fn cifar_nets_name_their_6k_block_convolutions_like_pytorch() {
    let no_proj = [false; 3];
    let basic = ["conv1", "conv2"];
    for (k, names) in [
        (3, ResNet20::<10, f32, Cpu>::layer_names()),
        (5, ResNet32::<10, f32, Cpu>::layer_names()),
        (7, ResNet44::<10, f32, Cpu>::layer_names()),
        (9, ResNet56::<10, f32, Cpu>::layer_names()),
        (18, ResNet110::<10, f32, Cpu>::layer_names()),
    ] {
        assert_eq!(names, block_names(&[k; 3], &basic, &no_proj), "k = {k}");
        assert_eq!(names.len(), 6 * k);
    }
    assert_eq!(
        Plain56::<10, f32, Cpu>::layer_names(),
        ResNet56::<10, f32, Cpu>::layer_names()
    );
    assert_eq!(
        Plain110NoBn::<10, f32, Cpu>::layer_names(),
        ResNet110::<10, f32, Cpu>::layer_names()
    );
    assert!(Plain20NoBn::<10, f32, Cpu>::layers()
        .iter()
        .all(|l| l.kind == "Conv2D"));
}

#[test]
fn vgg_candidates_are_every_convolution_and_the_classifier() {
    for (names, convs_per_stage) in [
        (Vgg11::<10, f32, Cpu>::layer_names(), [1, 1, 2, 2, 2]),
        (Vgg13::<10, f32, Cpu>::layer_names(), [2, 2, 2, 2, 2]),
        (Vgg16::<10, f32, Cpu>::layer_names(), [2, 2, 3, 3, 3]),
        (Vgg19::<10, f32, Cpu>::layer_names(), [2, 2, 4, 4, 4]),
        (Vgg16NoBn::<10, f32, Cpu>::layer_names(), [2, 2, 3, 3, 3]),
    ] {
        let mut want: Vec<String> = vec![];
        for (s, &n) in convs_per_stage.iter().enumerate() {
            want.extend((0..n).map(|i| format!("stage{}.{i}.conv", s + 1)));
        }
        want.push("fc".into());
        assert_eq!(names, want);
    }
    assert_eq!(
        Vgg19NoBn::<10, f32, Cpu>::layer_names(),
        Vgg19::<10, f32, Cpu>::layer_names()
    );
}

/// Output shape of a training forward (batch norm in training mode) on `n` images of `hw`.
fn train_forward_shape<M>(hw: usize, n: usize) -> (usize, usize)
where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: ModuleMut<Images, Output = Tensor<(usize, Const<10>), f32, Cpu>>,
{
    let dev = Cpu::seed_from_u64(1);
    let mut m = M::build_on_device(&dev);
    let x: Images = dev.sample_normal_like(&(n, Const::<3>, hw, hw));
    let y = m.forward_mut(x);
    assert!(y.as_vec().iter().all(|v| v.is_finite()));
    let (b, c) = *y.shape();
    (b, c.size())
}

#[test]
fn every_small_model_classifies_a_batch_into_10_logits() {
    assert_eq!(train_forward_shape::<ResNet20<10, f32, Cpu>>(8, 2), (2, 10));
    assert_eq!(train_forward_shape::<Plain20<10, f32, Cpu>>(8, 2), (2, 10));
    assert_eq!(
        train_forward_shape::<Plain20NoBn<10, f32, Cpu>>(8, 2),
        (2, 10)
    );
    assert_eq!(train_forward_shape::<ResNet56<10, f32, Cpu>>(8, 2), (2, 10));
    assert_eq!(
        train_forward_shape::<Plain110NoBn<10, f32, Cpu>>(4, 2),
        (2, 10)
    );
    // Odd sizes: the option A subsampling matches the stride-2 convolutions (7 -> 4 -> 2).
    assert_eq!(train_forward_shape::<ResNet32<10, f32, Cpu>>(7, 2), (2, 10));
    assert_eq!(train_forward_shape::<ResNet34<10, f32, Cpu>>(8, 2), (2, 10));
    assert_eq!(train_forward_shape::<ResNet50<10, f32, Cpu>>(8, 2), (2, 10));
}

#[test]
fn vggs_classify_32x32_images_into_10_logits() {
    assert_eq!(train_forward_shape::<Vgg13<10, f32, Cpu>>(32, 2), (2, 10));
    assert_eq!(train_forward_shape::<Vgg16<10, f32, Cpu>>(32, 2), (2, 10));
    assert_eq!(
        train_forward_shape::<Vgg11NoBn<10, f32, Cpu>>(32, 1),
        (1, 10)
    );
    assert_eq!(
        train_forward_shape::<Vgg16NoBn<10, f32, Cpu>>(32, 1),
        (1, 10)
    );
}

/// Plain-N and ResNet-N share their weights' layout; with the same weights they differ only
/// by the shortcuts, so their outputs differ.
#[test]
fn the_plain_twin_is_the_resnet_without_its_shortcuts() {
    let dev = Cpu::seed_from_u64(2);
    let res = ResNet20::<10, f32, Cpu>::build(&dev);
    let plain: Cifar20<10, false, f32, Cpu> = Cifar20 {
        conv1: res.conv1.clone(),
        bn1: res.bn1.clone(),
        relu: Default::default(),
        layer1: amp_models::cifar_resnet::CifarStage3 {
            b0: amp_models::cifar_resnet::CifarBlock {
                conv1: res.layer1.b0.conv1.clone(),
                bn1: res.layer1.b0.bn1.clone(),
                conv2: res.layer1.b0.conv2.clone(),
                bn2: res.layer1.b0.bn2.clone(),
            },
            ..Plain20::<10, f32, Cpu>::build(&dev).layer1
        },
        ..Plain20::<10, f32, Cpu>::build(&dev)
    };
    let x: Images = dev.sample_normal_like(&(2, Const::<3>, 8, 8));
    let a = res.forward(x.clone()).as_vec();
    let b = plain.forward(x).as_vec();
    assert_ne!(a, b);
}

/// The option A shortcut: values and gradient computed by hand on a 1x2x3x3 input to 4
/// channels at stride 2 (output 2x2; one zero channel before, one after).
#[test]
fn zero_pad_shortcut_subsamples_pads_and_routes_the_gradient_back() {
    let dev = Cpu::default();
    let data: Vec<f32> = (0..18).map(|v| v as f32).collect();
    let x: Tensor<(usize, Const<2>, usize, usize), f32, Cpu> =
        dev.tensor_from_vec(data, (1, Const::<2>, 3, 3));
    let y = zero_pad_shortcut::<2, 4, 2, _, _, _>(x.leaky_trace()).unwrap();
    assert_eq!(y.shape().2, 2);
    assert_eq!(y.shape().3, 2);
    // channel 1 = x channel 0 at (0,0), (0,2), (2,0), (2,2); channel 2 = x channel 1 likewise.
    assert_eq!(
        y.as_vec(),
        [0., 0., 0., 0., 0., 2., 6., 8., 9., 11., 15., 17., 0., 0., 0., 0.]
    );
    // Loss: sum of y * w with w = 1..16; dL/dx is the w of the output each kept pixel went to.
    let w: Tensor<(usize, Const<4>, usize, usize), f32, Cpu> =
        dev.tensor_from_vec((1..=16).map(|v| v as f32).collect(), (1, Const::<4>, 2, 2));
    let grads = (y * w).sum().backward();
    let g = grads.get(&x).as_vec();
    #[rustfmt::skip]
    let want = [
        5., 0., 6., 0., 0., 0., 7., 0., 8.,
        9., 0., 10., 0., 0., 0., 11., 0., 12.,
    ];
    assert_eq!(g, want);
}

#[test]
fn zero_pad_shortcut_at_stride_1_only_pads_channels() {
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<1>, usize, usize), f32, Cpu> =
        dev.tensor_from_vec(vec![1., 2., 3., 4.], (1, Const::<1>, 2, 2));
    let y = zero_pad_shortcut::<1, 3, 1, _, _, _>(x).unwrap();
    assert_eq!(y.as_vec(), [0., 0., 0., 0., 1., 2., 3., 4., 0., 0., 0., 0.]);
}

/// `steps` SGD steps on one small batch, with every candidate amplified x1 in `output` mode
/// (so the taps run and measure): returns the losses and the first step's output-gradient
/// norm of each candidate.
fn sgd_losses<M>(
    mut model: M,
    dev: &Cpu,
    hw: usize,
    steps: usize,
    (lr, momentum): (f64, Option<f64>),
) -> (Vec<f32>, Vec<f64>)
where
    M: Amplifiable
        + TensorCollection<f32, Cpu>
        + ModuleMut<
            Tensor<(usize, Const<3>, usize, usize), f32, Cpu, OwnedTape<f32, Cpu>>,
            Output = Tensor<(usize, Const<10>), f32, Cpu, OwnedTape<f32, Cpu>>,
        >,
{
    let n = 8;
    let x: Images = dev.sample_normal_like(&(n, Const::<3>, hw, hw));
    let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
    let mut y: Tensor<(usize, Const<10>), f32, Cpu> = dev.zeros_like(&(n, Const));
    let mut onehot = vec![0f32; n * 10];
    for (i, l) in labels.iter().enumerate() {
        onehot[i * 10 + l] = 1.0;
    }
    y.copy_from(&onehot);
    let mut opt = Sgd::new(
        &model,
        SgdConfig {
            lr,
            momentum: momentum.map(Momentum::Classic),
            weight_decay: None,
        },
    );
    let state = AmpState::new(M::LAYER_COUNT, Mode::Output);
    state.set_amplified(&vec![true; M::LAYER_COUNT], 1.0);
    let mut losses = vec![];
    let mut first_norms = vec![];
    for step in 0..steps {
        let grads = {
            let _run = state.activate();
            let logits = model.forward_mut(x.clone().traced(model.alloc_grads()));
            let loss = cross_entropy_with_logits_loss(logits, y.clone());
            losses.push(loss.array());
            loss.backward()
        };
        let norms = state.take_output_norms();
        if step == 0 {
            first_norms = norms;
        }
        opt.update(&mut model, &grads).unwrap();
    }
    (losses, first_norms)
}

fn assert_learns(name: &str, losses: &[f32], norms: &[f64], layers: usize) {
    assert_eq!(norms.len(), layers, "{name}: one norm per candidate");
    for (l, n) in norms.iter().enumerate() {
        assert!(
            n.is_finite() && *n > 0.0,
            "{name} layer {l}: output grad norm {n}"
        );
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(
        last < 0.8 * first,
        "{name}: loss should fall on a fixed batch: {losses:?}"
    );
}

#[test]
fn sgd_steps_lower_the_loss_of_resnet20() {
    let dev = Cpu::seed_from_u64(5);
    let (losses, norms) = sgd_losses(
        ResNet20::<10, f32, Cpu>::build(&dev),
        &dev,
        8,
        8,
        (0.05, Some(0.9)),
    );
    assert_learns("ResNet-20", &losses, &norms, 18);
}

#[test]
fn sgd_steps_lower_the_loss_of_resnet50() {
    let dev = Cpu::seed_from_u64(6);
    let (losses, norms) = sgd_losses(
        ResNet50::<10, f32, Cpu>::build(&dev),
        &dev,
        8,
        6,
        (0.01, None),
    );
    assert_learns("ResNet-50", &losses, &norms, 52);
}

/// The cost model of the docs table: a walk through a network's layers on one 32x32 image
/// (16x16 for the perceptron) that counts multiply-accumulates of convolutions and linear
/// layers (batch norm, activations, pooling and additions are not counted, as in fvcore),
/// parameters and candidate layers. Each walk is checked against the real model's parameter
/// and candidate counts, so the table cannot drift from the code.
mod cost {
    /// Where the walk is: channels, height, width; and what it has counted.
    #[derive(Debug, Default)]
    pub struct Walk {
        c: usize,
        h: usize,
        w: usize,
        pub macs: u64,
        pub params: usize,
        pub candidates: usize,
    }

    impl Walk {
        pub fn image(hw: usize) -> Self {
            Walk {
                c: 3,
                h: hw,
                w: hw,
                ..Walk::default()
            }
        }
        /// A k x k convolution, padding k / 2.
        pub fn conv(&mut self, out: usize, k: usize, stride: usize, bias: bool, cand: bool) {
            let (h, w) = self.conv_size(k, stride);
            self.macs += (out * self.c * k * k * h * w) as u64;
            self.params += out * self.c * k * k + if bias { out } else { 0 };
            self.candidates += cand as usize;
            (self.c, self.h, self.w) = (out, h, w);
        }
        fn conv_size(&self, k: usize, stride: usize) -> (usize, usize) {
            let p = k / 2;
            (
                (self.h + 2 * p - k) / stride + 1,
                (self.w + 2 * p - k) / stride + 1,
            )
        }
        pub fn bn(&mut self) {
            self.params += 2 * self.c;
        }
        pub fn pool(&mut self) {
            (self.h, self.w) = (self.h / 2, self.w / 2);
        }
        pub fn global_pool(&mut self) {
            (self.h, self.w) = (1, 1);
        }
        pub fn fc(&mut self, out: usize, cand: bool) {
            let inputs = self.c * self.h * self.w;
            self.macs += (inputs * out) as u64;
            self.params += inputs * out + out;
            self.candidates += cand as usize;
            (self.c, self.h, self.w) = (out, 1, 1);
        }
        /// A 1x1 projection shortcut with batch norm from a block's input `from`.
        pub fn projection(&mut self, from: &Walk, stride: usize) {
            let mut s = Walk {
                c: from.c,
                h: from.h,
                w: from.w,
                ..Walk::default()
            };
            s.conv(self.c, 1, stride, false, true);
            s.bn();
            assert_eq!((s.h, s.w), (self.h, self.w));
            self.macs += s.macs;
            self.params += s.params;
            self.candidates += s.candidates;
        }
        fn at(&self) -> Walk {
            Walk {
                c: self.c,
                h: self.h,
                w: self.w,
                ..Walk::default()
            }
        }
    }

    pub fn vgg(stages: [&[usize]; 5], bn: bool, classes: usize) -> Walk {
        let mut n = Walk::image(32);
        for stage in stages {
            for &c in stage {
                n.conv(c, 3, 1, true, true);
                if bn {
                    n.bn();
                }
            }
            n.pool();
        }
        n.fc(classes, true);
        n
    }

    fn stem(n: &mut Walk, c: usize, bn: bool) {
        n.conv(c, 3, 1, !bn, false);
        if bn {
            n.bn();
        }
    }

    pub fn basic_resnet(blocks: [usize; 4], classes: usize) -> Walk {
        let mut n = Walk::image(32);
        stem(&mut n, 64, true);
        for (i, (&k, width)) in blocks.iter().zip([64, 128, 256, 512]).enumerate() {
            for b in 0..k {
                let s = if i > 0 && b == 0 { 2 } else { 1 };
                let input = n.at();
                n.conv(width, 3, s, false, true);
                n.bn();
                n.conv(width, 3, 1, false, true);
                n.bn();
                if input.c != width {
                    n.projection(&input, s);
                }
            }
        }
        n.global_pool();
        n.fc(classes, false);
        n
    }

    pub fn bottleneck_resnet(blocks: [usize; 4], classes: usize) -> Walk {
        let mut n = Walk::image(32);
        stem(&mut n, 64, true);
        for (i, (&k, mid)) in blocks.iter().zip([64, 128, 256, 512]).enumerate() {
            for b in 0..k {
                let s = if i > 0 && b == 0 { 2 } else { 1 };
                let input = n.at();
                n.conv(mid, 1, 1, false, true);
                n.bn();
                n.conv(mid, 3, s, false, true);
                n.bn();
                n.conv(4 * mid, 1, 1, false, true);
                n.bn();
                if b == 0 {
                    n.projection(&input, s);
                }
            }
        }
        n.global_pool();
        n.fc(classes, false);
        n
    }

    /// He et al.'s CIFAR networks (option A shortcuts have no parameters and no MACs).
    pub fn cifar(k: usize, bn: bool, classes: usize) -> Walk {
        let mut n = Walk::image(32);
        stem(&mut n, 16, bn);
        for (i, width) in [16, 32, 64].into_iter().enumerate() {
            for b in 0..k {
                let s = if i > 0 && b == 0 { 2 } else { 1 };
                for stride in [s, 1] {
                    n.conv(width, 3, stride, !bn, true);
                    if bn {
                        n.bn();
                    }
                }
            }
        }
        n.global_pool();
        n.fc(classes, false);
        n
    }

    pub fn small_cnn(classes: usize) -> Walk {
        let mut n = Walk::image(32);
        for (c, pool) in [(16, true), (32, true), (64, false)] {
            n.conv(c, 3, 1, true, true);
            n.bn();
            if pool {
                n.pool();
            }
        }
        n.global_pool();
        n.fc(classes, true);
        n
    }

    pub fn mlp(classes: usize) -> Walk {
        let mut n = Walk::image(16);
        n.fc(128, true);
        n.fc(128, true);
        n.fc(classes, true);
        n
    }
}

/// Every model of the CLI registry: `--model` name, the walk, the real model's parameter
/// and candidate counts.
fn zoo() -> Vec<(&'static str, cost::Walk, usize, usize)> {
    use cost::*;
    macro_rules! row {
        ($name:literal, $walk:expr, $M:ty) => {
            (
                $name,
                $walk,
                params::<$M>(),
                <$M as Amplifiable>::LAYER_COUNT,
            )
        };
    }
    let v11: [&[usize]; 5] = [&[64], &[128], &[256; 2], &[512; 2], &[512; 2]];
    let v13: [&[usize]; 5] = [&[64; 2], &[128; 2], &[256; 2], &[512; 2], &[512; 2]];
    let v16: [&[usize]; 5] = [&[64; 2], &[128; 2], &[256; 3], &[512; 3], &[512; 3]];
    let v19: [&[usize]; 5] = [&[64; 2], &[128; 2], &[256; 4], &[512; 4], &[512; 4]];
    type C = Cpu;
    vec![
        row!("mlp", mlp(10), Mlp<768, 128, 10, f32, C>),
        row!("cnn", small_cnn(10), SmallCnn<10, f32, C>),
        row!("vgg11", vgg(v11, true, 10), Vgg11<10, f32, C>),
        row!("vgg13", vgg(v13, true, 10), Vgg13<10, f32, C>),
        row!("vgg16", vgg(v16, true, 10), Vgg16<10, f32, C>),
        row!("vgg19", vgg(v19, true, 10), Vgg19<10, f32, C>),
        row!("vgg11-nobn", vgg(v11, false, 10), Vgg11NoBn<10, f32, C>),
        row!("vgg13-nobn", vgg(v13, false, 10), Vgg13NoBn<10, f32, C>),
        row!("vgg16-nobn", vgg(v16, false, 10), Vgg16NoBn<10, f32, C>),
        row!("vgg19-nobn", vgg(v19, false, 10), Vgg19NoBn<10, f32, C>),
        row!("resnet18", basic_resnet([2, 2, 2, 2], 10), ResNet18<10, f32, C>),
        row!("resnet34", basic_resnet([3, 4, 6, 3], 10), ResNet34<10, f32, C>),
        row!("resnet50", bottleneck_resnet([3, 4, 6, 3], 10), ResNet50<10, f32, C>),
        row!("resnet101", bottleneck_resnet([3, 4, 23, 3], 10), ResNet101<10, f32, C>),
        row!("resnet20", cifar(3, true, 10), ResNet20<10, f32, C>),
        row!("resnet32", cifar(5, true, 10), ResNet32<10, f32, C>),
        row!("resnet44", cifar(7, true, 10), ResNet44<10, f32, C>),
        row!("resnet56", cifar(9, true, 10), ResNet56<10, f32, C>),
        row!("resnet110", cifar(18, true, 10), ResNet110<10, f32, C>),
        row!("plain20", cifar(3, true, 10), Plain20<10, f32, C>),
        row!("plain32", cifar(5, true, 10), Plain32<10, f32, C>),
        row!("plain44", cifar(7, true, 10), Plain44<10, f32, C>),
        row!("plain56", cifar(9, true, 10), Plain56<10, f32, C>),
        row!("plain110", cifar(18, true, 10), Plain110<10, f32, C>),
        row!("plain20-nobn", cifar(3, false, 10), Plain20NoBn<10, f32, C>),
        row!("plain32-nobn", cifar(5, false, 10), Plain32NoBn<10, f32, C>),
        row!("plain44-nobn", cifar(7, false, 10), Plain44NoBn<10, f32, C>),
        row!("plain56-nobn", cifar(9, false, 10), Plain56NoBn<10, f32, C>),
        row!("plain110-nobn", cifar(18, false, 10), Plain110NoBn<10, f32, C>),
    ]
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The table of amp-models/README.md, computed: it must match the file (run this test with
/// `--nocapture` to see the computed table when it does not).
#[test]
fn the_docs_table_is_computed_from_the_models() {
    let mut table = String::from(
        "| `--model` | parameters (10 classes) | candidate layers | GFLOP per image |\n|---|--:|--:|--:|\n",
    );
    for (name, walk, params, candidates) in zoo() {
        assert_eq!(walk.params, params, "{name}: the walk's parameters");
        assert_eq!(walk.candidates, candidates, "{name}: the walk's candidates");
        let gflop = 2.0 * walk.macs as f64 / 1e9;
        table.push_str(&format!(
            "| `{name}` | {} | {candidates} | {gflop:.4} |\n",
            thousands(params)
        ));
    }
    // ResNet-20 by hand: stem 3*16*9*32*32 + stage 1 6*16*16*9*32*32 + stage 2 (16*32*9 +
    // 5*32*32*9)*16*16 + stage 3 (32*64*9 + 5*64*64*9)*8*8 + classifier 64*10.
    assert_eq!(cost::cifar(3, true, 10).macs, 40_551_040);
    let readme = include_str!("../../amp-models/README.md");
    let start = readme
        .find("<!-- table:start -->\n")
        .expect("table start marker")
        + 21;
    let end = readme.find("<!-- table:end -->").expect("table end marker");
    println!("{table}");
    assert_eq!(
        &readme[start..end],
        table,
        "amp-models/README.md's table is stale"
    );
}

/// The spread of the logits over a batch of random images, per class, averaged: how much the
/// output depends on the input.
fn logit_spread<M>(m: &M, dev: &Cpu) -> f64
where
    M: Module<Images, Output = Tensor<(usize, Const<10>), f32, Cpu>>,
{
    let x: Images = dev.sample_normal_like(&(16, Const::<3>, 16, 16));
    let y = m.forward(x).as_vec();
    let mut spread = 0.0;
    for c in 0..10 {
        let v: Vec<f64> = (0..16).map(|i| y[i * 10 + c] as f64).collect();
        let mean = v.iter().sum::<f64>() / 16.0;
        spread += (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 16.0).sqrt() / 10.0;
    }
    spread
}

#[test]
fn he_init_redraws_every_convolution_and_the_classifier_but_not_batch_norm() {
    use amp_core::train::{initialize, Init};
    let dev = Cpu::seed_from_u64(0);
    let mut plain = Plain20NoBn::<10, f32, Cpu>::build(&dev);
    let changed = initialize(&mut plain, Init::He, 0).unwrap();
    // 19 convolutions with bias (the stem and 18 in the blocks) and the linear classifier.
    assert_eq!(changed.len(), 2 * 19 + 2, "{changed:?}");
    assert!(
        changed.contains(&"layer3.b2.conv2.bias".to_string()),
        "{changed:?}"
    );
    assert_eq!(plain.layer1.b0.conv1.bias.as_vec(), vec![0.0; 16]);

    let mut resnet = ResNet20::<10, f32, Cpu>::build(&dev);
    let bn_scale = resnet.bn1.scale.as_vec();
    let changed = initialize(&mut resnet, Init::He, 0).unwrap();
    // 19 convolutions without bias, the classifier's weight and bias; no batch-norm tensor.
    assert_eq!(changed.len(), 19 + 2, "{changed:?}");
    assert!(changed.iter().all(|n| !n.contains("bn")), "{changed:?}");
    assert_eq!(resnet.bn1.scale.as_vec(), bn_scale);
}

/// Why `train.init = "he"` exists: with the layers' default initialization (uniform in
/// ±1/sqrt(fan_in)) Plain-20 without batch norm scales its signal's variance by about 1/6
/// per layer, so its logits hardly depend on the image; He's keeps it.
#[test]
fn he_init_keeps_the_signal_of_plain20_without_batch_norm() {
    use amp_core::train::{initialize, Init};
    let dev = Cpu::seed_from_u64(0);
    let mut m = Plain20NoBn::<10, f32, Cpu>::build(&dev);
    let default = logit_spread(&m, &dev);
    initialize(&mut m, Init::He, 0).unwrap();
    let he = logit_spread(&m, &dev);
    assert!(
        default < 1e-6,
        "default init: the logits spread by {default}"
    );
    assert!(he > 1e-2, "He init: the logits spread by {he}");
}
