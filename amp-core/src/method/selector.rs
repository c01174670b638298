//! Selectors: which candidate layers are amplified, from which epoch on.
//!
//! A selector is a pure function of the epoch, the schedule and the statistics history: it says
//! when the selection in force at an epoch was made ([`Selector::selected_at`]) and what it is
//! ([`Selector::select`]). The policy recomputes only when that epoch changes, so a resumed run
//! re-derives the same selection without replaying earlier epochs.

use super::{Schedule, Scoring};
use crate::registry::UnknownLayer;
use crate::stats::StatsHistory;

/// What a selector may look at.
pub struct SelectContext<'a> {
    /// Candidate layer names, in forward order.
    pub layers: &'a [String],
    /// Statistics of every finished epoch.
    pub history: &'a StatsHistory,
    /// The run's schedule.
    pub schedule: &'a dyn Schedule,
}

/// A selection: the layers (ascending indices) and, for score-based selectors, how.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Indices of the selected layers, ascending, without duplicates.
    pub selected: Vec<usize>,
    /// Scores and cut, for score-based selectors.
    pub scoring: Option<Scoring>,
}

impl Selection {
    /// A selection made without scores.
    pub fn of(selected: Vec<usize>) -> Self {
        Self {
            selected,
            scoring: None,
        }
    }
}

/// Which layers are amplified. Object safe; implement it for a new selection rule.
pub trait Selector: Send {
    /// The name used in reports, with parameters.
    fn name(&self) -> String;

    /// The epoch at which the selection in force at `epoch` is made (at most `epoch`), or
    /// `None` while no layer may be amplified (observation, or a selector that never selects).
    fn selected_at(&self, epoch: usize, schedule: &dyn Schedule) -> Option<usize>;

    /// The selection made at the start of epoch `at`, a value [`Selector::selected_at`] returned.
    fn select(&self, at: usize, ctx: &SelectContext<'_>) -> Selection;
}

impl<S: Selector + ?Sized> Selector for Box<S> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn selected_at(&self, epoch: usize, schedule: &dyn Schedule) -> Option<usize> {
        (**self).selected_at(epoch, schedule)
    }
    fn select(&self, at: usize, ctx: &SelectContext<'_>) -> Selection {
        (**self).select(at, ctx)
    }
}

/// `all`: every candidate layer, from epoch 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct All;

impl Selector for All {
    fn name(&self) -> String {
        "all".into()
    }
    fn selected_at(&self, _: usize, _: &dyn Schedule) -> Option<usize> {
        Some(0)
    }
    fn select(&self, _: usize, ctx: &SelectContext<'_>) -> Selection {
        Selection::of((0..ctx.layers.len()).collect())
    }
}

/// `none`: no layer, ever (baselines). Makes no decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoLayers;

impl Selector for NoLayers {
    fn name(&self) -> String {
        "none".into()
    }
    fn selected_at(&self, _: usize, _: &dyn Schedule) -> Option<usize> {
        None
    }
    fn select(&self, _: usize, _: &SelectContext<'_>) -> Selection {
        Selection::of(Vec::new())
    }
}

/// `explicit [names]`: the listed layers, from epoch 0. A name is a layer's dotted name
/// (`layer1.0.conv1`) or a block's (`layer1`, `layer1.0`), which stands for every candidate
/// inside it: "amplify the first stage" is one name, not eighteen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explicit {
    indices: Vec<usize>,
}

/// The candidates `name` stands for among `layers`, ascending: the layer of that name, or
/// else every layer inside the block of that name (`layer1` holds `layer1.0.conv1`, not
/// `layer10.conv1`); empty when it names neither.
pub fn layers_named(name: &str, layers: &[String]) -> Vec<usize> {
    if let Some(i) = layers.iter().position(|l| l == name) {
        return vec![i];
    }
    let inside = |l: &String| {
        l.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    (0..layers.len()).filter(|&i| inside(&layers[i])).collect()
}

impl Explicit {
    /// The layers called `names` among `layers`, each a layer or a block ([`layers_named`]);
    /// a layer named twice (itself and its block) counts once. The error names the first name
    /// that matches nothing and lists the valid layers.
    pub fn new<S: AsRef<str>>(names: &[S], layers: &[String]) -> Result<Self, UnknownLayer> {
        let mut indices = Vec::new();
        for n in names {
            let hit = layers_named(n.as_ref(), layers);
            if hit.is_empty() {
                return Err(UnknownLayer::new(n.as_ref(), layers.to_vec()));
            }
            indices.extend(hit);
        }
        indices.sort_unstable();
        indices.dedup();
        Ok(Self { indices })
    }

    /// The layers `ids` of model `M` (`Explicit::from_ids(&[Net::FC1, Net::RES.layer(Res::CONV)])`);
    /// duplicates count once. Typed ids cannot name a layer the model lacks, so this cannot fail.
    pub fn from_ids<M: ?Sized>(ids: &[crate::LayerId<M>]) -> Self {
        let mut indices: Vec<usize> = ids.iter().map(|id| id.index()).collect();
        indices.sort_unstable();
        indices.dedup();
        Self { indices }
    }

    /// The selected indices, ascending.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl Selector for Explicit {
    fn name(&self) -> String {
        "explicit".into()
    }
    fn selected_at(&self, _: usize, _: &dyn Schedule) -> Option<usize> {
        Some(0)
    }
    fn select(&self, _: usize, _: &SelectContext<'_>) -> Selection {
        Selection::of(self.indices.clone())
    }
}
