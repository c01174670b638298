//! Loading data sets from disk: every layout (CIFAR-10 and CIFAR-100 binary, image folders),
//! packed as folders and as archives the tests write themselves, and every bad input with the
//! exact message it gets. Nothing here reads /work/shared.

use std::path::{Path, PathBuf};

use amp_core::data::sources::CIFAR100_FINE_CLASSES;
use amp_core::data::{
    Augment, DataSource, Labels, Layout, Packaging, RawData, RawSet, SyntheticSpec,
};
use flate2::write::GzEncoder;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amp-sources-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Files as (path inside the data set, bytes).
type Files = Vec<(String, Vec<u8>)>;

fn write_files(root: &Path, files: &Files) {
    for (name, bytes) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// A tar archive of `files` with fixed headers (same bytes every run), gzipped or not.
fn tar(files: &Files, gzip: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    let plain = builder.into_inner().unwrap();
    if !gzip {
        return plain;
    }
    gz(&plain)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// One CIFAR-10 record: label, then 1024 red, 1024 green, 1024 blue bytes.
fn record10(label: u8, r: u8, g: u8, b: u8) -> Vec<u8> {
    let mut v = vec![label];
    v.extend([r; 1024]);
    v.extend([g; 1024]);
    v.extend([b; 1024]);
    v
}

/// The official CIFAR-10 layout under `prefix`: batch i holds labels (i, 9), the test batch
/// (3, 7); class names c0..c9 in batches.meta.txt.
fn cifar10(prefix: &str) -> Files {
    let mut files: Files = (1..=5u8)
        .map(|i| {
            let bytes = [record10(i, 10 * i, 0, 255), record10(9, 0, 0, 0)].concat();
            (format!("{prefix}data_batch_{i}.bin"), bytes)
        })
        .collect();
    let test = [record10(3, 0, 255, 0), record10(7, 1, 2, 3)].concat();
    files.push((format!("{prefix}test_batch.bin"), test));
    let names: String = (0..10).map(|c| format!("c{c}\n")).collect();
    files.push((
        format!("{prefix}batches.meta.txt"),
        format!("{names}\n").into(),
    ));
    files
}

/// One CIFAR-100 record: coarse label, fine label, then every pixel byte `v`.
fn record100(coarse: u8, fine: u8, v: u8) -> Vec<u8> {
    let mut r = vec![coarse, fine];
    r.extend([v; 3072]);
    r
}

fn cifar100(prefix: &str, names: bool) -> Files {
    let train = [
        record100(0, 5, 10),
        record100(19, 99, 20),
        record100(4, 0, 30),
    ]
    .concat();
    let mut files: Files = vec![
        (format!("{prefix}train.bin"), train),
        (format!("{prefix}test.bin"), record100(7, 42, 40)),
    ];
    if names {
        let fine: String = (0..100).map(|c| format!("f{c}\n")).collect();
        let coarse: String = (0..20).map(|c| format!("k{c}\n")).collect();
        files.push((format!("{prefix}fine_label_names.txt"), fine.into()));
        files.push((format!("{prefix}coarse_label_names.txt"), coarse.into()));
    }
    files
}

/// An encoded `w`x`h` image, pixel (x, y) = `f(x, y)`, in the format of `ext`.
fn image(w: u32, h: u32, ext: &str, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    let format = image::ImageFormat::from_extension(ext).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// train/{cat,dog}, test/{cat,dog} under `prefix`, 4x3 images: cat/a a gradient, the others
/// solid colours. A hidden file is ignored.
fn image_folders(prefix: &str, ext: &str) -> Files {
    let solid = |c: [u8; 3]| image(4, 3, ext, move |_, _| c);
    let gradient = image(4, 3, ext, |x, y| [(10 * x + y) as u8, 100, 200]);
    vec![
        (format!("{prefix}train/cat/a.{ext}"), gradient),
        (format!("{prefix}train/dog/a.{ext}"), solid([0, 255, 0])),
        (format!("{prefix}train/dog/b.{ext}"), solid([255, 0, 0])),
        (
            format!("{prefix}train/dog/.DS_Store"),
            b"\0\x01junk".to_vec(),
        ),
        (format!("{prefix}test/cat/x.{ext}"), solid([0, 0, 255])),
        (format!("{prefix}test/dog/y.{ext}"), solid([255, 255, 255])),
    ]
}

fn load(spec: &str) -> RawData {
    RawData::load(&DataSource::parse(spec)).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn sets(raw: &RawData) -> (&RawSet, &RawSet) {
    raw.sets().unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn hash(raw: &RawData) -> String {
    raw.provenance().content_hash.clone().unwrap()
}

#[test]
fn cifar10_binary_loads_alike_from_folder_parent_folder_tar_and_tar_gz() {
    let dir = scratch("c10");
    let files = cifar10("cifar-10-batches-bin/");
    write_files(&dir, &files);
    let inner = dir.join("cifar-10-batches-bin");
    let raw = load(s(&inner));
    let (train, test) = sets(&raw);
    assert_eq!(train.labels, [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    assert_eq!(test.labels, [3, 7]);
    assert_eq!(train.shape, [3, 32, 32]);
    let img = train.image(4);
    assert_eq!((img[0], img[1023], img[1024], img[2048]), (30, 30, 0, 255));
    assert_eq!(test.image(1)[2047..2049], [2, 3]);

    let p = raw.provenance();
    assert_eq!(p.layout, Layout::Cifar10Binary);
    assert_eq!(p.packaging, Packaging::Folder);
    assert_eq!(p.path.as_deref(), Some(s(&inner)));
    let meta = "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9\n\n".len() as u64;
    assert_eq!(p.bytes_read, 12 * 3073 + meta);
    assert_eq!(
        p.class_names,
        (0..10).map(|c| format!("c{c}")).collect::<Vec<_>>()
    );
    assert_eq!((p.classes, p.train_images, p.test_images), (10, 10, 2));
    assert_eq!((p.labels, p.image_shape), (None, [3, 32, 32]));
    assert!(hash(&raw).starts_with("xxh3-64:") && hash(&raw).len() == 24);

    // The folder the archive was extracted into, and the archive itself under a name that
    // says nothing: the layout is found from the contents.
    assert_eq!(hash(&load(s(&dir))), hash(&raw));
    let archive = dir.join("download.bin");
    std::fs::write(&archive, tar(&files, true)).unwrap();
    let packed = load(s(&archive));
    assert_eq!(packed.provenance().packaging, Packaging::TarGz);
    assert_eq!(
        packed.provenance().bytes_read,
        std::fs::metadata(&archive).unwrap().len()
    );
    assert_eq!(hash(&packed), hash(&raw));
    assert_eq!(sets(&packed), sets(&raw));
    std::fs::write(&archive, tar(&files, false)).unwrap();
    let plain = load(s(&archive));
    assert_eq!(plain.provenance().packaging, Packaging::Tar);
    assert_eq!(hash(&plain), hash(&raw));
}

#[test]
fn cifar100_has_fine_labels_by_default_and_coarse_on_request() {
    let dir = scratch("c100");
    let archive = dir.join("cifar-100-binary.tar.gz");
    std::fs::write(&archive, tar(&cifar100("cifar-100-binary/", true), true)).unwrap();
    let fine = load(s(&archive));
    let (train, test) = sets(&fine);
    assert_eq!(
        (train.labels.as_slice(), test.labels.as_slice()),
        (&[5, 99, 0][..], &[42][..])
    );
    assert_eq!(
        (train.image(1)[0], train.image(2)[3071], test.image(0)[5]),
        (20, 30, 40)
    );
    let p = fine.provenance();
    assert_eq!(
        (p.layout, p.labels, p.classes),
        (Layout::Cifar100Binary, Some(Labels::Fine), 100)
    );
    assert_eq!(
        (p.class_names[0].as_str(), p.class_names[99].as_str()),
        ("f0", "f99")
    );

    let coarse = load(&format!("{}:coarse", s(&archive)));
    let (train, test) = sets(&coarse);
    assert_eq!(
        (train.labels.as_slice(), test.labels.as_slice()),
        (&[0, 19, 4][..], &[7][..])
    );
    let p = coarse.provenance();
    assert_eq!(
        (p.labels, p.classes, p.class_names[19].as_str()),
        (Some(Labels::Coarse), 20, "k19")
    );
    assert_ne!(hash(&coarse), hash(&fine));
    assert_eq!(hash(&load(&format!("{}:fine", s(&archive)))), hash(&fine));

    // Without the names files, the official names.
    let bare = dir.join("bare");
    write_files(&bare, &cifar100("", false));
    let p = load(s(&bare)).provenance().clone();
    assert_eq!(p.class_names, CIFAR100_FINE_CLASSES);
    assert_eq!(p.class_names[99], "worm");
}

#[test]
fn png_folders_load_exact_pixels_with_classes_sorted_by_name() {
    let dir = scratch("png");
    let files = image_folders("", "png");
    write_files(&dir, &files);
    let raw = load(s(&dir));
    let (train, test) = sets(&raw);
    assert_eq!(train.shape, [3, 3, 4]);
    assert_eq!(
        (train.labels.as_slice(), test.labels.as_slice()),
        (&[0, 1, 1][..], &[0, 1][..])
    );
    // CHW: channel c, row y, column x at c * 12 + y * 4 + x.
    let cat = train.image(0);
    assert_eq!((cat[0], cat[3], cat[4], cat[2 * 4 + 3]), (0, 30, 1, 32));
    assert_eq!((cat[12], cat[24 + 11]), (100, 200));
    assert_eq!((train.image(2)[0], train.image(2)[12]), (255, 0));
    assert_eq!(test.image(1), [255; 36]);
    let p = raw.provenance();
    assert_eq!(
        (p.layout, p.packaging),
        (Layout::ImageFolder, Packaging::Folder)
    );
    assert_eq!(p.class_names, ["cat", "dog"]);
    let images: u64 = files
        .iter()
        .filter(|(n, _)| !n.contains(".DS"))
        .map(|(_, b)| b.len() as u64)
        .sum();
    assert_eq!(p.bytes_read, images);

    let archive = dir.join("imgs.tar.gz");
    std::fs::write(&archive, tar(&image_folders("imgs/", "png"), true)).unwrap();
    assert_eq!(hash(&load(s(&archive))), hash(&raw));
}

#[test]
fn a_jpeg_archive_and_its_extracted_folder_agree() {
    let dir = scratch("jpeg");
    let files = image_folders("cifar10/", "jpg");
    write_files(&dir.join("extracted"), &files);
    let archive = dir.join("cifar10-jpeg.tar.gz");
    std::fs::write(&archive, tar(&files, true)).unwrap();
    let (packed, folder) = (load(s(&archive)), load(s(&dir.join("extracted"))));
    assert_eq!(hash(&packed), hash(&folder));
    let (train, test) = sets(&packed);
    assert_eq!(train.labels, [0, 1, 1]);
    // JPEG is lossy: solid colours come back within a few levels.
    let near = |a: &[u8], v: [u8; 3]| {
        (0..3).all(|c| {
            a[c * 12..(c + 1) * 12]
                .iter()
                .all(|&p| p.abs_diff(v[c]) <= 3)
        })
    };
    assert!(near(train.image(1), [0, 255, 0]), "{:?}", train.image(1));
    assert!(near(test.image(0), [0, 0, 255]), "{:?}", test.image(0));
    assert_eq!(packed.provenance().class_names, ["cat", "dog"]);
}

#[test]
fn prepare_draws_seeded_subsets_from_memory() {
    let dir = scratch("prepare");
    let mut rng = StdRng::seed_from_u64(5);
    let mut batch = |n: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut r = vec![(i % 10) as u8; 3073];
                rng.fill_bytes(&mut r[1..]);
                r
            })
            .collect()
    };
    for i in 1..=5 {
        std::fs::write(dir.join(format!("data_batch_{i}.bin")), batch(20)).unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), batch(30)).unwrap();
    let raw = load(s(&dir));
    // Everything below works from memory.
    std::fs::remove_dir_all(&dir).unwrap();

    let a = raw.prepare(1, Some(12), Some(7));
    assert_eq!((a.train.len(), a.test.len()), (12, 7));
    let again = raw.prepare(1, Some(12), Some(7));
    assert_eq!((&a.train, &a.test), (&again.train, &again.test));
    assert_ne!(raw.prepare(2, Some(12), Some(7)).test.labels, a.test.labels);
    for (m, s) in a.train.channel_stats() {
        assert!(m.abs() < 1e-4 && (s - 1.0).abs() < 1e-3, "{m} {s}");
    }
    assert_eq!(a.train.normalization, a.test.normalization);
    assert_eq!(
        a.augment,
        Augment {
            crop_padding: 4,
            hflip: true
        }
    );

    // The test subset is a subset of the whole test set, normalized alike.
    let (whole, part) = (raw.prepare(1, None, None), raw.prepare(1, None, Some(7)));
    assert_eq!((whole.train.len(), whole.test.len()), (100, 30));
    let found = (0..part.test.len())
        .filter(|&i| (0..30).any(|j| whole.test.image(j) == part.test.image(i)))
        .count();
    assert_eq!(found, 7);
    assert!(
        a.describe()
            .ends_with("3x32x32, 10 classes, 12 of 100 train / 7 of 30 test images"),
        "{}",
        a.describe()
    );
}

#[test]
fn synthetic_data_is_made_per_seed_with_its_hash() {
    let raw = RawData::synthetic(SyntheticSpec {
        train: 40,
        test: 20,
        size: 8,
        ..SyntheticSpec::default()
    });
    assert_eq!(raw.provenance().content_hash, None);
    let a = raw.prepare(3, Some(10), Some(5));
    assert_eq!((a.train.len(), a.test.len()), (10, 5));
    assert_eq!(a.provenance.layout, Layout::Synthetic);
    let h = a.provenance.content_hash.clone().unwrap();
    assert_eq!(
        raw.prepare(3, None, None).provenance.content_hash,
        Some(h.clone())
    );
    assert_ne!(raw.prepare(4, None, None).provenance.content_hash, Some(h));
    assert!(RawData::load(&DataSource::Synthetic)
        .unwrap()
        .sets()
        .is_none());
}

/// The message of loading `spec`, checked to be printable and to say nothing twice.
fn error(spec: &str) -> String {
    let e = match RawData::load(&DataSource::parse(spec)) {
        Ok(_) => panic!("{spec} loaded"),
        Err(e) => e,
    };
    assert!(
        std::error::Error::source(&e).is_none(),
        "{e}: a source would print twice"
    );
    let text = e.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    let parts: Vec<&str> = text.split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(!parts[i + 1..].contains(p), "`{p}` repeats in {text}");
    }
    text
}

const EXPECTED: &str = "expected a folder or a .tar.gz archive";

#[test]
fn files_that_are_not_archives_say_what_they_look_like() {
    let dir = scratch("not-gzip");
    let cases: [(&[u8], &str); 4] = [
        (
            b"PK\x03\x04zipped",
            "starts with 50 4b 03 04: a zip archive",
        ),
        (
            b"<!DOCTYPE html><html><body>Not found</body></html>",
            "starts with 3c 21 44 4f: an HTML page, perhaps a failed download",
        ),
        (
            b"\x00\x01\x1b\xff\x07junk",
            "starts with 00 01 1b ff: unknown binary data",
        ),
        (b"hello", "starts with 68 65 6c 6c: text"),
    ];
    for (bytes, what) in cases {
        let path = dir.join("x.tar.gz");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(
            error(s(&path)),
            format!("{}: not a gzip file ({what}); {EXPECTED}", s(&path))
        );
    }
    let path = dir.join("empty.tar.gz");
    std::fs::write(&path, b"").unwrap();
    assert_eq!(
        error(s(&path)),
        format!("{}: an empty file; {EXPECTED}", s(&path))
    );
}

#[test]
fn broken_archives_are_named_without_raw_bytes() {
    let dir = scratch("broken");
    // Incompressible batches, so that a cut at 60% of the file falls inside the 5th of 7.
    let mut rng = StdRng::seed_from_u64(9);
    let files: Files = (0..7)
        .map(|i| {
            let mut bytes = vec![0u8; 2 * 3073];
            rng.fill_bytes(&mut bytes);
            (format!("d/f{i}.bin"), bytes)
        })
        .collect();
    let whole = tar(&files, true);
    let path = dir.join("cut.tar.gz");
    std::fs::write(&path, &whole[..whole.len() * 6 / 10]).unwrap();
    assert_eq!(
        error(s(&path)),
        format!(
            "{}: the archive ends early after 4 files (a truncated download?)",
            s(&path)
        )
    );
    // A good gzip stream around a bad tar: random header bytes.
    let mut junk = vec![0u8; 2048];
    rng.fill_bytes(&mut junk);
    std::fs::write(&path, gz(&junk)).unwrap();
    assert_eq!(
        error(s(&path)),
        format!(
            "{}: not a valid tar archive after 0 files (a corrupt file header)",
            s(&path)
        )
    );
}

#[test]
fn bad_records_name_the_file_and_the_record() {
    let dir = scratch("records");
    let mut files = cifar10("");
    files[5].1 = [record10(3, 0, 0, 0), record10(12, 0, 0, 0)].concat();
    write_files(&dir, &files);
    let message = "record 1 (at byte 3073) has label 12, but CIFAR-10 has 10 classes";
    let place = dir.join("test_batch.bin");
    assert_eq!(error(s(&dir)), format!("{}: {message}", s(&place)));
    let archive = dir.join("c10.tar.gz");
    let inner: Files = files
        .iter()
        .map(|(n, b)| (format!("cifar-10-batches-bin/{n}"), b.clone()))
        .collect();
    std::fs::write(&archive, tar(&inner, true)).unwrap();
    assert_eq!(
        error(s(&archive)),
        format!(
            "{}: cifar-10-batches-bin/test_batch.bin: {message}",
            s(&archive)
        )
    );

    std::fs::write(&place, &record10(0, 0, 0, 0)[..3000]).unwrap();
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: 3000 bytes is not a whole number of 3073-byte CIFAR-10 records",
            s(&place)
        )
    );

    let dir = scratch("records100");
    let mut files = cifar100("", true);
    files[0].1 = [record100(0, 5, 0), record100(3, 100, 0)].concat();
    write_files(&dir, &files);
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: record 1 (at byte 3074) has fine label 100, but CIFAR-100 has 100 fine classes",
            s(&dir.join("train.bin"))
        )
    );
}

