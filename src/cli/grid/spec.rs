//! The grid file: base configs, models, seeds, the axes to cross and what the baselines are,
//! read and checked like configs (unknown keys are errors; every error names file:line:col
//! and the field, with the source line).
//!
//! ```toml
//! configs = ["../intelligent-cv-mean-lr0.4.toml", { file = "../random-r0.3-lr0.4.toml", name = "random-r0.3" }]
//! models = ["resnet18"]
//! seeds = [0, 1, 2]
//! data = "../shared/data/cifar10-jpeg.tar.gz"   # as `--data`; relative to the current folder
//! limit = 10000                                 # optional, as `--limit` / `--test-limit`
//! out = "runs/grid/section6"                    # optional; default runs/grid/<file stem>
//!
//! [set]                      # fixed values for every cell, any config field by path
//! "train.epochs" = 16
//!
//! [axes]                     # crossed: one cell per combination (per config, model, seed)
//! "train.lr" = [0.1, 0.4, 0.8]
//! "amp.factor" = [2.0, 4.0]
//!
//! [labels]                   # optional: how an axis's values appear in run names
//! "amp.factor" = ["k2", "k4"]
//!
//! [baseline]                 # optional: fields the baselines set differently
//! set = { "train.lr" = 0.1 }
//! ```
//!
//! Config paths are relative to the grid file (it ships with its configs); `data` and `out`
//! are relative to the current folder, like the flags of every other command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use amp_core::config::{ConfigError, Origin};
use amp_core::data::{DataError, DataSource};
use serde::Deserialize;

use super::super::args::ModelName;

/// One axis: a config field and the values it takes, with their labels for run names.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// A config field by path: `train.lr`, `amp.select`, `amp.select.ratio`.
    pub path: String,
    pub values: Vec<toml::Value>,
    /// One per value: `[labels]`, or made from the value (`0.1`, `intelligent-cv-mean`).
    pub labels: Vec<String>,
}

/// A base config and the name its cells start from.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseConfig {
    pub path: PathBuf,
    /// `name = ...` of the entry, else the config's own name.
    pub name: Option<String>,
    /// Index in `configs`, for errors.
    pub index: usize,
}

/// A checked grid file.
#[derive(Debug, Clone)]
pub struct GridSpec {
    /// The file, as given, and its text (errors point into it).
    pub origin: Origin,
    pub configs: Vec<BaseConfig>,
    pub models: Vec<ModelName>,
    pub seeds: Vec<u64>,
    pub data: String,
    pub limit: Option<usize>,
    pub test_limit: Option<usize>,
    pub out: PathBuf,
    /// Fixed values for every cell, in path order.
    pub set: Vec<(String, toml::Value)>,
    /// In path order; the last one varies fastest.
    pub axes: Vec<Axis>,
    /// What the baselines set on top of their amplified cells' recipe.
    pub baseline_set: Vec<(String, toml::Value)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    configs: Vec<RawConfig>,
    models: Vec<String>,
    seeds: Vec<u64>,
    #[serde(default = "synthetic")]
    data: String,
    limit: Option<usize>,
    test_limit: Option<usize>,
    out: Option<String>,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    axes: BTreeMap<String, Vec<toml::Value>>,
    #[serde(default)]
    labels: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    baseline: RawBaseline,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawConfig {
    Path(String),
    Named { file: String, name: Option<String> },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
}

fn synthetic() -> String {
    "synthetic".to_string()
}

/// `axes."train.lr"`: the field path of a key that holds dots.
pub fn quoted(table: &str, key: &str) -> String {
    format!("{table}.\"{key}\"")
}

impl GridSpec {
    /// Reads and checks the grid file at `path`; `out` (the `--out` flag) replaces its `out`.
    pub fn load(path: &Path, out: Option<&Path>) -> Result<GridSpec, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.display().to_string(),
            error,
        })?;
        GridSpec::parse(path, &text, out)
    }

    /// Parses and checks grid text; `path` names it in errors and anchors the config paths.
    pub fn parse(path: &Path, text: &str, out: Option<&Path>) -> Result<GridSpec, ConfigError> {
        let origin = Origin::new(path.display().to_string(), text);
        let raw: RawGrid = toml::from_str(text).map_err(|e| origin.syntax(text, &e))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let configs = base_configs(&origin, dir, &raw.configs)?;
        let models = models(&origin, &raw.models)?;
        check_seeds(&origin, &raw.seeds)?;
        for (field, v) in [("limit", raw.limit), ("test_limit", raw.test_limit)] {
            if v == Some(0) {
                return Err(origin.invalid(
                    field,
                    "0 leaves no image; give at least 1, or leave it out for all",
                ));
            }
        }
        let set = paths(&origin, "set", raw.set)?;
        let axes = axes(&origin, raw.axes, raw.labels)?;
        let baseline_set = paths(&origin, "baseline.set", raw.baseline.set)?;
        for (p, _) in &baseline_set {
            if p == "amp" || p.starts_with("amp.") || p == "schedule" || p.starts_with("schedule") {
                return Err(origin.invalid(
                    quoted("baseline.set", p),
                    "a baseline amplifies nothing, so its amplification settings cannot be set; \
                     set recipe fields (`train.*`) only",
                ));
            }
        }
        let default_out = || {
            let stem = path
                .file_stem()
                .map_or("grid".into(), |s| s.to_string_lossy().to_string());
            PathBuf::from("runs/grid").join(stem)
        };
        Ok(GridSpec {
            origin,
            configs,
            models,
            seeds: raw.seeds,
            data: raw.data,
            limit: raw.limit,
            test_limit: raw.test_limit,
            out: out
                .map(Path::to_path_buf)
                .or(raw.out.map(PathBuf::from))
                .unwrap_or_else(default_out),
            set,
            axes,
            baseline_set,
        })
    }

    /// The grid file's name, for messages.
    pub fn file(&self) -> &str {
        &self.origin.name
    }

    /// Checks that `data` names something that exists, before a cell starts: each cell loads
    /// the data itself, so a wrong path would otherwise start every cell, fail each the same
    /// way and leave a log per cell. (What the path holds is checked by the first cell.)
    pub fn check_data(&self) -> Result<(), ConfigError> {
        match DataSource::parse(&self.data) {
            DataSource::Path { path, .. } if !path.exists() => Err(self
                .origin
                .invalid("data", DataError::Missing { path }.to_string())),
            _ => Ok(()),
        }
    }
}

