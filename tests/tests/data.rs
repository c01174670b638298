//! Datasets in memory: augmentation on hand-checkable images, epoch order, deterministic
//! synthetic data, class-balanced samples. Loading from disk is in `data_sources.rs`.

use amp_core::data::{assemble, epoch_order, synthetic, Augment, ImageSet, SyntheticSpec};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A 1x2x3 image with pixel values 0..6, to check crops and flips by hand.
fn tiny() -> ImageSet {
    ImageSet {
        pixels: (0..6).map(|v| v as f32).collect(),
        labels: vec![0],
        shape: [1, 2, 3],
        classes: vec!["a".into()],
        normalization: None,
    }
}

#[test]
fn augmentation_crops_pad_and_flips_as_written() {
    let set = tiny();
    let plain = assemble(
        &set,
        &[0],
        Augment::default(),
        &[-1.0],
        &mut StdRng::seed_from_u64(0),
    );
    assert_eq!(plain.pixels, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    // Over many draws, flips and 1-pixel shifts give exactly the shifted/flipped images,
    // padded with the given value.
    let aug = Augment {
        crop_padding: 1,
        hflip: true,
    };
    let mut rng = StdRng::seed_from_u64(1);
    let mut seen_flip = false;
    for _ in 0..200 {
        let b = assemble(&set, &[0], aug, &[-1.0], &mut rng);
        let p = &b.pixels;
        assert_eq!(p.len(), 6);
        let valid: Vec<f32> = p.iter().copied().filter(|v| *v >= 0.0).collect();
        assert!(valid.len() >= 2, "{p:?}");
        if p == &[2.0, 1.0, 0.0, 5.0, 4.0, 3.0] {
            seen_flip = true;
        }
        // Each row comes from one source row, left-right order or mirrored.
        for row in p.chunks(3) {
            let v: Vec<f32> = row.iter().copied().filter(|v| *v >= 0.0).collect();
            assert!(v.windows(2).all(|w| (w[1] - w[0]).abs() == 1.0), "{p:?}");
        }
    }
    assert!(seen_flip);
}

#[test]
fn epoch_order_is_a_seeded_permutation_in_batches() {
    let a = epoch_order(10, 4, &mut StdRng::seed_from_u64(3));
    let b = epoch_order(10, 4, &mut StdRng::seed_from_u64(3));
    assert_eq!(a, b);
    assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
    let mut all: Vec<usize> = a.concat();
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
}

#[test]
fn synthetic_data_is_deterministic_and_normalizes() {
    let spec = SyntheticSpec {
        train: 50,
        test: 10,
        size: 8,
        ..SyntheticSpec::default()
    };
    let (mut a, _) = synthetic(&spec);
    let (b, _) = synthetic(&spec);
    assert_eq!(a, b);
    assert_eq!(a.labels[..3], [0, 1, 2]);
    let stats = a.channel_stats();
    a.normalize(&stats);
    for (m, s) in a.channel_stats() {
        assert!(m.abs() < 1e-4 && (s - 1.0).abs() < 1e-3, "{m} {s}");
    }
    let (c, _) = synthetic(&SyntheticSpec { seed: 1, ..spec });
    assert_ne!(b.pixels, c.pixels);
}

#[test]
fn a_sample_keeps_the_class_mix_of_a_class_sorted_set() {
    // 1000 images sorted by class, as the CIFAR archive is: the first 200 would be one class.
    let set = ImageSet {
        pixels: (0..1000).map(|i| i as f32).collect(),
        labels: (0..1000).map(|i| (i / 100) as u8).collect(),
        shape: [1, 1, 1],
        classes: (0..10).map(|c| c.to_string()).collect(),
        normalization: None,
    };
    let s = set.sample(200, 7);
    assert_eq!(s.len(), 200);
    assert_eq!(s, set.sample(200, 7));
    for c in 0..10u8 {
        let n = s.labels.iter().filter(|&&l| l == c).count();
        assert!((8..=35).contains(&n), "class {c}: {n} of 200");
    }
    // Pixels travel with their labels.
    assert!(s
        .pixels
        .iter()
        .zip(&s.labels)
        .all(|(p, l)| (*p as usize) / 100 == *l as usize));
}
