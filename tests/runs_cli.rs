//! The life of a run through the `amp` binary: killed and resumed runs end bit-identical to
//! uninterrupted ones, Ctrl-C checkpoints, diverged runs say so, finished runs are never
//! overwritten, names cannot escape `--out`, and everything is checked before training.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{amp, amp_cmd, results, s, scratch, text, train_args, wait_for};

/// A small intelligent-amplification config on the CNN: 6 epochs of 4 steps.
fn config(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{name}\"\n[train]\nepochs = 6\nlr = 0.05\nbatch_size = 64\n{extra}\
             [amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"mean\"\nobserve_epochs = 1\n"
        ),
    )
    .unwrap();
    path
}

/// Trains `cfg` into `out` and kills the process (SIGKILL: no chance to clean up) as soon as
/// `ckpt`, its checkpoint, is written.
fn killed_after_its_first_checkpoint(cfg: &Path, out: &Path, ckpt: &Path) {
    let mut child = amp_cmd(&train_args(cfg, out))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(ckpt, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Sends SIGINT (Ctrl-C) to a running `amp` and returns its output once it has stopped,
/// checkpointed, with status 130.
fn ctrl_c(child: std::process::Child) -> std::process::Output {
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    o
}

#[test]
fn a_killed_run_resumes_and_ends_bit_identical_to_an_uninterrupted_one() {
    let dir = scratch("kill");
    let cfg = config(&dir, "k", "");
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    let o = amp(&train_args(&cfg, &whole));
    assert!(o.status.success(), "{}", text(&o));
    let record = "k-cnn-seed0.json";

    killed_after_its_first_checkpoint(&cfg, &cut, &cut.join("k-cnn-seed0.ckpt.safetensors"));
    assert!(!cut.join(record).exists(), "killed before the end");

    let o = amp(&train_args(&cfg, &cut));
    assert!(!o.status.success());
    assert!(text(&o).contains("--resume continues it"), "{}", text(&o));
    let mut args = train_args(&cfg, &cut);
    args.push("--resume");
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(results(&cut.join(record)), results(&whole.join(record)));
}

/// `amp report` shows a run that has no record yet from its checkpoint (the folder, or the
/// file named), as unfinished with its progress; once finished, the folder shows the record
/// alone although the checkpoint stays beside it.
#[test]
fn report_shows_an_unfinished_run_from_its_checkpoint() {
    let dir = scratch("report-unfinished");
    let cfg = config(&dir, "u", "");
    let out = dir.join("runs");
    let ckpt = out.join("u-cnn-seed0.ckpt.safetensors");
    killed_after_its_first_checkpoint(&cfg, &out, &ckpt);
    let (so_far, at) = amp_core::train::Checkpoint::progress(&ckpt).unwrap();
    assert_eq!(at, amp_core::train::Checkpoint::position(&ckpt).unwrap());
    assert_eq!(so_far.epochs.len(), at.epoch);
    // The one row `amp report PATH --json` exports.
    let exported = dir.join("rows.json");
    let row_of = |path: &Path| {
        let o = amp(&["report", s(path), "--json", s(&exported)]);
        assert!(o.status.success(), "{}", text(&o));
        let rows = common::json(&exported)["runs"].clone();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        rows[0].clone()
    };
    for arg in [&out, &ckpt] {
        let row = row_of(arg);
        assert_eq!(
            row["status"],
            format!("unfinished, {}/6 epochs", at.epoch),
            "{row}"
        );
        assert_eq!(row["epochs"], at.epoch);
        assert_eq!(
            row["final_test_acc"].as_f64().unwrap(),
            so_far.final_test_acc()
        );
    }

    let mut args = train_args(&cfg, &out);
    args.push("--resume");
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(ckpt.exists(), "a finished run keeps its checkpoint");
    let row = row_of(&out);
    assert_eq!(row["status"], "finished");
    assert!(row["file"].as_str().unwrap().ends_with("u-cnn-seed0.json"));
}

#[test]
fn ctrl_c_checkpoints_between_steps_and_resume_finishes_the_same_run() {
    let dir = scratch("sigint");
    let cfg = config(&dir, "c", "");
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    let o = amp(&train_args(&cfg, &whole));
    assert!(o.status.success(), "{}", text(&o));

    let mut child = amp_cmd(&train_args(&cfg, &cut))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&cut.join("c-cnn-seed0.ckpt.safetensors"), &mut child);
    let o = ctrl_c(child);
    assert!(text(&o).contains("--resume"), "{}", text(&o));

    let mut args = train_args(&cfg, &cut);
    args.push("--resume");
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    let record = "c-cnn-seed0.json";
    assert_eq!(results(&cut.join(record)), results(&whole.join(record)));
}

/// While a run trains, a second `amp train` of it into the same folder (even with `--force`,
/// which would delete its files) or a second sweep is refused, naming the lock; once the first
/// process has ended, however it ended, the run can be resumed.
#[test]
fn a_run_being_trained_is_locked_against_a_second_process() {
    let dir = scratch("locked");
    let cfg = config(&dir, "l", "");
    let out = dir.join("runs");
    let mut args = train_args(&cfg, &out);
    args[5] = "4096"; // --limit: 64 steps per epoch, so the first run is still going below
    let mut forced = args.clone();
    forced.push("--force");
    let sweep = [
        "sweep",
        s(&cfg),
        "--model",
        "cnn",
        "--limit",
        "4096",
        "--seeds",
        "1",
        "--out",
        s(&out),
    ];
    let cases = [
        ("l-cnn-seed0", &args[..], vec![&args[..], &forced[..]]),
        ("l-baseline-cnn-seed0", &sweep[..], vec![&sweep[..]]),
    ];
    for (stem, first_args, seconds) in cases {
        let mut first = amp_cmd(first_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let ckpt = out.join(format!("{stem}.ckpt.safetensors"));
        wait_for(&ckpt, &mut first);
        for second in seconds {
            let o = amp(second);
            assert_eq!(o.status.code(), Some(1), "{second:?}: {}", text(&o));
            let want = format!("another amp process is training {stem} into this folder");
            assert!(text(&o).contains(&want), "{second:?}: {}", text(&o));
            assert!(
                text(&o).contains(&format!("{stem}.lock is locked")),
                "{}",
                text(&o)
            );
        }
        assert!(
            ckpt.exists(),
            "--force removed the running run's checkpoint"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "{stem}: the first process ended early"
        );
        ctrl_c(first);
    }
    args.push("--resume");
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("l-cnn-seed0.json").exists());
}

#[test]
fn a_diverging_run_exits_3_and_report_shows_it() {
    let dir = scratch("diverge");
    let cfg = config(&dir, "boom", "[amp]\nfactor = 1e30\n");
    std::fs::write(
        &cfg,
        "name = \"boom\"\n[train]\nepochs = 4\nlr = 1e8\nbatch_size = 64\n\
         [amp.select]\nkind = \"all\"\n",
    )
    .unwrap();
    let out = dir.join("runs");
    let o = amp(&train_args(&cfg, &out));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("diverged (epoch 1, step"), "{}", text(&o));
    let record = out.join("boom-cnn-seed0.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(v["status"]["state"], "diverged");
    // It diverged while amplifying every candidate, and says so.
    assert_eq!(v["status"]["amplified"], v["layers"]);
    let n = v["layers"].as_array().unwrap().len();
    let said = format!("while amplifying {n} of {n} layers in output mode");
    assert!(text(&o).contains(&said), "{}", text(&o));
    let o = amp(&["report", record.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("diverged"), "{}", text(&o));
}

#[test]
fn a_finished_run_is_not_overwritten_without_force() {
    let dir = scratch("no-overwrite");
    let cfg = config(&dir, "keep", "");
    let out = dir.join("runs");
    let mut args = train_args(&cfg, &out);
    args[5] = "128";
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    let record = out.join("keep-cnn-seed0.json");
    let before = std::fs::read(&record).unwrap();
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("already holds this run"), "{}", text(&o));
    assert_eq!(std::fs::read(&record).unwrap(), before);
    // Another seed or model is another run, in another file.
    args.extend(["--seed", "1"]);
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("keep-cnn-seed1.json").is_file());
    args.push("--force");
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("--force: removed"), "{}", text(&o));
}

