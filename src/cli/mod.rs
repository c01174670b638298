//! The `amp` command line: one module per command, plus what they share.

pub mod args;
mod data;
mod demo;
pub mod device;
mod experiment;
mod models;
mod plot;
mod progress;
mod report;
mod report_cmd;
mod sweep;
mod train_cmd;

use anyhow::Result;

use args::{Cli, Command, DemoArgs};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => demo::run(DemoArgs {
            epochs: 12,
            out: "runs/demo".into(),
            seed: 0,
            quiet: false,
            device: device::DeviceSpec::Cpu,
        }),
        Some(Command::Demo(a)) => demo::run(a),
        Some(Command::Layers(a)) => {
            for (i, l) in models::layer_infos(a.model).iter().enumerate() {
                println!("{i:>3}  {:<24} {}", l.name, l.kind);
            }
            Ok(())
        }
        Some(Command::Report(a)) => report_cmd::run(a),
        Some(Command::Sweep(a)) => sweep::run(a),
        Some(Command::Train(a)) => train_cmd::run(a),
        Some(Command::Check(a)) => train_cmd::check(a),
    }
}
