//! `amp grid slurm`: an sbatch script for a Slurm job array with one task per cell not done,
//! and `--submit` to submit it.
//!
//! Each task runs `amp grid run FILE --cell $SLURM_ARRAY_TASK_ID`: the array index is the
//! cell's index in plan order (`amp grid plan`). The task also gets the plan's fingerprint and
//! refuses to run if the grid file was edited since submission (the indexes could then name
//! other cells). Only cells not done are in the array, and a task whose cell finished
//! meanwhile skips it, so resubmitting after failed, timed-out or preempted tasks runs exactly
//! what is left; an interrupted cell resumes from its last epoch's checkpoint.
//!
//! Slurm runs the tasks on other machines: the binary, the grid file with its configs, the
//! data and the output folder must be on a file system shared by the nodes, at the same paths
//! (the script uses absolute ones).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::super::args::GridSlurmArgs;
use super::cell::{CellDir, CellState};
use super::expand::Plan;

/// What the script asks Slurm for, and where it writes.
pub struct Script {
    pub path: PathBuf,
    pub text: String,
    /// Plan indexes of the cells in the array.
    pub cells: Vec<usize>,
}

/// Writes the script for the cells of `plan` that are not done (none: `None`).
pub fn write_script(plan: &Plan, file: &Path, args: &GridSlurmArgs) -> Result<Option<Script>> {
    let mut cells = Vec::new();
    for cell in &plan.cells {
        match CellDir::new(&plan.spec.out, cell).state()? {
            s if s.done() => {}
            CellState::Running(_) => eprintln!(
                "cell [{}] {} is running (its lock is held); not in this array",
                cell.index, cell.id
            ),
            _ => cells.push(cell.index),
        }
    }
    if cells.is_empty() {
        return Ok(None);
    }
    let dir = absolute(&plan.spec.out)?.join("slurm");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = (1..)
        .map(|n| dir.join(format!("array-{n:03}.sbatch")))
        .find(|p| !p.exists())
        .expect("a free script name");
    let text = script_text(plan, file, args, &cells, &dir)?;
    amp_core::io::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(Script { path, text, cells }))
}

/// The sbatch script.
fn script_text(
    plan: &Plan,
    file: &Path,
    args: &GridSlurmArgs,
    cells: &[usize],
    dir: &Path,
) -> Result<String> {
    let stem = file
        .file_stem()
        .map_or("grid".into(), |s| s.to_string_lossy().to_string());
    let mut array = ranges(cells);
    if let Some(p) = args.max_parallel {
        array.push_str(&format!("%{p}"));
    }
    let mut s = format!(
        "#!/bin/bash\n\
         # Written by `amp grid slurm` at {now}: {n} of the {total} cells of {file} not done.\n\
         # One array task per cell; $SLURM_ARRAY_TASK_ID is the cell's index in `amp grid plan`.\n\
         # Resubmit with `amp grid slurm {file} --submit` to run what failed or was preempted;\n\
         # finished cells are skipped. Needs a file system shared by the nodes (same paths).\n\
         #SBATCH --job-name=amp-grid-{stem}\n\
         #SBATCH --array={array}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --output={out}/%A_%a.out\n",
        now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        n = cells.len(),
        total = plan.cells.len(),
        file = file.display(),
        cpus = args.cpus,
        out = dir.display(),
    );
    for (flag, value) in [("partition", &args.partition), ("time", &args.time)] {
        if let Some(v) = value {
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    if let Some(g) = args.gpus.filter(|&g| g > 0) {
        s.push_str(&format!("#SBATCH --gres=gpu:{g}\n"));
    }
    let device = if args.gpus.unwrap_or(0) > 0 {
        "cuda"
    } else {
        "cpu"
    };
    let exe = std::env::current_exe().context("finding the amp binary")?;
    s.push_str(&format!(
        "set -eu\ncd {cwd}\nexport RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
         exec {exe} grid run {file} --out {out} --cell \"$SLURM_ARRAY_TASK_ID\" --plan {fp} --device {device} --quiet\n",
        cwd = quote(&std::env::current_dir()?),
        cpus = args.cpus,
        exe = quote(&exe),
        file = quote(&absolute(file)?),
        out = quote(&absolute(&plan.spec.out)?),
        fp = plan.fingerprint(),
    ));
    Ok(s)
}

/// `0-3,7,9-10`: ascending indexes as Slurm array ranges.
pub fn ranges(cells: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let start = cells[i];
        while i + 1 < cells.len() && cells[i + 1] == cells[i] + 1 {
            i += 1;
        }
        parts.push(if cells[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", cells[i])
        });
        i += 1;
    }
    parts.join(",")
}

/// Submits the script with `sbatch --parsable`; returns the job id and notes it in
/// `<out>/slurm/submissions.log`.
pub fn submit(script: &Script) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script.path)
        .output()
        .map_err(|e| {
            anyhow::anyhow!("--submit: cannot run sbatch ({e}); is this a Slurm login node?")
        })?;
    if !out.status.success() {
        bail!(
            "--submit: sbatch {} failed: {}",
            script.path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = stdout.trim().split(';').next().unwrap_or("").to_string();
    let log = script.path.with_file_name("submissions.log");
    let line = format!(
        "{} job {job} script {} cells {}\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        script.path.display(),
        ranges(&script.cells)
    );
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .with_context(|| format!("writing {}", log.display()))?;
    Ok(job)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("making {} absolute", p.display()))
}

/// A path as one shell word.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_become_slurm_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 3]), "0-3");
        assert_eq!(ranges(&[0, 1, 2, 3, 7, 9, 10]), "0-3,7,9-10");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }
}
