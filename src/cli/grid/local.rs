//! `amp grid run`: cells on this machine.
//!
//! `--cell ID` runs cells in this process (what each Slurm array task does). Without it,
//! every cell not done is run by up to `--jobs N` child processes, each `amp grid run FILE
//! --cell ID`, with `RAYON_NUM_THREADS` set to this machine's CPUs divided by N so that the
//! children do not fight over cores; each child's output goes to its cell's `log.txt`.
//! Finished cells are skipped and interrupted ones resume from their checkpoints, so rerunning
//! the command continues a killed grid; a cell that another process runs (its lock is held) is
//! left to it.
//!
//! Stopping: each child runs in a process group of its own, so that a terminal's Ctrl-C
//! reaches only this process, which passes the request on to every running child once (a
//! child asked twice quits without its step checkpoint). So Ctrl-C, `kill -INT` and `kill`
//! (SIGTERM) of this process alike stop every running cell after its current step, with a
//! checkpoint to resume from.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use amp_core::train::{Outcome, StopFlag};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::super::data;
use super::super::device::DeviceSpec;
use super::super::experiment::Job;
use super::super::run_files::Existing;
use super::super::sweep::minutes;
use super::super::Finish;
use super::cell::{epochs_done, CellDir, CellState};
use super::expand::{Cell, Plan};

/// How the cells of one invocation run.
pub struct RunOptions<'a> {
    /// The grid file as given (children get the same path, from the same folder).
    pub file: &'a Path,
    pub device: DeviceSpec,
    pub quiet: bool,
}

/// Runs the cells named by `--cell`, one after the other, in this process.
pub fn run_cells(
    plan: &Plan,
    cells: &[&Cell],
    opts: &RunOptions,
    stop: &StopFlag,
) -> Result<Finish> {
    let mut finish = Finish::Done;
    for cell in cells {
        match run_cell(plan, cell, opts, stop)? {
            Finish::Interrupted => return Ok(Finish::Interrupted),
            Finish::Diverged => finish = Finish::Diverged,
            Finish::Done => {}
        }
    }
    Ok(finish)
}

/// One cell: skipped when done, resumed when interrupted, refused while another process
/// runs it. The record is written atomically when the run is over.
fn run_cell(plan: &Plan, cell: &Cell, opts: &RunOptions, stop: &StopFlag) -> Result<Finish> {
    let spec = &plan.spec;
    let dir = CellDir::new(&spec.out, cell);
    let tag = format!("cell {} [{}] {}", cell.id, cell.index, cell.describe());
    let Some(_lock) = dir.lock()? else {
        bail!(
            "{tag}: another process is running this cell ({} is locked)",
            dir.dir.join("lock").display()
        );
    };
    // The files, not `dir.state()`: this process holds the lock now, so the state would
    // say "running".
    let resume = match dir.files.existing()? {
        Existing::Record(r) => {
            eprintln!("{tag}: already done ({}), skipped", r.status.label());
            return Ok(Finish::Done);
        }
        Existing::Checkpoint => true,
        Existing::Nothing => false,
    };
    amp_core::io::write_atomic(&dir.config, cell.config.to_toml().as_bytes())
        .with_context(|| format!("writing {}", dir.config.display()))?;
    let data = data::load(&spec.data, cell.seed, spec.limit, spec.test_limit)?;
    eprintln!(
        "{tag}: {} ({})",
        if resume { "resuming" } else { "training" },
        data.describe()
    );
    let outcome = Job {
        config: &cell.config,
        data: &data,
        files: &dir.files,
        limits: (spec.limit, spec.test_limit),
        resume,
        stop: stop.clone(),
        device: opts.device,
        label: format!("[{}] {}", cell.index, cell.config.name),
        quiet: opts.quiet,
    }
    .run(cell.model)?;
    match outcome {
        Outcome::Done(r) => {
            dir.files.save_record(&r)?;
            eprintln!(
                "{tag}: {}, final test accuracy {:.4}",
                r.status.label(),
                r.final_test_acc()
            );
            Ok(if r.status.diverged() {
                Finish::Diverged
            } else {
                Finish::Done
            })
        }
        Outcome::Stopped { .. } => {
            eprintln!("{tag}: interrupted; its checkpoint is kept and the next run resumes it");
            Ok(Finish::Interrupted)
        }
    }
}

