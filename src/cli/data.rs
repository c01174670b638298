//! The datasets the CLI can train on: the built-in synthetic images or CIFAR-10 from disk.

use std::path::Path;

use amp_core::data::{cifar, synthetic, Augment, ImageSet, SyntheticSpec};
use anyhow::{Context, Result};

/// Train and test sets, normalized with the training set's channel statistics, and the
/// augmentation that suits them.
pub struct Data {
    pub train: ImageSet,
    pub test: ImageSet,
    pub augment: Augment,
    /// What was loaded, for the log.
    pub description: String,
}

/// `synthetic`, or a CIFAR-10 folder / archive. `limit` keeps a seeded random subset of the
/// training images (the class mix of the whole; files are sorted by class).
pub fn load(source: &str, seed: u64, limit: Option<usize>) -> Result<Data> {
    let (mut train, mut test, augment, what) = if source == "synthetic" {
        let spec = SyntheticSpec {
            seed,
            ..SyntheticSpec::default()
        };
        let (train, test) = synthetic(&spec);
        // Class templates are not mirror-symmetric, so no flips; small shifts only.
        let augment = Augment {
            crop_padding: 2,
            hflip: false,
        };
        (
            train,
            test,
            augment,
            "built-in synthetic images".to_string(),
        )
    } else {
        let path = Path::new(source);
        let (train, test) =
            cifar::load(path).with_context(|| format!("loading the dataset `{source}`"))?;
        // METHOD.md section 5: random crop 32 with 4-pixel padding, horizontal flip.
        let augment = Augment {
            crop_padding: 4,
            hflip: true,
        };
        (
            train,
            test,
            augment,
            format!("CIFAR-10 from {}", path.display()),
        )
    };
    if let Some(n) = limit {
        train = train.sample(n, seed);
    }
    let stats = train.channel_stats();
    train.normalize(&stats);
    test.normalize(&stats);
    let [c, h, w] = train.shape;
    let description = format!(
        "{what}: {c}x{h}x{w}, {} classes, {} train / {} test",
        train.classes.len(),
        train.len(),
        test.len()
    );
    Ok(Data {
        train,
        test,
        augment,
        description,
    })
}
