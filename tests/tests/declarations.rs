//! Declarations that cannot silently go wrong (issue 9). Mistakes the types can see are
//! compile errors (`tests/ui`); the others are caught on the first step by
//! `amp_core::tap::check_taps`, which these tests drive directly (an own loop) and through
//! the trainer. Also: `forward_once!`, typed ids of nested layers, raw identifiers and the
//! `crate = "..."` option.

use amp_core::data::{synthetic, ImageSet, SyntheticSpec};
use amp_core::method::{Explicit, Phase, PhaseSchedule, Policy};
use amp_core::tap::{check_taps, TapProblem};
use amp_core::train::{train, Silent, TrainError, TrainSettings};
use amp_core::{amplifiable, AmpDevice, AmpDtype, AmpState, Amplifiable, Candidate, LayerId, Mode};
use dfdx::nn::modules::{Linear, ReLU, Tanh};
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{NonMutableModule, ZeroSizedModule};
use dfdx::prelude::*;

/// y = x + tanh(fc(x)), written once for `Module` and `ModuleMut`.
#[amplifiable(forward = manual)]
struct Res<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    #[amp(skip)]
    act: Tanh,
}

amp_core::forward_once! {
    impl[B: Dim, E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>] Res<E, D>,
    |t, x: Tensor<(B, Const<2>), E, D, T>| -> Result<Tensor<(B, Const<2>), E, D, T>, D::Err>
    {
        let h = fwd!(t.fc, x.with_empty_tape())?;
        let h = fwd!(t.act, h)?;
        h.try_add(x)
    }
}

#[amplifiable]
struct Net<E: Dtype, D: Device<E>> {
    first: Linear<2, 2, E, D>,
    #[amp(block)]
    res: Res<E, D>,
    last: Linear<2, 2, E, D>,
}

/// One training step of an own loop; returns the output-gradient norms.
fn step<M>(model: &mut M, state: &AmpState, dev: &Cpu) -> Vec<f64>
where
    M: TensorCollection<f64, Cpu>
        + ModuleMut<
            Tensor<Rank2<3, 2>, f64, Cpu, OwnedTape<f64, Cpu>>,
            Output = Tensor<Rank2<3, 2>, f64, Cpu, OwnedTape<f64, Cpu>>,
        >,
{
    let x: Tensor<Rank2<3, 2>, f64, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    let grads = model.alloc_grads();
    {
        let _run = state.activate();
        let _ = model.forward_mut(x.traced(grads)).sum().backward();
    }
    state.take_output_norms()
}

#[test]
fn a_forward_written_once_taps_every_layer_once() {
    let dev = Cpu::seed_from_u64(1);
    let mut net = Net::<f64, Cpu>::build(&dev);
    let x: Tensor<Rank2<3, 2>, f64, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    let h = net.first.forward(x.clone());
    let plain = net
        .last
        .forward(h.clone() + Tanh.forward(net.res.fc.forward(h)));
    assert_eq!(net.forward(x).as_vec(), plain.as_vec());

    let state = AmpState::new(3, Mode::Output);
    let norms = step(&mut net, &state, &dev);
    assert!(norms.iter().all(|n| *n > 0.0), "{norms:?}");
    assert_eq!(check_taps(&net, &state), Ok(()));
}

#[test]
fn nested_layers_have_typed_ids_that_policies_accept() {
    type N = Net<f32, Cpu>;
    const RES_FC: LayerId<N> = N::RES.layer(Res::FC);
    assert_eq!(RES_FC, LayerId::<N>::from_name("res.fc").unwrap());
    assert_eq!(RES_FC.name(), "res.fc");
    assert_eq!(N::LAST.index(), 2);
    let explicit = Explicit::from_ids(&[N::LAST, RES_FC, N::LAST]);
    assert_eq!(explicit.indices(), &[1, 2]);
}

/// The second mistake: the manual forward calls `self.fc`, so `fc`'s taps never run.
#[amplifiable(forward = manual)]
struct Bypass<E: Dtype, D: Device<E>> {
    fc: Linear<48, 4, E, D>,
}

impl<E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>> Module<Tensor<(usize, Const<48>), E, D, T>>
    for Bypass<E, D>
{
    type Output = Tensor<(usize, Const<4>), E, D, T>;
    type Error = D::Err;
    fn try_forward(&self, x: Tensor<(usize, Const<48>), E, D, T>) -> Result<Self::Output, D::Err> {
        self.fc.try_forward(x)
    }
}

