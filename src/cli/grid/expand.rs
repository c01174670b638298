//! A grid file expanded into cells: one run each, with a stable id and an index.
//!
//! Order (the index, which Slurm array tasks use) is deterministic: seeds outermost, then
//! models, then configs, then the axes crossed with the last one varying fastest; each
//! amplified cell's baseline comes right before it, the first time it is needed. Adding a
//! seed therefore appends cells and keeps the indexes of the earlier ones.
//!
//! The id is a short hash of what makes the run (model, seed, data, limits and the resolved
//! config, name included), so it does not depend on the order or on the other cells: an edit
//! of the grid file changes the ids of exactly the cells whose runs change. Identical
//! baselines (same model, seed and recipe) are one cell, shared by every amplified cell
//! they pair with.

use std::collections::HashMap;

use amp_core::config::{AmpConfig, ConfigError, ExperimentConfig, SelectKind};
use xxhash_rust::xxh3::xxh3_64;

use super::super::args::ModelName;
use super::super::models::layer_infos;
use super::super::run_files::model_id;
use super::spec::{label_of, quoted, GridSpec};

/// One run of the grid.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Position in plan order (the Slurm array index).
    pub index: usize,
    /// 12 hex digits of the content hash; the name of the cell's folder.
    pub id: String,
    pub model: ModelName,
    pub seed: u64,
    /// Overrides applied, name and seed set, checked against the model.
    pub config: ExperimentConfig,
    /// The axes' labels, `(path, label)`, for reports (a baseline has its recipe axes only).
    pub labels: Vec<(String, String)>,
    /// The index of the baseline an amplified cell is compared with.
    pub baseline: Option<usize>,
}

impl Cell {
    pub fn amplified(&self) -> bool {
        self.config.amp.select.kind != SelectKind::None
    }

    /// `intelligent-cv+lr=0.1 on cnn, seed 2`.
    pub fn describe(&self) -> String {
        format!(
            "{} on {}, seed {}",
            self.config.name,
            model_id(self.model),
            self.seed
        )
    }
}

/// The expanded grid.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: GridSpec,
    pub cells: Vec<Cell>,
}

/// A value set on a config, with the grid field it came from (for errors).
struct Setting<'a> {
    path: &'a str,
    value: &'a toml::Value,
    /// `axes."train.lr"[1]`, `set."train.epochs"`.
    field: String,
}

/// What identifies a shared baseline: model, seed and recipe.
type BaselineKey = (String, String);

impl Plan {
    /// Expands `spec`: loads its configs and checks every cell against its model.
    pub fn expand(spec: GridSpec) -> Result<Plan, ConfigError> {
        let bases = load_bases(&spec)?;
        let combos = combinations(&spec);
        let mut b = Builder::default();
        for &seed in &spec.seeds {
            for &model in &spec.models {
                let layers: Vec<String> = layer_infos(model).into_iter().map(|l| l.name).collect();
                for base in &bases {
                    for combo in &combos {
                        b.add(&spec, model, &layers, seed, base, combo)?;
                    }
                }
            }
        }
        Ok(Plan {
            spec,
            cells: b.cells,
        })
    }

    /// The cell `--cell` names: an id (12 hex digits) or an index.
    pub fn find(&self, cell: &str) -> Result<&Cell, String> {
        let by_id = self.cells.iter().find(|c| c.id == cell);
        let by_index = || cell.parse::<usize>().ok().and_then(|i| self.cells.get(i));
        by_id
            .or_else(|| if cell.len() == 12 { None } else { by_index() })
            .ok_or_else(|| {
                format!(
                    "--cell {cell}: {} has no such cell (ids are 12 hex digits, indexes 0 to {}; \
                 `amp grid plan` lists them)",
                    self.spec.file(),
                    self.cells.len().saturating_sub(1)
                )
            })
    }

    /// A hash of every cell id in order: a Slurm task checks that the plan it runs in is the
    /// one it was submitted with.
    pub fn fingerprint(&self) -> String {
        let ids: Vec<&str> = self.cells.iter().map(|c| c.id.as_str()).collect();
        format!("{:012x}", xxh3_64(ids.join("\n").as_bytes()) >> 16)
    }
}

