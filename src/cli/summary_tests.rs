//! Hand-computed checks of the comparison on records built here.

use super::*;
use amp_core::data::DataProvenance;
use amp_core::train::{EpochRecord, Provenance, RunStatus};

fn config(name: &str, seed: u64, lr: f64, select: &str) -> String {
    format!(
        "name = \"{name}\"\n[train]\nepochs = 2\nlr = {lr}\nseed = {seed}\n\
         [amp]\nfactor = 3.0\n[amp.select]\nkind = \"{select}\"\n"
    )
}

fn record(name: &str, seed: u64, select: &str, accs: [f64; 2]) -> RunRecord {
    let epochs = accs
        .iter()
        .enumerate()
        .map(|(e, &test_acc)| EpochRecord {
            epoch: e,
            lr: 0.1,
            factor: 3.0,
            amplified: if select == "all" {
                vec!["fc1".into()]
            } else {
                vec![]
            },
            train_loss: 1.0,
            train_acc: 0.5,
            test_acc,
            seconds: 30.0,
            weight_norms: vec![],
        })
        .collect();
    RunRecord {
        name: name.into(),
        status: RunStatus::Finished,
        provenance: Provenance {
            model: "mlp".into(),
            seed,
            amp_version: "0.1.0".into(),
            data: Some(DataProvenance {
                content_hash: Some("00ff".into()),
                train_images: 10,
                test_images: 10,
                ..DataProvenance::default()
            }),
            ..Provenance::default()
        },
        config: config(name, seed, 0.1, select),
        policy: String::new(),
        mode: "output".into(),
        layers: vec!["fc1".into(), "fc2".into()],
        epochs,
        decisions: vec![],
        stats: Default::default(),
        guarded: vec![],
    }
}

fn diverged(mut r: RunRecord) -> RunRecord {
    r.epochs[1].test_acc = f64::NAN;
    r.status = RunStatus::Diverged {
        epoch: 1,
        step: 4,
        loss: f64::NAN,
        reason: "the loss is NaN".into(),
        amplified: vec![],
    };
    r
}

