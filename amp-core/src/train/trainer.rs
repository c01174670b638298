//! The training loop: SGD with momentum and weight decay, cross-entropy, a learning rate and
//! an amplification plan per epoch from the policy, taps measuring every step.

use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::{Module, ModuleMut, ZeroGrads};
use dfdx::optim::{Momentum, Optimizer, Sgd, SgdConfig, WeightDecay};
use dfdx::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{BatchShape, EpochRecord, Observer, RunRecord, TrainSettings};
use crate::data::{assemble, epoch_order, Augment, ImageSet};
use crate::layer_grads::{layer_grad_norms, scale_layer_grads};
use crate::method::AmpPolicy;
use crate::stats::{EpochRecorder, StatsHistory};
use crate::{AmpDevice, AmpState, LayerParams, Mode};

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("model and data do not fit: {0}")]
    Shape(String),
    #[error("the training set is empty")]
    EmptyData,
    #[error(
        "the policy planned {got} amplification flags for a model with {want} candidate layers"
    )]
    PlanSize { got: usize, want: usize },
    #[error("the policy plans {policy} epochs, the run has {run}")]
    EpochCount { policy: usize, run: usize },
    #[error("the policy was built for layers [{policy}], the model has [{model}]")]
    Layers { policy: String, model: String },
    #[error("the device failed: {0}")]
    Device(String),
}

/// A classifier with `C` classes taking batches of shape `S`, trainable by [`train`].
pub trait Classifier<S: Shape, D: AmpDevice<f32>, const C: usize>:
    LayerParams<f32, D>
    + TensorCollection<f32, D>
    + ModuleMut<
        Tensor<S, f32, D, OwnedTape<f32, D>>,
        Output = Tensor<(usize, Const<C>), f32, D, OwnedTape<f32, D>>,
        Error = D::Err,
    > + Module<Tensor<S, f32, D>, Output = Tensor<(usize, Const<C>), f32, D>, Error = D::Err>
{
}

impl<M, S: Shape, D: AmpDevice<f32>, const C: usize> Classifier<S, D, C> for M where
    M: LayerParams<f32, D>
        + TensorCollection<f32, D>
        + ModuleMut<
            Tensor<S, f32, D, OwnedTape<f32, D>>,
            Output = Tensor<(usize, Const<C>), f32, D, OwnedTape<f32, D>>,
            Error = D::Err,
        > + Module<Tensor<S, f32, D>, Output = Tensor<(usize, Const<C>), f32, D>, Error = D::Err>
{
}