#[test]
fn bad_image_folders_name_the_file() {
    let dir = scratch("bad-images");
    let mut files = image_folders("", "png");
    files[2].1 = image(4, 4, "png", |_, _| [1, 2, 3]);
    write_files(&dir, &files);
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: 4x4 pixels, but {} is 4x3; all images must have the same size",
            s(&dir.join("train/dog/b.png")),
            s(&dir.join("train/cat/a.png"))
        )
    );
    std::fs::write(
        dir.join("train/dog/b.png"),
        image(4, 3, "png", |_, _| [0; 3]),
    )
    .unwrap();
    std::fs::write(dir.join("train/cat/notes.txt"), "hello").unwrap();
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: not a PNG or JPEG image",
            s(&dir.join("train/cat/notes.txt"))
        )
    );
    std::fs::remove_file(dir.join("train/cat/notes.txt")).unwrap();
    std::fs::create_dir_all(dir.join("test/zebra")).unwrap();
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: class `zebra` has no folder in the training set",
            s(&dir.join("test/zebra"))
        )
    );
}

#[test]
fn unknown_missing_and_ambiguous_sources_are_explained() {
    let dir = scratch("unknown");
    std::fs::create_dir_all(dir.join("misc")).unwrap();
    std::fs::write(dir.join("notes.txt"), "hi").unwrap();
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: no data set found (it holds: misc/, notes.txt); expected the CIFAR-10 binary \
             batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin), the CIFAR-100 \
             binary files (train.bin, test.bin) or image folders (train/<class>/*, \
             test/<class>/*), here or in one subfolder; see \"Getting the data\" in README.md",
            s(&dir)
        )
    );
    let missing = dir.join("missing.tar.gz");
    assert_eq!(
        error(s(&missing)),
        format!(
            "{}: no such file or folder; see \"Getting the data\" in README.md",
            s(&missing)
        )
    );

    write_files(&dir.join("a"), &cifar10(""));
    write_files(&dir.join("b"), &image_folders("", "png"));
    assert_eq!(
        error(s(&dir)),
        format!(
            "{}: holds several data sets: a/ (CIFAR-10 binary), b/ (image folders); name one of them",
            s(&dir)
        )
    );
    let a = dir.join("a");
    assert_eq!(
        error(&format!("{}:coarse", s(&a))),
        format!(
            "{}: `:coarse` picks CIFAR-100 labels, but this is the CIFAR-10 binary layout",
            s(&a)
        )
    );
}