/// A base config, loaded.
struct Base {
    config: ExperimentConfig,
    /// The name its cells start from.
    name: String,
    /// `configs[i]`, for errors.
    field: String,
}

fn load_bases(spec: &GridSpec) -> Result<Vec<Base>, ConfigError> {
    spec.configs
        .iter()
        .map(|b| {
            let config = ExperimentConfig::load(&b.path)?;
            let name = b.name.clone().unwrap_or_else(|| config.name.clone());
            Ok(Base {
                config,
                name,
                field: format!("configs[{}]", b.index),
            })
        })
        .collect()
}

/// Every combination of axis values, as value indexes, the last axis fastest.
fn combinations(spec: &GridSpec) -> Vec<Vec<usize>> {
    let mut combos = vec![Vec::new()];
    for axis in &spec.axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..axis.values.len()).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    combos
}

/// Collects cells, sharing baselines and checking that names are unambiguous.
#[derive(Default)]
struct Builder {
    cells: Vec<Cell>,
    by_id: HashMap<String, usize>,
    baselines: HashMap<BaselineKey, usize>,
    /// (model, seed, name) -> id, to refuse two different runs of one name.
    names: HashMap<(String, u64, String), String>,
}

impl Builder {
    fn add(
        &mut self,
        spec: &GridSpec,
        model: ModelName,
        layers: &[String],
        seed: u64,
        b: &Base,
        combo: &[usize],
    ) -> Result<(), ConfigError> {
        let (base, base_name) = (&b.config, b.name.as_str());
        let mut settings: Vec<Setting> = spec
            .set
            .iter()
            .map(|(p, v)| Setting {
                path: p,
                value: v,
                field: quoted("set", p),
            })
            .collect();
        let mut labels = Vec::new();
        for (axis, &i) in spec.axes.iter().zip(combo) {
            settings.push(Setting {
                path: &axis.path,
                value: &axis.values[i],
                field: format!("{}[{i}]", quoted("axes", &axis.path)),
            });
            labels.push((axis.path.clone(), axis.labels[i].clone()));
        }
        let name = cell_name(base_name, &labels);
        let ctx = Context {
            spec,
            model,
            layers,
            seed,
            base_field: b.field.clone(),
        };
        let config = ctx.resolve(base, &settings, &name)?;
        if config.amp.select.kind == SelectKind::None {
            let recipe: Vec<_> = labels.into_iter().filter(|(p, _)| !is_amp(p)).collect();
            let config = ctx.resolve(
                &normalized(base),
                &recipe_only(&settings),
                &cell_name(base_name, &recipe),
            )?;
            self.baseline(&ctx, config, recipe)?;
            return Ok(());
        }
        let baseline = self.derived_baseline(&ctx, base, base_name, &settings, &labels)?;
        self.push(&ctx, config, labels, Some(baseline))?;
        Ok(())
    }

    /// The baseline of an amplified cell: its recipe (amplification settings dropped),
    /// `[baseline] set` applied, nothing amplified.
    fn derived_baseline(
        &mut self,
        ctx: &Context,
        base: &ExperimentConfig,
        base_name: &str,
        settings: &[Setting],
        labels: &[(String, String)],
    ) -> Result<usize, ConfigError> {
        let mut recipe = recipe_only(settings);
        for (p, v) in &ctx.spec.baseline_set {
            recipe.retain(|s| s.path != p);
            recipe.push(Setting {
                path: p,
                value: v,
                field: quoted("baseline.set", p),
            });
        }
        let labels: Vec<(String, String)> = labels
            .iter()
            .filter(|(p, _)| !is_amp(p))
            .map(|(p, l)| {
                let set = ctx.spec.baseline_set.iter().find(|(q, _)| q == p);
                (
                    p.clone(),
                    set.map_or_else(|| l.clone(), |(_, v)| label_of(v)),
                )
            })
            .collect();
        let plain = ctx.resolve(&normalized(base), &recipe, &cell_name("baseline", &labels))?;
        let key = (
            model_id(ctx.model),
            super::super::summary::recipe_key(&plain),
        );
        if let Some(&i) = self.baselines.get(&key) {
            return Ok(i);
        }
        // Another recipe already took the plain name (configs that differ in more than
        // amplification): this one is named after its config.
        let taken = self
            .names
            .contains_key(&(key.0.clone(), ctx.seed, plain.name.clone()));
        let config = if taken {
            let own = cell_name(&format!("{base_name}-baseline"), &labels);
            ctx.resolve(&normalized(base), &recipe, &own)?
        } else {
            plain
        };
        self.baseline(ctx, config, labels)
    }

