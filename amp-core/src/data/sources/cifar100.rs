//! The official CIFAR-100 binary release: `cifar-100-binary/` with `train.bin`, `test.bin`,
//! `fine_label_names.txt` and `coarse_label_names.txt`, each record a coarse label byte, a
//! fine label byte and 3072 pixel bytes. Fine labels (100 classes) by default, coarse (20
//! superclasses) on request.

use super::error::DataError;
use super::files::{join, Files};
use super::records::{self, LabelByte, RecordFormat};
use super::{Labels, Loaded};

/// The 100 fine class names in label order (used when `fine_label_names.txt` is absent).
pub const FINE_CLASSES: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

/// The 20 coarse class names in label order (used when `coarse_label_names.txt` is absent).
pub const COARSE_CLASSES: [&str; 20] = [
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
];

const LABELS: &[LabelByte] = &[
    LabelByte {
        name: "coarse label",
        classes: 20,
    },
    LabelByte {
        name: "fine label",
        classes: 100,
    },
];

/// Whether folder `dir` holds this layout.
pub(crate) fn detect(files: &Files, dir: &str) -> bool {
    files.is_file(&join(dir, "train.bin")) && files.is_file(&join(dir, "test.bin"))
}

/// Reads `train.bin` and `test.bin` of folder `dir` with the chosen labels.
pub(crate) fn load(files: &Files, dir: &str, labels: Labels) -> Result<Loaded, DataError> {
    let format = RecordFormat {
        dataset: "CIFAR-100",
        labels: LABELS,
        pick: match labels {
            Labels::Coarse => 0,
            Labels::Fine => 1,
        },
    };
    let mut train = records::empty();
    records::read(files, &join(dir, "train.bin"), &format, &mut train)?;
    let mut test = records::empty();
    records::read(files, &join(dir, "test.bin"), &format, &mut test)?;
    let (names, default): (&str, &[&str]) = match labels {
        Labels::Fine => ("fine_label_names.txt", &FINE_CLASSES),
        Labels::Coarse => ("coarse_label_names.txt", &COARSE_CLASSES),
    };
    let classes = records::class_names(files, &join(dir, names), default, "CIFAR-100")?;
    Ok(Loaded {
        train,
        test,
        classes,
    })
}
