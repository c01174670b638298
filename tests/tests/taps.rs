//! Taps against the un-tapped network and against analytic gradients (METHOD.md section 1).

use amp_core::layer_grads::{layer_grad_norms, scale_layer_grads, step_norms};
use amp_core::{amplifiable, AmpDevice, AmpDtype, AmpState, Amplifiable, Mode};
use amp_models::Mlp;
use dfdx::nn::modules::{Linear, ReLU};
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig, WeightDecay};
use dfdx::prelude::*;
use dfdx::tensor::Tape;

type Plain = (
    Linear<3, 5, f64, Cpu>,
    ReLU,
    Linear<5, 5, f64, Cpu>,
    ReLU,
    Linear<5, 2, f64, Cpu>,
);
type Net = Mlp<3, 5, 2, f64, Cpu>;

/// The tapped network and an un-tapped dfdx tuple with the very same weights.
fn pair(dev: &Cpu) -> (Net, Plain) {
    let net = Net::build(dev);
    let plain: Plain = (
        net.fc1.clone(),
        ReLU,
        net.fc2.clone(),
        ReLU,
        net.fc3.clone(),
    );
    (net, plain)
}

fn input(dev: &Cpu) -> Tensor<Rank2<4, 3>, f64, Cpu> {
    dev.tensor([
        [0.5, -1.0, 2.0],
        [1.5, 0.25, -0.75],
        [-0.3, 0.8, 0.1],
        [2.0, -2.0, 0.6],
    ])
}

fn bits(v: Vec<f64>) -> Vec<u64> {
    v.into_iter().map(f64::to_bits).collect()
}

fn loss<T: Tape<f64, Cpu>>(y: Tensor<Rank2<4, 2>, f64, Cpu, T>) -> Tensor<Rank0, f64, Cpu, T> {
    (y.square() * 0.5).sum()
}

/// Gradients of every parameter, in the order fc1.w, fc1.b, fc2.w, ... for either network.
fn grads_of(
    g: &Gradients<f64, Cpu>,
    l: [&Linear<3, 5, f64, Cpu>; 1],
    m: &Linear<5, 5, f64, Cpu>,
    o: &Linear<5, 2, f64, Cpu>,
) -> Vec<Vec<u64>> {
    vec![
        bits(g.get(&l[0].weight).as_vec()),
        bits(g.get(&l[0].bias).as_vec()),
        bits(g.get(&m.weight).as_vec()),
        bits(g.get(&m.bias).as_vec()),
        bits(g.get(&o.weight).as_vec()),
        bits(g.get(&o.bias).as_vec()),
    ]
}

#[test]
fn tap_forward_is_bit_identical_to_its_input() {
    let dev = Cpu::default();
    let (mut net, plain) = pair(&dev);
    let want = bits(plain.forward(input(&dev)).as_vec());
    for mode in Mode::ALL {
        let state = AmpState::new(Net::LAYER_COUNT, mode);
        state.set_amplified(&[true, true, true], 3.0);
        let _run = state.activate();
        let y = net.forward_mut(input(&dev).traced(net.alloc_grads()));
        assert_eq!(bits(y.as_vec()), want, "mode {mode}");
        let y = net.forward(input(&dev));
        assert_eq!(bits(y.as_vec()), want, "mode {mode}, no tape");
    }
}

#[test]
fn factor_one_or_amplification_off_gives_bit_identical_gradients() {
    let dev = Cpu::default();
    let (mut net, plain) = pair(&dev);
    let g = loss(plain.forward(input(&dev).traced(plain.alloc_grads()))).backward();
    let want = grads_of(&g, [&plain.0], &plain.2, &plain.4);

    for mode in Mode::ALL {
        for (flags, k) in [([true; 3], 1.0), ([false; 3], 5.0)] {
            let state = AmpState::new(Net::LAYER_COUNT, mode);
            state.set_amplified(&flags, k);
            let mut g = {
                let _run = state.activate();
                loss(net.forward_mut(input(&dev).traced(net.alloc_grads()))).backward()
            };
            scale_layer_grads(&net, &mut g, &param_factors(&state));
            let got = grads_of(&g, [&net.fc1], &net.fc2, &net.fc3);
            assert_eq!(got, want, "mode {mode}, k {k}, flags {flags:?}");
        }
    }
}