    /// Adds a baseline cell unless one with the same recipe exists; returns its index. A
    /// written-out default schedule is dropped first, so the cell is the one of a config
    /// that omits it (same id, same record).
    fn baseline(
        &mut self,
        ctx: &Context,
        mut config: ExperimentConfig,
        labels: Vec<(String, String)>,
    ) -> Result<usize, ConfigError> {
        config.drop_default_schedule();
        let key = (
            model_id(ctx.model),
            super::super::summary::recipe_key(&config),
        );
        if let Some(&i) = self.baselines.get(&key) {
            return Ok(i);
        }
        let i = self.push(ctx, config, labels, None)?;
        self.baselines.insert(key, i);
        Ok(i)
    }

    fn push(
        &mut self,
        ctx: &Context,
        config: ExperimentConfig,
        labels: Vec<(String, String)>,
        baseline: Option<usize>,
    ) -> Result<usize, ConfigError> {
        let id = cell_id(ctx.spec, ctx.model, ctx.seed, &config);
        if let Some(&i) = self.by_id.get(&id) {
            return Ok(i);
        }
        let key = (model_id(ctx.model), ctx.seed, config.name.clone());
        if let Some(other) = self.names.get(&key) {
            return Err(ctx.spec.origin.invalid(
                "axes",
                format!(
                    "two different cells are both named `{}` on {}, seed {} (ids {other} and {id}): \
                     give the axis values distinct [labels], or the configs distinct names",
                    config.name, key.0, ctx.seed
                ),
            ));
        }
        self.names.insert(key, id.clone());
        let index = self.cells.len();
        self.by_id.insert(id.clone(), index);
        self.cells.push(Cell {
            index,
            id,
            model: ctx.model,
            seed: ctx.seed,
            config,
            labels,
            baseline,
        });
        Ok(index)
    }
}

/// Where a cell is made: for resolving configs and naming the grid field of an error.
struct Context<'a> {
    spec: &'a GridSpec,
    model: ModelName,
    layers: &'a [String],
    seed: u64,
    /// `configs[i]`: blamed for errors no setting explains.
    base_field: String,
}

impl Context<'_> {
    /// `base` with `settings`, `name` and the seed applied, parsed and checked again (and
    /// against the model's layers). An error points at the grid field that caused it.
    fn resolve(
        &self,
        base: &ExperimentConfig,
        settings: &[Setting],
        name: &str,
    ) -> Result<ExperimentConfig, ConfigError> {
        let mut doc =
            toml::Value::try_from(base).expect("a config is always representable in TOML");
        let seed = i64::try_from(self.seed).expect("grid seeds are read from TOML integers");
        let seed = toml::Value::Integer(seed);
        let named = toml::Value::String(name.to_string());
        for (path, value) in settings
            .iter()
            .map(|s| (s.path, s.value))
            .chain([("train.seed", &seed), ("name", &named)])
        {
            set_path(&mut doc, path, value.clone())
                .map_err(|m| self.blame(settings, Some(path), &m))?;
        }
        let text = toml::to_string(&doc).map_err(|e| self.blame(settings, None, &e.to_string()))?;
        let config = ExperimentConfig::from_toml_str(&text, base.origin())
            .and_then(|c| c.validate_layers(self.layers).map(|()| c))
            .map_err(|e| {
                let (field, message) = inner(&e);
                let why = match &field {
                    Some(f) => format!("{f}: {message}"),
                    None => message,
                };
                self.blame(settings, field.as_deref(), &why)
            })?;
        Ok(config.with_origin(base.origin()))
    }

    /// The error at the setting whose path is (a prefix of) `field`, else at the base config.
    fn blame(&self, settings: &[Setting], field: Option<&str>, message: &str) -> ConfigError {
        let culprit = field.and_then(|f| {
            settings.iter().rev().find(|s| {
                f == s.path
                    || f.starts_with(&format!("{}.", s.path))
                    || f.starts_with(&format!("{}[", s.path))
                    || s.path.starts_with(&format!("{f}."))
            })
        });
        let on_cell = format!("on {}, seed {}: {message}", model_id(self.model), self.seed);
        match culprit {
            // An unknown field is wrong for every model and seed: point at its key, the
            // setting's own (`"train.lrr" = [...]`) or one inside its value (`{ ratoi = 0.3 }`).
            Some(s) if message.contains(": unknown field `") => {
                let key = match field.and_then(|f| f.strip_prefix(s.path)) {
                    Some("") => s
                        .field
                        .rsplit_once('[')
                        .map_or(&*s.field, |(k, _)| k)
                        .into(),
                    Some(inside) => format!("{}{inside}", s.field),
                    None => s.field.clone(),
                };
                self.spec.origin.invalid_key(key, message)
            }
            Some(s) => self.spec.origin.invalid(&s.field, on_cell),
            None => self.spec.origin.invalid(&self.base_field, on_cell),
        }
    }
}

