//! `amp grid slurm --submit` against a real Slurm cluster (a single node on this machine,
//! started by scripts/slurm/start.sh; `.ci/run` starts it first). Without a responding Slurm
//! the test prints a SKIP line and passes.
//!
//! A 4-cell grid is submitted as one job array; one task is cancelled midway (after its
//! first epoch's checkpoint), like a preempted task. Resubmitting runs only that cell, which
//! resumes from its checkpoint; the report then matches the records.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{amp, json, mean_sd, plan_rows, s, scratch, text};

const CONFIG: &str = "name = \"icv\"\n[train]\nepochs = 10\nlr = 0.05\nbatch_size = 64\n\
[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"mean\"\nobserve_epochs = 1\n";

/// Whether `sinfo` answers with an idle or allocated node.
fn slurm_up() -> bool {
    Command::new("timeout")
        .args(["10", "sinfo", "-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
}

fn grid(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("icv.toml"), CONFIG).unwrap();
    let path = dir.join("grid.toml");
    let text = format!(
        "configs = [\"icv.toml\"]\nmodels = [\"cnn\"]\nseeds = [0]\nlimit = 2500\ntest_limit = 128\n\
         out = \"{}\"\n[axes]\n\"train.lr\" = [0.05, 0.1]\n\"amp.factor\" = [2.0]\n",
        s(&dir.join("out"))
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Submits; returns the job id and the script's text.
fn submit(file: &Path) -> (String, String) {
    let o = amp(&[
        "grid",
        "slurm",
        s(file),
        "--cpus",
        "1",
        "--max-parallel",
        "2",
        "--time",
        "10:00",
        "--submit",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let job = out
        .lines()
        .find_map(|l| l.strip_prefix("submitted job "))
        .and_then(|l| l.split(|c: char| c == ';' || c.is_whitespace()).next())
        .unwrap_or_else(|| panic!("no job id in:\n{out}"))
        .to_string();
    (job, out)
}

fn in_queue(job: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", job])
        .output()
        .unwrap();
    !String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

fn wait_for_job(job: &str) {
    let start = Instant::now();
    while in_queue(job) {
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "job {job} still queued after 4 minutes"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Cell folders with a checkpoint but no record: tasks between epochs.
fn midway(out: &Path) -> Option<String> {
    for e in std::fs::read_dir(out).ok()? {
        let dir = e.ok()?.path();
        let files: Vec<String> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|f| f.ok())
            .map(|f| f.file_name().to_string_lossy().to_string())
            .collect();
        if files.iter().any(|f| f.ends_with(".ckpt.safetensors"))
            && !files.iter().any(|f| f.ends_with(".json"))
        {
            return dir.file_name().map(|n| n.to_string_lossy().to_string());
        }
    }
    None
}

#[test]
fn an_array_job_runs_the_grid_and_a_resubmission_finishes_a_cancelled_task() {
    if !slurm_up() {
        eprintln!("SKIP grid_slurm: no Slurm cluster answers `sinfo` (start one with scripts/slurm/start.sh, as root)");
        return;
    }
    let started = Instant::now();
    let dir = scratch("grid-slurm");
    let file = grid(&dir);
    let out = dir.join("out");
    let cells = plan_rows(&file);
    assert_eq!(cells.len(), 4);
    let (job, printed) = submit(&file);
    assert!(printed.contains("#SBATCH --array=0-3%2"), "{printed}");
    assert!(
        printed.contains("--cell \"$SLURM_ARRAY_TASK_ID\" --plan "),
        "{printed}"
    );

    // Cancel the first task seen between epochs (array task id = cell index).
    let start = Instant::now();
    let id = loop {
        if let Some(id) = midway(&out) {
            break id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no task wrote a checkpoint"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let index = cells.iter().find(|c| c.1 == id).unwrap().0;
    let cancel = Command::new("scancel")
        .arg(format!("{job}_{index}"))
        .output()
        .unwrap();
    assert!(
        cancel.status.success(),
        "scancel: {}",
        String::from_utf8_lossy(&cancel.stderr)
    );
    wait_for_job(&job);
    let states = plan_rows(&file);
    for (i, _, _, state) in &states {
        if *i == index {
            // Cancelled after its first checkpoint: 1 to 9 of the 10 epochs done (and some
            // steps, when the stop request came inside an epoch).
            let done = state
                .strip_prefix("interrupted, ")
                .and_then(|s| s.split_once("/10 epochs"))
                .and_then(|(n, _)| n.parse::<usize>().ok());
            assert!(matches!(done, Some(1..=9)), "the cancelled cell: {state}");
        } else {
            assert!(state.starts_with("finished"), "cell {i}: {state}");
        }
    }

    let (job2, printed) = submit(&file);
    assert!(
        printed.contains(&format!("#SBATCH --array={index}%2")),
        "{printed}"
    );
    wait_for_job(&job2);
    assert!(
        plan_rows(&file).iter().all(|c| c.3.starts_with("finished")),
        "{:?}",
        plan_rows(&file)
    );
    let log =
        std::fs::read_to_string(out.join("slurm").join(format!("{job2}_{index}.out"))).unwrap();
    assert!(log.contains("resuming"), "{log}");

    let o = amp(&["grid", "slurm", s(&file)]);
    assert!(text(&o).contains("nothing to submit"), "{}", text(&o));
    let o = amp(&["grid", "report", s(&file)]);
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&out.join("report-grid.json"));
    let acc = |id: &str| {
        let dir = out.join(id);
        let rec = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .unwrap();
        json(&rec)["epochs"].as_array().unwrap().last().unwrap()["test_acc"]
            .as_f64()
            .unwrap()
    };
    // Each configuration has one seed here: its mean is its record's final accuracy.
    let o = amp(&["grid", "plan", s(&file)]);
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    for row in report["rows"].as_array().unwrap() {
        let name = row["config"].as_str().unwrap();
        let ids: Vec<&String> = states
            .iter()
            .map(|c| &c.1)
            .filter(|id| {
                plan.lines()
                    .any(|l| l.contains(id.as_str()) && l.contains(&format!(" {name} ")))
            })
            .collect();
        assert_eq!(ids.len(), 1, "{name}");
        let (m, _) = mean_sd(&[acc(ids[0])]);
        assert!(
            (row["final_acc"]["mean"].as_f64().unwrap() - m).abs() < 1e-12,
            "{name}"
        );
        assert_eq!(row["finished"].as_array().unwrap().len(), 1, "{name}");
    }
    assert_eq!(report["done"], 4);
    eprintln!("grid_slurm: {:.1} s", started.elapsed().as_secs_f64());
}
