//! Any valid config survives being written as TOML and read back, field for field and bit for
//! bit: run records keep configs as TOML, and grid cells are made by editing a config as a
//! TOML value and parsing it again, so a value that did not survive would silently change a
//! resumed run or a cell.

use amp_core::config::{
    EpochRange, ExperimentConfig, PhaseConfig, SelectConfig, SelectKind, TOML_INT_MAX,
};
use amp_core::method::{DirectionKind, MeasureKind, Resample, Reselect, ThresholdKind};
use amp_core::tap::Mode;
use amp_core::train::Init;
use proptest::prelude::*;

/// Positive finite floats across the whole range, subnormals and awkward decimals included.
fn positive() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1e-6f64..10.0),
        any::<f64>().prop_filter("positive finite", |v| v.is_finite() && *v > 0.0),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(f64::MAX),
        Just(0.1 + 0.2),
    ]
}

fn seed() -> impl Strategy<Value = u64> {
    prop_oneof![0..1000u64, 0..=TOML_INT_MAX, Just(TOML_INT_MAX)]
}

/// Layer names as a user might quote them in TOML: dots, quotes, backslashes, unicode.
fn layer_name() -> impl Strategy<Value = String> {
    "[a-z0-9_.\"\\\\ é\t]{1,12}"
}

fn threshold() -> impl Strategy<Value = ThresholdKind> {
    prop_oneof![
        Just(ThresholdKind::Mean),
        Just(ThresholdKind::Median),
        (0.0f64..=1.0).prop_map(ThresholdKind::Quantile),
        (1usize..100).prop_map(ThresholdKind::TopK),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(ThresholdKind::Fixed),
    ]
}

fn select(epochs: usize) -> impl Strategy<Value = SelectConfig> {
    let none = SelectConfig::default();
    prop_oneof![
        Just(SelectConfig {
            kind: SelectKind::None,
            ..none.clone()
        }),
        Just(SelectConfig {
            kind: SelectKind::All,
            ..none.clone()
        }),
        prop::collection::btree_set(layer_name(), 1..5).prop_map({
            let none = none.clone();
            move |names| SelectConfig {
                kind: SelectKind::Explicit,
                layers: Some(names.into_iter().collect()),
                ..none.clone()
            }
        }),
        (
            (1e-9f64..=1.0),
            prop::option::of(seed()),
            prop::option::of(prop_oneof![Just(Resample::Fixed), Just(Resample::PerPhase)]),
        )
            .prop_map({
                let none = none.clone();
                move |(ratio, seed, resample)| SelectConfig {
                    kind: SelectKind::Random,
                    ratio: Some(ratio),
                    seed,
                    resample,
                    ..none.clone()
                }
            }),
        (
            prop::sample::select(MeasureKind::ALL.to_vec()),
            threshold(),
            prop::option::of(prop_oneof![
                Just(DirectionKind::Above),
                Just(DirectionKind::Below)
            ]),
            prop::option::of(1..=epochs.min(3)),
            prop::option::of(prop_oneof![
                Just(Reselect::Never),
                (1usize..10).prop_map(Reselect::Every)
            ]),
        )
            .prop_map(move |(measure, threshold, direction, observe, reselect)| {
                SelectConfig {
                    kind: SelectKind::Intelligent,
                    measure: Some(measure),
                    threshold: Some(threshold),
                    direction,
                    observe_epochs: observe,
                    reselect,
                    ..none.clone()
                }
            }),
    ]
}

/// Explicit phases that cover `0..epochs` without gaps: cut points, then a phase per piece.
fn schedule(epochs: usize) -> impl Strategy<Value = Option<Vec<PhaseConfig>>> {
    let phases = (
        prop::collection::btree_set(1..epochs.max(2), 0..4),
        prop::collection::vec(
            (
                positive(),
                any::<bool>(),
                prop::option::of(positive()),
                any::<bool>(),
            ),
            5,
        ),
    )
        .prop_map(move |(cuts, params)| {
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < epochs).collect();
            bounds.insert(0, 0);
            bounds.push(epochs);
            bounds
                .windows(2)
                .zip(params)
                .map(|(w, (lr, amplify, factor, warmup))| PhaseConfig {
                    epochs: EpochRange(w[0]..w[1]),
                    lr,
                    amplify,
                    factor,
                    warmup,
                })
                .collect()
        });
    prop::option::of(phases)
}

/// A config built from the strategies' values on top of a parsed base (a config's origin is
/// private to amp-core, so configs are made by parsing).
fn config() -> impl Strategy<Value = ExperimentConfig> {
    (1usize..40).prop_flat_map(|epochs| {
        let train = (
            "[A-Za-z0-9_.+=-]{0,8}",
            1usize..4096,
            positive(),
            (0.0f64..1.0),
            prop_oneof![Just(0.0), positive()],
            seed(),
            prop::option::of(positive()),
            any::<bool>(),
            any::<bool>(),
        );
        let amp = (
            prop::sample::select(Mode::ALL.to_vec()),
            positive(),
            select(epochs),
            prop::option::of(positive().prop_map(|p| 1.0 + p)),
        );
        (train, amp, schedule(epochs)).prop_map(move |(t, a, schedule)| {
            let mut c = ExperimentConfig::from_toml_str(
                "name = \"x\"\n[train]\nepochs = 1\nlr = 0.1\n",
                "base",
            )
            .unwrap();
            c.name = format!("r{}", t.0);
            c.train.epochs = epochs;
            (c.train.batch_size, c.train.lr, c.train.momentum) = (t.1, t.2, t.3);
            (c.train.weight_decay, c.train.seed, c.train.max_loss) = (t.4, t.5, t.6);
            c.train.init = if t.7 { Init::He } else { Init::Default };
            c.train.hold_weight_norms = t.8;
            (c.amp.mode, c.amp.factor, c.amp.select, c.amp.guard) = a;
            c.schedule = schedule;
            c
        })
    })
}

/// The fields that make a run (everything but where the config came from).
fn fields(c: &ExperimentConfig) -> impl PartialEq + std::fmt::Debug + '_ {
    (&c.name, &c.train, &c.amp, &c.schedule)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_valid_config_round_trips_through_toml(c in config()) {
        prop_assume!(c.validate().is_ok());
        let text = c.to_toml();
        let back = ExperimentConfig::from_toml_str(&text, "again")
            .unwrap_or_else(|e| panic!("{e}\n--- the text ---\n{text}"));
        prop_assert_eq!(fields(&back), fields(&c), "{}", text);
        prop_assert_eq!(back.to_toml(), text);
        prop_assert_eq!(back.schedule().unwrap(), c.schedule().unwrap());

        // The grid's route: the config as a TOML value, written and parsed again.
        let value = toml::Value::try_from(&c).unwrap();
        let again = ExperimentConfig::from_toml_str(&toml::to_string(&value).unwrap(), "grid")
            .unwrap();
        prop_assert_eq!(fields(&again), fields(&c));
    }
}

/// The generator is not so strict that nothing passes `validate`: most configs must.
#[test]
fn most_generated_configs_are_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = config();
    let valid = (0..400)
        .filter(|_| {
            let c = strategy.new_tree(&mut runner).unwrap().current();
            c.validate().is_ok()
        })
        .count();
    assert!(
        valid >= 200,
        "only {valid} of 400 generated configs are valid"
    );
}
