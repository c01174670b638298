//! `amp grid` through the binary on this machine: plan, `run --jobs 2`, skip and resume,
//! `--cell` by id and by index, the report against the records, and errors.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use amp_core::train::Checkpoint;

mod common;
use common::{amp, amp_cmd, json, mean_sd, plan_rows, results, s, scratch, text, wait_for};

/// A config with intelligent selection after one observation epoch.
const CONFIG: &str = "name = \"icv\"\n[train]\nepochs = 3\nlr = 0.05\nbatch_size = 64\n\
[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"mean\"\nobserve_epochs = 1\n";

/// A grid of `model` on synthetic data: the config above at two learning rates, each with
/// its baseline, for `seeds`.
fn grid(dir: &Path, model: &str, seeds: &str, epochs: usize) -> PathBuf {
    std::fs::write(dir.join("icv.toml"), CONFIG).unwrap();
    let path = dir.join("grid.toml");
    std::fs::write(
        &path,
        format!(
            "configs = [\"icv.toml\"]\nmodels = [\"{model}\"]\nseeds = {seeds}\nlimit = 256\n\
             test_limit = 128\nout = \"{}\"\n[set]\n\"train.epochs\" = {epochs}\n\
             [axes]\n\"train.lr\" = [0.05, 0.1]\n",
            s(&dir.join("out"))
        ),
    )
    .unwrap();
    path
}

fn record_of(out: &Path, id: &str) -> PathBuf {
    let dir = out.join(id);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap_or_else(|| panic!("no record in {}", dir.display()))
}