/// The factors `param` mode applies after backward (1.0 in the other modes).
fn param_factors(state: &AmpState) -> Vec<f64> {
    match state.mode() {
        Mode::Param => state.factors(),
        _ => vec![1.0; state.layers()],
    }
}

#[test]
fn training_steps_with_factor_one_are_bit_identical() {
    let dev = Cpu::default();
    let (mut net, mut plain) = pair(&dev);
    let cfg = SgdConfig {
        lr: 0.05,
        momentum: Some(Momentum::Classic(0.9)),
        weight_decay: Some(WeightDecay::L2(5e-4)),
    };
    let mut opt_net = Sgd::new(&net, cfg);
    let mut opt_plain = Sgd::new(&plain, cfg);
    let state = AmpState::new(Net::LAYER_COUNT, Mode::Output);
    state.set_amplified(&[true; 3], 1.0);
    for _ in 0..5 {
        let g = loss(plain.forward_mut(input(&dev).traced(plain.alloc_grads()))).backward();
        opt_plain.update(&mut plain, &g).unwrap();
        let g = {
            let _run = state.activate();
            loss(net.forward_mut(input(&dev).traced(net.alloc_grads()))).backward()
        };
        opt_net.update(&mut net, &g).unwrap();
    }
    assert_eq!(bits(net.fc1.weight.as_vec()), bits(plain.0.weight.as_vec()));
    assert_eq!(bits(net.fc2.bias.as_vec()), bits(plain.2.bias.as_vec()));
    assert_eq!(bits(net.fc3.weight.as_vec()), bits(plain.4.weight.as_vec()));
}

/// Three scalar linear layers: y = w3 (w2 (w1 x + b1) + b2) + b3, loss = y.
#[amplifiable]
struct Chain<E: Dtype, D: Device<E>> {
    l1: Linear<1, 1, E, D>,
    l2: Linear<1, 1, E, D>,
    l3: Linear<1, 1, E, D>,
}

const W: [f64; 3] = [0.7, -1.3, 2.1];
const B: [f64; 3] = [0.2, 0.5, -0.4];
const X: f64 = 1.5;

fn chain(dev: &Cpu) -> Chain<f64, Cpu> {
    let mut c = Chain::<f64, Cpu>::build(dev);
    for (l, (w, b)) in [&mut c.l1, &mut c.l2, &mut c.l3]
        .into_iter()
        .zip(W.iter().zip(B))
    {
        l.weight = dev.tensor([[*w]]);
        l.bias = dev.tensor([b]);
    }
    c
}

/// Analytic (dL/dw_l, dL/db_l) per layer for the chain above, without amplification.
fn analytic() -> [(f64, f64); 3] {
    let h1 = W[0] * X + B[0];
    let h2 = W[1] * h1 + B[1];
    [(W[2] * W[1] * X, W[2] * W[1]), (W[2] * h1, W[2]), (h2, 1.0)]
}

/// Runs the chain with the given layers amplified by `k` in `mode`; returns (dL/dw, dL/db)
/// per layer, and the recorded output-gradient norms.
fn run_chain(mode: Mode, amplified: [bool; 3], k: f64) -> ([(f64, f64); 3], Vec<f64>) {
    let dev = Cpu::default();
    let mut c = chain(&dev);
    let state = AmpState::new(3, mode);
    state.set_amplified(&amplified, k);
    let x: Tensor<Rank2<1, 1>, f64, Cpu> = dev.tensor([[X]]);
    let mut g = {
        let _run = state.activate();
        c.forward_mut(x.traced(c.alloc_grads())).sum().backward()
    };
    let norms = state.take_output_norms();
    scale_layer_grads(&c, &mut g, &param_factors(&state));
    let get =
        |l: &Linear<1, 1, f64, Cpu>| (g.get(&l.weight).as_vec()[0], g.get(&l.bias).as_vec()[0]);
    ([get(&c.l1), get(&c.l2), get(&c.l3)], norms)
}