fn base_configs(
    origin: &Origin,
    dir: &Path,
    raw: &[RawConfig],
) -> Result<Vec<BaseConfig>, ConfigError> {
    if raw.is_empty() {
        return Err(origin.invalid("configs", "no config: list at least one experiment config"));
    }
    raw.iter()
        .enumerate()
        .map(|(index, c)| {
            let (file, name) = match c {
                RawConfig::Path(f) => (f, None),
                RawConfig::Named { file, name } => (file, name.clone()),
            };
            if let Some(n) = &name {
                amp_core::config::check_run_name(n)
                    .map_err(|m| origin.invalid(format!("configs[{index}].name"), m))?;
            }
            Ok(BaseConfig {
                path: dir.join(file),
                name,
                index,
            })
        })
        .collect()
}

fn models(origin: &Origin, raw: &[String]) -> Result<Vec<ModelName>, ConfigError> {
    if raw.is_empty() {
        return Err(origin.invalid(
            "models",
            "no model: list at least one (`amp layers --help` lists them)",
        ));
    }
    let mut out: Vec<ModelName> = Vec::new();
    for (i, m) in raw.iter().enumerate() {
        let model = ModelName::from_name(m).ok_or_else(|| {
            let valid: Vec<&str> = super::super::models::MODELS
                .iter()
                .map(|e| e.name)
                .collect();
            origin.invalid(
                format!("models[{i}]"),
                format!("unknown model `{m}`; valid: {}", valid.join(", ")),
            )
        })?;
        if out.contains(&model) {
            return Err(origin.invalid(format!("models[{i}]"), format!("`{m}` is listed twice")));
        }
        out.push(model);
    }
    Ok(out)
}

fn check_seeds(origin: &Origin, seeds: &[u64]) -> Result<(), ConfigError> {
    if seeds.is_empty() {
        return Err(origin.invalid(
            "seeds",
            "no seed: list at least one (e.g. `seeds = [0, 1, 2]`)",
        ));
    }
    for (i, s) in seeds.iter().enumerate() {
        if seeds[..i].contains(s) {
            return Err(origin.invalid(format!("seeds[{i}]"), format!("seed {s} is listed twice")));
        }
    }
    Ok(())
}

