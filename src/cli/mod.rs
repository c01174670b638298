//! The `amp` command line: one module per command, plus what they share.

pub mod args;
mod data;
mod decisions;
mod demo;
pub mod device;
mod experiment;
mod grid;
mod models;
mod paired;
mod per_seed;
mod plot;
mod plot_text;
mod progress;
mod report;
mod report_cmd;
mod run_files;
mod run_row;
mod summary;
mod sweep;
mod train_cmd;
mod versus;
mod weights_cmd;

use amp_core::train::StopFlag;
use anyhow::Result;

use args::{Cli, Command, DemoArgs};

/// How a command ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Done (exit 0).
    Done,
    /// A run diverged (exit 3): its record says where and why.
    Diverged,
    /// Stopped by Ctrl-C after writing a checkpoint (exit 130); `--resume` continues.
    Interrupted,
}

impl Finish {
    pub fn exit_code(self) -> i32 {
        match self {
            Finish::Done => 0,
            Finish::Diverged => 3,
            Finish::Interrupted => 130,
        }
    }

    /// The finish whose exit code is `code` (how a parent reads a child `amp` process).
    pub fn from_exit_code(code: i32) -> Option<Finish> {
        [Finish::Done, Finish::Diverged, Finish::Interrupted]
            .into_iter()
            .find(|f| f.exit_code() == code)
    }
}

/// Runs the parsed command line; `stop` is set by Ctrl-C.
pub fn run(cli: Cli, stop: &StopFlag) -> Result<Finish> {
    let done = |r: Result<()>| r.map(|()| Finish::Done);
    match cli.command {
        None => demo::run(
            DemoArgs {
                epochs: 12,
                out: "runs/demo".into(),
                seed: 0,
                quiet: false,
                device: device::DeviceSpec::Cpu,
            },
            stop,
        ),
        Some(Command::Demo(a)) => demo::run(a, stop),
        Some(Command::Layers(a)) => {
            for (i, l) in models::layer_infos(a.model()).iter().enumerate() {
                println!("{i:>3}  {:<24} {}", l.name, l.kind);
            }
            Ok(Finish::Done)
        }
        Some(Command::Report(a)) => done(report_cmd::run(a)),
        Some(Command::Sweep(a)) => sweep::run(a, stop),
        Some(Command::Train(a)) => train_cmd::run(a, stop),
        Some(Command::Check(a)) => done(train_cmd::check(a)),
        Some(Command::Grid(a)) => grid::run(a, stop),
        Some(Command::Weights(a)) => done(weights_cmd::run(a)),
    }
}