impl<E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>> ModuleMut<Tensor<(usize, Const<48>), E, D, T>>
    for Bypass<E, D>
{
    type Output = Tensor<(usize, Const<4>), E, D, T>;
    type Error = D::Err;
    fn try_forward_mut(
        &mut self,
        x: Tensor<(usize, Const<48>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        self.fc.try_forward_mut(x)
    }
}

fn tiny_data() -> (ImageSet, ImageSet) {
    synthetic(&SyntheticSpec {
        classes: 4,
        train: 32,
        test: 8,
        size: 4,
        seed: 3,
        ..SyntheticSpec::default()
    })
}

#[test]
fn the_trainer_rejects_a_layer_called_around_its_taps_on_the_first_step() {
    type B = Bypass<f32, Cpu>;
    let (train_set, test_set) = tiny_data();
    let dev = Cpu::seed_from_u64(7);
    let mut model = B::build(&dev);
    let schedule = PhaseSchedule::new(
        1,
        vec![Phase {
            epochs: 0..1,
            lr: 0.1,
            amplify: true,
            factor: 2.0,
            warmup: false,
        }],
    )
    .unwrap();
    let mut policy = Policy::new(B::layer_names(), Explicit::from_ids(&[B::FC]), schedule);
    let settings = TrainSettings {
        epochs: 1,
        batch_size: 16,
        ..TrainSettings::default()
    };
    let err = train::<B, (usize, Const<48>), Cpu, 4>(
        "bypass",
        &mut model,
        &dev,
        &train_set,
        &test_set,
        &settings,
        &mut policy,
        &mut Silent,
    )
    .unwrap_err();
    let TrainError::Taps(e) = &err else {
        panic!("expected a tap error, got {err}");
    };
    assert_eq!(
        e.problems,
        vec![TapProblem::NotTapped { layer: "fc".into() }]
    );
    let msg = err.to_string();
    assert!(msg.contains("`fc` ran without its taps"), "{msg}");
    assert!(
        msg.contains("`t.fc`") && msg.contains("not `self.fc`"),
        "{msg}"
    );
}

/// The first mistake, forced past the compile-time check by a hand-written
/// `Candidate`: a module that runs an #[amplifiable] block's forward without `#[amp(block)]`.
#[amplifiable]
struct Inner<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
}

struct Hidden<E: Dtype, D: Device<E>> {
    inner: Inner<E, D>,
}

impl<E: AmpDtype, D: AmpDevice<E>> TensorCollection<E, D> for Hidden<E, D> {
    type To<E2: Dtype, D2: Device<E2>> = Hidden<E2, D2>;
    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            Self::module("inner", |s| &s.inner, |s| &mut s.inner),
            |inner| Hidden { inner },
        )
    }
}

impl<E: Dtype, D: Device<E>> Candidate for Hidden<E, D> {}

impl<E: Dtype, D: Device<E>, X> Module<X> for Hidden<E, D>
where
    Inner<E, D>: Module<X>,
{
    type Output = <Inner<E, D> as Module<X>>::Output;
    type Error = <Inner<E, D> as Module<X>>::Error;
    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        self.inner.try_forward(x)
    }
}

impl<E: Dtype, D: Device<E>, X> ModuleMut<X> for Hidden<E, D>
where
    Inner<E, D>: ModuleMut<X>,
{
    type Output = <Inner<E, D> as ModuleMut<X>>::Output;
    type Error = <Inner<E, D> as ModuleMut<X>>::Error;
    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        self.inner.try_forward_mut(x)
    }
}

#[amplifiable]
struct Outer<E: Dtype, D: Device<E>> {
    first: Linear<2, 2, E, D>,
    inner: Hidden<E, D>,
}

#[test]
fn a_block_run_inside_a_candidate_is_reported_with_both_layers() {
    let dev = Cpu::seed_from_u64(2);
    let mut net = Outer::<f64, Cpu>::build(&dev);
    let state = AmpState::new(2, Mode::Output);
    let _ = step(&mut net, &state, &dev);
    let problems = check_taps(&net, &state).unwrap_err().problems;
    // `inner.fc`'s tap took `first`'s index: `first` looks tapped twice, and ran nested.
    assert_eq!(
        problems,
        vec![
            TapProblem::TappedTwice {
                layer: "first".into(),
                times: 2
            },
            TapProblem::Nested {
                layer: "first".into(),
                outer: "inner".into()
            },
        ]
    );
    let msg = check_taps(&net, &state).unwrap_err().to_string();
    assert!(msg.contains("mark its field `#[amp(block)]`"), "{msg}");
}

