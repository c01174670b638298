//! `amp weights`: the L2 norm of each weight tensor in saved checkpoints, side by side.
//!
//! Why: amplifying a layer changes its weights, not only its gradients. Under batch norm a
//! convolution's output does not depend on its weights' scale, so its gradient shrinks as
//! 1/‖w‖ and a step moves it by about lr/‖w‖² of its size: a run whose amplified steps grew
//! ‖w‖ trains that layer more slowly ever after. The record holds gradient norms; the
//! weights are in the checkpoint a run leaves (`<name>-<model>-seed<seed>.ckpt.safetensors`,
//! the last epoch's state once the run is finished).

use std::path::{Path, PathBuf};

use amp_core::train::tensors::NamedTensor;
use amp_core::train::Checkpoint;
use amp_core::LayerInfo;
use anyhow::{bail, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::args::WeightsArgs;
use super::models::{layer_infos, ModelName};
use super::run_files::CHECKPOINT_SUFFIX;

/// The checkpoint `path` names: the file, or the one `*.ckpt.safetensors` in a folder (a
/// grid cell's or a run's).
fn checkpoint_file(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path).with_context(|| format!("{}", path.display()))?;
    let mut found = Vec::new();
    for e in entries {
        let p = e.with_context(|| format!("{}", path.display()))?.path();
        if p.to_string_lossy().ends_with(CHECKPOINT_SUFFIX) {
            found.push(p);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "{}: no checkpoint (*.ckpt.safetensors) in this folder",
            path.display()
        ),
        n => bail!(
            "{}: {n} checkpoints in this folder; name one",
            path.display()
        ),
    }
}

/// √(Σ v²), summed in f64.
pub fn l2_norm(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// The registry name of the candidate layer that owns each tensor, by the layer's field path
/// (`layer1.b0.conv1` → `layer1.0.conv1`): checkpoints name tensors by the model's Rust
/// fields, records and configs name layers by the registry, which `#[amp(name)]` can rename.
#[derive(Debug, Default)]
pub struct LayerNames(Vec<LayerInfo>);

impl LayerNames {
    /// The candidate layers of the models the checkpoints were saved from (those the CLI
    /// knows, each once; a model defined elsewhere has its tensors shown without layer names).
    pub fn of_models<'a>(models: impl IntoIterator<Item = &'a str>) -> Self {
        let mut known: Vec<ModelName> = Vec::new();
        for name in models.into_iter().filter_map(ModelName::from_name) {
            if !known.contains(&name) {
                known.push(name);
            }
        }
        Self(known.into_iter().flat_map(layer_infos).collect())
    }

    /// The layer that owns tensor `tensor` (`<field path>.weight`, or deeper inside a
    /// candidate that is a tuple of modules), if it is a candidate's.
    pub fn layer_of(&self, tensor: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|l| l.owns(tensor))
            .map(|l| l.name.as_str())
    }
}

/// The weight tensors of a checkpoint's model whose name, or whose layer's registry name,
/// contains `filter`.
fn weights<'a>(
    model: &'a [NamedTensor],
    layers: &'a LayerNames,
    filter: &'a str,
) -> impl Iterator<Item = &'a NamedTensor> {
    model.iter().filter(move |t| {
        t.name.ends_with("weight")
            && (t.name.contains(filter)
                || layers.layer_of(&t.name).is_some_and(|l| l.contains(filter)))
    })
}

/// The table: one row per tensor (the union over the checkpoints, by name) with its candidate
/// layer's registry name, one column per checkpoint; from the second on, each norm also as a
/// multiple of the first's.
pub fn table(models: &[&[NamedTensor]], layers: &LayerNames, filter: &str) -> Table {
    let mut names: Vec<(&str, &[usize])> = Vec::new();
    for m in models {
        for t in weights(m, layers, filter) {
            if !names.iter().any(|(n, _)| *n == t.name) {
                names.push((&t.name, &t.shape));
            }
        }
    }
    names.sort_by(|a, b| a.0.cmp(b.0));
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec![
        "tensor".to_string(),
        "layer".to_string(),
        "shape".to_string(),
    ];
    header.extend((1..=models.len()).map(|i| format!("[{i}] ‖w‖")));
    table.set_header(header);
    for (name, shape) in names {
        let norm = |m: &[NamedTensor]| {
            m.iter()
                .find(|t| t.name == name)
                .map(|t| l2_norm(&t.values))
        };
        let first = norm(models[0]);
        let layer = layers.layer_of(name).unwrap_or("—");
        let mut row = vec![
            Cell::new(name),
            Cell::new(layer),
            Cell::new(format!("{shape:?}")),
        ];
        for (i, m) in models.iter().enumerate() {
            let text = match (norm(m), first) {
                (None, _) => "—".to_string(),
                (Some(n), Some(f)) if i > 0 && f > 0.0 => format!("{n:.3} ({:.2}x)", n / f),
                (Some(n), _) => format!("{n:.3}"),
            };
            row.push(Cell::new(text).set_alignment(CellAlignment::Right));
        }
        table.add_row(row);
    }
    table
}

