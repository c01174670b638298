//! The default experiments in `configs/` (METHOD.md section 6) parse, validate against
//! ResNet-18's 19 candidate convolutions, build and plan a 16-epoch run.

use std::path::PathBuf;

use amp_core::config::{ExperimentConfig, SelectKind};
use amp_core::method::{MeasureKind, PhaseSchedule, Schedule, ThresholdKind};
use amp_core::stats::{LayerEpoch, StatsHistory, Summary};
use amp_core::Mode;

/// ResNet-18's convolutions without the stem: 16 in the residual blocks, 3 in shortcuts.
fn resnet18_layers() -> Vec<String> {
    let mut names = Vec::new();
    for stage in 1..=4 {
        for block in 0..2 {
            names.push(format!("layer{stage}.{block}.conv1"));
            names.push(format!("layer{stage}.{block}.conv2"));
            if stage > 1 && block == 0 {
                names.push(format!("layer{stage}.{block}.shortcut"));
            }
        }
    }
    assert_eq!(names.len(), 19);
    names
}

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

fn load(file: &str) -> ExperimentConfig {
    ExperimentConfig::load(configs_dir().join(file)).unwrap_or_else(|e| panic!("{e}"))
}

/// Synthetic statistics: layer l fluctuates with amplitude l % 5, its mean drifts with l % 3.
fn history(layers: usize, epochs: usize) -> StatsHistory {
    let mut h = StatsHistory::new((0..layers).map(|l| format!("l{l}")).collect());
    for e in 0..epochs {
        h.epochs.push(
            (0..layers)
                .map(|l| {
                    let base = 10.0 + (e * (l % 3)) as f64;
                    let amp = (l % 5) as f64;
                    let steps: Vec<f64> = (0..8)
                        .map(|t| base + if t % 2 == 0 { amp } else { -amp })
                        .collect();
                    LayerEpoch {
                        param: Summary::of(&steps),
                        output: Summary::of(&steps),
                        param_steps: steps,
                    }
                })
                .collect(),
        );
    }
    h
}

/// Plans all 16 epochs; returns the number of amplified layers per epoch.
fn run(config: &ExperimentConfig) -> Vec<usize> {
    let layers = resnet18_layers();
    let mut policy = config
        .build_policy(&layers)
        .unwrap_or_else(|e| panic!("{e}"));
    let h = history(layers.len(), 16);
    (0..16)
        .map(|e| policy.plan_epoch(e, &h).amplified_layers().len())
        .collect()
}

#[test]
fn every_config_file_parses_validates_and_round_trips() {
    let mut files: Vec<_> = std::fs::read_dir(configs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for path in files {
        let c = ExperimentConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        c.validate_layers(&resnet18_layers())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            c.name,
            "file name = experiment name"
        );
        assert_eq!(
            (c.train.epochs, c.amp.factor, c.amp.mode),
            (16, 2.0, Mode::Output)
        );
        let again = ExperimentConfig::from_toml_str(&c.to_toml(), "round-trip").unwrap();
        assert_eq!(again.to_toml(), c.to_toml());
        assert_eq!(again.schedule().unwrap(), c.schedule().unwrap());
    }
}

#[test]
fn baselines_amplify_nothing() {
    for lr in ["0.1", "0.4", "0.8"] {
        let c = load(&format!("baseline-lr{lr}.toml"));
        assert_eq!(c.amp.select.kind, SelectKind::None);
        assert_eq!(c.train.lr, lr.parse::<f64>().unwrap());
        assert_eq!(run(&c), vec![0; 16]);
    }
}

#[test]
fn random_amplifies_6_of_19_in_the_first_half() {
    let c = load("random-r0.3-lr0.4.toml");
    let counts = run(&c);
    assert_eq!(&counts[..8], &[6; 8]);
    assert_eq!(&counts[8..], &[0; 8]);
    // Reproducible: the same layers every time.
    let layers = resnet18_layers();
    let h = history(19, 1);
    let a = c.build_policy(&layers).unwrap().plan_epoch(0, &h);
    let b = c.build_policy(&layers).unwrap().plan_epoch(0, &h);
    assert_eq!(a.amplified, b.amplified);
    let baseline = c
        .baseline()
        .build_policy(&layers)
        .unwrap()
        .plan_epoch(0, &h);
    assert!(!baseline.any_amplified());
}

