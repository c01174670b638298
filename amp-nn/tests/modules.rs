//! The layers behave as dfdx modules: build, optimizer visibility, grads
//! allocation, train/eval, flatten checks, and an end-to-end training step.

use amp_nn::{AvgPool2D, BatchNorm2D, Conv2D, Conv2DNoBias, Flatten2D, GlobalAvgPool2D, MaxPool2D};
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig};
use dfdx::prelude::*;

type Img<const C: usize, T = NoneTape> = Tensor<(usize, Const<C>, usize, usize), f32, Cpu, T>;

#[derive(Clone, Debug)]
struct Net {
    conv: Conv2DNoBias<3, 8, 3, 2, 1, f32, Cpu>,
    bn: BatchNorm2D<8, f32, Cpu>,
    conv2: Conv2D<8, 4, 1, 1, 0, f32, Cpu>,
    fc: dfdx::nn::modules::Linear<16, 2, f32, Cpu>,
}

#[test]
fn parameters_are_visible_to_dfdx() {
    let dev: Cpu = Default::default();
    let conv: Conv2D<3, 8, 3, 1, 1, f32, Cpu> = BuildModule::build(&dev);
    assert_eq!(conv.num_trainable_params(), 8 * 3 * 9 + 8);
    let bound = 1.0 / (27f32).sqrt();
    assert!(conv.weight.as_vec().iter().all(|v| v.abs() <= bound));
    assert!(conv.weight.as_vec().iter().any(|v| *v != 0.0));
    let nb = dev.build_module::<Conv2DNoBias<3, 8, 1, 2, 0, f32, Cpu>, f32>();
    assert_eq!(nb.num_trainable_params(), 24);
    let bn = dev.build_module::<BatchNorm2D<8, f32, Cpu>, f32>();
    assert_eq!(bn.num_trainable_params(), 16);
    assert_eq!(bn.running_var.as_vec(), vec![1.0; 8]);
    assert_eq!((bn.momentum, bn.epsilon), (0.1, 1e-5));
    let _ = <MaxPool2D<2, 2> as BuildModule<Cpu, f32>>::build(&dev);
}

#[test]
fn sgd_trains_conv_bn_stack() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut conv: Conv2DNoBias<3, 8, 3, 2, 1, f32, Cpu> = BuildModule::build(&dev);
    let mut bn: BatchNorm2D<8, f32, Cpu> = BuildModule::build(&dev);
    let mut opt = Sgd::new(
        &(conv.clone(), bn.clone()),
        SgdConfig {
            lr: 0.1,
            momentum: Some(Momentum::Classic(0.9)),
            weight_decay: None,
        },
    );
    let x: Img<3> = dev.sample_normal_like(&(4, Const, 5, 7));
    let mut grads = (conv.clone(), bn.clone()).alloc_grads();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..5 {
        let y = conv.forward(x.trace(grads));
        let y = bn.forward_mut(y).relu();
        let y = GlobalAvgPool2D.forward(y);
        let loss = y.square().mean();
        last = loss.array();
        first.get_or_insert(last);
        grads = loss.backward();
        let mut model = (conv, bn);
        opt.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
        (conv, bn) = model;
    }
    assert!(
        last < first.unwrap(),
        "loss should decrease: {first:?} -> {last}"
    );
    assert_ne!(
        bn.running_mean.as_vec(),
        vec![0.0; 8],
        "running stats updated in train mode"
    );
    let rm = bn.running_mean.as_vec();
    let _ = bn.forward(conv.forward(x.clone()));
    assert_eq!(
        bn.running_mean.as_vec(),
        rm,
        "eval must not update running stats"
    );
}

#[test]
fn flatten_feeds_linear() {
    let dev: Cpu = Default::default();
    let net = Net {
        conv: BuildModule::build(&dev),
        bn: BuildModule::build(&dev),
        conv2: BuildModule::build(&dev),
        fc: BuildModule::build(&dev),
    };
    let x: Img<3> = dev.sample_normal_like(&(2, Const, 4, 3));
    let y = net.conv.forward(x); // (2, 8, 2, 2)
    let y = net.bn.forward(y);
    let y = net.conv2.forward(y); // (2, 4, 2, 2)
    let y = Flatten2D::<16>.forward(y);
    let y = net.fc.forward(y);
    assert_eq!(y.shape(), &(2, Const::<2>));
}

#[test]
#[should_panic(expected = "Flatten2D<10>: input has C*H*W = 4*2*2 = 16 features")]
fn flatten_size_mismatch_panics_clearly() {
    let dev: Cpu = Default::default();
    let x: Img<4> = dev.zeros_like(&(2, Const, 2, 2));
    let _ = Flatten2D::<10>.forward(x);
}

#[test]
fn pools_have_expected_shapes() {
    let dev: Cpu = Default::default();
    let x: Img<3> = dev.sample_normal_like(&(2, Const, 5, 7));
    assert_eq!(
        MaxPool2D::<2, 2>.forward(x.clone()).shape(),
        &(2, Const::<3>, 2, 3)
    );
    assert_eq!(
        AvgPool2D::<3, 1, 1>.forward(x.clone()).shape(),
        &(2, Const::<3>, 5, 7)
    );
    assert_eq!(GlobalAvgPool2D.forward(x).shape(), &(2, Const::<3>));
}

#[test]
fn non_contiguous_input_is_handled() {
    let dev: Cpu = Default::default();
    let conv: Conv2D<3, 2, 3, 1, 1, f32, Cpu> = BuildModule::build(&dev);
    let x: Tensor<Rank4<2, 5, 4, 3>, f32, Cpu> = dev.sample_normal();
    // NHWC storage viewed as NCHW: strided, not contiguous.
    let xp = x.clone().permute::<Rank4<2, 3, 5, 4>, Axes4<0, 3, 1, 2>>();
    let xc: Tensor<Rank4<2, 3, 5, 4>, f32, Cpu> = dev.tensor(xp.array());
    let a = conv.forward(xp.leaky_trace()).sum::<Rank0, _>();
    let b = conv.forward(xc.clone()).sum::<Rank0, _>();
    assert!((a.array() - b.array()).abs() < 1e-4);
    let g = a.backward();
    let gx = g
        .get(&x)
        .permute::<Rank4<2, 3, 5, 4>, Axes4<0, 3, 1, 2>>()
        .as_vec();
    let gc = conv.forward(xc.leaky_trace()).sum::<Rank0, _>().backward();
    let want = gc.get(&xc).as_vec();
    for (u, v) in gx.iter().zip(&want) {
        assert!((u - v).abs() < 1e-4, "{u} vs {v}");
    }
}