pub fn run(args: WeightsArgs) -> Result<()> {
    let mut checkpoints = Vec::new();
    for (i, path) in args.checkpoints.iter().enumerate() {
        let file = checkpoint_file(path)?;
        let c = Checkpoint::read(&file)?;
        let id = &c.state.identity;
        let at = match c.state.next {
            p if p.step == 0 => format!("after epoch {}", p.epoch),
            p => format!("in epoch {}, after step {}", p.epoch + 1, p.step),
        };
        println!(
            "[{}] {}: {} on {}, {at}",
            i + 1,
            file.display(),
            id.name,
            id.model
        );
        checkpoints.push(c);
    }
    let models: Vec<&[NamedTensor]> = checkpoints.iter().map(|c| &c.model[..]).collect();
    let layers = LayerNames::of_models(checkpoints.iter().map(|c| c.state.identity.model.as_str()));
    if models
        .iter()
        .all(|m| weights(m, &layers, &args.filter).next().is_none())
    {
        bail!("{}", no_match(models[0], &layers, &args.filter));
    }
    println!("{}", table(&models, &layers, &args.filter));
    Ok(())
}

/// Says that `filter` matched nothing, with examples of the tensor names it is matched
/// against (besides the layer names of the models the CLI knows).
fn no_match(model: &[NamedTensor], layers: &LayerNames, filter: &str) -> String {
    let first = filter.split('.').next().unwrap_or("");
    let all: Vec<&str> = weights(model, layers, "")
        .map(|t| t.name.as_str())
        .collect();
    let near: Vec<&str> = all.iter().copied().filter(|n| n.contains(first)).collect();
    let examples = if near.is_empty() { &all } else { &near };
    let examples: Vec<String> = examples.iter().take(3).map(|n| format!("`{n}`")).collect();
    format!(
        "no weight tensor's or candidate layer's name contains `{filter}`; weight tensors are \
         named by the model's fields, e.g. {} (without --filter all are listed)",
        examples.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, values: &[f32]) -> NamedTensor {
        NamedTensor {
            name: name.into(),
            shape: vec![values.len()],
            values: values.to_vec(),
        }
    }

    #[test]
    fn norms_ratios_and_missing_tensors() {
        assert_eq!(l2_norm(&[3.0, 4.0]), 5.0);
        let a = [
            t("conv.weight", &[3.0, 4.0]),
            t("bn.scale", &[9.0]),
            t("fc.weight", &[1.0]),
        ];
        let b = [t("conv.weight", &[30.0, 40.0]), t("other.weight", &[2.0])];
        let none = LayerNames::default();
        let text = table(&[&a, &b], &none, "").to_string();
        let line = |name: &str| text.lines().find(|l| l.contains(name)).unwrap().to_string();
        assert!(
            line("conv.weight").contains("5.000")
                && line("conv.weight").contains("50.000 (10.00x)"),
            "{text}"
        );
        assert!(
            line("fc.weight").contains("1.000") && line("fc.weight").contains("—"),
            "{text}"
        );
        assert!(
            line("other.weight").contains("—") && line("other.weight").contains("2.000"),
            "{text}"
        );
        assert!(!text.contains("bn.scale"), "only weights: {text}");
        let conv_only = table(&[&a, &b], &none, "conv").to_string();
        assert!(!conv_only.contains("fc.weight") && conv_only.contains("conv.weight"));
    }

    #[test]
    fn a_filter_that_matches_nothing_shows_the_names_it_is_matched_against() {
        let m = [
            t("stem.weight", &[1.0]),
            t("layer1.b0.conv1.weight", &[1.0]),
            t("layer1.b0.bn1.scale", &[1.0]),
            t("layer1.b1.conv1.weight", &[1.0]),
        ];
        assert_eq!(
            no_match(&m, &LayerNames::default(), "layer1.0."),
            "no weight tensor's or candidate layer's name contains `layer1.0.`; weight tensors \
             are named by the model's fields, e.g. `layer1.b0.conv1.weight`, \
             `layer1.b1.conv1.weight` (without --filter all are listed)"
        );
        let none = LayerNames::default();
        assert!(no_match(&m, &none, "fc").contains("e.g. `stem.weight`, `layer1.b0.conv1.weight`"));
    }

    #[test]
    fn a_filter_matches_the_registry_names_of_the_models_the_cli_knows() {
        let m = [
            t("stem.weight", &[1.0]),
            t("layer1.b0.conv1.weight", &[3.0, 4.0]),
            t("layer1.b0.bn1.weight", &[1.0]),
            t("layer1.b1.conv1.weight", &[1.0]),
        ];
        let layers = LayerNames::of_models(["resnet20", "not-a-model"]);
        assert_eq!(
            layers.layer_of("layer1.b0.conv1.weight"),
            Some("layer1.0.conv1")
        );
        assert_eq!(layers.layer_of("layer1.b0.bn1.weight"), None);
        assert_eq!(layers.layer_of("layer1.b0.conv10.weight"), None);
        let tuple = LayerNames(vec![LayerInfo::new("c", "Conv2D").in_field("conv")]);
        assert_eq!(tuple.layer_of("conv.0.weight"), Some("c"));
        let text = table(&[&m], &layers, "layer1.0.").to_string();
        let rows: Vec<&str> = text.lines().filter(|l| l.contains(".weight")).collect();
        assert_eq!(rows.len(), 1, "{text}");
        assert!(
            rows[0].contains("layer1.b0.conv1.weight")
                && rows[0].contains("layer1.0.conv1")
                && rows[0].contains("5.000"),
            "{text}"
        );
        // The tensor names still match, and a tensor of no candidate shows no layer.
        let bn = table(&[&m], &layers, "bn1").to_string();
        let row = bn.lines().find(|l| l.contains("bn1")).unwrap();
        assert!(row.contains("—"), "{bn}");
    }
}