/// Amplified seeds 0..=3 (seed 2 diverged, seed 3 on a limited set so without a baseline),
/// baselines for seeds 0..=2 (the amplified config's factor 3 does not matter for them).
fn records() -> Vec<RunRecord> {
    let mut unpaired = record("all", 3, "all", [0.85, 0.90]);
    unpaired.provenance.limit = Some(100);
    vec![
        record("all", 0, "all", [0.75, 0.80]),
        record("all", 1, "all", [0.86, 0.84]),
        diverged(record("all", 2, "all", [0.5, 0.6])),
        unpaired,
        record("base", 0, "none", [0.70, 0.78]),
        record("base", 1, "none", [0.80, 0.85]),
        record("base", 2, "none", [0.65, 0.70]),
    ]
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn mean_and_sample_sd() {
    let m = MeanSd::of(&[0.80, 0.84, 0.90]);
    assert_eq!(m.n, 3);
    close(m.mean, 2.54 / 3.0);
    close(m.sd, (0.0076f64 / 3.0).sqrt());
    let one = MeanSd::of(&[0.5]);
    assert!(one.sd.is_nan());
    assert_eq!(one.display(false), "0.5000");
    assert_eq!(MeanSd::of(&[]).display(true), "—");
    assert_eq!(MeanSd::of(&[0.01, -0.02]).display(true), "-0.0050 ± 0.0212");
}

#[test]
fn amplified_runs_are_paired_by_seed_and_diverged_ones_counted_apart() {
    let rows = compare(&records());
    assert_eq!(rows.len(), 2);
    let amp = &rows[0];
    assert_eq!((amp.name.as_str(), amp.role), ("all", Role::Amplified));
    assert_eq!(amp.model, "mlp");
    assert_eq!(amp.seeds, vec![0, 1, 2, 3]);
    assert_eq!(amp.diverged, 1);
    // Finished: 0.80, 0.84, 0.90.
    assert_eq!(amp.final_acc.n, 3);
    close(amp.final_acc.mean, 2.54 / 3.0);
    close(amp.final_acc.sd, (0.0076f64 / 3.0).sqrt());
    // Best: 0.80, 0.86, 0.90.
    close(amp.best_acc.mean, 2.56 / 3.0);
    assert_eq!(amp.unpaired, vec![3]);
    let p = amp.baseline.as_ref().unwrap();
    assert_eq!(p.seeds, vec![0, 1, 2]);
    assert_eq!(p.diverged, 0);
    // Baselines 0.78, 0.85, 0.70: sum of squared deviations 0.0338 / 3.
    close(p.final_acc.mean, 2.33 / 3.0);
    close(p.final_acc.sd, (0.0169f64 / 3.0).sqrt());
    // Pairs where both finished: seed 0 (+0.02), seed 1 (-0.01).
    assert_eq!(p.difference.n, 2);
    close(p.difference.mean, 0.005);
    close(p.difference.sd, 0.015 * 2f64.sqrt());
    assert_eq!(p.better, 1);
    // t = 0.005 / (0.0212 / √2) = 1/3, one degree of freedom: p = 1 − 2·atan(1/3)/π; the
    // interval is 0.005 ± tan(0.475 π) · 0.015.
    let p_value = 1.0 - 2.0 * (1.0f64 / 3.0).atan() / std::f64::consts::PI;
    close(p.p_value.unwrap(), p_value);
    let half = (0.475 * std::f64::consts::PI).tan() * 0.015;
    let (lo, hi) = p.ci95.unwrap();
    close(lo, 0.005 - half);
    close(hi, 0.005 + half);
    let base = &rows[1];
    assert_eq!((base.name.as_str(), base.role), ("base", Role::Baseline));
    assert_eq!(base.seeds, vec![0, 1, 2]);
    assert!(base.baseline.is_none());
    close(base.final_acc.mean, 2.33 / 3.0);
}

#[test]
fn a_baseline_of_another_recipe_or_model_does_not_pair() {
    let mut other_lr = record("base", 0, "none", [0.7, 0.78]);
    other_lr.config = config("base", 0, 0.2, "none");
    let mut other_model = record("base", 0, "none", [0.7, 0.78]);
    other_model.provenance.model = "cnn".into();
    let rows = compare(&[record("all", 0, "all", [0.7, 0.8]), other_lr, other_model]);
    let amp = rows.iter().find(|r| r.role == Role::Amplified).unwrap();
    assert_eq!(amp.unpaired, vec![0]);
    assert!(amp.baseline.as_ref().unwrap().seeds.is_empty());
    assert_eq!(amp.baseline.as_ref().unwrap().difference.display(true), "—");
}

#[test]
fn a_diverged_baseline_is_counted_on_its_side() {
    let rows = compare(&[
        record("all", 0, "all", [0.7, 0.8]),
        diverged(record("base", 0, "none", [0.7, 0.8])),
    ]);
    let p = rows[0].baseline.as_ref().unwrap();
    assert_eq!((p.seeds.len(), p.diverged, p.difference.n), (1, 1, 0));
    assert_eq!(cells(&rows[0])[4], "0 / base 1");
    assert_eq!(cells(&rows[0])[9], "0/0");
}

#[test]
fn markdown_csv_and_json_say_the_same() {
    let rows = compare(&records());
    let md = markdown(&rows);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 4 + 1 + 2 + 4, "{md}");
    assert_eq!(lines[4], "");
    assert_eq!(
        lines[2],
        "| all | mlp | amplified | 0 1 2 3 | 1 / base 0 | 0.8467 ± 0.0503 | 0.7767 ± 0.0751 \
         | +0.0050 ± 0.0212 | -0.1856 to +0.1956 | 1/2 | 0.795 | 0.8533 ± 0.0503 | 3 |"
    );
    let csv = csv(&rows);
    let line: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
    assert_eq!(&line[..6], ["base", "mlp", "baseline", "3", "0 1 2", "0"]);
    close(line[6].parse().unwrap(), 2.33 / 3.0);
    assert_eq!(&line[10..], [""; 14]);
    let v: serde_json::Value = serde_json::from_str(&json(&rows)).unwrap();
    assert_eq!(v[0]["baseline"]["better"], 1);
    assert_eq!(v[1]["final_acc"]["n"], 3);
    assert!(v[1]["baseline"].is_null());
    let one = compare(&[record("all", 0, "all", [0.7, 0.8])]);
    let v: serde_json::Value = serde_json::from_str(&json(&one)).unwrap();
    assert!(v[0]["final_acc"]["sd"].is_null());
}

