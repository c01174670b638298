//! End-to-end tests of `amp report` on record files written here: the per-run CSV and JSON
//! exports, the seed-paired comparison against hand-computed numbers, diverged and old-format
//! records, a bad file among good ones, and the plots.

mod common;

use common::{amp, scratch};
use std::path::Path;
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn config(name: &str, seed: u64, select: &str) -> String {
    format!(
        "name = \\\"{name}\\\"\\n[train]\\nepochs = 2\\nlr = 0.1\\nseed = {seed}\\n\
         [amp]\\nfactor = 3.0\\n[amp.select]\\nkind = \\\"{select}\\\"\\n"
    )
}

/// One epoch as JSON; `acc` is a JSON number or `null`.
fn epoch(e: usize, acc: &str, amplified: bool, seconds: f64) -> String {
    let layers = if amplified { r#"["fc1"]"# } else { "[]" };
    format!(
        r#"{{"epoch": {e}, "lr": 0.1, "factor": 3.0, "amplified": {layers}, "train_loss": 1.5,
            "train_acc": 0.4, "test_acc": {acc}, "seconds": {seconds}}}"#
    )
}

/// A record in the current format, trained by `amp` on synthetic data.
fn record(name: &str, seed: u64, select: &str, epochs: &[String], status: &str) -> String {
    format!(
        r#"{{"name": "{name}", "status": {status},
  "provenance": {{"model": "mlp", "classes": 10, "seed": {seed}, "amp_version": "0.1.0",
    "data": {{"layout": "synthetic", "packaging": "built-in", "path": null, "labels": null,
              "bytes_read": 0, "content_hash": "12ab", "image_shape": [3, 4, 4],
              "train_images": 64, "test_images": 32, "classes": 10, "class_names": []}},
    "limit": null, "test_limit": null, "device": "cpu", "threads": 2,
    "started": "2026-11-28T04:00:00Z", "finished": "2026-11-28T04:02:00Z", "resumed": []}},
  "config": "{config}", "policy": "{select} over 2 epochs", "mode": "output",
  "layers": ["fc1", "fc2"], "epochs": [{epochs}], "decisions": [],
  "stats": {{"layers": ["fc1", "fc2"], "epochs": []}}}}"#,
        config = config(name, seed, select),
        epochs = epochs.join(", "),
    )
}

const FINISHED: &str = r#"{"state": "finished"}"#;
const DIVERGED: &str =
    r#"{"state": "diverged", "epoch": 1, "step": 17, "loss": null, "reason": "the loss is NaN"}"#;

/// Amplified `all` over seeds 0..=2 (seed 2 diverged in its second epoch), baselines `base`
/// over seeds 0..=2, and a record from before provenance and status existed.
fn write_records(dir: &Path) {
    let amp = |e: usize, acc: &str| epoch(e, acc, e == 0, 60.0);
    let base = |e: usize, acc: &str| epoch(e, acc, false, 30.0);
    let files = [
        (
            "all-mlp-seed0.json",
            record("all", 0, "all", &[amp(0, "0.75"), amp(1, "0.8")], FINISHED),
        ),
        (
            "all-mlp-seed1.json",
            record("all", 1, "all", &[amp(0, "0.86"), amp(1, "0.84")], FINISHED),
        ),
        // Diverged in epoch 2 (index 1): epoch 1 recorded, with a NaN loss read from null.
        (
            "all-mlp-seed2.json",
            record(
                "all",
                2,
                "all",
                &[epoch(0, "0.6", true, 6.0).replace("1.5", "null")],
                DIVERGED,
            ),
        ),
        (
            "base-mlp-seed0.json",
            record(
                "base",
                0,
                "none",
                &[base(0, "0.7"), base(1, "0.78")],
                FINISHED,
            ),
        ),
        (
            "base-mlp-seed1.json",
            record(
                "base",
                1,
                "none",
                &[base(0, "0.8"), base(1, "0.85")],
                FINISHED,
            ),
        ),
        (
            "base-mlp-seed2.json",
            record(
                "base",
                2,
                "none",
                &[base(0, "0.65"), base(1, "0.7")],
                FINISHED,
            ),
        ),
        (
            "old.json",
            format!(
                r#"{{"name": "old-seed5", "config": "{}", "mode": "output", "layers": ["fc1"],
                 "epochs": [{}], "decisions": [], "stats": {{"layers": ["fc1"], "epochs": []}}}}"#,
                config("old", 5, "all"),
                epoch(0, "0.5", true, 90.0)
            ),
        ),
    ];
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    // A sweep summary beside the records is not a record and is skipped.
    std::fs::write(dir.join("summary.json"), "[]").unwrap();
}

