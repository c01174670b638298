//! Shuffled mini-batches with the augmentation of METHOD.md section 5 (random crop with zero
//! padding, horizontal flip).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::ImageSet;

/// Training-time augmentation.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Augment {
    /// Pad each side by this many pixels, then crop back to the original size at a random
    /// offset (0 = no cropping).
    pub crop_padding: usize,
    /// Flip horizontally with probability 1/2.
    pub hflip: bool,
}

/// One mini-batch: pixels of `labels.len()` images in CHW layout, and their labels.
#[derive(Debug, Clone)]
pub struct Batch {
    pub pixels: Vec<f32>,
    pub labels: Vec<usize>,
}

/// The order of one epoch: indices shuffled by `rng`, cut into batches of `batch_size`
/// (the last one may be smaller).
pub fn epoch_order(len: usize, batch_size: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..len).collect();
    idx.shuffle(rng);
    idx.chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Assembles the batch of images `indices`, augmenting each with `aug`. `pad_value[c]` fills
/// the padding of channel `c` (the normalized value of a black pixel).
pub fn assemble(
    set: &ImageSet,
    indices: &[usize],
    aug: Augment,
    pad_value: &[f32],
    rng: &mut StdRng,
) -> Batch {
    let [c, h, w] = set.shape;
    let mut pixels = Vec::with_capacity(indices.len() * c * h * w);
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        labels.push(set.labels[i] as usize);
        let img = set.image(i);
        if aug == Augment::default() {
            pixels.extend_from_slice(img);
            continue;
        }
        let p = aug.crop_padding as i64;
        let (oy, ox) = (rng.gen_range(-p..=p), rng.gen_range(-p..=p));
        let flip = aug.hflip && rng.gen_bool(0.5);
        for ch in 0..c {
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    let xs = if flip { w as i64 - 1 - x } else { x };
                    let (sy, sx) = (y + oy, xs + ox);
                    let v = if (0..h as i64).contains(&sy) && (0..w as i64).contains(&sx) {
                        img[(ch * h + sy as usize) * w + sx as usize]
                    } else {
                        pad_value[ch]
                    };
                    pixels.push(v);
                }
            }
        }
    }
    Batch { pixels, labels }
}
