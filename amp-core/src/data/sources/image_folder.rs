//! Image folders: `train/<class>/*` and `test/<class>/*`, PNG or JPEG (told by content, not
//! by extension), every image the same size. Classes are the training set's folder names,
//! sorted by name, so the JPEG release of CIFAR-10 (`cifar10/{train,test}/<class>/NNNN.jpg`)
//! gets the official label order. Images are read as RGB (grayscale ones are expanded).

use rayon::prelude::*;

use super::error::{printable, DataError};
use super::files::{join, Files};
use super::Loaded;
use crate::data::RawSet;

/// Whether folder `dir` holds this layout.
pub(crate) fn detect(files: &Files, dir: &str) -> bool {
    files.is_dir(&join(dir, "train")) && files.is_dir(&join(dir, "test"))
}

/// One image file to read: its path and label.
struct Item {
    rel: String,
    label: u8,
}

/// A decoded image: width, height and CHW bytes.
struct Decoded {
    width: u32,
    height: u32,
    chw: Vec<u8>,
}

/// Reads both splits of folder `dir`; decoding runs on all cores.
pub(crate) fn load(files: &Files, dir: &str) -> Result<Loaded, DataError> {
    let train_dir = join(dir, "train");
    let classes = train_classes(files, &train_dir)?;
    let train = items(files, &train_dir, &classes, true)?;
    let test_dir = join(dir, "test");
    for class in class_folders(files, &test_dir)? {
        if !classes.contains(&class) {
            return Err(DataError::format(
                files.place(&join(&test_dir, &class)),
                format!(
                    "class `{}` has no folder in the training set",
                    printable(&class)
                ),
            ));
        }
    }
    let test = items(files, &test_dir, &classes, false)?;
    if test.is_empty() {
        return Err(DataError::format(files.place(&test_dir), "holds no image"));
    }
    let decode = |list: &[Item]| -> Result<Vec<Decoded>, DataError> {
        list.par_iter()
            .map(|item| decode(files, &item.rel))
            .collect()
    };
    let (train_images, test_images) = (decode(&train)?, decode(&test)?);
    // Every image must have the size of the first training image (named in the error).
    let first = (
        train[0].rel.as_str(),
        train_images[0].width,
        train_images[0].height,
    );
    Ok(Loaded {
        train: stack(files, &train, train_images, first)?,
        test: stack(files, &test, test_images, first)?,
        classes,
    })
}

/// The class folders of the training split: at least one, at most 256 (labels are bytes).
fn train_classes(files: &Files, train_dir: &str) -> Result<Vec<String>, DataError> {
    let classes = class_folders(files, train_dir)?;
    if classes.is_empty() {
        return Err(DataError::format(
            files.place(train_dir),
            "holds no class folder",
        ));
    }
    if classes.len() > 256 {
        return Err(DataError::format(
            files.place(train_dir),
            format!("{} class folders; at most 256 are supported", classes.len()),
        ));
    }
    Ok(classes)
}

/// One split's decoded images as a labelled set, each of `first`'s size (its path, width and
/// height).
fn stack(
    files: &Files,
    list: &[Item],
    images: Vec<Decoded>,
    first: (&str, u32, u32),
) -> Result<RawSet, DataError> {
    let (first_rel, fw, fh) = first;
    let (w, h) = (fw as usize, fh as usize);
    let mut set = RawSet::new([3, h, w]);
    set.pixels.reserve(images.len() * 3 * h * w);
    for (item, image) in list.iter().zip(images) {
        if (image.width, image.height) != (fw, fh) {
            return Err(DataError::format(
                files.place(&item.rel),
                format!(
                    "{}x{} pixels, but {} is {w}x{h}; all images must have the same size",
                    image.width,
                    image.height,
                    files.place(first_rel)
                ),
            ));
        }
        set.labels.push(item.label);
        set.pixels.extend(image.chw);
    }
    Ok(set)
}

/// The class folder names of a split folder, sorted; a plain file there is an error.
fn class_folders(files: &Files, split: &str) -> Result<Vec<String>, DataError> {
    let mut classes = Vec::new();
    for child in files.children(split)? {
        if !child.is_dir {
            return Err(DataError::format(
                files.place(&join(split, &child.name)),
                "a file where class folders are expected (train/<class>/*, test/<class>/*)",
            ));
        }
        classes.push(child.name);
    }
    Ok(classes)
}

/// The image files of every class folder of `split`, class by class, by name within each.
fn items(
    files: &Files,
    split: &str,
    classes: &[String],
    need_images: bool,
) -> Result<Vec<Item>, DataError> {
    let mut out = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let folder = join(split, class);
        if !files.is_dir(&folder) {
            continue;
        }
        let before = out.len();
        for child in files.children(&folder)? {
            if child.is_dir {
                return Err(DataError::format(
                    files.place(&join(&folder, &child.name)),
                    "a folder inside a class folder; images go directly in train/<class>/",
                ));
            }
            out.push(Item {
                rel: join(&folder, &child.name),
                label: label as u8,
            });
        }
        if need_images && out.len() == before {
            return Err(DataError::format(files.place(&folder), "holds no image"));
        }
    }
    Ok(out)
}

/// Decodes one PNG or JPEG file to RGB, channel-major.
fn decode(files: &Files, rel: &str) -> Result<Decoded, DataError> {
    let bytes = files.read(rel)?;
    let image = image::load_from_memory(&bytes).map_err(|e| {
        let message = match e {
            image::ImageError::Unsupported(_) => "not a PNG or JPEG image".to_string(),
            e => format!("not a readable image ({})", printable(&e.to_string())),
        };
        DataError::format(files.place(rel), message)
    })?;
    let rgb = image.to_rgb8();
    let plane = (rgb.width() * rgb.height()) as usize;
    let mut chw = vec![0u8; 3 * plane];
    for (i, px) in rgb.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = px[c];
        }
    }
    Ok(Decoded {
        width: rgb.width(),
        height: rgb.height(),
        chw,
    })
}
