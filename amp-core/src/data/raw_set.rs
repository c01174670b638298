//! Images as stored on disk, 8 bits per value: what a source loads, once, before any seed
//! picks a subset and normalizes it into an [`ImageSet`]. A quarter of the
//! memory of `f32` pixels, and cheap to derive many prepared sets from.

use super::ImageSet;

/// Images in channel-major (CHW) layout, one byte per value, with their class labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSet {
    /// `len() * channels * height * width` values.
    pub pixels: Vec<u8>,
    /// One class index per image.
    pub labels: Vec<u8>,
    /// (channels, height, width) of every image.
    pub shape: [usize; 3],
}

impl RawSet {
    /// An empty set of images of `shape`.
    pub fn new(shape: [usize; 3]) -> RawSet {
        RawSet {
            pixels: Vec::new(),
            labels: Vec::new(),
            shape,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n: usize = self.shape.iter().product();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order, as values in [0, 1] (byte / 255).
    pub fn to_image_set(&self, indices: &[usize], classes: &[String]) -> ImageSet {
        let n: usize = self.shape.iter().product();
        let mut pixels = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            pixels.extend(self.image(i).iter().map(|&b| b as f32 / 255.0));
        }
        ImageSet {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
            classes: classes.to_vec(),
            normalization: None,
        }
    }
}

/// The indices of a seeded random subset of `n` out of `len` items, in ascending order (all
/// of them when `n` is `None` or at least `len`). Files are often sorted by class, so the
/// first `n` would not keep the class mix; a seeded draw does.
pub fn sample_indices(len: usize, n: Option<usize>, seed: u64) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut idx: Vec<usize> = (0..len).collect();
    let Some(n) = n.filter(|&n| n < len) else {
        return idx;
    };
    idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    idx.truncate(n);
    idx.sort_unstable();
    idx
}
