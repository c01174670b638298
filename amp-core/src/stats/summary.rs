//! Count, mean, standard deviation, min and max of a series, accumulated one value at a time.

use serde::{Deserialize, Serialize};

/// Running summary of a series of values (Welford's algorithm, so no values are kept).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: u64,
    /// Arithmetic mean (NaN when empty).
    #[serde(with = "crate::io::nan_as_null")]
    pub mean: f64,
    /// Population standard deviation (NaN when empty).
    #[serde(with = "crate::io::nan_as_null")]
    pub std: f64,
    /// Smallest value (NaN when empty).
    #[serde(with = "crate::io::nan_as_null")]
    pub min: f64,
    /// Largest value (NaN when empty).
    #[serde(with = "crate::io::nan_as_null")]
    pub max: f64,
}

impl Summary {
    /// The summary of `values`.
    pub fn of(values: &[f64]) -> Self {
        let mut acc = SummaryAcc::default();
        values.iter().for_each(|&v| acc.push(v));
        acc.summary()
    }
}

/// Accumulates a [`Summary`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryAcc {
    count: u64,
    #[serde(with = "crate::io::nan_as_null")]
    mean: f64,
    #[serde(with = "crate::io::nan_as_null")]
    m2: f64,
    #[serde(with = "crate::io::nan_as_null")]
    min: f64,
    #[serde(with = "crate::io::nan_as_null")]
    max: f64,
}

impl SummaryAcc {
    /// Adds one value.
    pub fn push(&mut self, v: f64) {
        self.count += 1;
        if self.count == 1 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        let delta = v - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (v - self.mean);
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        if self.count == 0 {
            return Summary {
                count: 0,
                mean: f64::NAN,
                std: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        Summary {
            count: self.count,
            mean: self.mean,
            std: (self.m2 / self.count as f64).max(0.0).sqrt(),
            min: self.min,
            max: self.max,
        }
    }
}
