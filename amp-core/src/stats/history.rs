//! Per-layer gradient statistics of a whole run (METHOD.md section 2).

use serde::{Deserialize, Serialize};

use super::{Summary, SummaryAcc};

/// What one candidate layer saw in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerEpoch {
    /// L2 norm of the layer's parameter gradient (before any `param` scaling), over the steps.
    pub param: Summary,
    /// L2 norm of dL/d(layer output) as it reached the layer's output tap, over the steps.
    pub output: Summary,
    /// The per-step parameter-gradient norms g_t themselves, in step order: the measures
    /// (`cv`, `rel_change`, `sign_flip`) are defined over them.
    #[serde(with = "crate::io::nan_as_null::vec")]
    pub param_steps: Vec<f64>,
}

/// Statistics of every candidate layer for every finished epoch of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsHistory {
    /// Candidate layer names, in forward order.
    pub layers: Vec<String>,
    /// `epochs[e][l]`: layer `l` in epoch `e`.
    pub epochs: Vec<Vec<LayerEpoch>>,
}

impl StatsHistory {
    /// An empty history for these layers.
    pub fn new(layers: Vec<String>) -> Self {
        Self {
            layers,
            epochs: Vec::new(),
        }
    }

    /// Number of candidate layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The epochs of layer `l`, oldest first.
    pub fn layer(&self, l: usize) -> impl Iterator<Item = &LayerEpoch> + '_ {
        self.epochs.iter().map(move |e| &e[l])
    }
}

/// Collects the per-step norms of the current epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecorder {
    param: Vec<SummaryAcc>,
    output: Vec<SummaryAcc>,
    #[serde(with = "nan_vecs")]
    param_steps: Vec<Vec<f64>>,
}

impl EpochRecorder {
    /// A recorder for `layers` candidate layers.
    pub fn new(layers: usize) -> Self {
        Self {
            param: vec![SummaryAcc::default(); layers],
            output: vec![SummaryAcc::default(); layers],
            param_steps: vec![Vec::new(); layers],
        }
    }

    /// Records one step: per layer, the parameter- and output-gradient norms.
    pub fn record_step(&mut self, param_norms: &[f64], output_norms: &[f64]) {
        assert_eq!(param_norms.len(), self.param.len());
        assert_eq!(output_norms.len(), self.output.len());
        for (l, (&p, &o)) in param_norms.iter().zip(output_norms).enumerate() {
            self.param[l].push(p);
            self.output[l].push(o);
            self.param_steps[l].push(p);
        }
    }

    /// Closes the epoch: its statistics, one entry per layer.
    pub fn finish(self) -> Vec<LayerEpoch> {
        self.param
            .iter()
            .zip(&self.output)
            .zip(self.param_steps)
            .map(|((p, o), steps)| LayerEpoch {
                param: p.summary(),
                output: o.summary(),
                param_steps: steps,
            })
            .collect()
    }
}

/// `Vec<Vec<f64>>` with NaN written as `null` (see [`crate::io::nan_as_null`]).
mod nan_vecs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Row(#[serde(with = "crate::io::nan_as_null::vec")] Vec<f64>);

    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<Row> = v.iter().map(|r| Row(r.clone())).collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Ok(Vec::<Row>::deserialize(d)?
            .into_iter()
            .map(|r| r.0)
            .collect())
    }
}