/// Trains `model` on `train_set`, evaluating on `test_set` after every epoch.
///
/// The policy decides, at the start of each epoch, the learning rate, the factor and which
/// candidate layers are amplified; the taps read that plan in the backward pass. Every step
/// records each layer's parameter- and output-gradient norm; the policy sees the history of
/// finished epochs.
#[allow(clippy::too_many_arguments)]
pub fn train<M, S, D, const C: usize>(
    name: &str,
    model: &mut M,
    dev: &D,
    train_set: &ImageSet,
    test_set: &ImageSet,
    settings: &TrainSettings,
    policy: &mut dyn AmpPolicy,
    observer: &mut dyn Observer,
) -> Result<RunRecord, TrainError>
where
    M: Classifier<S, D, C>,
    S: BatchShape,
    D: AmpDevice<f32>,
{
    if train_set.is_empty() {
        return Err(TrainError::EmptyData);
    }
    S::for_batch(1, train_set.shape).map_err(TrainError::Shape)?;
    if train_set.classes.len() > C {
        return Err(TrainError::Shape(format!(
            "the dataset has {} classes, the model outputs {C}",
            train_set.classes.len()
        )));
    }

    let layers = M::layer_names();
    if policy.epochs() != settings.epochs {
        return Err(TrainError::EpochCount {
            policy: policy.epochs(),
            run: settings.epochs,
        });
    }
    if policy.layers() != layers.as_slice() {
        return Err(TrainError::Layers {
            policy: policy.layers().join(", "),
            model: layers.join(", "),
        });
    }
    let state = AmpState::new(layers.len(), settings.mode);
    let mut history = StatsHistory::new(layers.clone());
    let mut record = RunRecord {
        name: name.to_string(),
        config: String::new(),
        policy: policy.describe(),
        mode: settings.mode.to_string(),
        layers: layers.clone(),
        epochs: Vec::new(),
        decisions: Vec::new(),
        stats: history.clone(),
    };
    let mut opt = Sgd::new(
        model,
        SgdConfig {
            lr: 0.0,
            momentum: (settings.momentum != 0.0).then_some(Momentum::Classic(settings.momentum)),
            weight_decay: (settings.weight_decay != 0.0)
                .then_some(WeightDecay::L2(settings.weight_decay)),
        },
    );
    let mut rng = StdRng::seed_from_u64(settings.seed);
    // Padding is black before normalization; the sets are normalized, so black is the
    // per-channel value of zero, which the caller recorded in the set's statistics.
    let pad = black_after_normalization(train_set);
    let mut grads = model.alloc_grads();

    for epoch in 0..settings.epochs {
        let started = Instant::now();
        let plan = policy.plan_epoch(epoch, &history);
        if plan.amplified.len() != layers.len() {
            return Err(TrainError::PlanSize {
                got: plan.amplified.len(),
                want: layers.len(),
            });
        }
        state.set_amplified(&plan.amplified, plan.factor);
        opt.cfg.lr = plan.lr;
        if let Some(d) = plan.decision.clone() {
            record.decisions.push(d);
        }

        let order = epoch_order(train_set.len(), settings.batch_size, &mut rng);
        observer.epoch_started(epoch, order.len());
        let mut recorder = EpochRecorder::new(layers.len());
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for (step, idx) in order.iter().enumerate() {
            opt.cfg.lr = plan.lr_at(step, order.len());
            let batch = assemble(train_set, idx, settings.augment, &pad, &mut rng);
            let shape = S::for_batch(idx.len(), train_set.shape).map_err(TrainError::Shape)?;
            let x = dev.tensor_from_vec(batch.pixels, shape);
            let y = one_hot::<D, C>(dev, &batch.labels);

            let (loss, logits) = {
                let _active = state.activate();
                let logits = model
                    .try_forward_mut(x.trace(grads))
                    .map_err(|e| TrainError::Device(format!("{e:?}")))?;
                let logits_values = logits.as_vec();
                let loss = cross_entropy_with_logits_loss(logits, y);
                let loss_value = loss.as_vec()[0] as f64;
                grads = loss.backward();
                (loss_value, logits_values)
            };
            let param_norms = layer_grad_norms(model, &mut grads);
            let output_norms = state.take_output_norms();
            if settings.mode == Mode::Param {
                scale_layer_grads(model, &mut grads, &state.factors());
            }
            opt.update(model, &grads)
                .map_err(|e| TrainError::Device(format!("{e:?}")))?;
            model.zero_grads(&mut grads);

            recorder.record_step(&param_norms, &output_norms);
            loss_sum += loss * idx.len() as f64;
            correct += count_correct::<C>(&logits, &batch.labels);
            seen += idx.len();
            observer.step_finished(step, loss);
        }
        history.epochs.push(recorder.finish());

        let test_acc = evaluate::<M, S, D, C>(model, dev, test_set, settings.eval_batch_size)?;
        let epoch_record = EpochRecord {
            epoch,
            lr: plan.lr,
            factor: plan.factor,
            amplified: layers
                .iter()
                .zip(&plan.amplified)
                .filter(|(_, &on)| on)
                .map(|(n, _)| n.clone())
                .collect(),
            train_loss: loss_sum / seen as f64,
            train_acc: correct as f64 / seen as f64,
            test_acc,
            seconds: started.elapsed().as_secs_f64(),
        };
        observer.epoch_finished(&epoch_record);
        record.epochs.push(epoch_record);
    }
    state.clear();
    record.stats = history;
    Ok(record)
}

/// Top-1 accuracy of `model` on `set`, without gradients (BatchNorm in evaluation mode).
pub fn evaluate<M, S, D, const C: usize>(
    model: &M,
    dev: &D,
    set: &ImageSet,
    batch_size: usize,
) -> Result<f64, TrainError>
where
    M: Classifier<S, D, C>,
    S: BatchShape,
    D: AmpDevice<f32>,
{
    if set.is_empty() {
        return Ok(f64::NAN);
    }
    let mut correct = 0;
    let all: Vec<usize> = (0..set.len()).collect();
    for idx in all.chunks(batch_size.max(1)) {
        let batch = assemble(
            set,
            idx,
            Augment::default(),
            &[],
            &mut StdRng::seed_from_u64(0),
        );
        let shape = S::for_batch(idx.len(), set.shape).map_err(TrainError::Shape)?;
        let x = dev.tensor_from_vec(batch.pixels, shape);
        let logits = model
            .try_forward(x)
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        correct += count_correct::<C>(&logits.as_vec(), &batch.labels);
    }
    Ok(correct as f64 / set.len() as f64)
}

fn one_hot<D: AmpDevice<f32>, const C: usize>(
    dev: &D,
    labels: &[usize],
) -> Tensor<(usize, Const<C>), f32, D> {
    let mut v = vec![0f32; labels.len() * C];
    for (i, &l) in labels.iter().enumerate() {
        v[i * C + l] = 1.0;
    }
    dev.tensor_from_vec(v, (labels.len(), Const::<C>))
}

fn count_correct<const C: usize>(logits: &[f32], labels: &[usize]) -> usize {
    logits
        .chunks(C)
        .zip(labels)
        .filter(|(row, &l)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
            best == l
        })
        .count()
}

/// The normalized value of a black pixel per channel, from the set's recorded normalization.
fn black_after_normalization(set: &ImageSet) -> Vec<f32> {
    set.normalization
        .as_ref()
        .map(|n| n.iter().map(|&(m, s)| -m / s).collect())
        .unwrap_or_else(|| vec![0.0; set.shape[0]])
}
