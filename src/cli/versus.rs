//! `--versus A B` (`amp grid report`, `amp report --summary`): two configurations of a
//! report against each other, paired by seed.
//!
//! The tables pair each amplified configuration with its baseline. A control (a random half
//! of the layers against the fluctuation measure's choice, a guarded run against an unguarded
//! one) asks the other question, whether one setting beats the other: differencing two
//! settings' means over their baselines adds both sides' seed noise, while pairing their runs
//! of the same model and seed (same initialization, same data order) removes what they
//! share, as the baseline pairing does.

use amp_core::suggest::closest;
use serde::Serialize;

use super::paired::PairedDiff;
use super::per_seed::SeedRow;
use super::summary::markdown_line as line;

/// `A − B` in final test accuracy on one model, over the seeds where both finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versus {
    pub model: String,
    pub a: String,
    pub b: String,
    /// `better` counts the seeds where A is strictly better.
    pub final_diff: PairedDiff,
    /// Seeds where the two ended at the same accuracy (a loss guard that undid every
    /// amplified epoch leaves a run at its baseline's accuracy, and so at the other's).
    pub tied: usize,
    /// Each paired seed's `A − B`.
    pub per_seed: Vec<(u64, f64)>,
    /// Seeds with more than one run on a side, not paired.
    pub ambiguous: Vec<u64>,
}

/// `--versus A B --versus C D` as clap gives it (`[A, B, C, D]`), as pairs.
pub fn pairs(flat: &[String]) -> Vec<(String, String)> {
    let pair = |p: &[String]| (p[0].clone(), p[1].clone());
    flat.chunks_exact(2).map(pair).collect()
}

/// The comparisons `pairs` asks for (names as `--versus` gave them), one per model that has
/// both. An error names the flag's value that matches no configuration, or matches several.
pub fn compare(rows: &[SeedRow], pairs: &[(String, String)]) -> Result<Vec<Versus>, String> {
    let mut out = Vec::new();
    for (a, b) in pairs {
        let (a, b) = (resolve(rows, a)?, resolve(rows, b)?);
        if a == b {
            return Err(format!("--versus: `{a}` against itself"));
        }
        let before = out.len();
        for ra in rows.iter().filter(|r| r.config == a) {
            if let Some(rb) = rows.iter().find(|r| r.config == b && r.model == ra.model) {
                out.push(pair(ra, rb));
            }
        }
        if out.len() == before {
            return Err(format!(
                "--versus: `{a}` and `{b}` have no model in common, so no seed to pair"
            ));
        }
    }
    Ok(out)
}

/// The configuration `given` names: itself, or the one configuration whose name contains it
/// (`--versus intelligent random`).
fn resolve(rows: &[SeedRow], given: &str) -> Result<String, String> {
    let mut names: Vec<&str> = rows.iter().map(|r| r.config).collect();
    names.sort();
    names.dedup();
    if names.contains(&given) {
        return Ok(given.to_string());
    }
    let containing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.contains(given))
        .collect();
    match containing[..] {
        [one] => Ok(one.to_string()),
        [] => {
            let hint = closest(given, names.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            Err(format!(
                "--versus: no configuration of the report is `{given}` or contains it; {hint}\
                 the report's configurations: {}",
                quoted(&names)
            ))
        }
        _ => Err(format!(
            "--versus: `{given}` is part of several configurations' names ({}); give one whole",
            quoted(&containing)
        )),
    }
}

fn quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    q.join(", ")
}

/// Row `a` against row `b` (the same model), seed by seed. A seed with several runs on a
/// side (records of one config on other data or limits, read together by `amp report`) has
/// no one partner: it is left out and listed.
fn pair(a: &SeedRow, b: &SeedRow) -> Versus {
    let runs = |r: &SeedRow, seed: u64| r.seeds.iter().filter(|s| s.seed == seed).count();
    let mut ambiguous = Vec::new();
    let mut triples: Vec<(u64, f64, f64)> = Vec::new();
    for sa in a.seeds.iter() {
        let Some(sb) = b.seeds.iter().find(|sb| sb.seed == sa.seed) else {
            continue;
        };
        if runs(a, sa.seed) > 1 || runs(b, sa.seed) > 1 {
            if !ambiguous.contains(&sa.seed) {
                ambiguous.push(sa.seed);
            }
            continue;
        }
        if let (Some(x), Some(y)) = (sa.outcome.acc(), sb.outcome.acc()) {
            triples.push((sa.seed, x, y));
        }
    }
    let final_diff = PairedDiff::of(&triples);
    let per_seed: Vec<(u64, f64)> = triples.iter().map(|(s, x, y)| (*s, x - y)).collect();
    Versus {
        model: a.model.to_string(),
        a: a.config.to_string(),
        b: b.config.to_string(),
        tied: per_seed.iter().filter(|(_, d)| *d == 0.0).count(),
        per_seed,
        final_diff,
        ambiguous,
    }
}

const HEADER: [&str; 9] = [
    "model",
    "A",
    "B",
    "seeds paired",
    "Δ final, A − B (mean ± sd)",
    "95% CI",
    "A better / tied",
    "p (paired t)",
    "per seed (points)",
];

/// The comparisons as a Markdown section (callers show it only when `--versus` asked).
pub fn markdown(all: &[Versus]) -> String {
    let mut out = "Configurations against each other (`--versus`), paired by seed: A's final \
                   test accuracy minus B's on the same model and seed.\n\n"
        .to_string();
    out += &line(&HEADER.map(String::from));
    out += &format!("|{}\n", "---|".repeat(HEADER.len()));
    for v in all {
        let d = &v.final_diff;
        let seeds: Vec<String> = (v.per_seed.iter())
            .map(|(s, x)| format!("{s}: {:+.2}", x * 100.0))
            .collect();
        let mut seeds = match seeds.is_empty() {
            true => "no seed finished in both".to_string(),
            false => seeds.join(", "),
        };
        if !v.ambiguous.is_empty() {
            let list: Vec<String> = v.ambiguous.iter().map(u64::to_string).collect();
            seeds += &format!(
                "; not paired, several runs on a side: seed {}",
                list.join(", ")
            );
        }
        out += &line(&[
            v.model.clone(),
            v.a.clone(),
            v.b.clone(),
            d.difference.n.to_string(),
            d.difference.display(true),
            d.ci_display(),
            format!("{} / {} of {}", d.better, v.tied, d.difference.n),
            d.p_display(),
            seeds,
        ]);
    }
    out
}
