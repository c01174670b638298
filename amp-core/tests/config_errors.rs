//! Config errors name the file, the field and line:column, and list valid names.

use amp_core::config::{ConfigError, ExperimentConfig};
use amp_core::method::Selector;

const BASE: &str = "name = \"x\"\n[train]\nepochs = 16\nlr = 0.4\n";

fn err(text: &str) -> ConfigError {
    ExperimentConfig::from_toml_str(text, "configs/exp.toml")
        .expect_err("the config should be rejected")
}

fn with_base(rest: &str) -> ConfigError {
    err(&format!("{BASE}{rest}"))
}

/// Asserts the first line of the message and the location.
fn check(e: &ConfigError, first_line: &str, line_col: (usize, usize)) {
    let msg = e.to_string();
    assert_eq!(
        msg.lines().next().unwrap(),
        first_line,
        "full message:\n{msg}"
    );
    assert_eq!(e.line_col(), Some(line_col), "{msg}");
}

#[test]
fn toml_syntax_errors_have_line_and_column() {
    let e = err("name = \"x\"\n[train]\nepochs = 16\nlr = \n");
    assert!(matches!(e, ConfigError::Syntax { .. }));
    assert_eq!(e.line_col(), Some((4, 6)));
    assert!(e.to_string().starts_with("configs/exp.toml:4:6: "), "{e}");
    assert!(e.to_string().contains("4 | lr = "), "{e}");
    let e = err("name = \"x\"\n[train\n");
    assert_eq!(e.line_col().map(|l| l.0), Some(2), "{e}");
}

/// The parser's own two-line messages are joined into the one-line form, and a value cut off by
/// the end of the file (where toml's message is empty) still says what is wrong.
#[test]
fn toml_syntax_errors_say_what_is_wrong_on_one_line() {
    for (text, first_line, at) in [
        (
            "name = \"x\"\n[train]\nepochs = 16\nlr = ",
            "configs/exp.toml:4:6: the file ends where a value is expected",
            (4, 6),
        ),
        (
            "name = \"x\"\n[train]\nepochs = 16\nlr = \n",
            "configs/exp.toml:4:6: invalid string, expected `\"`, `'`",
            (4, 6),
        ),
        (
            "name = \"x\"\n[train]\nepochs = [16,",
            "configs/exp.toml:3:14: invalid array, expected `]`",
            (3, 14),
        ),
        (
            "name = \"x\"\n[train\n",
            "configs/exp.toml:2:7: invalid table header, expected `.`, `]`",
            (2, 7),
        ),
        (
            "name = \"x\"\nname = \"y\"\n",
            "configs/exp.toml:2:1: duplicate key `name` in document root",
            (2, 1),
        ),
    ] {
        let e = err(text);
        check(&e, first_line, at);
    }
}

#[test]
fn unknown_fields_are_rejected_with_a_suggestion() {
    let e = err("name = \"x\"\n[train]\nepochs = 16\nlr = 0.4\nlr2 = 3\n");
    check(
        &e,
        "configs/exp.toml:5:1: train.lr2: unknown field `lr2`, expected one of `epochs`, `batch_size`, `lr`, `momentum`, `weight_decay`, `seed`, `max_loss`, `init`, `hold_weight_norms`; did you mean `lr`?",
        (5, 1),
    );
    assert_eq!(e.field(), Some("train.lr2"));
    let e = with_base("[amp.select]\nkind = \"random\"\nratoi = 0.3\n");
    assert!(e.to_string().contains("unknown field `ratoi`"), "{e}");
    assert!(e.to_string().contains("did you mean `ratio`?"), "{e}");
    let e = err(&format!("{BASE}[extra]\na = 1\n"));
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
}

#[test]
fn unknown_measure_lists_the_valid_ones() {
    let e = with_base(
        "[amp.select]\nkind = \"intelligent\"\nmeasure = \"cvv\"\nthreshold = \"mean\"\n",
    );
    check(
        &e,
        "configs/exp.toml:7:11: amp.select.measure: unknown variant `cvv`, expected one of `cv`, `rel_change`, `sign_flip`; did you mean `cv`?",
        (7, 11),
    );
    assert!(e.to_string().contains("7 | measure = \"cvv\""), "{e}");
}

#[test]
fn hold_weight_norms_is_a_boolean() {
    let e = with_base("hold_weight_norms = \"yes\"\n");
    let first = e.to_string().lines().next().unwrap().to_string();
    assert!(
        first.starts_with("configs/exp.toml:5:21: train.hold_weight_norms: invalid type: string"),
        "{e}"
    );
}

