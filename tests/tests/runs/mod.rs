//! What the tests of whole runs (checkpoint.rs, guard.rs) share: a small synthetic data set
//! and the recipe they train it with, a scratch checkpoint path, and a run's record without
//! its wall-clock fields.

use amp_core::data::{synthetic, Augment, ImageSet, SyntheticSpec};
use amp_core::train::{Checkpoint, Outcome, Position, RunRecord, TrainSettings};
use amp_core::Mode;

/// 160 training and 48 test images of 4 classes, 3x4x4: five batches of 32 per epoch.
pub fn data() -> (ImageSet, ImageSet) {
    let spec = SyntheticSpec {
        classes: 4,
        train: 160,
        test: 48,
        size: 4,
        max_shift: 1,
        noise: 0.8,
        seed: 5,
        ..SyntheticSpec::default()
    };
    synthetic(&spec)
}

/// The recipe both files train [`data`] with: `epochs` epochs of batches of 32, crop 1 and
/// flip, seed 9, `output` mode.
pub fn settings(epochs: usize) -> TrainSettings {
    TrainSettings {
        epochs,
        batch_size: 32,
        augment: Augment {
            crop_padding: 1,
            hflip: true,
        },
        seed: 9,
        mode: Mode::Output,
        ..TrainSettings::default()
    }
}

/// A checkpoint path in a fresh folder of its own, `prefix` and `name` naming it.
pub fn scratch(prefix: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("amp-{prefix}-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("run.ckpt.safetensors")
}

/// The record without what a resumed run legitimately changes: wall-clock measurements.
pub fn results(mut r: RunRecord) -> RunRecord {
    r.epochs.iter_mut().for_each(|e| e.seconds = 0.0);
    r.provenance.started.clear();
    r.provenance.finished.clear();
    r.provenance.resumed.clear();
    r
}

/// The record of a run that ran to its end.
pub fn done(o: Outcome) -> RunRecord {
    match o {
        Outcome::Done(r) => r,
        Outcome::Stopped { at, .. } => panic!("stopped at {at:?}"),
    }
}

/// Checks that `outcome` is a stop at `next` (epoch, step) with its checkpoint at `path`,
/// and returns that checkpoint, read back.
pub fn stopped_at(outcome: Outcome, path: &std::path::Path, next: (usize, usize)) -> Checkpoint {
    let want = Position {
        epoch: next.0,
        step: next.1,
    };
    assert_eq!(
        outcome,
        Outcome::Stopped {
            checkpoint: Some(path.to_path_buf()),
            at: want
        }
    );
    let ck = Checkpoint::read(path).unwrap();
    assert_eq!(ck.state.next, want);
    ck
}
