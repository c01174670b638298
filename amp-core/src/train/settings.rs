//! The knobs of one training run that are not the amplification policy.

use super::Init;
use crate::data::Augment;
use crate::Mode;

/// How to train: optimizer, batching, augmentation, seed, tap mode.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    /// SGD momentum (PyTorch semantics: v = mu v + g; w -= lr v).
    pub momentum: f64,
    /// L2 weight decay added to the gradient before momentum.
    pub weight_decay: f64,
    pub augment: Augment,
    /// Seeds the batch order, the augmentation and [`Init::He`]'s draws (the layers' own
    /// initialization is seeded by the device the caller builds the model on).
    pub seed: u64,
    /// How a fresh run redraws the model's weights before its first step (a resumed run
    /// loads them from its checkpoint); [`Init::Default`] keeps them as built.
    #[serde(default)]
    pub init: Init,
    /// Which gradient the taps multiply.
    pub mode: Mode,
    /// Batch size for evaluation (no gradients, so it can be larger).
    pub eval_batch_size: usize,
    /// Stop the run as diverged when a mini-batch loss exceeds this (a non-finite loss or
    /// gradient always stops it). `None`: only non-finite values stop a run.
    pub max_loss: Option<f64>,
    /// After every optimizer step, rescale each candidate layer's parameters to their norm
    /// before it ([`crate::layer_weights::NormHold`]; the config's
    /// `train.hold_weight_norms`). Checkpoints from before this field read as `false`.
    #[serde(default)]
    pub hold_weight_norms: bool,
    /// The loss guard ([`super::guard`]; the config's `amp.guard`): an amplified epoch whose
    /// mean training loss so far passes this multiple of the previous epoch's is undone and
    /// trained again without amplification. `None` (and checkpoints from before this field):
    /// no guard.
    #[serde(default)]
    pub guard: Option<f64>,
}

impl Default for TrainSettings {
    /// METHOD.md section 5: SGD momentum 0.9, weight decay 5e-4, batch 128, crop 4 + flip.
    fn default() -> Self {
        Self {
            epochs: 16,
            batch_size: 128,
            momentum: 0.9,
            weight_decay: 5e-4,
            augment: Augment {
                crop_padding: 4,
                hflip: true,
            },
            seed: 0,
            init: Init::Default,
            mode: Mode::Output,
            eval_batch_size: 500,
            max_loss: None,
            hold_weight_norms: false,
            guard: None,
        }
    }
}