#[test]
fn unknown_init_lists_the_valid_ones() {
    let e = with_base("init = \"kaiming\"\n");
    check(
        &e,
        "configs/exp.toml:5:8: train.init: unknown variant `kaiming`, expected `default` or `he`",
        (5, 8),
    );
    let e = with_base("init = \"hee\"\n");
    assert!(e.to_string().contains("did you mean `he`?"), "{e}");
}

#[test]
fn unknown_threshold_lists_the_valid_ones() {
    let e =
        with_base("[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"meen\"\n");
    check(
        &e,
        "configs/exp.toml:8:13: amp.select.threshold: unknown variant `meen`, expected one of `mean`, `median`, `quantile`, `top_k`, `fixed`; did you mean `mean`?",
        (8, 13),
    );
    let e = with_base(
        "[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = { quantil = 0.5 }\n",
    );
    assert!(e.to_string().contains("did you mean `quantile`?"), "{e}");
    let e = with_base("[amp.select]\nkind = \"clever\"\n");
    assert!(
        e.to_string()
            .contains("expected one of `all`, `none`, `explicit`, `random`, `intelligent`"),
        "{e}"
    );
}

#[test]
fn threshold_parameters_are_checked() {
    let sel = "[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\n";
    let e = with_base(&format!("{sel}threshold = {{ quantile = 1.5 }}\n"));
    check(
        &e,
        "configs/exp.toml:8:13: amp.select.threshold: quantile = 1.5 must be in [0, 1]",
        (8, 13),
    );
    let e = with_base(&format!("{sel}threshold = {{ top_k = 0 }}\n"));
    assert!(
        e.to_string()
            .contains("top_k = 0 would never select a layer"),
        "{e}"
    );
    let e = with_base(&format!("{sel}threshold = {{ fixed = inf }}\n"));
    assert!(e.to_string().contains("fixed = inf must be finite"), "{e}");
}

#[test]
fn overlapping_phases_are_named() {
    let e = with_base(
        "[[schedule]]\nepochs = \"0..8\"\nlr = 0.4\namplify = true\n\
         [[schedule]]\nepochs = \"6..16\"\nlr = 0.04\namplify = false\n",
    );
    check(
        &e,
        "configs/exp.toml:10:10: schedule[1].epochs: schedule[1] (epochs = \"6..16\") overlaps schedule[0] (epochs = \"0..8\") on epochs 6..8",
        (10, 10),
    );
}

#[test]
fn gaps_are_named() {
    let e = with_base(
        "[[schedule]]\nepochs = \"0..8\"\nlr = 0.4\namplify = true\n\
         [[schedule]]\nepochs = \"10..16\"\nlr = 0.04\namplify = false\n",
    );
    check(
        &e,
        "configs/exp.toml:10:10: schedule[1].epochs: epochs 8..10 are in no phase, between schedule[0] (epochs = \"0..8\") and schedule[1] (epochs = \"10..16\")",
        (10, 10),
    );
    let e = with_base("[[schedule]]\nepochs = \"0..12\"\nlr = 0.4\namplify = true\n");
    check(
        &e,
        "configs/exp.toml:6:10: schedule[0].epochs: epochs 12..16 are in no phase, after schedule[0] (epochs = \"0..12\"): the last phase must end at train.epochs = 16",
        (6, 10),
    );
    let e = with_base("[[schedule]]\nepochs = \"0..20\"\nlr = 0.4\namplify = true\n");
    assert!(
        e.to_string()
            .contains("runs past the end of the run: train.epochs = 16"),
        "{e}"
    );
    let e = with_base("[[schedule]]\nepochs = \"0-16\"\nlr = 0.4\namplify = true\n");
    check(
        &e,
        "configs/exp.toml:6:10: schedule[0].epochs: invalid epoch range `0-16`: expected \"start..end\" (end excluded), e.g. \"0..8\"",
        (6, 10),
    );
    let e = with_base("[[schedule]]\nepochs = \"0..16\"\nlr = -1.0\namplify = true\n");
    check(
        &e,
        "configs/exp.toml:7:6: schedule[0].lr: lr = -1 must be positive and finite",
        (7, 6),
    );
}

#[test]
fn ratio_outside_zero_one_is_rejected() {
    for (ratio, col) in [("1.5", 9), ("0.0", 9), ("-0.2", 9)] {
        let e = with_base(&format!(
            "[amp.select]\nkind = \"random\"\nratio = {ratio}\n"
        ));
        let shown: f64 = ratio.parse().unwrap();
        check(
            &e,
            &format!(
                "configs/exp.toml:7:{col}: amp.select.ratio: ratio = {shown} must be in (0, 1]"
            ),
            (7, col),
        );
    }
}

