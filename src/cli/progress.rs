//! Progress bars on stderr while a run trains (hidden when stderr is not a terminal).

use amp_core::train::{EpochRecord, Observer};
use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar per epoch, and prints a line when an epoch ends.
pub struct Bars {
    run: String,
    epochs: usize,
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Bars {
    /// Bars for the run `run` of `epochs` epochs; `quiet` prints nothing at all.
    pub fn new(run: &str, epochs: usize, quiet: bool) -> Self {
        Self {
            run: run.to_string(),
            epochs,
            bar: None,
            quiet,
        }
    }
}

impl Observer for Bars {
    fn epoch_started(&mut self, epoch: usize, steps: usize) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>24} [{bar:30}] {pos}/{len} steps, loss {msg} ({elapsed}, eta {eta})",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{} {}/{}", self.run, epoch + 1, self.epochs));
        self.bar = Some(bar);
    }

    fn step_finished(&mut self, _step: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{loss:.3}"));
            bar.inc(1);
        }
    }

    fn epoch_finished(&mut self, r: &EpochRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        eprintln!(
            "{:>24} epoch {:>2}: lr {:<7} loss {:.3}  train {:.3}  test {:.3}  amplified {:>2}  {:.1}s",
            self.run,
            r.epoch + 1,
            format!("{}", r.lr),
            r.train_loss,
            r.train_acc,
            r.test_acc,
            r.amplified.len(),
            r.seconds
        );
    }
}
