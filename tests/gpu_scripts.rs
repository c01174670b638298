//! The GPU check (`scripts/gpu/`) runs on a machine lent for minutes, where a broken script
//! costs a session's device time. Its stages that train through `amp` read the run records
//! with `scripts/gpu/records.py`; these tests run that reader here, on records the `amp`
//! binary writes, so a renamed record field breaks a test on this machine, not the GPU check.
//! Needs `python3` (CI installs it where missing, `.ci/run`).

use std::path::Path;
use std::process::Command;

mod common;
use common::{amp, json, s, scratch, text, train_args};

/// `python3 scripts/gpu/records.py ARGS...`: its stdout, after asserting it succeeded.
fn records_py(args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gpu/records.py"))
        .args(args)
        .output()
        .expect("python3 runs (the GPU check's scripts need it; install python3)");
    assert!(o.status.success(), "records.py {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Trains the demo's intelligent config into `out` for 5 epochs of 256 images, as the GPU
/// check does (2 observed, then amplified); returns the record's path.
fn short_run(out: &Path) -> std::path::PathBuf {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/demo/intelligent.toml");
    let mut args = train_args(&cfg, out);
    args.extend(["--epochs", "5"]);
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    out.join("intelligent-cv-mean-cnn-seed0.json")
}

#[test]
fn the_device_note_reports_the_records_numbers() {
    let dir = scratch("gpu-records-device");
    let record = short_run(&dir.join("run"));
    let r = json(&record);
    let epochs = r["epochs"].as_array().unwrap();
    let last = &epochs[4];
    let amplified: Vec<String> = epochs
        .iter()
        .map(|e| e["amplified"].as_array().unwrap().len().to_string())
        .collect();
    assert_eq!(amplified[..2], ["0", "0"], "epochs 0-1 only observe");
    assert!(
        amplified[2..].iter().any(|n| n != "0"),
        "{amplified:?}: some later epoch amplifies"
    );

    let note = records_py(&["device", s(&record)]);
    let expected = format!(
        "5 epochs: test acc {:.3}, train loss {:.4}; layers amplified per epoch {}; s/epoch ",
        last["test_acc"].as_f64().unwrap(),
        last["train_loss"].as_f64().unwrap(),
        amplified.join(" "),
    );
    assert!(
        note.starts_with(&expected),
        "{note:?}\nshould start {expected:?}"
    );
    let device = r["provenance"]["device"].as_str().unwrap();
    assert!(device.starts_with("cpu"), "{device}");
    assert!(
        note.trim_end()
            .ends_with(&format!("record device {device}")),
        "{note:?}"
    );
}

/// A grid's results folder (a folder per cell, the record in it beside its checkpoint and
/// log): a row per record, named by the record's file, and a FAIL row naming a record that
/// cannot be read instead of stopping the table.
#[test]
fn the_experiment_rows_read_each_cell_and_name_a_broken_record() {
    let dir = scratch("gpu-records-experiment");
    let record = short_run(&dir.join("cell-a"));
    let acc = json(&record)["epochs"][4]["test_acc"].as_f64().unwrap();
    // Cut short (no epoch yet), written half-way, and without its epochs.
    let broken = [
        ("cell-b", r#"{"name": "b", "epochs": []}"#),
        ("cell-c", r#"{"name": "c", "epo"#),
        ("cell-d", r#"{"name": "d"}"#),
    ]
    .map(|(cell, content)| {
        std::fs::create_dir_all(dir.join(cell)).unwrap();
        let path = dir.join(cell).join("broken.json");
        std::fs::write(&path, content).unwrap();
        path
    });

    let out = records_py(&["experiment", s(&dir)]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split('|').collect()).collect();
    assert_eq!(
        cells[0][..2],
        ["intelligent-cv-mean-cnn-seed0", &format!("{acc:.4}")]
    );
    assert!(
        cells[0][2].starts_with("test acc after 5 epochs, ")
            && cells[0][2].contains("layers amplified "),
        "{}",
        lines[0]
    );
    for (cells, path) in cells[1..].iter().zip(&broken) {
        assert_eq!(cells[..2], [s(path), "FAIL"], "{cells:?}");
        assert!(cells[2].starts_with("unreadable record"), "{cells:?}");
    }
}
