//! The first-step check: every candidate layer's tap ran exactly once, none inside another.
//!
//! Some declaration mistakes type-check: in a `forward = manual` block, calling `self.fc`
//! instead of the tap view's `t.fc` runs the layer without its taps (its gradient is never
//! measured or amplified, yet a policy can select it); a candidate applied twice shares one
//! index; a hand-made `Candidate` that contains other candidates amplifies them twice. The
//! taps record what they did during the forward passes since [`AmpState::activate`], and
//! [`check_taps`] turns that record into an error naming each layer and the fix. The trainer
//! runs it after its first step; an own training loop should do the same.

use std::fmt;

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::NumParams;
use dfdx::prelude::{Device, Dtype};

use super::AmpState;
use crate::{LayerParams, LayerVisitor};

/// One thing wrong with how a model's candidate layers were tapped in a training step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapProblem {
    /// The layer ran without its taps, or did not run.
    NotTapped { layer: String },
    /// The layer's tap ran more than once in one step.
    TappedTwice { layer: String, times: u32 },
    /// The layer's tap ran inside the forward of another candidate layer.
    Nested { layer: String, outer: String },
    /// The candidate has no trainable parameters: its gradient statistics are always 0.
    NoParameters { layer: String },
    /// A tap ran with an index past the model's last candidate layer.
    OutOfRange { index: usize, layers: usize },
    /// The run state was made for a different number of layers than the model has.
    StateSize { state: usize, model: usize },
}

/// The problems [`check_taps`] found, each naming the layer and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TapCheckError {
    /// Every problem found, in layer order.
    pub problems: Vec<TapProblem>,
}

impl fmt::Display for TapCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the model's candidate layers are not tapped as declared:"
        )?;
        for p in &self.problems {
            write!(f, "\n- {p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TapProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TapProblem::NotTapped { layer } => {
                let field = layer.rsplit('.').next().unwrap_or(layer);
                write!(
                    f,
                    "candidate layer `{layer}` ran without its taps (or not at all): its gradient \
                     would never be measured or amplified. In a `forward = manual` block call it \
                     through the tap view, `t.{field}` with `let t = self.taps()` / \
                     `self.taps_mut()`, not `self.{field}`; a field the forward does not use \
                     should be `#[amp(skip)]`"
                )
            }
            TapProblem::TappedTwice { layer, times } => write!(
                f,
                "candidate layer `{layer}` was tapped {times} times in one step: both uses would \
                 share one index, mixing their statistics and amplifying both. Use one layer per \
                 use, or mark the field `#[amp(skip)]`"
            ),
            TapProblem::Nested { layer, outer } => write!(
                f,
                "candidate layer `{layer}` ran inside candidate layer `{outer}`: if `{outer}` is \
                 an #[amplifiable] block, mark its field `#[amp(block)]`; a candidate layer must \
                 not contain other candidates"
            ),
            TapProblem::NoParameters { layer } => write!(
                f,
                "candidate layer `{layer}` has no trainable parameters, so its gradient norm is \
                 always 0: mark its field `#[amp(skip)]` (and do not implement \
                 `amp_core::Candidate` for parameterless modules)"
            ),
            TapProblem::OutOfRange { index, layers } => write!(
                f,
                "a tap ran for layer index {index}, but the model has {layers} candidate layers: \
                 a nested #[amplifiable] block is missing `#[amp(block)]` in its parent, or a \
                 tap view was built by hand with a wrong index"
            ),
            TapProblem::StateSize { state, model } => write!(
                f,
                "the run state has {state} layers, the model {model}: build it with \
                 `AmpState::new(M::LAYER_COUNT, mode)`"
            ),
        }
    }
}

/// Checks the training step that just ran (forward and backward since the last
/// [`AmpState::activate`]): each of `model`'s candidate layers has parameters and its tap ran
/// exactly once, outside any other candidate. Call it once after the first step's backward;
/// the trainer does.
pub fn check_taps<E, D, M>(model: &M, state: &AmpState) -> Result<(), TapCheckError>
where
    E: Dtype,
    D: Device<E>,
    M: LayerParams<E, D>,
{
    let names = M::layer_names();
    if state.layers() != names.len() {
        return Err(TapCheckError {
            problems: vec![TapProblem::StateSize {
                state: state.layers(),
                model: names.len(),
            }],
        });
    }
    let log = state.tap_log();
    let mut params = ParamCounter(vec![0; names.len()]);
    model.visit_layers(0, &mut params);
    let mut problems = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let layer = name.clone();
        if params.0[i] == 0 {
            problems.push(TapProblem::NoParameters {
                layer: layer.clone(),
            });
        }
        match log.counts[i] {
            0 => problems.push(TapProblem::NotTapped { layer }),
            1 => {}
            times => problems.push(TapProblem::TappedTwice { layer, times }),
        }
    }
    for &(inner, outer) in &log.nested {
        let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        problems.push(TapProblem::Nested {
            layer: name(inner),
            outer: name(outer),
        });
    }
    for &index in &log.out_of_range {
        problems.push(TapProblem::OutOfRange {
            index,
            layers: names.len(),
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TapCheckError { problems })
    }
}

/// Trainable parameters per candidate layer.
struct ParamCounter(Vec<usize>);

impl<E: Dtype, D: Device<E>> LayerVisitor<E, D> for ParamCounter {
    fn visit<L: TensorCollection<E, D>>(&mut self, index: usize, layer: &L) {
        if let Some(n) = self.0.get_mut(index) {
            *n += layer.num_trainable_params();
        }
    }
}