/// Checks the paths of `[set]`-like tables: config fields, not `name`, `model` or `seed`.
fn paths(
    origin: &Origin,
    table: &str,
    raw: BTreeMap<String, toml::Value>,
) -> Result<Vec<(String, toml::Value)>, ConfigError> {
    raw.into_iter()
        .map(|(path, value)| {
            check_path(&path).map_err(|m| origin.invalid_key(quoted(table, &path), m))?;
            Ok((path, value))
        })
        .collect()
}

/// Why `path` cannot be overridden, if it cannot.
fn check_path(path: &str) -> Result<(), String> {
    let first = path.split('.').next().unwrap_or("");
    match first {
        "model" | "models" => {
            Err("the model is not a config field: list models in `models`".into())
        }
        "seed" | "seeds" | "train.seed" => Err("seeds are listed in `seeds`".into()),
        "name" => Err("cell names are made from the config's name and the axis labels".into()),
        _ if path == "train.seed" => Err("seeds are listed in `seeds`".into()),
        "train" | "amp" | "schedule" => {
            let ident =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !path.split('.').all(ident) {
                Err(format!(
                    "`{path}` is not a field path (`train.lr`, `amp.select.ratio`)"
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(format!(
            "`{path}` is not a config field: paths start with `train.`, `amp.` or are `schedule`"
        )),
    }
}

fn axes(
    origin: &Origin,
    raw: BTreeMap<String, Vec<toml::Value>>,
    mut labels: BTreeMap<String, Vec<String>>,
) -> Result<Vec<Axis>, ConfigError> {
    let mut out = Vec::new();
    for (path, values) in raw {
        let field = quoted("axes", &path);
        check_path(&path).map_err(|m| origin.invalid_key(&field, m))?;
        if values.is_empty() {
            return Err(origin.invalid(field, "no value: an axis needs at least one"));
        }
        let labels = match labels.remove(&path) {
            Some(l) => given_labels(origin, &path, l, values.len())?,
            None => values.iter().map(label_of).collect(),
        };
        for (i, l) in labels.iter().enumerate() {
            if labels[..i].contains(l) {
                return Err(origin.invalid(
                    format!("{field}[{i}]"),
                    format!("two values make the same label `{l}`; name them in [labels]"),
                ));
            }
        }
        out.push(Axis {
            path,
            values,
            labels,
        });
    }
    if let Some(path) = labels.keys().next() {
        return Err(origin.invalid(
            quoted("labels", path),
            format!("there is no axis `{path}` to label"),
        ));
    }
    Ok(out)
}

fn given_labels(
    origin: &Origin,
    path: &str,
    labels: Vec<String>,
    n: usize,
) -> Result<Vec<String>, ConfigError> {
    let field = quoted("labels", path);
    if labels.len() != n {
        return Err(origin.invalid(field, format!("{} labels for {n} values", labels.len())));
    }
    for (i, l) in labels.iter().enumerate() {
        if l.is_empty() || l != &sanitize(l) {
            return Err(origin.invalid(
                format!("{field}[{i}]"),
                format!("`{l}`: a label holds letters, digits, `-`, `_` and `.` only"),
            ));
        }
    }
    Ok(labels)
}

/// A value as it appears in run names: numbers and strings as written, arrays as their values
/// joined by `-`, a table with a `kind` as its kind and values (`{ kind = "random", ratio =
/// 0.3 }` -> `random-0.3`), one without as keys and values (`{ top_k = 3 }` -> `top_k-3`: a
/// bare `3` would not say what it counts).
pub fn label_of(v: &toml::Value) -> String {
    let raw = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(a) => a.iter().map(label_of).collect::<Vec<_>>().join("-"),
        toml::Value::Table(t) => match t.get("kind") {
            // `kind` first: it says the most.
            Some(kind) => std::iter::once(label_of(kind))
                .chain(
                    t.iter()
                        .filter(|(k, _)| *k != "kind")
                        .map(|(_, v)| label_of(v)),
                )
                .collect::<Vec<_>>()
                .join("-"),
            None => t
                .iter()
                .map(|(k, v)| format!("{k}-{}", label_of(v)))
                .collect::<Vec<_>>()
                .join("-"),
        },
    };
    sanitize(&raw)
}

/// Keeps the characters a run name may hold besides the `+` and `=` that join labels.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
