//! Checkpoints: everything a run needs to continue exactly where it stopped, in one file.
//!
//! A checkpoint is a [safetensors](https://github.com/huggingface/safetensors) file: the
//! model's tensors (`model.<path>`, running batch-norm statistics included), the SGD momentum
//! buffers (`momentum.<path>`), inside an epoch the loss guard may undo the state that epoch
//! started from (`rollback.model.<path>`, `rollback.momentum.<path>`), and in the metadata
//! the run's identity, its position (the next epoch and step), the record so far (epochs,
//! decisions, statistics history) and the accumulators of a half-finished epoch. The data
//! order and augmentation draws are derived from (seed, epoch, step) (see
//! [`super::streams`]) and the policy's state is rebuilt by replaying its plans over the
//! restored history, so neither needs storing.
//!
//! The file is written atomically (a reader sees the previous checkpoint or the new one), and
//! an xxh3 checksum over the tensor bytes and state catches a corrupted file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::guard::Rollback;
use super::tensors::{Holds, NamedTensor, TensorMismatch};
use super::{RunRecord, TrainSettings};
use crate::stats::EpochRecorder;

/// The metadata key holding the JSON state, and its format tag.
const STATE_KEY: &str = "amp_checkpoint";
const CHECKSUM_KEY: &str = "amp_checksum";
const FORMAT: u32 = 1;

/// What must be the same for a checkpoint to continue a run: a different model, config,
/// recipe or data set would silently make a different run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub name: String,
    /// The model (its name as the caller gives it) and its candidate layers.
    pub model: String,
    pub layers: Vec<String>,
    /// The resolved experiment config (TOML), empty when trained from code.
    pub config: String,
    /// The policy as it describes itself.
    pub policy: String,
    pub settings: Option<TrainSettings>,
    /// Content hash of the data set, and the limits drawn from it.
    pub data_hash: String,
    pub limit: Option<usize>,
    pub test_limit: Option<usize>,
}

impl RunIdentity {
    /// Each field where `self` (this run) and `saved` (the checkpoint's) differ, in words.
    pub fn differences(&self, saved: &RunIdentity) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |field: &str, now: String, then: String| {
            if now != then {
                out.push(format!("{field}: checkpoint `{then}`, this run `{now}`"));
            }
        };
        cmp("name", self.name.clone(), saved.name.clone());
        cmp("model", self.model.clone(), saved.model.clone());
        cmp(
            "candidate layers",
            self.layers.join(", "),
            saved.layers.join(", "),
        );
        cmp("policy", self.policy.clone(), saved.policy.clone());
        cmp(
            "training settings",
            format!("{:?}", self.settings),
            format!("{:?}", saved.settings),
        );
        cmp("data", self.data_hash.clone(), saved.data_hash.clone());
        cmp(
            "training-set limit",
            format!("{:?}", self.limit),
            format!("{:?}", saved.limit),
        );
        cmp(
            "test-set limit",
            format!("{:?}", self.test_limit),
            format!("{:?}", saved.test_limit),
        );
        if self.config != saved.config {
            let line = first_differing_line(&saved.config, &self.config);
            out.push(format!("config: {line}"));
        }
        out
    }
}

fn first_differing_line(then: &str, now: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (then.lines().collect(), now.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y {
            return format!(
                "line {}: checkpoint `{}`, this run `{}`",
                i + 1,
                x.unwrap_or("<end>"),
                y.unwrap_or("<end>")
            );
        }
    }
    "differs".to_string()
}

/// Where the run stands: the next step to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The epoch (from 0) the next step belongs to; `epochs` when the run is complete.
    pub epoch: usize,
    /// The step within that epoch (from 0).
    pub step: usize,
}

/// The accumulators of an epoch stopped between two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    pub recorder: EpochRecorder,
    pub loss_sum: f64,
    pub correct: usize,
    pub seen: usize,
    /// Wall-clock seconds the epoch had run before it stopped.
    pub seconds: f64,
}