/// A child process running one cell.
struct Running<'a> {
    cell: &'a Cell,
    child: Child,
    started: Instant,
}

impl Running<'_> {
    /// Asks the cell's process to stop after its current step (SIGINT, as Ctrl-C would).
    #[cfg(unix)]
    fn interrupt(&self) {
        // A pid that does not fit an i32 is not a process; nothing to ask.
        let Ok(pid) = libc::pid_t::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: kill(2) with a pid and a signal number touches no memory of this process;
        // the child has not been waited for yet (this runs before try_wait reaps it), so the
        // pid is still the child's and cannot have been reused by another process.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }

    /// Elsewhere the children share the console and its Ctrl-C with this process.
    #[cfg(not(unix))]
    fn interrupt(&self) {}
}

/// How the cell processes of one `grid run` ended.
#[derive(Default)]
struct Tally {
    /// The log line of each cell that failed.
    failed: Vec<String>,
    interrupted: bool,
    diverged: bool,
}

impl Tally {
    /// Notes a cell's exit code (those of [`Finish`]) and its log line.
    fn note(&mut self, code: Option<i32>, line: &str) {
        match code.and_then(Finish::from_exit_code) {
            Some(Finish::Done) => {}
            Some(Finish::Diverged) => self.diverged = true,
            Some(Finish::Interrupted) => self.interrupted = true,
            None => self.failed.push(line.to_string()),
        }
    }

    /// What the whole run comes to: an error listing the failed cells, or how it finished.
    fn finish(self, stop: &StopFlag, opts: &RunOptions) -> Result<Finish> {
        if !self.failed.is_empty() {
            bail!(
                "{} cell(s) failed:\n  {}",
                self.failed.len(),
                self.failed.join("\n  ")
            );
        }
        if self.interrupted || stop.requested() {
            eprintln!("interrupted; rerun the same command to continue where it stopped");
            return Ok(Finish::Interrupted);
        }
        eprintln!("report: amp grid report {}", opts.file.display());
        Ok(if self.diverged {
            Finish::Diverged
        } else {
            Finish::Done
        })
    }
}

/// The cells still to run, and how many are done and how many running in another process.
fn pending(plan: &Plan) -> Result<(Vec<&Cell>, usize, usize)> {
    let mut todo = Vec::new();
    let (mut done, mut elsewhere) = (0, 0);
    for cell in &plan.cells {
        match CellDir::new(&plan.spec.out, cell).state()? {
            s if s.done() => done += 1,
            CellState::Running(_) => elsewhere += 1,
            _ => todo.push(cell),
        }
    }
    Ok((todo, done, elsewhere))
}

/// Runs every cell not done with up to `jobs` child processes.
pub fn run_all(plan: &Plan, jobs: usize, opts: &RunOptions, stop: &StopFlag) -> Result<Finish> {
    let (todo, done, elsewhere) = pending(plan)?;
    let threads = (available_cpus() / jobs).max(1);
    eprintln!(
        "amp grid run: {} cells: {done} done, {elsewhere} running elsewhere, {} to run with {jobs} \
         process(es) of {threads} thread(s) into {}",
        plan.cells.len(),
        todo.len(),
        plan.spec.out.display()
    );
    let bar = progress_bar(todo.len(), opts.quiet);
    let mut queue = todo.into_iter();
    let mut running: Vec<Running> = Vec::new();
    let mut tally = Tally::default();
    let started = Instant::now();
    // The bar's message is redrawn when the cells running change, and every 2 s for their
    // epochs.
    let mut changed = true;
    let mut forwarded = false;
    for tick in 0u64.. {
        while running.len() < jobs && !stop.requested() {
            let Some(cell) = queue.next() else { break };
            running.push(spawn(plan, cell, threads, opts)?);
            changed = true;
        }
        if running.is_empty() {
            break;
        }
        if (changed || tick % 20 == 0) && !opts.quiet {
            bar.set_message(running_message(plan, &running));
            changed = false;
        }
        if stop.requested() && !forwarded {
            forwarded = true;
            for r in &running {
                r.interrupt();
            }
            bar.suspend(|| {
                eprintln!(
                    "asked the {} running cell(s) to stop after their current step",
                    running.len()
                )
            });
        }
        std::thread::sleep(Duration::from_millis(100));
        let before = running.len();
        running = reap(plan, running, &bar, &mut tally)?;
        changed |= running.len() != before;
    }
    bar.finish_and_clear();
    eprintln!(
        "amp grid run: wall time {}",
        minutes(started.elapsed().as_secs_f64())
    );
    tally.finish(stop, opts)
}