fn assert_scaled(mode: Mode, amplified: [bool; 3], k: f64, factors: [f64; 3]) {
    let (got, _) = run_chain(mode, amplified, k);
    for (l, ((gw, gb), ((aw, ab), f))) in got.iter().zip(analytic().iter().zip(factors)).enumerate()
    {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(
            close(*gw, aw * f) && close(*gb, ab * f),
            "{mode} {amplified:?}: layer {} got ({gw}, {gb}), want {f} x ({aw}, {ab})",
            l + 1
        );
    }
}

#[test]
fn output_mode_scales_the_layer_and_everything_before_it() {
    let k = 3.0;
    assert_scaled(Mode::Output, [false, true, false], k, [k, k, 1.0]);
    assert_scaled(Mode::Output, [true, false, false], k, [k, 1.0, 1.0]);
    // Stacked amplified layers compound: k^n.
    assert_scaled(Mode::Output, [false, true, true], k, [k * k, k * k, k]);
    assert_scaled(Mode::Output, [true, true, true], k, [k * k * k, k * k, k]);
}

#[test]
fn input_mode_leaves_the_layer_itself_alone() {
    let k = 3.0;
    assert_scaled(Mode::Input, [false, true, false], k, [k, 1.0, 1.0]);
    assert_scaled(Mode::Input, [false, false, true], k, [k, k, 1.0]);
    assert_scaled(Mode::Input, [false, true, true], k, [k * k, k, 1.0]);
    assert_scaled(Mode::Input, [true, false, false], k, [1.0, 1.0, 1.0]);
}

#[test]
fn param_mode_scales_only_the_layers_own_parameters() {
    let k = 3.0;
    assert_scaled(Mode::Param, [false, true, false], k, [1.0, k, 1.0]);
    assert_scaled(Mode::Param, [true, false, true], k, [k, 1.0, k]);
}

#[test]
fn output_taps_record_the_gradient_reaching_each_layer() {
    // Without amplification dL/dh2 = w3, dL/dh1 = w3 w2, dL/dy = 1.
    let (_, norms) = run_chain(Mode::Output, [false; 3], 2.0);
    let want = [(W[2] * W[1]).abs(), W[2].abs(), 1.0];
    for (g, w) in norms.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{norms:?} vs {want:?}");
    }
    // Layer 3 amplified: what reaches layers 1 and 2 is scaled, layer 3's own input is not.
    let (_, norms) = run_chain(Mode::Output, [false, false, true], 2.0);
    let want = [2.0 * (W[2] * W[1]).abs(), 2.0 * W[2].abs(), 1.0];
    for (g, w) in norms.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{norms:?} vs {want:?}");
    }
}

#[test]
fn parameter_gradient_norms_per_layer() {
    let dev = Cpu::default();
    let mut c = chain(&dev);
    let x: Tensor<Rank2<1, 1>, f64, Cpu> = dev.tensor([[X]]);
    let mut g = c.forward_mut(x.traced(c.alloc_grads())).sum().backward();
    let norms = layer_grad_norms(&c, &mut g);
    for (n, (w, b)) in norms.iter().zip(analytic()) {
        assert!((n - (w * w + b * b).sqrt()).abs() < 1e-12);
    }
}