#[test]
fn factor_must_be_positive_and_finite() {
    for (factor, shown) in [("0", "0"), ("-2.0", "-2"), ("nan", "NaN"), ("inf", "inf")] {
        let e = with_base(&format!("[amp]\nfactor = {factor}\n"));
        check(
            &e,
            &format!(
                "configs/exp.toml:6:10: amp.factor: factor k = {shown} must be positive and finite"
            ),
            (6, 10),
        );
    }
    let e = with_base("[[schedule]]\nepochs = \"0..16\"\nlr = 0.4\namplify = true\nfactor = 0.0\n");
    assert_eq!(e.field(), Some("schedule[0].factor"), "{e}");
}

#[test]
fn guard_must_be_a_finite_multiple_above_one() {
    for (guard, shown) in [
        ("1.0", "1"),
        ("0.5", "0.5"),
        ("-2", "-2"),
        ("nan", "NaN"),
        ("inf", "inf"),
    ] {
        let e = with_base(&format!("[amp]\nguard = {guard}\n"));
        check(
            &e,
            &format!(
                "configs/exp.toml:6:9: amp.guard: guard = {shown} must be a finite multiple \
                 greater than 1 (of the previous epoch's training loss; 1.5 lets an amplified \
                 epoch's loss rise by half)"
            ),
            (6, 9),
        );
    }
}

/// `layers = ["b"]` names the block `b`: the config passes the model check and the selector
/// picks every layer inside it; a block the model lacks is an unknown layer at its index.
#[test]
fn explicit_blocks_pass_the_model_check() {
    let config = |layers: &str| {
        ExperimentConfig::from_toml_str(
            &format!("{BASE}[amp.select]\nkind = \"explicit\"\nlayers = {layers}\n"),
            "configs/exp.toml",
        )
        .unwrap()
    };
    let model = ["a.conv1", "b.conv1", "b.conv2"];
    let c = config("[\"b\"]");
    c.validate_layers(&model).unwrap();
    let layers = model.map(String::from).to_vec();
    let h = amp_core::stats::StatsHistory::new(layers.clone());
    let schedule = amp_core::method::PhaseSchedule::scaled_default(4, 0.1, 2.0).unwrap();
    let ctx = amp_core::method::SelectContext {
        layers: &layers,
        history: &h,
        schedule: &schedule,
    };
    let selector = c.build_selector(&model).unwrap();
    assert_eq!(selector.select(0, &ctx).selected, vec![1, 2]);
    let msg = config("[\"a\", \"c\"]")
        .validate_layers(&model)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(
            "configs/exp.toml:7:16: amp.select.layers[1]: the model has no candidate layer `c`"
        ),
        "{msg}"
    );
}

#[test]
fn unknown_layer_lists_valid_names() {
    let c = ExperimentConfig::from_toml_str(
        &format!("{BASE}[amp.select]\nkind = \"explicit\"\nlayers = [\"a.conv1\", \"b.conv2\"]\n"),
        "configs/exp.toml",
    )
    .unwrap();
    let e = c.validate_layers(&["a.conv1", "b.conv1"]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "configs/exp.toml:7:22: amp.select.layers[1]: the model has no candidate layer `b.conv2`; did you mean `b.conv1`?\nvalid layer names: a.conv1, b.conv1"
        ),
        "{msg}"
    );
    match e {
        ConfigError::UnknownLayer { error, .. } => {
            assert_eq!(error.valid, vec!["a.conv1", "b.conv1"])
        }
        other => panic!("{other}"),
    }
    assert!(c.build_policy(&["a.conv1", "b.conv1"]).is_err());
    assert!(c.build_policy(&["a.conv1", "b.conv2", "c"]).is_ok());
    let e = with_base("[amp.select]\nkind = \"explicit\"\nlayers = [\"a\", \"b\", \"a\"]\n");
    assert!(
        e.to_string()
            .contains("layers[2]: `a` is listed twice (also at layers[0])"),
        "{e}"
    );
}

#[test]
fn fields_must_fit_the_kind() {
    let e = with_base("[amp.select]\nkind = \"all\"\nratio = 0.3\n");
    check(
        &e,
        "configs/exp.toml:7:9: amp.select.ratio: `ratio` is not a field of kind = \"all\" (it belongs to kind = \"random\")",
        (7, 9),
    );
    let e = with_base("[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\n");
    check(
        &e,
        "configs/exp.toml:5:1: amp.select.threshold: kind = \"intelligent\" needs `threshold`: \"mean\", \"median\", { quantile = q }, { top_k = n } or { fixed = v }",
        (5, 1),
    );
    let e = with_base("[amp.select]\nkind = \"random\"\n");
    assert!(
        e.to_string().contains("kind = \"random\" needs `ratio`"),
        "{e}"
    );
    let e = err("name = \"x\"\n[train]\nlr = 0.4\n");
    check(
        &e,
        "configs/exp.toml:2:1: train: missing field `epochs`",
        (2, 1),
    );
}