/// Under the comparison, each run's final accuracy and, amplified runs with a baseline, the
/// difference to it in points; the long CSV has a line per run with both accuracies and the
/// training loss of the amplified epochs beside the baseline's in the same epochs.
#[test]
fn the_per_seed_table_and_csv_show_each_runs_numbers() {
    let mut recs = records();
    // Seed 0 amplifies epoch 1 only: its loss there (2.5) against the baseline's (1.2), not
    // the higher losses of epoch 0 (9.0, 3.0). Seed 2 diverged with a NaN loss: `inf`.
    recs[0].epochs[0].amplified.clear();
    (recs[0].epochs[0].train_loss, recs[0].epochs[1].train_loss) = (9.0, 2.5);
    (recs[4].epochs[0].train_loss, recs[4].epochs[1].train_loss) = (3.0, 1.2);
    recs[2].epochs[1].train_loss = f64::NAN;
    // Seed 1's loss guard undid an amplified epoch.
    recs[1].guarded.push(amp_core::train::GuardEvent {
        epoch: 1,
        step: 3,
        loss: 7.5,
        limit: 3.0,
        reason: "the epoch's mean training loss so far, 7.5000, passed the guard's limit 3.0000"
            .into(),
        amplified: vec!["fc1".into()],
    });
    let rows = compare(&recs);
    let md = markdown(&rows);
    for line in [
        "| model | config | seed 0 | seed 1 | seed 2 | seed 3 |\n|---|---|---|---|---|---|\n",
        // Seed 2 diverged; seed 3 has no baseline (a limited data set), so no difference.
        "| mlp | all | 0.8000 (+2.00) | 0.8400 (-1.00) | diverged | 0.9000 |\n",
        "| mlp | base | 0.7800 | 0.8500 | 0.7000 |  |\n",
    ] {
        assert!(md.contains(line), "{md}\nwant {line}");
    }
    // Two records of one seed (a run repeated): both shown.
    let mut twice = records();
    twice.push(record("all", 1, "all", [0.86, 0.88]));
    let md_twice = markdown(&compare(&twice));
    assert!(
        md_twice.contains("| 0.8400 (-1.00) / 0.8800 (+3.00) |"),
        "{md_twice}"
    );
    let terminal = seed_table(&rows);
    assert!(
        terminal.starts_with("Per seed: final test accuracy"),
        "{terminal}"
    );
    assert!(terminal.contains("0.8400 (-1.00)"), "{terminal}");

    let csv = seeds_csv(&rows);
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        lines[0],
        [
            "model",
            "config",
            "role",
            "seed",
            "outcome",
            "final_acc",
            "baseline_outcome",
            "baseline_final_acc",
            "difference",
            "amplified_epochs_max_train_loss",
            "baseline_same_epochs_max_train_loss",
            "guard_undid_epochs"
        ]
    );
    assert_eq!(lines.len(), 1 + 4 + 3, "{csv}");
    let seed0 = &lines[1];
    assert_eq!(&seed0[..5], ["mlp", "all", "amplified", "0", "finished"]);
    assert_eq!((seed0[5], seed0[6], seed0[7]), ("0.8", "finished", "0.78"));
    close(seed0[8].parse().unwrap(), 0.02);
    assert_eq!(&seed0[9..], ["2.5", "1.2", "0"]);
    assert_eq!(&lines[2][9..], ["1", "1", "1"]);
    assert_eq!(
        &lines[3][4..],
        ["diverged", "", "finished", "0.7", "", "inf", "1", "0"]
    );
    assert_eq!(
        &lines[4][3..],
        ["3", "finished", "0.9", "", "", "", "1", "", "0"]
    );
    assert_eq!(
        &lines[7][..],
        ["mlp", "base", "baseline", "2", "finished", "0.7", "", "", "", "", "", "0"]
    );

    let v: serde_json::Value = serde_json::from_str(&json(&rows)).unwrap();
    assert_eq!(v[0]["per_seed"][2]["outcome"], "diverged");
    assert_eq!(
        v[0]["per_seed"][2]["baseline"],
        serde_json::json!({ "finished": 0.7 })
    );
    assert!(v[1]["per_seed"][0]["baseline"].is_null());
    assert_eq!(
        v[0]["per_seed"][0]["amplified_loss"],
        serde_json::json!({ "max": 2.5, "baseline_max": 1.2 })
    );
    assert!(v[0]["per_seed"][2]["amplified_loss"]["max"].is_null());
    assert!(v[1]["per_seed"][0]["amplified_loss"].is_null());
    assert_eq!(v[0]["per_seed"][1]["guard_undid"], 1);
    assert_eq!(v[0]["per_seed"][0]["guard_undid"], 0);
}