/// `step_norms` reads both vectors at once: the analytic values (layer 3 amplified in
/// `output` mode; its tap measures before scaling), the same bits as the separate reads, and
/// nothing carried over into the next step.
#[test]
fn step_norms_read_both_vectors_and_reset() {
    let dev = Cpu::default();
    let mut c = chain(&dev);
    let state = AmpState::new(3, Mode::Output);
    state.set_amplified(&[false, false, true], 2.0);
    let x: Tensor<Rank2<1, 1>, f64, Cpu> = dev.tensor([[X]]);
    let step = |c: &mut Chain<f64, Cpu>| {
        let _run = state.activate();
        c.forward_mut(x.clone().traced(c.alloc_grads()))
            .sum()
            .backward()
    };
    let mut g = step(&mut c);
    let both = step_norms(&c, &mut g, &state);
    let a = analytic();
    // `output` mode scales the gradient at layer 3's output, so every layer's parameters.
    let want_param: Vec<f64> = (a.iter())
        .map(|(w, b)| 2.0 * (w * w + b * b).sqrt())
        .collect();
    let want_output = [2.0 * (W[2] * W[1]).abs(), 2.0 * W[2].abs(), 1.0];
    for l in 0..3 {
        assert!((both.param[l] - want_param[l]).abs() < 1e-12, "{both:?}");
        assert!((both.output[l] - want_output[l]).abs() < 1e-12, "{both:?}");
    }
    // The same step again (no update in between): its accumulators started from zero, and
    // the separate reads agree bit for bit.
    let mut g = step(&mut c);
    let separate = (layer_grad_norms(&c, &mut g), state.take_output_norms());
    assert_eq!(both.param, separate.0);
    assert_eq!(both.output, separate.1);
    assert_eq!(state.take_output_norms(), vec![0.0; 3]);
}

/// Gradients of a tapped network against central finite differences of its loss.
#[test]
fn finite_differences_match_tapped_gradients() {
    let dev = Cpu::default();
    let (mut net, _) = pair(&dev);
    let x = input(&dev);
    let eval = |n: &Net| loss(n.forward(x.clone())).array();

    for (amplified, k) in [([false; 3], 1.0), ([false, true, false], 2.0)] {
        let state = AmpState::new(Net::LAYER_COUNT, Mode::Output);
        state.set_amplified(&amplified, k);
        let g = {
            let _run = state.activate();
            loss(net.forward_mut(x.clone().traced(net.alloc_grads()))).backward()
        };
        // In output mode, layers up to the amplified one see k times the true gradient.
        let scale = if amplified[1] { [k, k, 1.0] } else { [1.0; 3] };
        let analytic = [
            (g.get(&net.fc1.weight).as_vec(), scale[0]),
            (g.get(&net.fc2.weight).as_vec(), scale[1]),
            (g.get(&net.fc3.weight).as_vec(), scale[2]),
        ];
        for (layer, (grad, s)) in analytic.iter().enumerate() {
            for (i, &g) in grad.iter().enumerate() {
                let eps = 1e-6;
                let mut probe = net.clone();
                let w = match layer {
                    0 => &mut probe.fc1.weight as &mut dyn AsParam,
                    1 => &mut probe.fc2.weight,
                    _ => &mut probe.fc3.weight,
                };
                w.nudge(i, eps);
                let up = eval(&probe);
                let w = match layer {
                    0 => &mut probe.fc1.weight as &mut dyn AsParam,
                    1 => &mut probe.fc2.weight,
                    _ => &mut probe.fc3.weight,
                };
                w.nudge(i, -2.0 * eps);
                let down = eval(&probe);
                let fd = (up - down) / (2.0 * eps);
                assert!(
                    (g - s * fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "layer {layer} param {i}: tapped {g} vs {s} x fd {fd}"
                );
            }
        }
    }
}

/// Moves one element of a parameter tensor, whatever its shape.
trait AsParam {
    fn nudge(&mut self, i: usize, by: f64);
}
impl<S: Shape> AsParam for Tensor<S, f64, Cpu> {
    fn nudge(&mut self, i: usize, by: f64) {
        let mut v = self.as_vec();
        v[i] += by;
        self.copy_from(&v);
    }
}

/// A residual block written by hand: y = x + fc(x). Its tap must scale only the gradient
/// that flows through `fc`, not the shortcut's.
#[amplifiable(forward = manual)]
struct Res<E: Dtype, D: Device<E>> {
    fc: Linear<1, 1, E, D>,
}

impl<B: Dim, E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>> Module<Tensor<(B, Const<1>), E, D, T>>
    for Res<E, D>
{
    type Output = Tensor<(B, Const<1>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<1>), E, D, T>) -> Result<Self::Output, D::Err> {
        let taps = self.taps();
        taps.fc.try_forward(x.with_empty_tape())?.try_add(x)
    }
}

