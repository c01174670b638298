//! `amp report --decisions`: what each run chose to amplify and what the loss guard undid, in
//! words, a line each (also printed at the end of `amp train` and `amp demo`).
//!
//! A selection over a deep network is a list of 20-odd layer names; where it sits can matter as
//! much as how long it is (in `output` mode an amplified layer's factor reaches every layer
//! below it), so each decision also counts its layers per top-level block of the model
//! (`layer1 8/18, layer2 6/18, layer3 6/18`), the part of a name before its first dot.

use amp_core::method::Decision;
use amp_core::train::RunRecord;

/// A run's story in lines (`amp train` and `amp demo` print them after the tables, `amp
/// report --decisions` with the run's name before each): each selection decision, its layers
/// per block where the candidates' names fall into several, and each epoch the guard undid.
pub fn lines(r: &RunRecord) -> Vec<String> {
    let mut out = Vec::new();
    for d in &r.decisions {
        out.push(format!("decision {d}"));
        if let Some(blocks) = per_block(d, &r.layers) {
            out.push(format!("  per block: {blocks}"));
        }
    }
    for g in &r.guarded {
        out.push(format!(
            "the guard undid epoch {} at its step {} ({} layers amplified): {}",
            g.epoch + 1,
            g.step + 1,
            g.amplified.len(),
            g.reason
        ));
    }
    out
}

/// The part of a layer name before its first dot: the model's top-level field that holds it.
fn block(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// `layer1 8/18, layer2 6/18, layer3 6/18`: the decision's layers per block, out of the
/// block's candidates, blocks in forward order. `None` when the candidates do not fall into
/// at least two blocks with a nested name among them (an MLP's `fc1`, `fc2`: the decision's
/// list already says it all).
fn per_block(d: &Decision, candidates: &[String]) -> Option<String> {
    let mut blocks: Vec<(&str, usize, usize)> = Vec::new();
    for name in candidates {
        let b = block(name);
        match blocks.iter_mut().find(|(x, _, _)| *x == b) {
            Some((_, _, n)) => *n += 1,
            None => blocks.push((b, 0, 1)),
        }
    }
    if blocks.len() < 2 || !candidates.iter().any(|n| n.contains('.')) {
        return None;
    }
    for name in &d.selected_names {
        // A name no candidate's block has (a record edited by hand) is left uncounted.
        if let Some((_, k, _)) = blocks.iter_mut().find(|(x, _, _)| *x == block(name)) {
            *k += 1;
        }
    }
    let parts: Vec<String> = blocks
        .iter()
        .map(|(b, k, n)| format!("{b} {k}/{n}"))
        .collect();
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(selected: &[&str]) -> Decision {
        Decision {
            epoch: 2,
            selector: "random(ratio 0.5, seed 0, resample fixed)".into(),
            selected: (0..selected.len()).collect(),
            selected_names: selected.iter().map(|s| s.to_string()).collect(),
            candidates: 6,
            scoring: None,
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    /// Blocks in forward order (not sorted), a block with no selected layer shown as `0/n`,
    /// unnested names (`conv1`, `fc`) as blocks of their own.
    #[test]
    fn counts_the_selection_per_block_in_forward_order() {
        let layers = names(&[
            "conv1",
            "layer2.0.conv1",
            "layer2.0.conv2",
            "layer1.0.conv1",
            "layer1.1.conv1",
            "fc",
        ]);
        let d = decision(&["layer2.0.conv2", "layer1.0.conv1", "layer1.1.conv1"]);
        assert_eq!(
            per_block(&d, &layers).unwrap(),
            "conv1 0/1, layer2 1/2, layer1 2/2, fc 0/1"
        );
    }

    #[test]
    fn flat_or_single_block_models_get_no_breakdown() {
        let d = decision(&["fc1"]);
        assert_eq!(per_block(&d, &names(&["fc1", "fc2", "fc3"])), None);
        let d = decision(&["body.0"]);
        assert_eq!(per_block(&d, &names(&["body.0", "body.1"])), None);
    }
}
