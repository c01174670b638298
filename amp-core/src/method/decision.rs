//! The record of one (re)selection, kept in the run record so that every amplified layer set
//! can be traced back to the scores and cut that chose it.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// How a score-based selector reached its selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    /// The observation window: the epochs whose statistics were scored.
    pub window: Range<usize>,
    /// The measure's name.
    pub measure: String,
    /// The threshold's name, with its parameter.
    pub threshold: String,
    /// The direction's name.
    pub direction: String,
    /// One score per candidate layer, in layer order (NaN or inf: never selected).
    #[serde(with = "crate::io::nan_as_null::vec")]
    pub scores: Vec<f64>,
    /// The cut the threshold computed (NaN when no score was finite).
    #[serde(with = "crate::io::nan_as_null")]
    pub cut: f64,
}

/// One selection: made at the start of `epoch`, in force until the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The epoch from which this selection applies.
    pub epoch: usize,
    /// The selector that made it, with its parameters.
    pub selector: String,
    /// Indices of the selected candidate layers, ascending.
    pub selected: Vec<usize>,
    /// Their names.
    pub selected_names: Vec<String>,
    /// The number of candidate layers.
    pub candidates: usize,
    /// Scores and cut, for score-based selectors.
    pub scoring: Option<Scoring>,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}: {} selected {}/{} layers",
            self.epoch,
            self.selector,
            self.selected.len(),
            self.candidates
        )?;
        if let Some(s) = &self.scoring {
            write!(f, " (window epochs {:?}, cut {:.6})", s.window, s.cut)?;
        }
        if !self.selected_names.is_empty() {
            write!(f, ": {}", self.selected_names.join(", "))?;
        }
        Ok(())
    }
}