impl<B: Dim, E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>> ModuleMut<Tensor<(B, Const<1>), E, D, T>>
    for Res<E, D>
{
    type Output = Tensor<(B, Const<1>), E, D, T>;
    type Error = D::Err;

    fn try_forward_mut(
        &mut self,
        x: Tensor<(B, Const<1>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        let mut taps = self.taps_mut();
        taps.fc.try_forward_mut(x.with_empty_tape())?.try_add(x)
    }
}

/// `pre`, then two residual blocks nested under the names `0` and `1`.
#[amplifiable]
struct ResNet<E: Dtype, D: Device<E>> {
    pre: Linear<1, 1, E, D>,
    #[amp(block, name = "0")]
    r0: Res<E, D>,
    #[amp(block, name = "1")]
    r1: Res<E, D>,
}

#[test]
fn nested_blocks_have_hierarchical_names_and_offsets() {
    assert_eq!(ResNet::<f64, Cpu>::LAYER_COUNT, 3);
    assert_eq!(ResNet::<f64, Cpu>::layer_names(), ["pre", "0.fc", "1.fc"]);
    let id = amp_core::LayerId::<ResNet<f64, Cpu>>::from_name("1.fc").unwrap();
    assert_eq!(id.index(), 2);
    assert_eq!(ResNet::<f64, Cpu>::PRE.index(), 0);
    let err = amp_core::LayerId::<ResNet<f64, Cpu>>::from_name("1.fx").unwrap_err();
    assert!(err.to_string().contains("did you mean `1.fc`?"), "{err}");
    assert!(
        err.to_string()
            .contains("valid layer names: pre, 0.fc, 1.fc"),
        "{err}"
    );
}

/// dL/d(pre weight) through y = r1(r0(pre(x))) with r(h) = h + w h + b: (1 + w0)(1 + w1) x.
/// Amplifying `1.fc` in input or output mode turns (1 + w1) into (1 + k w1); the shortcut
/// keeps its 1.
#[test]
fn residual_taps_leave_the_shortcut_alone() {
    let dev = Cpu::default();
    let (w0, w1, x) = (0.4, -0.6, 1.25);
    for mode in [Mode::Input, Mode::Output] {
        for k in [1.0, 3.0] {
            let mut net = ResNet::<f64, Cpu>::build(&dev);
            net.pre.weight = dev.tensor([[0.9]]);
            net.r0.fc.weight = dev.tensor([[w0]]);
            net.r1.fc.weight = dev.tensor([[w1]]);
            let state = AmpState::new(3, mode);
            state.set_amplified(&[false, false, true], k);
            let xt: Tensor<Rank2<1, 1>, f64, Cpu> = dev.tensor([[x]]);
            let g = {
                let _run = state.activate();
                net.forward_mut(xt.traced(net.alloc_grads()))
                    .sum()
                    .backward()
            };
            let got = g.get(&net.pre.weight).as_vec()[0];
            let want = (1.0 + w0) * (1.0 + k * w1) * x;
            assert!((got - want).abs() < 1e-12, "{mode} k={k}: {got} vs {want}");
        }
    }
}
