//! Progress bars on stderr while a run trains and evaluates (hidden when stderr is not a
//! terminal), and a line per finished epoch.

use std::path::Path;

use amp_core::train::{EpochRecord, GuardEvent, Observer, Position};
use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar per epoch and one per evaluation, and prints a line when an epoch ends.
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

    fn start(&mut self, len: usize, what: &str, template: &str) -> Option<&ProgressBar> {
        if self.quiet {
            return None;
        }
        let bar = ProgressBar::new(len as u64);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{} {what}", self.run));
        self.bar = Some(bar);
        self.bar.as_ref()
    }
}

impl Observer for Bars {
    fn epoch_started(&mut self, epoch: usize, steps: usize, first_step: usize) {
        let what = format!("{}/{}", epoch + 1, self.epochs);
        let template =
            "{prefix:>24} [{bar:30}] {pos}/{len} steps, loss {msg} ({elapsed}, eta {eta})";
        if let Some(bar) = self.start(steps, &what, template) {
            bar.set_position(first_step as u64);
            bar.reset_eta();
        }
    }

    fn step_finished(&mut self, _step: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{loss:.3}"));
            bar.inc(1);
        }
    }

    fn eval_started(&mut self, batches: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let template = "{prefix:>24} [{bar:30}] {pos}/{len} test batches ({elapsed}, eta {eta})";
        self.start(batches, "test", template);
    }

    fn eval_step(&mut self) {
        if let Some(bar) = &self.bar {
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

    fn checkpoint_written(&mut self, path: &Path, next: Position) {
        if next.step != 0 && !self.quiet {
            if let Some(bar) = self.bar.take() {
                bar.finish_and_clear();
            }
            eprintln!(
                "{:>24} stopped at epoch {}, step {}: checkpoint {}",
                self.run,
                next.epoch + 1,
                next.step,
                path.display()
            );
        }
    }

    fn guard_fired(&mut self, g: &GuardEvent) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        eprintln!(
            "{:>24} epoch {:>2}: guard at step {}: {}; the epoch starts again without amplification",
            self.run,
            g.epoch + 1,
            g.step + 1,
            g.reason
        );
    }
}
