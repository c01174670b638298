//! Random selection (the 2020 paper's "amp layers"): ceil(ratio x N) layers drawn uniformly
//! without replacement, reproducible from a seed.

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{MethodError, Schedule, SelectContext, Selection, Selector};

/// When a random selection is drawn again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resample {
    /// Once, at epoch 0, for the whole run (this project's default).
    #[default]
    Fixed,
    /// At the start of every phase of the schedule, each phase with its own draw.
    PerPhase,
}

/// `random { ratio, seed, resample }`.
///
/// Draw d (0 for `fixed`, the phase's index for `per_phase`) seeds rand 0.8's `StdRng` with
/// `seed ^ d * 0x9E3779B97F4A7C15`, so draw 0 uses `seed` itself and `fixed` equals the first
/// phase of `per_phase`. The stream is stable for a given rand version (pinned by Cargo.lock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Random {
    ratio: f64,
    seed: u64,
    resample: Resample,
}

impl Random {
    /// Checks that `ratio` is in (0, 1].
    pub fn new(ratio: f64, seed: u64, resample: Resample) -> Result<Self, MethodError> {
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(MethodError::BadRatio(ratio));
        }
        Ok(Self {
            ratio,
            seed,
            resample,
        })
    }

    /// ceil(ratio x n): how many of n layers are drawn. A product within 1e-9 (relative) of
    /// an integer counts as that integer, so 0.3 x 10 is 3 despite 0.3 not being exact in
    /// binary; for n >= 1 at least one layer is drawn.
    pub fn count(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let x = self.ratio * n as f64;
        let c = if (x - x.round()).abs() <= 1e-9 * x.max(1.0) {
            x.round()
        } else {
            x.ceil()
        };
        (c as usize).clamp(1, n)
    }

    /// The layers of draw `draw` among `n`, ascending.
    pub fn draw(&self, n: usize, draw: u64) -> Vec<usize> {
        let seed = self.seed ^ draw.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut picked = rand::seq::index::sample(&mut rng, n, self.count(n)).into_vec();
        picked.sort_unstable();
        picked
    }
}

impl Selector for Random {
    fn name(&self) -> String {
        let resample = match self.resample {
            Resample::Fixed => "fixed",
            Resample::PerPhase => "per_phase",
        };
        format!(
            "random(ratio {}, seed {}, resample {resample})",
            self.ratio, self.seed
        )
    }

    fn selected_at(&self, epoch: usize, schedule: &dyn Schedule) -> Option<usize> {
        match self.resample {
            Resample::Fixed => Some(0),
            Resample::PerPhase => Some(
                schedule
                    .phase(epoch)
                    .map_or(epoch, |p| p.phase.epochs.start),
            ),
        }
    }

    fn select(&self, at: usize, ctx: &SelectContext<'_>) -> Selection {
        let draw = match self.resample {
            Resample::Fixed => 0,
            Resample::PerPhase => ctx.schedule.phase(at).map_or(0, |p| p.index as u64),
        };
        Selection::of(self.draw(ctx.layers.len(), draw))
    }
}
