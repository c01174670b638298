//! An in-memory labelled image set: what every dataset source loads into.

/// Images in channel-major (CHW) layout, one after another, with their class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// `len() * channels * height * width` values.
    pub pixels: Vec<f32>,
    /// One class index per image.
    pub labels: Vec<u8>,
    /// (channels, height, width) of every image.
    pub shape: [usize; 3],
    /// Class names, indexed by label.
    pub classes: Vec<String>,
    /// The per-channel (mean, std) the pixels were normalized with, if they were.
    pub normalization: Option<Vec<(f32, f32)>>,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> ImageSet {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        indices
            .iter()
            .for_each(|&i| pixels.extend_from_slice(self.image(i)));
        ImageSet {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
            classes: self.classes.clone(),
            normalization: self.normalization.clone(),
        }
    }

    /// `n` images drawn without replacement with a seeded generator, in their original
    /// order: a subset with the class mix of the whole (files are often sorted by class,
    /// so the first `n` would not do).
    pub fn sample(&self, n: usize, seed: u64) -> ImageSet {
        self.subset(&super::sample_indices(self.len(), Some(n), seed))
    }

    /// Per-channel mean and standard deviation over the whole set.
    pub fn channel_stats(&self) -> Vec<(f32, f32)> {
        let [c, h, w] = self.shape;
        let plane = h * w;
        (0..c)
            .map(|ch| {
                let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
                for i in 0..self.len() {
                    for &v in &self.image(i)[ch * plane..(ch + 1) * plane] {
                        sum += v as f64;
                        sq += (v as f64) * (v as f64);
                        n += 1.0;
                    }
                }
                let mean = sum / n.max(1.0);
                let var = (sq / n.max(1.0) - mean * mean).max(1e-12);
                (mean as f32, var.sqrt() as f32)
            })
            .collect()
    }

    /// Normalizes every channel in place with the given (mean, std) pairs.
    pub fn normalize(&mut self, stats: &[(f32, f32)]) {
        let [c, h, w] = self.shape;
        assert_eq!(stats.len(), c, "one (mean, std) per channel");
        let plane = h * w;
        for img in self.pixels.chunks_mut(c * plane) {
            for (ch, &(m, s)) in stats.iter().enumerate() {
                img[ch * plane..(ch + 1) * plane]
                    .iter_mut()
                    .for_each(|v| *v = (*v - m) / s);
            }
        }
        self.normalization = Some(stats.to_vec());
    }
}