#[test]
fn intelligent_configs_observe_two_epochs_then_select() {
    let cv = load("intelligent-cv-mean-lr0.4.toml");
    let s = &cv.amp.select;
    assert_eq!(
        (s.measure, s.threshold, s.observe_epochs),
        (Some(MeasureKind::Cv), Some(ThresholdKind::Mean), Some(2))
    );
    // The written-out schedule is the default one.
    let default = PhaseSchedule::scaled_default(16, 0.4, 2.0).unwrap();
    let written = cv.schedule().unwrap();
    for e in 0..16 {
        let (a, b) = (
            written.phase(e).unwrap().phase,
            default.phase(e).unwrap().phase,
        );
        assert_eq!((a.epochs, a.amplify), (b.epochs, b.amplify));
        assert!((a.lr - b.lr).abs() < 1e-12);
    }
    let rc = load("intelligent-relchange-median-lr0.4.toml");
    assert_eq!(rc.amp.select.measure, Some(MeasureKind::RelChange));
    assert!(rc.schedule.is_none());
    for c in [cv, rc] {
        let counts = run(&c);
        assert_eq!(&counts[..2], &[0, 0], "{}: observation", c.name);
        assert!(counts[2] > 0 && counts[2] < 19, "{}: {counts:?}", c.name);
        assert!(counts[2..8].iter().all(|&n| n == counts[2]));
        assert_eq!(&counts[8..], &[0; 8]);
    }
}

#[test]
fn a_warmup_phase_reaches_the_schedule_and_the_written_config() {
    let text = "name = \"w\"\n[train]\nepochs = 4\nlr = 0.4\n\
                [[schedule]]\nepochs = \"0..1\"\nlr = 0.4\namplify = true\nwarmup = true\n\
                [[schedule]]\nepochs = \"1..4\"\nlr = 0.04\namplify = false\n";
    let c = amp_core::config::ExperimentConfig::from_toml_str(text, "w.toml").unwrap();
    let s = c.schedule().unwrap();
    assert!(s.phases()[0].warmup);
    assert!(!s.phases()[1].warmup);
    let written = c.to_toml();
    assert_eq!(written.matches("warmup = true").count(), 1, "{written}");
    let again = amp_core::config::ExperimentConfig::from_toml_str(&written, "again.toml").unwrap();
    assert_eq!(again.schedule().unwrap(), s);
}

#[test]
fn init_reaches_the_plan_and_is_written_only_when_chosen() {
    use amp_core::train::Init;
    let base = "name = \"i\"\n[train]\nepochs = 4\nlr = 0.1\n";
    let c = amp_core::config::ExperimentConfig::from_toml_str(base, "i.toml").unwrap();
    assert_eq!(c.train.init, Init::Default);
    assert!(!c.to_toml().contains("init"), "{}", c.to_toml());
    assert_eq!(c.plan(&["a"]).unwrap().settings.init, Init::Default);

    let he = format!("{base}init = \"he\"\n");
    let c = amp_core::config::ExperimentConfig::from_toml_str(&he, "i.toml").unwrap();
    assert_eq!(c.plan(&["a"]).unwrap().settings.init, Init::He);
    let written = c.to_toml();
    assert!(written.contains("init = \"he\""), "{written}");
    let again = amp_core::config::ExperimentConfig::from_toml_str(&written, "again.toml").unwrap();
    assert_eq!(again.train.init, Init::He);
}

#[test]
fn hold_weight_norms_reaches_the_plan_and_the_baseline_and_is_written_only_when_set() {
    let base = "name = \"h\"\n[train]\nepochs = 4\nlr = 0.1\n";
    let c = amp_core::config::ExperimentConfig::from_toml_str(base, "h.toml").unwrap();
    assert!(!c.plan(&["a"]).unwrap().settings.hold_weight_norms);
    assert!(!c.to_toml().contains("hold"), "{}", c.to_toml());

    let held = format!("{base}hold_weight_norms = true\n");
    let c = amp_core::config::ExperimentConfig::from_toml_str(&held, "h.toml").unwrap();
    assert!(c.plan(&["a"]).unwrap().settings.hold_weight_norms);
    // The baseline it is compared with trains the same way.
    assert!(
        c.baseline()
            .plan(&["a"])
            .unwrap()
            .settings
            .hold_weight_norms
    );
    let written = c.to_toml();
    assert!(written.contains("hold_weight_norms = true"), "{written}");
    let again = amp_core::config::ExperimentConfig::from_toml_str(&written, "again.toml").unwrap();
    assert!(again.train.hold_weight_norms);
}

