//! What the end-to-end tests of the `amp` binary share: running it, reading its output,
//! scratch folders. (Each test target includes this module and uses part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `amp ARGS` from the repository root.
pub fn amp_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_amp"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

pub fn amp(args: &[&str]) -> Output {
    amp_cmd(args).output().expect("the amp binary runs")
}

/// Stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh folder under the temp dir, named after the test process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amp-tests-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A record as JSON without the wall-clock measurements (which a resumed run cannot share).
pub fn results(path: &Path) -> serde_json::Value {
    let mut v = json(path);
    for e in v["epochs"].as_array_mut().unwrap() {
        e["seconds"] = 0.into();
    }
    for f in ["started", "finished", "resumed"] {
        v["provenance"][f] = serde_json::Value::Null;
    }
    v
}

/// Mean and sample standard deviation.
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, sd)
}

/// `(index, id, config, state)` of each row of `amp grid plan`.
pub fn plan_rows(file: &Path) -> Vec<(usize, String, String, String)> {
    let o = amp(&["grid", "plan", s(file)]);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l
                .split('┆')
                .map(|c| c.trim_matches(|c: char| c == '│' || c.is_whitespace()))
                .collect();
            let index = f.first()?.parse().ok()?;
            Some((index, f[1].to_string(), f[4].to_string(), f[6].to_string()))
        })
        .collect()
}

/// Waits until the running `amp` process `child` has written `path` (a checkpoint), failing
/// if it ends first or takes over two minutes.
pub fn wait_for(path: &Path, child: &mut std::process::Child) {
    let start = Instant::now();
    while !path.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `amp train CFG` on the CNN with a 256-image subset of the synthetic data, quietly, into
/// `out`.
pub fn train_args<'a>(cfg: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "train",
        cfg.to_str().unwrap(),
        "--model",
        "cnn",
        "--limit",
        "256",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]
}