/// The cells of `running` still running; each that ended is counted, told and ticked off.
fn reap<'a>(
    plan: &Plan,
    running: Vec<Running<'a>>,
    bar: &ProgressBar,
    tally: &mut Tally,
) -> Result<Vec<Running<'a>>> {
    let mut still = Vec::new();
    for mut r in running {
        let Some(status) = r.child.try_wait().context("waiting for a cell process")? else {
            still.push(r);
            continue;
        };
        bar.inc(1);
        let line = ended(plan, &r, status.code());
        tally.note(status.code(), &line);
        bar.suspend(|| eprintln!("{line}"));
    }
    Ok(still)
}

/// `[2] 6/16 epochs, [3] 0/16 epochs`: the cells running and how far their checkpoints got.
fn running_message(plan: &Plan, running: &[Running]) -> String {
    running
        .iter()
        .map(|r| {
            let at = CellDir::new(&plan.spec.out, r.cell)
                .position()
                .unwrap_or_default();
            format!(
                "[{}] {}",
                r.cell.index,
                epochs_done(at, r.cell.config.train.epochs)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The binary this process runs, for the cells' processes: on Linux `/proc/self/exe`, which
/// still names it after a rebuild replaced the file (`current_exe` then answers a path ending
/// in " (deleted)", which cannot be started), so a grid runs every cell with the binary it
/// started with, however long it runs.
fn own_binary() -> Result<PathBuf> {
    let proc_exe = Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && proc_exe.exists() {
        return Ok(proc_exe.to_path_buf());
    }
    std::env::current_exe().context("finding the amp binary")
}

/// Starts `amp grid run FILE --cell ID` for `cell`, its output appended to the cell's log.
fn spawn<'a>(
    plan: &Plan,
    cell: &'a Cell,
    threads: usize,
    opts: &RunOptions,
) -> Result<Running<'a>> {
    let dir = CellDir::new(&plan.spec.out, cell);
    std::fs::create_dir_all(&dir.dir).with_context(|| format!("creating {}", dir.dir.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&dir.log)
        .with_context(|| format!("opening {}", dir.log.display()))?;
    let mut command = Command::new(own_binary()?);
    // A group of its own: the terminal's Ctrl-C goes to this process only, which forwards it
    // once (`Running::interrupt`).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .arg("grid")
        .arg("run")
        .arg(opts.file)
        .arg("--out")
        .arg(&plan.spec.out)
        .args(["--cell", &cell.id, "--device", &opts.device.to_string()])
        .args(opts.quiet.then_some("--quiet"))
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting a cell process")?;
    Ok(Running {
        cell,
        child,
        started: Instant::now(),
    })
}

/// The line printed when a child ends.
fn ended(plan: &Plan, r: &Running, code: Option<i32>) -> String {
    let dir = CellDir::new(&plan.spec.out, r.cell);
    let took = minutes(r.started.elapsed().as_secs_f64());
    let what = match (code.and_then(Finish::from_exit_code), dir.state()) {
        (Some(Finish::Done | Finish::Diverged), Ok(state)) if state.record().is_some() => {
            let rec = state.record().expect("checked");
            format!(
                "{}, final test accuracy {:.4}",
                rec.status.label(),
                rec.final_test_acc()
            )
        }
        (Some(Finish::Interrupted), _) => "interrupted (checkpoint kept)".to_string(),
        _ => format!(
            "FAILED (exit {}); see {}",
            code.map_or("by a signal".into(), |c| c.to_string()),
            dir.log.display()
        ),
    };
    format!(
        "[{}] {} {}: {what} ({took})",
        r.cell.index,
        r.cell.id,
        r.cell.describe()
    )
}

fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "grid {bar:30} {pos}/{len} cells, {elapsed} (eta {eta}) running {msg}",
        )
        .expect("a valid progress template"),
    );
    bar
}

/// CPUs this process may use (affinity and cgroup limits respected).
fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