#[test]
fn observation_must_fit_the_measure_and_the_schedule() {
    let sel = "[amp.select]\nkind = \"intelligent\"\nthreshold = \"median\"\n";
    let e = with_base(&format!(
        "{sel}measure = \"rel_change\"\nobserve_epochs = 1\n"
    ));
    check(
        &e,
        "configs/exp.toml:9:18: amp.select.observe_epochs: observe_epochs = 1, but measure `rel_change` needs at least 2 observed epochs",
        (9, 18),
    );
    let e = with_base(&format!("{sel}measure = \"cv\"\nobserve_epochs = 8\n"));
    assert!(
        e.to_string()
            .contains("the first selection is made at epoch 8, after the last amplified epoch (7)"),
        "{e}"
    );
    let e = with_base(&format!(
        "{sel}measure = \"cv\"\nreselect = {{ every = 0 }}\n"
    ));
    assert_eq!(e.field(), Some("amp.select.reselect"), "{e}");
    let e = with_base(
        "[amp.select]\nkind = \"all\"\n[[schedule]]\nepochs = \"0..16\"\nlr = 0.4\namplify = false\n",
    );
    assert!(
        e.to_string()
            .contains("schedule: no phase has amplify = true"),
        "{e}"
    );
}

#[test]
fn train_values_are_checked() {
    let e = err("name = \"x\"\n[train]\nepochs = 0\nlr = 0.4\n");
    check(
        &e,
        "configs/exp.toml:3:10: train.epochs: must be at least 1",
        (3, 10),
    );
    let e = err("name = \"x\"\n[train]\nepochs = 4\nlr = 0.4\nmomentum = 1.0\n");
    assert_eq!(e.field(), Some("train.momentum"));
    let e = err("name = \"\"\n[train]\nepochs = 4\nlr = 0.4\n");
    assert_eq!(e.field(), Some("name"));
}

#[test]
fn load_names_the_file() {
    let e = ExperimentConfig::load("/nonexistent/dir/exp.toml").unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/exp.toml: cannot read the config:"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("amp-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, format!("{BASE}[amp]\nfactor = -1.0\n")).unwrap();
    let e = ExperimentConfig::load(&path).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}:6:10: amp.factor:", path.display())),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn warmup_is_a_bool_of_a_phase_and_its_misspelling_is_caught() {
    let e =
        with_base("[[schedule]]\nepochs = \"0..16\"\nlr = 0.4\namplify = true\nwarm_up = true\n");
    let msg = e.to_string();
    assert!(msg.contains("unknown field `warm_up`"), "{msg}");
    assert!(msg.contains("did you mean `warmup`?"), "{msg}");
    let e =
        with_base("[[schedule]]\nepochs = \"0..16\"\nlr = 0.4\namplify = true\nwarmup = \"yes\"\n");
    assert_eq!(e.line_col(), Some((9, 10)), "{e}");
    assert!(e.to_string().contains("schedule[0].warmup"), "{e}");
}

/// Configs are saved as TOML, whose integers are signed 64 bits: a seed or count above 2^63 - 1
/// set by a flag or in code is refused by name instead of failing when the record is written.
#[test]
fn integers_a_toml_file_cannot_hold_are_refused_by_field() {
    use amp_core::config::{Overrides, TOML_INT_MAX};
    let ok = ExperimentConfig::from_toml_str(BASE, "configs/exp.toml").unwrap();
    let mut fits = ok.clone();
    fits.train.seed = TOML_INT_MAX;
    fits.validate().unwrap();
    let back = ExperimentConfig::from_toml_str(&fits.to_toml(), "again").unwrap();
    assert_eq!(back.train.seed, TOML_INT_MAX);

    let mut too_big = ok.clone();
    too_big.train.seed = TOML_INT_MAX + 1;
    let e = too_big.validate().unwrap_err();
    assert_eq!(e.field(), Some("train.seed"), "{e}");
    assert!(
        e.to_string()
            .contains("9223372036854775808 is above 9223372036854775807"),
        "{e}"
    );

    let mut select_seed = ok.clone();
    select_seed.amp.select.seed = Some(u64::MAX);
    assert_eq!(
        select_seed.validate().unwrap_err().field(),
        Some("amp.select.seed")
    );

    let e = ok
        .clone()
        .with_overrides(&Overrides {
            epochs: Some(TOML_INT_MAX as usize + 1),
            seed: None,
        })
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--epochs 9223372036854775808 does not fit configs/exp.toml:"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("train.epochs: 9223372036854775808 is above"),
        "{e}"
    );
}
