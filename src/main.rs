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
    // The trainer reads only the parameters' gradients after a backward pass, so amp-nn's ops
    // may free each intermediate gradient as soon as it is used (a lower peak per step).
    amp_nn::free_consumed_gradients(true);
    // Ctrl-C (and SIGTERM, SIGHUP: ctrlc's `termination` feature) asks the run to stop after
    // the current step and write a checkpoint; a second one quits at once (the last epoch's
    // checkpoint is still there).
    let stop = amp_core::train::StopFlag::new();
    let handler_flag = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_flag.request() {
            std::process::exit(130);
        }
        eprintln!("\nstopping after this step and writing a checkpoint (Ctrl-C again quits now)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not checkpoint: {e}");
    }
    match cli::run(args, &stop) {
        Ok(finish) => std::process::exit(finish.exit_code()),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