#[test]
fn guard_reaches_the_plan_not_the_baseline_and_is_written_only_when_set() {
    let base = "name = \"g\"\n[train]\nepochs = 4\nlr = 0.1\n";
    let c = amp_core::config::ExperimentConfig::from_toml_str(base, "g.toml").unwrap();
    assert_eq!(c.plan(&["a"]).unwrap().settings.guard, None);
    assert!(!c.to_toml().contains("guard"), "{}", c.to_toml());

    let guarded = format!("{base}[amp]\nguard = 1.5\n");
    let c = amp_core::config::ExperimentConfig::from_toml_str(&guarded, "g.toml").unwrap();
    assert_eq!(c.plan(&["a"]).unwrap().settings.guard, Some(1.5));
    // A baseline amplifies nothing, so it has nothing to guard: it is the config without one
    // (the same grid cell as before the field existed).
    let baseline = c.baseline();
    assert_eq!(baseline.amp.guard, None);
    assert!(
        !baseline.to_toml().contains("guard"),
        "{}",
        baseline.to_toml()
    );
    let written = c.to_toml();
    assert!(written.contains("guard = 1.5"), "{written}");
    let again = amp_core::config::ExperimentConfig::from_toml_str(&written, "again.toml").unwrap();
    assert_eq!(again.amp.guard, Some(1.5));
}

/// A config of 8 epochs at lr 0.1 with `phases` (`(epochs, lr, amplify, warmup)`) written out.
fn with_phases(phases: &[(&str, f64, bool, bool)]) -> ExperimentConfig {
    let mut text = String::from("name = \"s\"\n[train]\nepochs = 8\nlr = 0.1\n");
    for (epochs, lr, amplify, warmup) in phases {
        text.push_str(&format!(
            "[[schedule]]\nepochs = \"{epochs}\"\nlr = {lr:?}\namplify = {amplify}\nwarmup = {warmup}\n"
        ));
    }
    ExperimentConfig::from_toml_str(&text, "s.toml").unwrap()
}

#[test]
fn only_a_written_out_default_schedule_without_amplification_is_dropped() {
    let default = [
        ("0..4", 0.1, false, false),
        ("4..6", 0.01, false, false),
        ("6..8", 0.001, false, false),
    ];
    let mut c = with_phases(&default);
    let trained = c.schedule().unwrap().without_amplification();
    assert!(c.drop_default_schedule());
    assert_eq!(c.schedule, None);
    // What it trains is unchanged: the default schedule, amplification aside.
    assert_eq!(c.schedule().unwrap().without_amplification(), trained);
    assert!(!c.drop_default_schedule(), "nothing left to drop");

    let kept = |phases: &[(&str, f64, bool, bool)]| {
        let mut c = with_phases(phases);
        let before = c.schedule.clone();
        assert!(!c.drop_default_schedule(), "{phases:?}");
        assert_eq!(c.schedule, before);
    };
    let mut amplified = default;
    amplified[0].2 = true;
    kept(&amplified);
    let mut warm = default;
    warm[0].3 = true;
    kept(&warm);
    let mut other_lr = default;
    other_lr[2].1 = 0.1 / 100.0 + f64::EPSILON / 64.0;
    assert_ne!(other_lr[2].1, 0.001, "a learning rate one rounding away");
    kept(&other_lr);
    kept(&[("0..4", 0.1, false, false), ("4..8", 0.01, false, false)]);
    kept(&[
        ("0..2", 0.1, false, true),
        ("2..4", 0.1, false, false),
        ("4..6", 0.01, false, false),
        ("6..8", 0.001, false, false),
    ]);

    // The default's phases split at other epochs train alike (each epoch at the same rate,
    // no warm-up): dropped, so a config that splits a phase to move its amplification
    // shares the default's baselines.
    let mut split = with_phases(&[
        ("0..2", 0.1, false, false),
        ("2..4", 0.1, false, false),
        ("4..5", 0.01, false, false),
        ("5..6", 0.01, false, false),
        ("6..8", 0.001, false, false),
    ]);
    assert!(split.drop_default_schedule());
    assert_eq!(split.schedule, None);
}