#[test]
fn csv_fields_are_quoted_when_needed() {
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("plain"), "plain");
}

/// Every CSV amp writes spells numbers one way: no number empty, an infinite one `inf`, a
/// finite one in the form that reads back to the same bits.
#[test]
fn csv_numbers_are_empty_inf_or_round_trip() {
    assert_eq!(csv_num(f64::NAN), "");
    assert_eq!(csv_num(f64::INFINITY), "inf");
    assert_eq!(csv_num(f64::NEG_INFINITY), "-inf");
    for v in [0.1 + 0.2, 0.3075, -4.5e-7, 1e21] {
        assert_eq!(csv_num(v).parse::<f64>().unwrap().to_bits(), v.to_bits());
    }
    assert_eq!(csv_num(0.3075), "0.3075");
}

#[test]
fn write_all_writes_four_files() {
    let dir = std::env::temp_dir().join(format!("amp-summary-{}", std::process::id()));
    write_all(&dir, &compare(&records())).unwrap();
    for f in [
        "summary.md",
        "summary.csv",
        "summary-seeds.csv",
        "summary.json",
    ] {
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 100, "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A config of 4 epochs at lr 0.1 with `[amp.select] select` and `schedule` (TOML).
fn parsed(schedule: &str, select: &str) -> ExperimentConfig {
    let text =
        format!("name = \"x\"\n[train]\nepochs = 4\nlr = 0.1\n[amp.select]\n{select}\n{schedule}");
    ExperimentConfig::from_toml_str(&text, "x.toml").unwrap()
}

/// `report --summary` and `sweep` pair by this key: a config writing out the default
/// schedule (amplifying its later phases, or with a phase split) has the recipe of its
/// baseline without one.
#[test]
fn a_written_out_default_schedule_is_the_recipe_of_the_omitted_one() {
    let phase = |e: &str, lr: &str, amp: bool| {
        format!("[[schedule]]\nepochs = \"{e}\"\nlr = {lr}\namplify = {amp}\n")
    };
    let written = [
        phase("0..2", "0.1", false),
        phase("2..3", "0.01", true),
        phase("3..4", "0.001", true),
    ]
    .concat();
    let select = "kind = \"all\"";
    let baseline = recipe_key(&parsed("", "kind = \"none\""));
    assert_eq!(recipe_key(&parsed(&written, select)), baseline);
    let split = [
        phase("0..1", "0.1", false),
        phase("1..2", "0.1", false),
        phase("2..3", "0.01", true),
        phase("3..4", "0.001", true),
    ]
    .concat();
    // Each epoch at the same rate: the same recipe. A warm-up is another.
    assert_eq!(recipe_key(&parsed(&split, select)), baseline);
    let warm = [
        phase("0..2", "0.1", false) + "warmup = true\n",
        phase("2..3", "0.01", true),
        phase("3..4", "0.001", true),
    ]
    .concat();
    assert_ne!(recipe_key(&parsed(&warm, select)), baseline);
}
