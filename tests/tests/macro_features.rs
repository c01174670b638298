//! What `#[amplifiable]` generates, on shapes the models do not cover: renamed dtype and
//! device parameters, more fields than dfdx's visitor tuples hold, dtype conversion.

use amp_core::{amplifiable, AmpState, Amplifiable, Mode};
use dfdx::nn::modules::{Linear, ReLU, Tanh};
use dfdx::nn::{NumParams, ToDtype};
use dfdx::prelude::*;

/// Nine fields (dfdx visits at most six per tuple), dtype `F` and device `Dev`.
#[amplifiable(dtype = F, device = Dev)]
#[derive(Debug, Clone)]
struct Wide<F: Dtype, Dev: Device<F>> {
    l1: Linear<2, 4, F, Dev>,
    #[amp(skip)]
    a1: ReLU,
    l2: Linear<4, 4, F, Dev>,
    #[amp(skip)]
    a2: Tanh,
    l3: Linear<4, 4, F, Dev>,
    #[amp(skip)]
    a3: ReLU,
    #[amp(name = "penultimate")]
    l4: Linear<4, 4, F, Dev>,
    #[amp(skip)]
    a4: Tanh,
    l5: Linear<4, 1, F, Dev>,
}

#[test]
fn renamed_parameters_and_many_fields() {
    type W = Wide<f32, Cpu>;
    assert_eq!(W::layer_names(), ["l1", "l2", "l3", "penultimate", "l5"]);
    assert_eq!(W::L4.index(), 3);
    assert_eq!(W::layers()[0].kind, "Linear");
    // Checkpoints name the renamed layer's tensors by its field.
    assert_eq!(W::layers()[3].field_path, "l4");
    let dev = Cpu::seed_from_u64(1);
    let w = W::build(&dev);
    assert_eq!(
        w.num_trainable_params(),
        (2 * 4 + 4) + 3 * (4 * 4 + 4) + (4 + 1)
    );

    // `TensorCollection::To` maps the dtype: the f64 copy computes the same function.
    let w64: Wide<f64, Cpu> = w.clone().to_dtype::<f64>();
    let x32: Tensor<Rank2<3, 2>, f32, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    let x64 = x32.clone().to_dtype::<f64>();
    let (y32, y64) = (w.forward(x32).as_vec(), w64.forward(x64).as_vec());
    for (a, b) in y32.iter().zip(&y64) {
        assert!((*a as f64 - b).abs() < 1e-5, "{y32:?} vs {y64:?}");
    }
}

#[test]
fn the_forward_visits_every_field_in_order_with_taps_on_candidates() {
    let dev = Cpu::seed_from_u64(2);
    let mut w = Wide::<f64, Cpu>::build(&dev);
    let x: Tensor<Rank2<3, 2>, f64, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    let plain = (
        (w.l1.clone(), ReLU, w.l2.clone(), Tanh, w.l3.clone(), ReLU),
        (w.l4.clone(), Tanh, w.l5.clone()),
    );
    assert_eq!(
        w.forward(x.clone()).as_vec(),
        plain.forward(x.clone()).as_vec()
    );

    let state = AmpState::new(5, Mode::Output);
    let _run = state.activate();
    let _ = w.forward_mut(x.traced(w.alloc_grads())).sum().backward();
    let norms = state.take_output_norms();
    // Every candidate's output tap saw a gradient; the last one exactly dL/dy = 1 per row.
    assert!(norms.iter().all(|n| *n > 0.0), "{norms:?}");
    assert!((norms[4] - 3f64.sqrt()).abs() < 1e-12, "{norms:?}");
}