/// The JSON part of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    pub format: u32,
    pub identity: RunIdentity,
    pub next: Position,
    /// The record so far: finished epochs, decisions, statistics history, provenance.
    pub record: RunRecord,
    pub partial: Option<PartialEpoch>,
}

/// A checkpoint read from disk: its state and tensors, not yet applied to a model.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub path: PathBuf,
    pub state: CheckpointState,
    pub model: Vec<NamedTensor>,
    pub momentum: Vec<NamedTensor>,
    /// The state the epoch in progress started from, when the loss guard may still undo it.
    pub rollback: Option<Rollback>,
}

/// Why a checkpoint could not be written, read or used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    // `error`, not `source`: the reason is in the message, and a source would print it twice
    // in an error chain (`{:#}`).
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// What to do about it is the caller's to say (resuming a run: delete it and start over).
    #[error("{path}: not a readable amp checkpoint ({why})")]
    Corrupt { path: PathBuf, why: String },
    #[error("{path}: checkpoint format {found}, this amp reads format {FORMAT}")]
    Format { path: PathBuf, found: u32 },
    #[error(
        "{path}: the checkpoint belongs to a different run:\n  - {}\n\
         use the same model, config, flags and data to resume, or start over with --force",
        .differences.join("\n  - ")
    )]
    Mismatch {
        path: PathBuf,
        differences: Vec<String>,
    },
    #[error("{path}: the checkpoint does not fit the model: {error}")]
    Tensors {
        path: PathBuf,
        error: TensorMismatch,
    },
    #[error(
        "{path}: the checkpoint belongs to a different run: replaying the policy gives another \
         plan for epoch {} ({what}); use the same config to resume, or start over with --force",
        .epoch + 1
    )]
    Replay {
        path: PathBuf,
        epoch: usize,
        what: String,
    },
}

impl Checkpoint {
    /// Writes a checkpoint atomically.
    pub fn write(
        path: &Path,
        state: &CheckpointState,
        model: &[NamedTensor],
        momentum: &[NamedTensor],
        rollback: Option<&Rollback>,
    ) -> Result<(), CheckpointError> {
        let io = |error| CheckpointError::Io {
            path: path.to_path_buf(),
            error,
        };
        let state_json = serde_json::to_string(state).map_err(|e| io(std::io::Error::other(e)))?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = (sets(model, momentum, rollback)
            .into_iter())
        .flat_map(|(prefix, _, ts)| tensors_with_prefix(prefix, ts))
        .collect();
        let checksum = checksum(
            &state_json,
            bytes.iter().map(|(n, _, b)| (n.as_str(), &b[..])),
        );
        let views = bytes.iter().map(|(name, shape, b)| {
            let view = TensorView::new(StDtype::F32, shape.clone(), b).expect("sizes match");
            (name.clone(), view)
        });
        let meta = HashMap::from([
            (STATE_KEY.to_string(), state_json),
            (CHECKSUM_KEY.to_string(), format!("{checksum:016x}")),
        ]);
        let file = safetensors::tensor::serialize(views, &Some(meta))
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        crate::io::write_atomic(path, &file).map_err(io)
    }

    /// Its tensor sets: each one's name prefix in the file, which of the model's tensors it
    /// holds, and the tensors (what a resumed run checks against its model).
    pub fn tensor_sets(&self) -> Vec<(&'static str, Holds, &[NamedTensor])> {
        sets(&self.model, &self.momentum, self.rollback.as_ref())
    }

