//! `free_consumed_gradients(true)`: every amp-nn op frees its output's gradient once its
//! backward has read it, and no gradient changes. One test function (the switch is
//! process-wide, and this file is its own test binary), checking on a small network with every
//! amp-nn op (convolution, batch norm + ReLU, pooling, a residual `add_relu`) that
//! - the parameters' and the input's gradients are the same bits with the switch on and off;
//! - with it on, the slots of the ops' outputs are empty after the pass, and with it off, full.

use amp_nn::{BatchNorm2D, Conv2D, Conv2DNoBias, MaxPool2D};
use dfdx::prelude::*;

type Img<const C: usize, T> = Tensor<(usize, Const<C>, usize, usize), f32, Cpu, T>;

struct Net {
    conv1: Conv2D<3, 4, 3, 1, 1, f32, Cpu>,
    bn1: BatchNorm2D<4, f32, Cpu>,
    conv2: Conv2DNoBias<4, 4, 3, 1, 1, f32, Cpu>,
    bn2: BatchNorm2D<4, f32, Cpu>,
}

/// The gradients of a forward-backward pass (leaky, so every slot stays inspectable), and the
/// lengths of the slots of the ops' outputs.
fn pass(net: &mut Net, x: &Img<3, NoneTape>, free: bool) -> (Vec<Vec<f32>>, Vec<usize>) {
    amp_nn::free_consumed_gradients(free);
    let dev = x.device().clone();
    let h1 = net.conv1.forward(x.leaky_trace());
    let h1_ghost = h1.retaped::<NoneTape>();
    let h2 = net.bn1.try_forward_mut_relu(h1).unwrap();
    let h2_ghost = h2.retaped::<NoneTape>();
    let (h2, tape) = h2.split_tape();
    let h3 = net.conv2.forward(h2.clone().put_tape(tape));
    let h3_ghost = h3.retaped::<NoneTape>();
    let h4 = net.bn2.forward_mut(h3);
    let h5 = amp_nn::add_relu(h4, h2).unwrap();
    let h5_ghost = h5.retaped::<NoneTape>();
    let h6 = MaxPool2D::<2, 2>.forward(h5);
    let h6_ghost = h6.retaped::<NoneTape>();
    let r = dev.tensor_from_vec(
        (0..h6.shape().num_elements())
            .map(|i| (i % 7) as f32 - 3.0)
            .collect(),
        *h6.shape(),
    );
    let mut g = (h6 * r).sum::<(), _>().backward();
    amp_nn::free_consumed_gradients(false);
    let grads = vec![
        g.get(x).as_vec(),
        g.get(&net.conv1.weight).as_vec(),
        g.get(&net.conv1.bias).as_vec(),
        g.get(&net.bn1.scale).as_vec(),
        g.get(&net.bn1.bias).as_vec(),
        g.get(&net.conv2.weight).as_vec(),
        g.get(&net.bn2.scale).as_vec(),
        g.get(&net.bn2.bias).as_vec(),
    ];
    let mut len = |t: &Img<4, NoneTape>| dev.len(g.get_or_alloc_mut(t).unwrap());
    let lens = vec![
        len(&h1_ghost),
        len(&h2_ghost),
        len(&h3_ghost),
        len(&h5_ghost),
        len(&h6_ghost),
    ];
    (grads, lens)
}

#[test]
fn freeing_consumed_output_gradients_changes_no_gradient() {
    let dev = Cpu::seed_from_u64(5);
    let x: Img<3, NoneTape> = dev.sample_normal_like(&(2, Const, 8, 8));
    let mut net = Net {
        conv1: BuildModule::build(&dev),
        bn1: BuildModule::build(&dev),
        conv2: BuildModule::build(&dev),
        bn2: BuildModule::build(&dev),
    };
    let mut net2 = Net {
        conv1: net.conv1.clone(),
        bn1: net.bn1.clone(),
        conv2: net.conv2.clone(),
        bn2: net.bn2.clone(),
    };
    let (kept, kept_lens) = pass(&mut net, &x, false);
    let (freed, freed_lens) = pass(&mut net2, &x, true);
    let names = [
        "x",
        "conv1 w",
        "conv1 b",
        "bn1 scale",
        "bn1 bias",
        "conv2 w",
        "bn2 scale",
        "bn2 bias",
    ];
    for ((name, a), b) in names.iter().zip(&kept).zip(&freed) {
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b), "gradient of {name}");
        assert!(
            a.iter().any(|v| *v != 0.0),
            "gradient of {name} is all zero"
        );
    }
    // conv1, bn1 + ReLU, conv2, add_relu, max pool outputs: 2*4*8*8 values, the pool's 2*4*4*4.
    assert_eq!(kept_lens, vec![512, 512, 512, 512, 128]);
    assert_eq!(freed_lens, vec![0, 0, 0, 0, 0]);
}