#[test]
fn jobs_2_runs_every_cell_once_then_skips_and_reports_the_records() {
    let dir = scratch("grid-jobs");
    let file = grid(&dir, "mlp", "[0, 1]", 3);
    let out = dir.join("out");
    let rows = plan_rows(&file);
    let names: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(
        names,
        [
            "baseline+lr=0.05",
            "icv+lr=0.05",
            "baseline+lr=0.1",
            "icv+lr=0.1"
        ]
        .repeat(2)
    );
    assert!(rows.iter().all(|r| r.3 == "to run"));

    let o = amp(&["grid", "run", s(&file), "--jobs", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("8 to run with 2 process(es)"),
        "{}",
        text(&o)
    );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (_, id, name, state) in plan_rows(&file) {
        assert!(state.starts_with("finished"), "{name}: {state}");
        let r = json(&record_of(&out, &id));
        assert_eq!(
            r["provenance"]["threads"],
            (cpus / 2).max(1),
            "RAYON_NUM_THREADS per child"
        );
        assert_eq!(r["name"], name);
        assert!(
            out.join(&id).join("log.txt").exists() && out.join(&id).join("config.toml").exists()
        );
    }
    let again = amp(&["grid", "run", s(&file), "--jobs", "2"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("8 cells: 8 done, 0 running elsewhere, 0 to run"),
        "{}",
        text(&again)
    );

    // The report against the records: mean of final accuracy over seeds, paired differences.
    let o = amp(&["grid", "report", s(&file)]);
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&out.join("report-grid.json"));
    let rows = plan_rows(&file);
    let final_acc = |id: &str| {
        let r = json(&record_of(&out, id));
        r["epochs"].as_array().unwrap().last().unwrap()["test_acc"]
            .as_f64()
            .unwrap()
    };
    for (k, lr) in ["0.05", "0.1"].iter().enumerate() {
        let amp_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.2 == format!("icv+lr={lr}"))
            .map(|r| r.1.as_str())
            .collect();
        let base_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.2 == format!("baseline+lr={lr}"))
            .map(|r| r.1.as_str())
            .collect();
        let a: Vec<f64> = amp_ids.iter().map(|i| final_acc(i)).collect();
        let b: Vec<f64> = base_ids.iter().map(|i| final_acc(i)).collect();
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let row = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["config"] == format!("icv+lr={lr}"))
            .unwrap();
        let (m, sd) = mean_sd(&a);
        assert!(
            (row["final_acc"]["mean"].as_f64().unwrap() - m).abs() < 1e-12,
            "lr {lr}"
        );
        assert!(
            (row["final_acc"]["sd"].as_f64().unwrap() - sd).abs() < 1e-12,
            "lr {lr}"
        );
        let (dm, dsd) = mean_sd(&d);
        let diff = &row["final_diff"];
        assert!(
            (diff["difference"]["mean"].as_f64().unwrap() - dm).abs() < 1e-12,
            "lr {lr}"
        );
        assert!(
            (diff["difference"]["sd"].as_f64().unwrap() - dsd).abs() < 1e-12,
            "lr {lr}"
        );
        assert_eq!(
            diff["better"],
            d.iter().filter(|x| **x > 0.0).count(),
            "lr {lr}"
        );
        assert_eq!(row["baseline"], format!("baseline+lr={lr}"));
        let _ = k;
    }
    assert_eq!(report["done"], 8);
    for f in [
        "report-grid.md",
        "report-grid.csv",
        "report-grid-seeds.csv",
        "report-grid.png",
        "report-grid-diff.png",
    ] {
        assert!(out.join(f).metadata().unwrap().len() > 100, "{f}");
    }
    // A line per cell: the 8 cells' seeds, each with its final accuracy.
    let seeds = std::fs::read_to_string(out.join("report-grid-seeds.csv")).unwrap();
    assert_eq!(seeds.lines().count(), 1 + 8, "{seeds}");
    let outcome = |l: &str| l.split(',').nth(4).map(str::to_string);
    let finished = seeds
        .lines()
        .filter(|l| outcome(l).as_deref() == Some("finished"));
    assert_eq!(finished.count(), 8, "{seeds}");
    let png = std::fs::read(out.join("report-grid.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // A second grid file over the same folder (here: the same cells) reports with the first
    // as one table, each cell once, under its own name; the first's report stays.
    let twin = dir.join("twin.toml");
    std::fs::copy(&file, &twin).unwrap();
    let o = amp(&["grid", "report", s(&file), s(&twin)]);
    assert!(o.status.success(), "{}", text(&o));
    let both = json(&out.join("report-grid+twin.json"));
    assert_eq!(
        (&both["cells"], &both["rows"]),
        (&report["cells"], &report["rows"])
    );
    assert_eq!(json(&out.join("report-grid.json")), report);
    assert!(report.get("versus").is_none(), "no comparison unasked");

    // `--versus`: one learning rate's amplified runs against the other's, seed by seed.
    let o = amp(&[
        "grid",
        "report",
        s(&file),
        "--name",
        "vs",
        "--versus",
        "icv+lr=0.1",
        "icv+lr=0.05",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Configurations against each other"),
        "{}",
        text(&o)
    );
    let vs = &json(&out.join("vs.json"))["versus"][0];
    assert_eq!(
        (&vs["a"], &vs["b"]),
        (&"icv+lr=0.1".into(), &"icv+lr=0.05".into())
    );
    let ids = |name: &str| -> Vec<String> {
        (rows.iter().filter(|r| r.2 == name))
            .map(|r| r.1.clone())
            .collect()
    };
    let d: Vec<f64> = (ids("icv+lr=0.1").iter().zip(ids("icv+lr=0.05")))
        .map(|(a, b)| final_acc(a) - final_acc(&b))
        .collect();
    for (i, want) in d.iter().enumerate() {
        assert_eq!(vs["per_seed"][i][0], i, "seed order");
        assert_eq!(vs["per_seed"][i][1].as_f64().unwrap(), *want);
    }
    let mean = vs["final_diff"]["difference"]["mean"].as_f64().unwrap();
    assert!((mean - mean_sd(&d).0).abs() < 1e-12, "{mean}");
    let o = amp(&["grid", "report", s(&file), "--versus", "icv+lr=0.3", "icv"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no configuration of the report is `icv+lr=0.3` or contains it; did you mean `icv+lr=0.1`?"),
        "{}",
        text(&o)
    );

    let o = amp(&["grid", "report", s(&twin), "--name", "a/b"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("a file name without folders"),
        "{}",
        text(&o)
    );
}

/// A rebuild while a grid runs replaces the binary's file: the cells not started yet still
/// run, with the binary the grid started with.
#[test]
fn a_grid_run_outlives_a_rebuild_of_its_binary() {
    let dir = scratch("grid-rebuilt");
    let file = grid(&dir, "mlp", "[0, 1]", 3);
    let exe = dir.join("amp-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_amp"), &exe).unwrap();
    // Another test's thread may fork while the copy is still open for writing; its child holds
    // the write descriptor until it execs, and exec of a file open for writing fails with
    // ETXTBSY ("Text file busy") meanwhile. That lasts microseconds: try again.
    let mut tries = 0;
    let mut child = loop {
        let spawned = std::process::Command::new(&exe)
            .args(["grid", "run", s(&file), "--jobs", "1", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    let first = dir.join("out").join(&plan_rows(&file)[0].1).join("log.txt");
    wait_for(&first, &mut child);
    // As `cargo build` does: the old file is unlinked, a new one takes its path.
    std::fs::remove_file(&exe).unwrap();
    std::fs::write(&exe, "not amp").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let states: Vec<String> = plan_rows(&file).into_iter().map(|r| r.3).collect();
    assert_eq!(states.len(), 8);
    assert!(
        states.iter().all(|s| s.starts_with("finished")),
        "{states:?}"
    );
}

/// A cell killed after its first epoch is shown as interrupted and resumed by the next
/// `grid run`, ending with the record of an uninterrupted run; `--cell` takes an index too.
#[test]
fn a_killed_cell_resumes_bit_identical_and_cells_are_named_by_id_or_index() {
    let dir = scratch("grid-resume");
    let file = grid(&dir, "cnn", "[0]", 6);
    let whole = scratch("grid-resume-whole").join("out");
    let rows = plan_rows(&file);
    let (_, id, name, _) = rows[1].clone();
    let o = amp(&["grid", "run", s(&file), "--out", s(&whole), "--cell", "1"]);
    assert!(o.status.success(), "{}", text(&o));

    let out = dir.join("out");
    let mut child = amp_cmd(&["grid", "run", s(&file), "--cell", &id, "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ckpt = out
        .join(&id)
        .join(format!("{name}-cnn-seed0.ckpt.safetensors"));
    wait_for(&ckpt, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    let states: Vec<String> = plan_rows(&file).into_iter().map(|r| r.3).collect();
    let epochs = Checkpoint::position(&ckpt).unwrap().epoch;
    assert!(epochs >= 1, "a checkpoint is written after an epoch");
    let interrupted = format!("interrupted, {epochs}/6 epochs");
    assert_eq!(states, ["to run", &interrupted, "to run", "to run"]);
    // A process holding the cell's lock (as a running `grid run` does) makes it running.
    let lock = std::fs::File::open(out.join(&id).join("lock")).unwrap();
    lock.try_lock().unwrap();
    assert_eq!(plan_rows(&file)[1].3, format!("running, {epochs}/6 epochs"));
    drop(lock);

    let o = amp(&["grid", "run", s(&file), "--cell", &id]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("resuming"), "{}", text(&o));
    assert_eq!(
        results(&record_of(&out, &id)),
        results(&record_of(&whole, &id))
    );
    let o = amp(&["grid", "run", s(&file), "--cell", "1"]);
    assert!(
        o.status.success() && text(&o).contains("already done (finished), skipped"),
        "{}",
        text(&o)
    );
    let o = amp(&["grid", "run", s(&file), "--cell", "9"]);
    assert!(
        !o.status.success()
            && text(&o).contains("--cell 9: ")
            && text(&o).contains("indexes 0 to 3"),
        "{}",
        text(&o)
    );
}

/// A stop sent to `grid run` alone (`kill -INT` or `kill` of its pid, not the terminal's
/// Ctrl-C to the whole group) reaches its running cells: they checkpoint after their step and
/// the command exits with 130 at once, instead of waiting for the cells to finish.
#[test]
fn a_stop_sent_to_grid_run_alone_interrupts_its_running_cells() {
    for signal in ["-INT", "-TERM"] {
        let dir = scratch(&format!("grid-stop{signal}"));
        // Long enough (2,000 epochs, minutes) that no cell could finish while the test waits.
        let file = grid(&dir, "cnn", "[0]", 2000);
        let rows = plan_rows(&file);
        let out = dir.join("out");
        let mut child = amp_cmd(&["grid", "run", s(&file), "--jobs", "2", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        for (_, id, name, _) in &rows[..2] {
            let ckpt = out
                .join(id)
                .join(format!("{name}-cnn-seed0.ckpt.safetensors"));
            wait_for(&ckpt, &mut child);
        }
        let started = std::time::Instant::now();
        let kill = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let o = child.wait_with_output().unwrap();
        let took = started.elapsed();
        assert_eq!(o.status.code(), Some(130), "{signal}: {}", text(&o));
        assert!(
            took < std::time::Duration::from_secs(60),
            "{signal}: took {took:?}"
        );
        let t = text(&o);
        assert!(
            t.contains("asked the 2 running cell(s) to stop"),
            "{signal}: {t}"
        );
        assert_eq!(
            t.matches("interrupted (checkpoint kept)").count(),
            2,
            "{signal}: {t}"
        );
        let states: Vec<String> = plan_rows(&file).into_iter().map(|r| r.3).collect();
        assert!(
            states[..2]
                .iter()
                .all(|st| st.starts_with("interrupted, ") && st.contains("/2000 epochs")),
            "{signal}: {states:?}"
        );
        assert_eq!(states[2..], ["to run", "to run"], "{signal}");
    }
}

#[test]
fn grid_errors_name_the_file_line_and_field() {
    let dir = scratch("grid-errors");
    let file = grid(&dir, "mlp", "[0]", 3);
    let text_of = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text_of.replace("[0.05, 0.1]", "[0.05, \"fast\"]")).unwrap();
    let o = amp(&["grid", "plan", s(&file)]);
    assert_eq!(o.status.code(), Some(1));
    let want = format!(
        "error: {}:10:21: axes.\"train.lr\"[1]: on mlp, seed 0: train.lr: ",
        s(&file)
    );
    assert!(text(&o).contains(&want), "{}\nwant {want}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    let o = amp(&["grid", "run", s(&dir.join("nope.toml"))]);
    assert!(
        text(&o).contains("nope.toml: cannot read the config"),
        "{}",
        text(&o)
    );
}

/// A `data` path that does not exist stops `grid run` and `grid slurm` before any cell starts
/// (no cell folder, no log per cell), pointing at the field; `grid plan` still shows the plan,
/// with a warning.
#[test]
fn a_missing_data_path_stops_the_grid_before_any_cell() {
    let dir = scratch("grid-nodata");
    let file = grid(&dir, "mlp", "[0]", 3);
    let body = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("data = \"nope.tar.gz\"\n{body}")).unwrap();
    let want = format!(
        "error: {}:1:8: data: nope.tar.gz: no such file or folder (relative to the current \
         folder, ",
        s(&file)
    );
    for args in [["grid", "run"], ["grid", "slurm"]] {
        let o = amp(&[args[0], args[1], s(&file)]);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains(&want),
            "{args:?}: {}\nwant {want}",
            text(&o)
        );
        assert!(!dir.join("out").exists(), "{args:?} made the output folder");
    }
    let o = amp(&["grid", "plan", s(&file)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&want.replacen("error", "warning", 1)),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("4 cells ("), "{}", text(&o));
}

/// The shipped grid files expand (their configs exist and fit their models), every one of them:
/// a new file in `configs/grids/` fails here until its cell count is listed.
#[test]
fn shipped_grids_expand() {
    let shipped = [
        ("configs/grids/cifar-cnn-cpu.toml", 12),
        ("configs/grids/method-section6.toml", 36),
        ("configs/grids/plain-nobn-cpu.toml", 12),
        ("configs/grids/plain-nobn-he-cpu.toml", 12),
        ("configs/grids/plain-nobn-he-param-cpu.toml", 12),
        ("configs/grids/plain20-cpu.toml", 8),
        ("configs/grids/plain20-param-cpu.toml", 8),
        ("configs/grids/plain20-param-seeds-cpu.toml", 16),
        ("configs/grids/plain20-factor-cpu.toml", 8),
        ("configs/grids/plain20-topk-cpu.toml", 8),
        ("configs/grids/resnet20-cpu.toml", 8),
        ("configs/grids/plain20-param-long-cpu.toml", 8),
        ("configs/grids/plain56-param-cpu.toml", 8),
        ("configs/grids/plain56-warmup-cpu.toml", 4),
        ("configs/grids/plain20-param-below-cpu.toml", 8),
        ("configs/grids/plain20-param-k8-cpu.toml", 8),
        ("configs/grids/plain20-param-lowlr-cpu.toml", 8),
        ("configs/grids/resnet20-param-cpu.toml", 8),
        ("configs/grids/plain20-hold-cpu.toml", 8),
        ("configs/grids/plain20-output-seeds-cpu.toml", 8),
        ("configs/grids/plain20-smallk-cpu.toml", 12),
        ("configs/grids/resnet20-hold-cpu.toml", 8),
        ("configs/grids/resnet20-output-seeds-cpu.toml", 8),
        ("configs/grids/plain20-schedule-cpu.toml", 12),
        ("configs/grids/plain20-late-seeds-cpu.toml", 16),
        ("configs/grids/plain20-input-cpu.toml", 8),
        ("configs/grids/resnet20-schedule-cpu.toml", 12),
        ("configs/grids/plain20-measure-cpu.toml", 12),
        ("configs/grids/plain20-measure-param-cpu.toml", 12),
        ("configs/grids/resnet20-measure-cpu.toml", 12),
        ("configs/grids/resnet20-lr08-cpu.toml", 12),
        ("configs/grids/resnet20-lr04-cpu.toml", 12),
        ("configs/grids/resnet20-lr08-warmup-cpu.toml", 12),
        ("configs/grids/resnet56-cpu.toml", 16),
        ("configs/grids/resnet56-param-cpu.toml", 16),
        ("configs/grids/resnet56-warmup-cpu.toml", 8),
        ("configs/grids/resnet56-seeds-cpu.toml", 16),
        ("configs/grids/resnet56-random-cpu.toml", 24),
        ("configs/grids/resnet56-smallk-cpu.toml", 16),
        ("configs/grids/resnet56-seeds2-cpu.toml", 16),
        ("configs/grids/resnet56-guard-cpu.toml", 16),
        ("configs/grids/resnet56-guard-seeds-cpu.toml", 16),
        ("configs/grids/resnet56-guard-fresh-cpu.toml", 16),
        ("configs/grids/resnet56-guard-random-cpu.toml", 16),
        ("configs/grids/resnet56-guard-random20-cpu.toml", 16),
        ("configs/grids/resnet56-guard-choice-cpu.toml", 18),
        ("configs/grids/resnet56-guard-place-cpu.toml", 56),
        ("configs/grids/resnet56-guard-stage-cpu.toml", 70),
        ("configs/grids/resnet56-guard-reach-cpu.toml", 21),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(root.join("configs/grids"))
        .unwrap()
        .map(|e| format!("configs/grids/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = shipped.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "list every grid file in configs/grids/ here"
    );
    for (file, cells) in shipped {
        let o = amp(&["grid", "plan", file, "--out", s(&scratch("grid-shipped"))]);
        assert!(o.status.success(), "{file}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("{cells} cells (")),
            "{file}: {}",
            text(&o)
        );
    }
}