    /// Reads and verifies a checkpoint (format, checksum); does not check it against a run.
    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|error| CheckpointError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let corrupt = |why: String| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let (_, meta) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| corrupt(format!("bad safetensors header: {e:?}")))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        let state_json = meta
            .get(STATE_KEY)
            .ok_or_else(|| corrupt("a safetensors file without amp's run state".into()))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(format!("bad safetensors data: {e:?}")))?;
        let mut tensors: Vec<(String, TensorView)> = st.tensors();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let sum = checksum(
            state_json,
            tensors.iter().map(|(n, t)| (n.as_str(), t.data())),
        );
        if meta.get(CHECKSUM_KEY) != Some(&format!("{sum:016x}")) {
            return Err(corrupt(
                "checksum mismatch: the file was changed or truncated".into(),
            ));
        }
        let state: CheckpointState = serde_json::from_str(state_json)
            .map_err(|e| corrupt(format!("unreadable run state: {e}")))?;
        check_format(path, state.format)?;
        let [model, momentum, back_model, back_momentum] = parts(tensors).map_err(corrupt)?;
        let rollback = (!back_model.is_empty()).then_some(Rollback {
            model: back_model,
            momentum: back_momentum,
        });
        Ok(Checkpoint {
            path: path.to_path_buf(),
            state,
            model,
            momentum,
            rollback,
        })
    }

    /// Where the checkpointed run stands (the next epoch and step), from the file's header
    /// alone: for showing progress (`amp grid plan`), so it reads a few kilobytes, not the
    /// tensors, and does not verify the checksum ([`Checkpoint::read`] does before resuming).
    pub fn position(path: &Path) -> Result<Position, CheckpointError> {
        #[derive(Deserialize)]
        struct Head {
            next: Position,
        }
        Ok(header_state::<Head>(path)?.next)
    }

    /// The record so far of the checkpointed run (its finished epochs, decisions and
    /// statistics) and where it stands, from the header alone as [`Checkpoint::position`]:
    /// what `amp report` shows of a run still training or interrupted.
    pub fn progress(path: &Path) -> Result<(RunRecord, Position), CheckpointError> {
        #[derive(Deserialize)]
        struct Head {
            next: Position,
            record: RunRecord,
        }
        let head = header_state::<Head>(path)?;
        Ok((head.record, head.next))
    }
}

/// The run state in a checkpoint's safetensors header, as `T` (the fields it needs), after
/// checking the format: reads the header only (a few kilobytes), not the tensors.
fn header_state<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CheckpointError> {
    use std::io::Read;
    let io = |error| CheckpointError::Io {
        path: path.to_path_buf(),
        error,
    };
    let corrupt = |why: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut read = |buf: &mut [u8]| match file.read_exact(buf) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(corrupt("the file ends inside its header".into()))
        }
        r => r.map_err(io),
    };
    let mut len = [0u8; 8];
    read(&mut len)?;
    // safetensors caps its header at 100 MB; so does this.
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err(corrupt(format!("a header of {len} bytes")));
    }
    let mut header = vec![0u8; len as usize];
    read(&mut header)?;
    #[derive(Deserialize)]
    struct Header {
        #[serde(rename = "__metadata__", default)]
        metadata: HashMap<String, String>,
    }
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let header: Header = serde_json::from_slice(&header)
        .map_err(|e| corrupt(format!("bad safetensors header: {e}")))?;
    let state = header
        .metadata
        .get(STATE_KEY)
        .ok_or_else(|| corrupt("a safetensors file without amp's run state".into()))?;
    let unreadable = |e: serde_json::Error| corrupt(format!("unreadable run state: {e}"));
    let format: Format = serde_json::from_str(state).map_err(unreadable)?;
    check_format(path, format.format)?;
    serde_json::from_str(state).map_err(unreadable)
}

/// A checkpoint of another format is refused by name, not misread.
fn check_format(path: &Path, found: u32) -> Result<(), CheckpointError> {
    if found == FORMAT {
        return Ok(());
    }
    Err(CheckpointError::Format {
        path: path.to_path_buf(),
        found,
    })
}

fn tensors_with_prefix<'a>(
    prefix: &'a str,
    ts: &'a [NamedTensor],
) -> impl Iterator<Item = (String, Vec<usize>, Vec<u8>)> + 'a {
    ts.iter().map(move |t| {
        let bytes: Vec<u8> = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        (format!("{prefix}{}", t.name), t.shape.clone(), bytes)
    })
}

