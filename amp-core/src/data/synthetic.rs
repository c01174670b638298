//! A built-in synthetic image dataset, so that `amp` runs on a fresh machine with no download.
//!
//! Each class is a template of a few coloured Gaussian blobs; a sample is its class template,
//! shifted by a few pixels, scaled in contrast, plus pixel noise. Classes overlap enough that
//! a small network needs several epochs to separate them, which is what a demo of training
//! dynamics needs; nothing about it imitates CIFAR beyond the layout.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::ImageSet;

/// The knobs of the synthetic dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticSpec {
    pub classes: usize,
    pub train: usize,
    pub test: usize,
    pub channels: usize,
    /// Height and width.
    pub size: usize,
    /// Blobs per class template.
    pub blobs: usize,
    /// Largest shift, in pixels, in each direction.
    pub max_shift: i32,
    /// Standard deviation of the pixel noise (templates are in [-1, 1]).
    pub noise: f32,
    /// Random blobs added to every sample, unrelated to its class.
    pub distractors: usize,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            classes: 10,
            train: 8000,
            test: 1000,
            channels: 3,
            size: 16,
            blobs: 3,
            max_shift: 3,
            noise: 1.0,
            distractors: 2,
            seed: 0,
        }
    }
}

/// Generates the (train, test) sets of `spec`; the same spec always gives the same pixels.
pub fn generate(spec: &SyntheticSpec) -> (ImageSet, ImageSet) {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let templates: Vec<Vec<f32>> = (0..spec.classes)
        .map(|_| template(spec, &mut rng))
        .collect();
    let classes: Vec<String> = (0..spec.classes).map(|c| format!("class{c}")).collect();
    let mut make = |n: usize| {
        let mut pixels = Vec::with_capacity(n * spec.channels * spec.size * spec.size);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = i % spec.classes;
            labels.push(label as u8);
            sample(spec, &templates[label], &mut rng, &mut pixels);
        }
        ImageSet {
            pixels,
            labels,
            shape: [spec.channels, spec.size, spec.size],
            classes: classes.clone(),
            normalization: None,
        }
    };
    let train = make(spec.train);
    let test = make(spec.test);
    (train, test)
}

fn template(spec: &SyntheticSpec, rng: &mut StdRng) -> Vec<f32> {
    template_with(spec, rng, spec.blobs)
}

/// `blobs` coloured Gaussian blobs at random places.
fn template_with(spec: &SyntheticSpec, rng: &mut StdRng, blobs: usize) -> Vec<f32> {
    let s = spec.size as f32;
    let mut t = vec![0f32; spec.channels * spec.size * spec.size];
    for _ in 0..blobs {
        let (cy, cx) = (rng.gen_range(0.2..0.8) * s, rng.gen_range(0.2..0.8) * s);
        let sigma = rng.gen_range(0.08..0.25) * s;
        let colour: Vec<f32> = (0..spec.channels)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        for (ch, &col) in colour.iter().enumerate() {
            for y in 0..spec.size {
                for x in 0..spec.size {
                    let d2 = (y as f32 - cy).powi(2) + (x as f32 - cx).powi(2);
                    t[(ch * spec.size + y) * spec.size + x] +=
                        col * (-d2 / (2.0 * sigma * sigma)).exp();
                }
            }
        }
    }
    t
}

fn sample(spec: &SyntheticSpec, template: &[f32], rng: &mut StdRng, out: &mut Vec<f32>) {
    let mut distract = vec![0f32; template.len()];
    for _ in 0..spec.distractors {
        let blob = template_with(spec, rng, 1);
        distract.iter_mut().zip(blob).for_each(|(d, b)| *d += b);
    }
    let noise = Normal::new(0.0f32, spec.noise).expect("noise is a finite standard deviation");
    let (dy, dx) = (
        rng.gen_range(-spec.max_shift..=spec.max_shift),
        rng.gen_range(-spec.max_shift..=spec.max_shift),
    );
    let contrast = rng.gen_range(0.6f32..1.4);
    let n = spec.size as i32;
    for ch in 0..spec.channels {
        for y in 0..n {
            for x in 0..n {
                let (sy, sx) = (y - dy, x - dx);
                let base = if (0..n).contains(&sy) && (0..n).contains(&sx) {
                    template[(ch * spec.size + sy as usize) * spec.size + sx as usize]
                } else {
                    0.0
                };
                let d = distract[(ch * spec.size + y as usize) * spec.size + x as usize];
                out.push(contrast * base + d + noise.sample(rng));
            }
        }
    }
}
