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

/// Epoch indices `epochs` (from 0, as in configs' `[[schedule]]` ranges) as people count them,
/// from 1: `epoch 3`, `epochs 3-4`, or `no epoch` for an empty range.
pub fn epochs_display(epochs: &Range<usize>) -> String {
    match (epochs.start + 1, epochs.end) {
        (a, b) if a == b => format!("epoch {b}"),
        (a, b) if a < b => format!("epochs {a}-{b}"),
        _ => "no epoch".to_string(),
    }
}

/// For people: epochs are counted from 1, as in the CLI's tables, progress lines and run
/// status (the fields are indices from 0, as in configs' `[[schedule]]` ranges), so
/// "from epoch 3" is the row the tables mark amplified first.
impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "from epoch {}: {} selected {}/{} layers",
            self.epoch + 1,
            self.selector,
            self.selected.len(),
            self.candidates
        )?;
        if let Some(s) = &self.scoring {
            write!(
                f,
                " (scored {}, cut {:.6})",
                epochs_display(&s.window),
                s.cut
            )?;
        }
        if !self.selected_names.is_empty() {
            write!(f, ": {}", self.selected_names.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Decision, Scoring};

    fn decision(epoch: usize, window: std::ops::Range<usize>) -> Decision {
        Decision {
            epoch,
            selector: "intelligent(cv, mean, above, observe 1, reselect every 2)".into(),
            selected: vec![1],
            selected_names: vec!["conv2".into()],
            candidates: 3,
            scoring: Some(Scoring {
                window,
                measure: "cv".into(),
                threshold: "mean".into(),
                direction: "above".into(),
                scores: vec![0.1, 0.3, 0.2],
                cut: 0.2,
            }),
        }
    }

    /// Epochs are counted from 1 for people: index 1 is "epoch 2", window 0..1 "epoch 1".
    #[test]
    fn epochs_are_counted_from_one() {
        let sel = "intelligent(cv, mean, above, observe 1, reselect every 2)";
        assert_eq!(
            decision(1, 0..1).to_string(),
            format!(
                "from epoch 2: {sel} selected 1/3 layers (scored epoch 1, cut 0.200000): conv2"
            )
        );
        assert_eq!(
            decision(3, 2..3).to_string(),
            format!(
                "from epoch 4: {sel} selected 1/3 layers (scored epoch 3, cut 0.200000): conv2"
            )
        );
        assert_eq!(
            decision(5, 0..5).to_string(),
            format!(
                "from epoch 6: {sel} selected 1/3 layers (scored epochs 1-5, cut 0.200000): conv2"
            )
        );
    }
}
