//! Why a method piece could not be built. Configs add the file and field to these.

use std::ops::Range;

/// A list of phases that is not a schedule: phases are numbered in the order given, from 0.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// A run of zero epochs.
    #[error("a run needs at least one epoch")]
    NoEpochs,
    /// No phase at all.
    #[error("the schedule has no phases")]
    NoPhases,
    /// A phase `a..b` with b <= a.
    #[error("phase {phase} (epochs {range:?}) is empty: its end must be greater than its start")]
    EmptyPhase {
        /// The phase's number.
        phase: usize,
        /// Its epochs.
        range: Range<usize>,
    },
    /// Two phases claim the same epochs.
    #[error("phases {first} (epochs {first_range:?}) and {second} (epochs {second_range:?}) overlap on epochs {overlap:?}")]
    Overlap {
        /// The phase that starts first.
        first: usize,
        /// Its epochs.
        first_range: Range<usize>,
        /// The phase that starts inside it.
        second: usize,
        /// Its epochs.
        second_range: Range<usize>,
        /// The epochs both claim.
        overlap: Range<usize>,
    },
    /// Epochs that no phase covers.
    #[error("epochs {gap:?} are in no phase{}", gap_context(*.after, *.before))]
    Gap {
        /// The uncovered epochs.
        gap: Range<usize>,
        /// The phase that ends where the gap starts, if any.
        after: Option<usize>,
        /// The phase that starts where the gap ends, if any.
        before: Option<usize>,
    },
    /// A phase reaching past the run's last epoch.
    #[error("phase {phase} (epochs {range:?}) runs past the end of the run ({epochs} epochs: 0..{epochs})")]
    PastEnd {
        /// The phase's number.
        phase: usize,
        /// Its epochs.
        range: Range<usize>,
        /// The run's epoch count.
        epochs: usize,
    },
    /// A learning rate that is not positive and finite.
    #[error("phase {phase}: lr = {lr} must be positive and finite")]
    BadLr {
        /// The phase's number.
        phase: usize,
        /// The value given.
        lr: f64,
    },
    /// An amplification factor that is not positive and finite.
    #[error("phase {phase}: factor = {factor} must be positive and finite")]
    BadFactor {
        /// The phase's number.
        phase: usize,
        /// The value given.
        factor: f64,
    },
}

fn gap_context(after: Option<usize>, before: Option<usize>) -> String {
    match (after, before) {
        (Some(a), Some(b)) => format!(" (between phase {a} and phase {b})"),
        (Some(a), None) => format!(" (after phase {a}, the last one)"),
        (None, Some(b)) => format!(" (before phase {b}, the first one)"),
        (None, None) => String::new(),
    }
}

/// A method piece with parameters outside their domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MethodError {
    /// See [`ScheduleError`].
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// An observation window too short for the measure.
    #[error("observe_epochs = {observe_epochs}, but measure `{measure}` needs at least {needs} observed epochs")]
    ObserveTooShort {
        /// The measure's name.
        measure: String,
        /// Its [`crate::method::Measure::min_epochs`].
        needs: usize,
        /// The value given.
        observe_epochs: usize,
    },
    /// `reselect = { every = 0 }`.
    #[error("reselect every 0 epochs: the period must be at least 1")]
    ReselectZero,
    /// A random ratio outside (0, 1].
    #[error("ratio = {0} must be in (0, 1]")]
    BadRatio(f64),
    /// A quantile outside [0, 1].
    #[error("quantile = {0} must be in [0, 1]")]
    BadQuantile(f64),
    /// `top_k = 0`.
    #[error("top_k = 0 would never select a layer: it must be at least 1")]
    BadTopK,
    /// A non-finite fixed threshold.
    #[error("fixed = {0} must be finite")]
    BadFixed(f64),
    /// An amplification factor k that is not positive and finite.
    #[error("factor = {0} must be positive and finite")]
    BadFactor(f64),
}