/// xxh3 over the state and every tensor's name and bytes, in name order.
fn checksum<'a>(state: &str, tensors: impl Iterator<Item = (&'a str, &'a [u8])>) -> u64 {
    let mut sorted: Vec<(&str, &[u8])> = tensors.collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(state.as_bytes());
    for (name, data) in sorted {
        h.update(name.as_bytes());
        h.update(data);
    }
    h.digest()
}

/// A checkpoint file's tensor sets: each one's name prefix and which of the model's tensors
/// it holds. The last two are there inside an epoch the loss guard may undo. [`parts`] reads
/// them back in this order.
const PARTS: [(&str, Holds); 4] = [
    ("model.", Holds::Every),
    ("momentum.", Holds::Trainable),
    ("rollback.model.", Holds::Every),
    ("rollback.momentum.", Holds::Trainable),
];

/// The tensor sets, as [`PARTS`] names them, of a checkpoint with these tensors.
fn sets<'a>(
    model: &'a [NamedTensor],
    momentum: &'a [NamedTensor],
    rollback: Option<&'a Rollback>,
) -> Vec<(&'static str, Holds, &'a [NamedTensor])> {
    let mut sets = vec![model, momentum];
    if let Some(r) = rollback {
        sets.extend([&r.model[..], &r.momentum[..]]);
    }
    (PARTS.iter().zip(sets))
        .map(|(&(prefix, holds), ts)| (prefix, holds, ts))
        .collect()
}

/// A checkpoint file's tensors by [`PARTS`] prefix (stripped), as host values; why not,
/// when one is not f32 or has no known prefix.
fn parts(tensors: Vec<(String, TensorView)>) -> Result<[Vec<NamedTensor>; 4], String> {
    let mut parts: [Vec<NamedTensor>; 4] = Default::default();
    for (name, view) in tensors {
        if view.dtype() != StDtype::F32 {
            return Err(format!("tensor `{name}` is not f32"));
        }
        let (i, n) = (PARTS.iter().enumerate())
            .find_map(|(i, (p, _))| Some((i, name.strip_prefix(p)?)))
            .ok_or_else(|| format!("unexpected tensor `{name}`"))?;
        parts[i].push(NamedTensor {
            name: n.to_string(),
            shape: view.shape().to_vec(),
            values: (view.data().chunks_exact(4))
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(dtype: StDtype, shape: &[usize], data: &'a [u8]) -> TensorView<'a> {
        TensorView::new(dtype, shape.to_vec(), data).unwrap()
    }

    #[test]
    fn tensors_are_split_by_prefix_and_strangers_refused() {
        let one = 1.5f32.to_le_bytes();
        let two: Vec<u8> = [2.0f32, -3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let named = |n: &str, v| (n.to_string(), v);
        let [model, momentum, back_model, back_momentum] = parts(vec![
            named("model.fc.bias", view(StDtype::F32, &[1], &one)),
            named("rollback.momentum.fc.w", view(StDtype::F32, &[1, 2], &two)),
            named("momentum.fc.bias", view(StDtype::F32, &[1], &one)),
        ])
        .unwrap();
        let t = |name: &str, shape: &[usize], values: &[f32]| NamedTensor {
            name: name.into(),
            shape: shape.to_vec(),
            values: values.to_vec(),
        };
        assert_eq!(model, [t("fc.bias", &[1], &[1.5])]);
        assert_eq!(momentum, [t("fc.bias", &[1], &[1.5])]);
        assert!(back_model.is_empty());
        assert_eq!(back_momentum, [t("fc.w", &[1, 2], &[2.0, -3.0])]);

        let err = parts(vec![named(
            "optimizer.fc.bias",
            view(StDtype::F32, &[1], &one),
        )]);
        assert_eq!(err.unwrap_err(), "unexpected tensor `optimizer.fc.bias`");
        let err = parts(vec![named(
            "model.fc.bias",
            view(StDtype::F64, &[1], &[0; 8]),
        )]);
        assert_eq!(err.unwrap_err(), "tensor `model.fc.bias` is not f32");
    }
}
