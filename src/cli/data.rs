//! The datasets the CLI can train on: the built-in synthetic images or CIFAR-10 from disk.

use std::path::Path;

use amp_core::data::{cifar, synthetic, Augment, DataProvenance, ImageSet, SyntheticSpec};
use anyhow::{Context, Result};

/// Train and test sets, normalized with the training set's channel statistics, and the
/// augmentation that suits them.
pub struct Data {
    pub train: ImageSet,
    pub test: ImageSet,
    pub augment: Augment,
    /// What was loaded, for the log.
    pub description: String,
    /// Where it came from, for run records.
    pub provenance: DataProvenance,
    /// The seeded subsets drawn, if any.
    pub limit: Option<usize>,
    pub test_limit: Option<usize>,
}

/// FNV-1a over the pixels' bits and the labels of both sets.
fn content_hash(sets: [&ImageSet; 2]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for s in sets {
        s.pixels
            .iter()
            .flat_map(|p| p.to_le_bytes())
            .for_each(&mut eat);
        s.labels.iter().for_each(|&l| eat(l));
    }
    format!("{h:016x}")
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
    let provenance = DataProvenance {
        source: source.to_string(),
        layout: if source == "synthetic" {
            "synthetic"
        } else {
            "cifar10"
        }
        .to_string(),
        bytes: std::fs::metadata(source).map(|m| m.len()).unwrap_or(0),
        hash: content_hash([&train, &test]),
        classes: train.classes.clone(),
        train_images: train.len(),
        test_images: test.len(),
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
        provenance,
        limit,
        test_limit: None,
    })
}
