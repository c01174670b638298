//! Directions: which side of the threshold's cut is amplified.
//!
//! Strict on purpose: a score equal to the cut is not selected, so `mean` over equal scores or
//! over a single layer selects nothing (no layer fluctuates more than the others), and `median`
//! over N distinct scores selects exactly floor(N/2) layers on either side.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Which side of a cut is amplified, and which scores are "furthest" on that side (for
/// thresholds that pick a count, like `top_k`).
pub trait Direction: Send {
    /// The name used in configs and reports.
    fn name(&self) -> String;

    /// Whether a finite `score` lies strictly on this side of `cut`.
    fn beyond(&self, score: f64, cut: f64) -> bool;

    /// Orders two finite scores so that the one furthest on this side comes first.
    fn rank(&self, a: f64, b: f64) -> Ordering;
}

impl<D: Direction + ?Sized> Direction for Box<D> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn beyond(&self, score: f64, cut: f64) -> bool {
        (**self).beyond(score, cut)
    }
    fn rank(&self, a: f64, b: f64) -> Ordering {
        (**self).rank(a, b)
    }
}

/// `above`: amplify the layers whose score is greater than the cut (the most fluctuating
/// layers, with the measures of this crate). This project's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Above;

impl Direction for Above {
    fn name(&self) -> String {
        "above".into()
    }
    fn beyond(&self, score: f64, cut: f64) -> bool {
        score > cut
    }
    fn rank(&self, a: f64, b: f64) -> Ordering {
        b.total_cmp(&a)
    }
}

/// `below`: amplify the layers whose score is less than the cut (the steadiest layers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Below;

impl Direction for Below {
    fn name(&self) -> String {
        "below".into()
    }
    fn beyond(&self, score: f64, cut: f64) -> bool {
        score < cut
    }
    fn rank(&self, a: f64, b: f64) -> Ordering {
        a.total_cmp(&b)
    }
}

/// The built-in directions by config name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionKind {
    /// [`Above`] (default).
    #[default]
    Above,
    /// [`Below`].
    Below,
}

impl DirectionKind {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            DirectionKind::Above => "above",
            DirectionKind::Below => "below",
        }
    }

    /// The direction itself, boxed for config-driven policies.
    pub fn build(self) -> Box<dyn Direction> {
        match self {
            DirectionKind::Above => Box::new(Above),
            DirectionKind::Below => Box::new(Below),
        }
    }
}

impl fmt::Display for DirectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
