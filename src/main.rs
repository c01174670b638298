//! `amp`: train amplifiable networks, baseline against gradient amplification.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::args::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
