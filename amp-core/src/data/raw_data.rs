//! Load once, prepare many: [`RawData::load`] reads and decodes a source a single time;
//! [`RawData::prepare`] then derives, per seed, the limited and normalized train/test sets a
//! run trains on, without touching the disk again (a sweep loads once for all its runs).

use super::provenance::{image_content_hash, DataProvenance, Layout, Packaging};
use super::raw_set::sample_indices;
use super::sources::{self, DataError, DataSource};
use super::{synthetic, Augment, ImageSet, RawSet, SyntheticSpec};

/// Mixed into the seed of the test subset, so that it is not drawn with the same indices as
/// the training subset.
const TEST_SEED_SALT: u64 = 0x7465_7374;

/// A data set as read from its source, before any seed's subset or normalization.
pub struct RawData {
    content: Content,
    provenance: DataProvenance,
}

enum Content {
    Images {
        train: RawSet,
        test: RawSet,
        classes: Vec<String>,
    },
    /// Generated per seed in `prepare`: the synthetic images depend on the run's seed.
    Synthetic(SyntheticSpec),
}

/// The sets one run trains and evaluates on.
pub struct Data {
    /// Normalized with its own per-channel statistics.
    pub train: ImageSet,
    /// Normalized with the training set's statistics.
    pub test: ImageSet,
    /// The augmentation that suits the source.
    pub augment: Augment,
    /// The source; for the synthetic data with its content hash filled in.
    pub provenance: DataProvenance,
}

impl RawData {
    /// Reads `source`: the layout is found from the contents of the path.
    pub fn load(source: &DataSource) -> Result<RawData, DataError> {
        match source {
            DataSource::Synthetic => Ok(RawData::synthetic(SyntheticSpec::default())),
            DataSource::Path { path, labels } => {
                let (loaded, provenance) = sources::open(path, *labels)?;
                Ok(RawData {
                    content: Content::Images {
                        train: loaded.train,
                        test: loaded.test,
                        classes: loaded.classes,
                    },
                    provenance,
                })
            }
        }
    }

    /// The built-in images of `spec`; its `seed` is replaced by each `prepare`'s.
    pub fn synthetic(spec: SyntheticSpec) -> RawData {
        let provenance = DataProvenance {
            layout: Layout::Synthetic,
            packaging: Packaging::BuiltIn,
            path: None,
            labels: None,
            bytes_read: 0,
            content_hash: None,
            image_shape: [spec.channels, spec.size, spec.size],
            train_images: spec.train,
            test_images: spec.test,
            classes: spec.classes,
            class_names: (0..spec.classes).map(|c| format!("class{c}")).collect(),
        };
        RawData {
            content: Content::Synthetic(spec),
            provenance,
        }
    }

    /// What was loaded.
    pub fn provenance(&self) -> &DataProvenance {
        &self.provenance
    }

    /// The (train, test) images as read, or `None` for the synthetic data (made per seed).
    pub fn sets(&self) -> Option<(&RawSet, &RawSet)> {
        match &self.content {
            Content::Images { train, test, .. } => Some((train, test)),
            Content::Synthetic(_) => None,
        }
    }

    /// The sets of one run: a seeded subset of `limit` training and `test_limit` test images
    /// (all when `None`; the test subset is drawn with `seed ^ 0x74657374`), pixels in [0, 1]
    /// normalized with the training subset's per-channel mean and standard deviation.
    pub fn prepare(&self, seed: u64, limit: Option<usize>, test_limit: Option<usize>) -> Data {
        let mut provenance = self.provenance.clone();
        let (mut train, mut test, augment) = match &self.content {
            Content::Images {
                train,
                test,
                classes,
            } => {
                let train_idx = sample_indices(train.len(), limit, seed);
                let test_idx = sample_indices(test.len(), test_limit, seed ^ TEST_SEED_SALT);
                // METHOD.md section 5: random crop with 4-pixel padding, horizontal flip.
                let augment = Augment {
                    crop_padding: 4,
                    hflip: true,
                };
                (
                    train.to_image_set(&train_idx, classes),
                    test.to_image_set(&test_idx, classes),
                    augment,
                )
            }
            Content::Synthetic(spec) => {
                let (train, test) = synthetic(&SyntheticSpec { seed, ..*spec });
                provenance.content_hash = Some(image_content_hash(&train, &test));
                // Class templates are not mirror-symmetric, so no flips; small shifts only.
                let augment = Augment {
                    crop_padding: 2,
                    hflip: false,
                };
                let test_idx = sample_indices(test.len(), test_limit, seed ^ TEST_SEED_SALT);
                (
                    train.sample(limit.unwrap_or(usize::MAX), seed),
                    test.subset(&test_idx),
                    augment,
                )
            }
        };
        let stats = train.channel_stats();
        train.normalize(&stats);
        test.normalize(&stats);
        Data {
            train,
            test,
            augment,
            provenance,
        }
    }
}

impl Data {
    /// One line for the log, e.g. "CIFAR-10 binary (tar-gz) data/c.tar.gz: 3x32x32, 10
    /// classes, 1000 of 50000 train / 10000 of 10000 test images".
    pub fn describe(&self) -> String {
        let p = &self.provenance;
        let [c, h, w] = p.image_shape;
        let from = match (&p.path, p.packaging) {
            (Some(path), Packaging::Folder) => format!(" from the folder {path}"),
            (Some(path), _) => format!(" from the archive {path}"),
            (None, _) => String::new(),
        };
        let labels = p
            .labels
            .map(|l| format!(" ({l:?} labels)").to_lowercase())
            .unwrap_or_default();
        format!(
            "{}{labels}{from}: {c}x{h}x{w}, {} classes, {} of {} train / {} of {} test images",
            p.layout,
            p.classes,
            self.train.len(),
            p.train_images,
            self.test.len(),
            p.test_images
        )
    }
}