/// The third mistake, forced past the compile-time check: a parameterless module
/// declared a candidate by hand.
#[derive(Debug, Clone, Copy, Default)]
struct MyRelu;
impl ZeroSizedModule for MyRelu {}
impl NonMutableModule for MyRelu {}
impl Candidate for MyRelu {}
impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for MyRelu {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;
    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        x.try_relu()
    }
}

#[amplifiable]
struct WithAct<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    act: MyRelu,
}

#[test]
fn a_parameterless_candidate_is_reported() {
    let dev = Cpu::seed_from_u64(3);
    let mut net = WithAct::<f64, Cpu>::build(&dev);
    let state = AmpState::new(2, Mode::Output);
    let _ = step(&mut net, &state, &dev);
    let err = check_taps(&net, &state).unwrap_err();
    assert_eq!(
        err.problems,
        vec![TapProblem::NoParameters {
            layer: "act".into()
        }]
    );
    assert!(err.to_string().contains("mark its field `#[amp(skip)]`"));
}

#[test]
fn a_run_state_of_the_wrong_size_is_reported() {
    let dev = Cpu::seed_from_u64(3);
    let net = Net::<f64, Cpu>::build(&dev);
    let err = check_taps(&net, &AmpState::new(2, Mode::Output)).unwrap_err();
    assert_eq!(
        err.problems,
        vec![TapProblem::StateSize { state: 2, model: 3 }]
    );
}

/// amp-core re-exported under another path, as a library built on amp would.
mod reexport {
    pub use amp_core as amp;
}

#[amplifiable(crate = "crate::reexport::amp")]
struct Raw<E: Dtype, D: Device<E>> {
    r#type: Linear<2, 2, E, D>,
    #[amp(skip)]
    r#fn: ReLU,
    #[amp(block)]
    r#in: Inner<E, D>,
}

#[test]
fn raw_identifiers_and_a_renamed_crate_path_work() {
    type R = Raw<f64, Cpu>;
    assert_eq!(R::layer_names(), ["type", "in.fc"]);
    assert_eq!(R::TYPE.index(), 0);
    assert_eq!(R::IN.layer(Inner::FC).index(), 1);
    let dev = Cpu::seed_from_u64(4);
    let mut net = R::build(&dev);
    let x: Tensor<Rank2<3, 2>, f64, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    let plain = net
        .r#in
        .fc
        .forward(ReLU.forward(net.r#type.forward(x.clone())));
    assert_eq!(net.forward(x).as_vec(), plain.as_vec());
    let state = AmpState::new(2, Mode::Output);
    let _ = step(&mut net, &state, &dev);
    assert_eq!(check_taps(&net, &state), Ok(()));
}

/// A plain number among the layers: skipped, kept by dfdx as a scalar.
#[amplifiable]
#[derive(Clone)]
struct Tempered<E: Dtype, D: Device<E>> {
    fc: Linear<2, 2, E, D>,
    #[amp(skip, default = 2.0)]
    temperature: f64,
    #[amp(skip)]
    steps: usize,
}

#[test]
fn plain_number_fields_are_skipped_scalars() {
    type T = Tempered<f64, Cpu>;
    assert_eq!(T::layer_names(), ["fc"]);
    let dev = Cpu::seed_from_u64(5);
    let mut net = T::build(&dev);
    assert_eq!((net.temperature, net.steps), (2.0, 0));
    let x: Tensor<Rank2<3, 2>, f64, Cpu> = dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]]);
    assert_eq!(net.forward(x.clone()).as_vec(), net.fc.forward(x).as_vec());
    net.temperature = 0.5;
    net.steps = 7;
    let copy = net.clone();
    assert_eq!((copy.temperature, copy.steps), (0.5, 7));
    // dfdx 0.13 rebuilds scalars from their default on device and dtype moves (its own
    // batch-norm epsilon too): documented in amp-macros.
    let moved = net.to_device(&dev);
    assert_eq!((moved.temperature, moved.steps), (2.0, 0));
}