#[test]
fn csv_and_json_exports_hold_one_row_per_run() {
    let dir = scratch("export");
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    write_records(&runs);
    let (csv, json) = (dir.join("runs.csv"), dir.join("runs.json"));
    let o = amp(&[
        "report",
        runs.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let f = |name: &str| runs.join(name).display().to_string();
    let expected = format!(
        "file,name,model,seed,policy,status,epochs,planned_epochs,final_test_acc,best_test_acc,minutes\n\
         {},all,mlp,0,all ×3 output,finished,2,2,0.8,0.8,2\n\
         {},all,mlp,1,all ×3 output,finished,2,2,0.84,0.86,2\n\
         {},all,mlp,2,all ×3 output,\"diverged (epoch 2, step 18)\",1,2,,0.6,0.1\n\
         {},base,mlp,0,baseline,finished,2,2,0.78,0.78,1\n\
         {},base,mlp,1,baseline,finished,2,2,0.85,0.85,1\n\
         {},base,mlp,2,baseline,finished,2,2,0.7,0.7,1\n\
         {},old-seed5,,5,all ×3 output,finished,1,2,0.5,0.5,1.5\n",
        f("all-mlp-seed0.json"),
        f("all-mlp-seed1.json"),
        f("all-mlp-seed2.json"),
        f("base-mlp-seed0.json"),
        f("base-mlp-seed1.json"),
        f("base-mlp-seed2.json"),
        f("old.json"),
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), expected);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = v["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(v.get("summary").is_none());
    assert_eq!(
        rows[2],
        serde_json::json!({
            "file": f("all-mlp-seed2.json"), "name": "all", "model": "mlp", "seed": 2,
            "policy": "all ×3 output", "status": "diverged (epoch 2, step 18)",
            "diverged": true, "epochs": 1, "planned_epochs": 2, "final_test_acc": null,
            "best_test_acc": 0.6, "minutes": 0.1
        })
    );
    assert_eq!(rows[6]["seed"], 5);
    assert_eq!(rows[6]["model"], "");
    // The terminal table says the same, with a dash for the missing accuracy.
    let out = stdout(&o);
    assert!(out.contains("diverged (epoch 2, step 18)"), "{out}");
    assert!(out.contains('—'), "{out}");
    assert!(!out.contains("NaN") && !out.contains("nan"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn summary_pairs_runs_by_seed_with_hand_computed_numbers() {
    let dir = scratch("summary");
    write_records(&dir);
    let json = dir.join("report.json");
    let csv = dir.join("report.csv");
    let out_dir = dir.join("summary-out");
    let o = amp(&[
        "report",
        dir.to_str().unwrap(),
        "--summary",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--summary-out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let s = v["summary"].as_array().unwrap();
    // Amplified groups by model then name (old-seed5 has no model: before provenance), then
    // the baseline group.
    assert_eq!(s.len(), 3);
    let all = &s[1];
    assert_eq!(all["name"], "all");
    assert_eq!(all["seeds"], serde_json::json!([0, 1, 2]));
    assert_eq!(all["diverged"], 1);
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} != {b}");
    // Finished amplified: 0.80, 0.84 -> mean 0.82, sd sqrt(2 * 0.02^2) = 0.0282843.
    close(num(&all["final_acc"]["mean"]), 0.82);
    close(num(&all["final_acc"]["sd"]), 0.02 * 2f64.sqrt());
    // Best: 0.80, 0.86.
    close(num(&all["best_acc"]["mean"]), 0.83);
    let b = &all["baseline"];
    assert_eq!(b["seeds"], serde_json::json!([0, 1, 2]));
    assert_eq!(b["diverged"], 0);
    // Baselines 0.78, 0.85, 0.70: mean 0.7766667, sd sqrt(0.0169 / 3).
    close(num(&b["final_acc"]["mean"]), 2.33 / 3.0);
    close(num(&b["final_acc"]["sd"]), (0.0169f64 / 3.0).sqrt());
    // Paired where both finished: +0.02 (seed 0), -0.01 (seed 1).
    assert_eq!(b["difference"]["n"], 2);
    close(num(&b["difference"]["mean"]), 0.005);
    close(num(&b["difference"]["sd"]), 0.015 * 2f64.sqrt());
    assert_eq!(b["better"], 1);
    assert_eq!(s[0]["name"], "old-seed5");
    assert_eq!(s[0]["unpaired"], serde_json::json!([5]));
    assert!(s[0]["final_acc"]["sd"].is_null());
    assert_eq!(s[2]["role"], "baseline");
    assert!(s[2]["baseline"].is_null());
    let out = stdout(&o);
    assert!(out.contains("+0.0050 ± 0.0212"), "{out}");
    assert!(out.contains("1 / base 0"), "{out}");
    // The comparison also goes to CSV beside the per-run file, and to the summary folder.
    let summary_csv = std::fs::read_to_string(dir.join("report.summary.csv")).unwrap();
    assert_eq!(summary_csv.lines().count(), 4);
    assert!(
        summary_csv
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("all,mlp,amplified,3,0 1 2,1,0.82"),
        "{summary_csv}"
    );
    for f in [
        "summary.md",
        "summary.csv",
        "summary-seeds.csv",
        "summary.json",
    ] {
        assert!(out_dir.join(f).is_file(), "{f}");
    }
    assert_eq!(
        std::fs::read_to_string(out_dir.join("summary.csv")).unwrap(),
        summary_csv
    );
    // The per-seed table under the comparison, and its lines beside the per-run file.
    assert!(out.contains("Per seed: final test accuracy"), "{out}");
    let seeds_csv = std::fs::read_to_string(dir.join("report.seeds.csv")).unwrap();
    assert!(
        seeds_csv.starts_with("model,config,role,seed,outcome,final_acc,"),
        "{seeds_csv}"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("summary-seeds.csv")).unwrap(),
        seeds_csv
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--versus all base` (implies `--summary`): the two configs' runs of the same seed paired
/// directly; a name no config has is an error naming it.
#[test]
fn versus_pairs_two_configs_by_seed() {
    let dir = scratch("versus");
    write_records(&dir);
    // The JSON outside the folder read: a second report must not take it for a record.
    let json = scratch("versus-out").join("report.json");
    let (d, j) = (dir.to_str().unwrap(), json.to_str().unwrap());
    let o = amp(&["report", d, "--versus", "all", "base", "--json", j]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Per seed: final test accuracy"),
        "the summary: {out}"
    );
    // Seeds 0 and 1 (all's seed 2 diverged): 0.80 - 0.78, 0.84 - 0.85.
    assert!(
        out.contains("| mlp | all | base | 2 | +0.0050 ± 0.0212 |"),
        "{out}"
    );
    assert!(out.contains("| 0: +2.00, 1: -1.00 |"), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let vs = &v["versus"][0];
    assert_eq!(
        (&vs["a"], &vs["b"], &vs["tied"]),
        (&"all".into(), &"base".into(), &0.into())
    );
    assert_eq!(vs["final_diff"]["seeds"], serde_json::json!([0, 1]));
    assert_eq!(vs["final_diff"]["better"], 1);
    // A second run of `all`, seed 1 (other data, say): seed 1 has no one partner.
    let again = record("all", 1, "all", &[epoch(0, "0.5", true, 6.0)], FINISHED);
    std::fs::write(dir.join("all-mlp-seed1-other.json"), again).unwrap();
    let o = amp(&["report", d, "--versus", "all", "base", "--json", j]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("| 0: +2.00; not paired, several runs on a side: seed 1 |"),
        "{}",
        stdout(&o)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["versus"][0]["ambiguous"], serde_json::json!([1]));
    let o = amp(&["report", d, "--versus", "all", "bse"]);
    assert!(!o.status.success());
    assert_eq!(stdout(&o), "", "refused before any table");
    assert!(
        stderr(&o).contains("--versus: no configuration of the report is `bse` or contains it; did you mean `base`?"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(json.parent().unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_file_is_named_and_the_others_still_reported() {
    let dir = scratch("bad");
    write_records(&dir);
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"name\": 3").unwrap();
    let missing = dir.join("missing.json");
    let good = dir.join("all-mlp-seed0.json");
    let o = amp(&[
        "report",
        good.to_str().unwrap(),
        broken.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(out.contains("all") && out.contains("0.800"), "{out}");
    assert!(
        err.contains(&format!("{}: not an amp run record", broken.display())),
        "{err}"
    );
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("2 file(s) could not be read"), "{err}");
    // Only bad files: still an error, naming them.
    let o = amp(&["report", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("broken.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--decisions`: each selection with its layers per top-level block, and each epoch the loss
/// guard undid, with the step, the count and the guard's reason, a line each, the run named.
#[test]
fn decisions_show_the_selection_per_block_and_the_guards_interventions() {
    let dir = scratch("decisions");
    let layers = r#"["stem", "stage1.0.conv", "stage1.1.conv", "stage2.0.conv", "stage2.1.conv"]"#;
    let text = record("guarded", 0, "random", &[epoch(0, "0.5", false, 1.0)], FINISHED)
        .replace(r#""layers": ["fc1", "fc2"]"#, &format!(r#""layers": {layers}"#))
        .replace(
            r#""decisions": []"#,
            r#""decisions": [{"epoch": 1, "selector": "random(ratio 0.5, seed 0, resample fixed)",
                "selected": [1, 2, 4], "candidates": 5, "scoring": null,
                "selected_names": ["stage1.0.conv", "stage1.1.conv", "stage2.1.conv"]}],
              "guarded": [{"epoch": 1, "step": 6, "loss": 4.5, "limit": 3.0,
                "reason": "the epoch's mean training loss so far, 4.5000, passed the guard's limit 3.0000",
                "amplified": ["stage1.0.conv", "stage1.1.conv", "stage2.1.conv"]}]"#,
        );
    let file = dir.join("guarded.json");
    std::fs::write(&file, text).unwrap();
    let o = amp(&["report", file.to_str().unwrap(), "--decisions"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let expected = "guarded: decision from epoch 2: random(ratio 0.5, seed 0, resample fixed) \
                    selected 3/5 layers: stage1.0.conv, stage1.1.conv, stage2.1.conv\n\
                    guarded:   per block: stem 0/1, stage1 2/2, stage2 1/2\n\
                    guarded: the guard undid epoch 2 at its step 7 (3 layers amplified): the \
                    epoch's mean training loss so far, 4.5000, passed the guard's limit 3.0000\n";
    assert!(out.contains(expected), "{out}");
    // Without the flag, none of it.
    let plain = stdout(&amp(&["report", file.to_str().unwrap()]));
    assert!(
        !plain.contains("per block") && !plain.contains("undid"),
        "{plain}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wide_epoch_table_only_on_request() {
    let dir = scratch("epochs");
    write_records(&dir);
    let plain = stdout(&amp(&["report", dir.to_str().unwrap()]));
    let wide = stdout(&amp(&["report", dir.to_str().unwrap(), "--epochs"]));
    assert!(!plain.contains("#7 test acc"), "{plain}");
    assert!(wide.contains("#7 test acc"), "{wide}");
    // Narrow: one column per run; amplified epochs say how many layers.
    assert!(
        wide.contains("0.600 (1/2)") && wide.contains("0.860 (1/2)"),
        "{wide}"
    );
    let table = wide.split("┌").nth(1).unwrap();
    let widest_wide = table.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest_wide < 140, "{widest_wide} characters:\n{wide}");
    // One row per run: the header, 7 runs, no per-epoch columns.
    let widest = plain.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest < 140, "{widest} characters:\n{plain}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plots_are_png_or_svg_by_extension() {
    let dir = scratch("plot");
    write_records(&dir);
    let (png, svg) = (dir.join("p.png"), dir.join("p.svg"));
    for p in [&png, &svg] {
        let o = amp(&[
            "report",
            dir.to_str().unwrap(),
            "--plot",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    assert!(text.contains("#3 all, diverged"));
    let o = amp(&[
        "report",
        dir.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
        "--plot-runs",
        "9",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--plot-runs 9: the runs are numbered 1 to 7"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run that diverged in its first epoch has no epoch records: its minutes are 0, not the
/// "-0.0" of a float sum over nothing (which starts at -0.0).
#[test]
fn a_run_that_diverged_in_its_first_epoch_took_zero_minutes() {
    let dir = scratch("first-epoch-diverged");
    let status = r#"{"state": "diverged", "epoch": 0, "step": 1, "loss": null, "reason": "the loss is inf"}"#;
    let file = dir.join("all-mlp-seed0.json");
    std::fs::write(&file, record("all", 0, "all", &[], status)).unwrap();
    let csv = dir.join("runs.csv");
    let o = amp(&[
        "report",
        file.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let row = stdout(&o)
        .lines()
        .find(|l| l.contains("diverged (epoch 1, step 2)"))
        .unwrap_or_else(|| panic!("no diverged row in\n{}", stdout(&o)))
        .to_string();
    assert!(row.contains(" 0.0 "), "{row}");
    assert!(!row.contains("-0"), "{row}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(
        csv.trim_end().ends_with(",0/2,2,,,0") || csv.trim_end().ends_with(",0"),
        "{csv}"
    );
    assert!(!csv.contains("-0"), "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A grid's folder keeps each run in a cell folder (`<id>/`, with the cell's `config.toml`)
/// and its reports (`report-*.json`) at the top: `amp report` on it reads the cells' runs and
/// leaves the grid reports alone. Elsewhere a `report-*.json` is still read.
#[test]
fn a_grid_folder_is_read_through_its_cell_folders() {
    let dir = scratch("grid-folder");
    let amp_run = record(
        "all",
        0,
        "all",
        &[epoch(0, "0.7", true, 60.0), epoch(1, "0.8", false, 60.0)],
        FINISHED,
    );
    let base_run = record(
        "base",
        0,
        "none",
        &[epoch(0, "0.7", false, 60.0), epoch(1, "0.75", false, 60.0)],
        FINISHED,
    );
    for (id, name, text) in [
        ("0123456789ab", "all-mlp-seed0.json", &amp_run),
        ("ba9876543210", "base-mlp-seed0.json", &base_run),
    ] {
        let cell = dir.join(id);
        std::fs::create_dir_all(&cell).unwrap();
        std::fs::write(cell.join("config.toml"), "name = \"x\"\n").unwrap();
        std::fs::write(cell.join(name), text).unwrap();
    }
    std::fs::write(dir.join("report-grid.json"), "{\"grids\": []}").unwrap();
    let o = amp(&["report", dir.to_str().unwrap(), "--summary"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{out}{err}");
    assert!(!err.contains("report-grid.json"), "{err}");
    assert!(out.contains("+0.0500"), "the pair is compared: {out}");

    // Without cell folders it is just a file that is not a record.
    let plain = scratch("not-a-grid");
    std::fs::write(plain.join("report-grid.json"), "{\"grids\": []}").unwrap();
    std::fs::write(plain.join("all-mlp-seed0.json"), &amp_run).unwrap();
    let o = amp(&["report", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("report-grid.json: not an amp run record"));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&plain).unwrap();
}