#[test]
fn names_cannot_escape_out_and_bad_outputs_fail_before_training() {
    let dir = scratch("escape");
    let cfg = dir.join("esc.toml");
    std::fs::write(
        &cfg,
        "name = \"../escaped\"\n[train]\nepochs = 1\nlr = 0.1\n",
    )
    .unwrap();
    let out = dir.join("runs");
    let o = amp(&train_args(&cfg, &out));
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("esc.toml:1:8: name"), "{t}");
    assert!(t.contains("must not start with `.`"), "{t}");
    assert!(!dir.join("escaped-cnn-seed0.json").exists());

    let cfg = config(&dir, "ok", "");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let start = Instant::now();
    let o = amp(&train_args(&cfg, &file));
    assert!(!o.status.success());
    assert!(
        text(&o).contains("a-file: exists and is not a folder"),
        "{}",
        text(&o)
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "failed before training"
    );
}

#[test]
fn epochs_flag_that_cannot_fit_names_the_flag_and_the_config() {
    let o = amp(&[
        "train",
        "configs/intelligent-cv-mean-lr0.4.toml",
        "--epochs",
        "2",
        "--out",
        scratch("epochs").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("--epochs 2 does not fit configs/intelligent-cv-mean-lr0.4.toml"),
        "{t}"
    );
    assert!(t.contains("observe_epochs"), "{t}");

    // The demo takes the flag in both of its configs before it trains either: nothing is
    // written, and the error names the flag, not the config's own `epochs = 12`.
    let out = scratch("epochs-demo").join("runs");
    let o = amp(&["demo", "--epochs", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("--epochs 2 does not fit configs/demo/intelligent.toml"),
        "{t}"
    );
    assert!(t.contains("observe_epochs"), "{t}");
    let written = std::fs::read_dir(&out).map_or(0, |d| d.count());
    assert_eq!(written, 0, "the baseline did not train: {t}");
}

#[test]
fn sweep_checks_every_config_first_then_skips_and_resumes_on_rerun() {
    let dir = scratch("sweep");
    let good = config(&dir, "good", "");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n[train]\nepochs = 6\nlr = 0.1\n[amp.select]\nkind = \"explicit\"\nlayers = [\"conv9\"]\n",
    )
    .unwrap();
    let out = dir.join("runs");
    let sweep = |configs: &[&Path]| {
        let mut args = vec!["sweep"];
        args.extend(configs.iter().map(|c| c.to_str().unwrap()));
        args.extend([
            "--model",
            "cnn",
            "--seeds",
            "2",
            "--limit",
            "128",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        amp(&args)
    };
    let o = sweep(&[&good, &bad]);
    assert!(!o.status.success());
    assert!(text(&o).contains("bad.toml:7:11"), "{}", text(&o));
    assert!(
        !out.join("good-baseline-cnn-seed0.json").exists(),
        "nothing trained"
    );

    let o = sweep(&[&good]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("[4/4]"), "{}", text(&o));
    for f in [
        "summary.md",
        "good-cnn-seed1.json",
        "good-baseline-cnn-seed1.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // A run whose record is gone but whose final checkpoint is there is resumed (to the
    // same record); the others are skipped.
    let record = out.join("good-cnn-seed1.json");
    let before = results(&record);
    std::fs::remove_file(&record).unwrap();
    let o = sweep(&[&good]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert_eq!(t.matches("already done").count(), 3, "{t}");
    assert!(t.contains("[4/4] good-cnn-seed1: resuming"), "{t}");
    assert_eq!(results(&record), before);
}
