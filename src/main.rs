//! `amp`: train amplifiable networks, baseline against gradient amplification.

mod cli;

use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of stdout goes away (`amp report | head`)
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::args::Cli::parse();
    // Training allocates and frees the same large activation buffers every step; keeping freed
    // memory in the heap instead of returning it to the OS saves 15-20% of a step (see
    // BENCHMARKS.md). A process-wide choice, so the binary makes it, not the library.
    amp_nn::retain_freed_memory();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