/// The field and message of a config error, without the location in the generated text.
fn inner(e: &ConfigError) -> (Option<String>, String) {
    match e {
        ConfigError::Syntax { field, message, .. } => (field.clone(), message.clone()),
        ConfigError::Invalid { field, message, .. } => (Some(field.clone()), message.clone()),
        ConfigError::UnknownLayer { field, error, .. } => (Some(field.clone()), error.to_string()),
        other => (None, other.to_string()),
    }
}

/// Sets the value at a dotted path, creating tables on the way.
fn set_path(doc: &mut toml::Value, path: &str, value: toml::Value) -> Result<(), String> {
    let mut node = doc;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let table = node
            .as_table_mut()
            .ok_or_else(|| format!("`{path}`: `{part}` is inside a value that is not a table"))?;
        if parts.peek().is_none() {
            table.insert(part.to_string(), value);
            return Ok(());
        }
        node = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    Ok(())
}

/// Whether a path changes amplification only (collapsed in baselines).
fn is_amp(path: &str) -> bool {
    path == "amp" || path.starts_with("amp.") || path == "schedule"
}

fn recipe_only<'a>(settings: &'a [Setting<'a>]) -> Vec<Setting<'a>> {
    settings
        .iter()
        .filter(|s| !is_amp(s.path))
        .map(|s| Setting {
            path: s.path,
            value: s.value,
            field: s.field.clone(),
        })
        .collect()
}

/// A config's baseline with its amplification settings at their defaults, so that baselines
/// of configs that differ only in amplification are one.
fn normalized(config: &ExperimentConfig) -> ExperimentConfig {
    let mut b = config.baseline();
    b.amp = AmpConfig::default();
    if let Some(phases) = b.schedule.as_mut() {
        for p in phases {
            p.amplify = false;
            p.factor = None;
        }
    }
    b
}

/// `base+lr=0.1+factor=4`: the config's name and each axis's label.
fn cell_name(base: &str, labels: &[(String, String)]) -> String {
    let mut name = base.to_string();
    for (path, label) in labels {
        let key = path.rsplit('.').next().unwrap_or(path);
        name.push_str(&format!("+{key}={label}"));
    }
    name
}

/// 12 hex digits of the hash of what makes the run.
pub fn cell_id(spec: &GridSpec, model: ModelName, seed: u64, config: &ExperimentConfig) -> String {
    let text = format!(
        "amp grid cell v1\nmodel={}\nseed={seed}\ndata={}\nlimit={:?}\ntest_limit={:?}\n{}",
        model_id(model),
        spec.data,
        spec.limit,
        spec.test_limit,
        config.to_toml()
    );
    format!("{:012x}", xxh3_64(text.as_bytes()) >> 16)
}
