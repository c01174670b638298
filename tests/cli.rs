//! End-to-end tests of the `amp` binary: configs are checked against real models, errors name
//! the file, line and column, and a short run writes a record that `amp report` reads.

mod common;

use common::{amp, s, scratch, text};
use std::path::Path;

/// Shipped configs whose explicit selection names one model's layers, and that model (every
/// other config is checked against ResNet-18). `layer1-amp23.toml` names ResNet-56's 18
/// first-stage convolutions one by one (as its grid ran them); ResNet-18 has 4 of them.
/// `layer3-amp23.toml` and the probes name ResNet-56's stages by their block names, valid for
/// ResNet-18 too but meaning 4 or 5 convolutions there, not 18.
const WRITTEN_FOR: [(&str, &str); 4] = [
    ("layer1-amp23.toml", "resnet56"),
    ("layer3-amp23.toml", "resnet56"),
    ("layer1-first-amplified-epoch.toml", "resnet56"),
    ("layer3-first-amplified-epoch.toml", "resnet56"),
];

#[test]
fn every_shipped_config_is_valid_for_resnet18() {
    let mut checked = 0;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let entries = [
        "configs",
        "configs/demo",
        "configs/cifar-cnn",
        "configs/cifar-vgg11",
        "configs/cifar-plain",
        "configs/cifar-plain/probe",
    ]
    .iter()
    .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap());
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let file = path.file_name().unwrap().to_str().unwrap();
            let model = WRITTEN_FOR
                .iter()
                .find(|(f, _)| *f == file)
                .map_or("resnet18", |(_, m)| *m);
            let o = amp(&["check", path.to_str().unwrap(), "--model", model]);
            assert!(o.status.success(), "{}: {}", path.display(), text(&o));
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} configs found");
}

#[test]
fn a_config_naming_a_missing_layer_lists_the_valid_ones() {
    let dir = scratch("bad-layer");
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        "name = \"x\"\n[train]\nepochs = 4\nlr = 0.1\n[amp.select]\nkind = \"explicit\"\nlayers = [\"conv9\"]\n",
    )
    .unwrap();
    let o = amp(&["check", cfg.to_str().unwrap(), "--model", "cnn"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("bad.toml:7:11"), "{t}");
    assert!(t.contains("amp.select.layers[0]"), "{t}");
    assert!(
        t.contains("valid layer names: conv1, conv2, conv3, fc"),
        "{t}"
    );
    assert_eq!(t.matches("valid layer names").count(), 1, "said once: {t}");
}

/// An explicit selection may name blocks (`layer3.2`: both its convolutions); `amp check`
/// prints the layers the names stand for, in forward order.
#[test]
fn check_expands_the_blocks_an_explicit_selection_names() {
    let dir = scratch("explicit-blocks");
    let cfg = dir.join("blocks.toml");
    std::fs::write(
        &cfg,
        "name = \"x\"\n[train]\nepochs = 4\nlr = 0.1\n[amp.select]\nkind = \"explicit\"\n\
         layers = [\"layer3.2\", \"layer1.0.conv1\"]\n",
    )
    .unwrap();
    let o = amp(&["check", s(&cfg), "--model", "resnet20"]);
    assert!(o.status.success(), "{}", text(&o));
    let want = "explicit over 4 epochs\n\
        amplifies 3 of 18 layers: layer1.0.conv1, layer3.2.conv1, layer3.2.conv2\n";
    assert!(text(&o).contains(want), "{}", text(&o));
}

#[test]
fn a_model_that_cannot_take_the_images_says_so() {
    let dir = scratch("vgg-small");
    let cfg = dir.join("ok.toml");
    std::fs::write(&cfg, "name = \"x\"\n[train]\nepochs = 1\nlr = 0.1\n").unwrap();
    let o = amp(&[
        "train",
        cfg.to_str().unwrap(),
        "--model",
        "vgg11",
        "--limit",
        "16",
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("model vgg11 takes") && t.contains("3x16x16"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn missing_files_are_named_in_the_error() {
    // Each with the reason, once (not again as the error's source).
    let once = |o: &std::process::Output, what: &str| {
        let t = text(o);
        assert!(!o.status.success());
        assert!(t.contains(what), "{t}");
        assert_eq!(t.matches("No such file or directory").count(), 1, "{t}");
    };
    once(
        &amp(&["train", "no/such/config.toml"]),
        "no/such/config.toml",
    );
    once(&amp(&["report", "no/such/run.json"]), "no/such/run.json");
    once(
        &amp(&["weights", "no/such/run.ckpt.safetensors"]),
        "no/such/run.ckpt.safetensors",
    );
    let dir = scratch("bad-data");
    let cfg = dir.join("ok.toml");
    std::fs::write(&cfg, "name = \"x\"\n[train]\nepochs = 1\nlr = 0.1\n").unwrap();
    let o = amp(&["train", cfg.to_str().unwrap(), "--data", "no/such/cifar"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no/such/cifar"), "{}", text(&o));
}

#[test]
fn a_short_run_writes_a_record_that_report_reads_and_a_checkpoint_that_weights_reads() {
    let dir = scratch("run");
    let cfg = dir.join("short.toml");
    std::fs::write(
        &cfg,
        "name = \"short\"\n[train]\nepochs = 2\nlr = 0.05\nbatch_size = 64\n\
         [amp]\nfactor = 2.0\n[amp.select]\nkind = \"explicit\"\nlayers = [\"conv2\"]\n",
    )
    .unwrap();
    let out = dir.join("runs");
    let mut args = common::train_args(&cfg, &out);
    args.extend(["--device", "cpu"]);
    let o = amp(&args);
    assert!(o.status.success(), "{}", text(&o));
    let record = out.join("short-cnn-seed0.json");
    let o = amp(&["report", record.to_str().unwrap(), "--epochs"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("short") && t.contains("1/4"), "{t}");
    // No temporary file is left next to the record.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // `amp weights` on the run's folder: conv2's weight norm as computed from the tensor.
    let ckpt = out.join("short-cnn-seed0.ckpt.safetensors");
    let c = amp_core::train::Checkpoint::read(&ckpt).unwrap();
    let w = c.model.iter().find(|t| t.name == "conv2.weight").unwrap();
    let norm = w
        .values
        .iter()
        .map(|&v| f64::from(v).powi(2))
        .sum::<f64>()
        .sqrt();
    let o = amp(&["weights", out.to_str().unwrap(), "--filter", "conv"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    let row = t.lines().find(|l| l.contains("conv2.weight")).unwrap();
    assert!(row.contains(&format!("{norm:.3}")), "{norm}: {t}");
    assert!(
        t.contains("short on cnn, after epoch 2") && !t.contains("fc.weight"),
        "{t}"
    );
    // Twice: the second column is the first's norm, 1.00x.
    let o = amp(&["weights", ckpt.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(
        text(&o).contains(&format!("{norm:.3} (1.00x)")),
        "{}",
        text(&o)
    );
    let o = amp(&["weights", record.to_str().unwrap()]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("short-cnn-seed0.json: not a readable amp checkpoint"),
        "{t}"
    );
    assert!(
        !t.contains("delete it"),
        "no advice to delete a file it only reads: {t}"
    );
}

#[test]
fn a_run_holding_weight_norms_records_the_same_norms_every_epoch() {
    let dir = scratch("hold");
    let norms = |hold: bool| {
        let cfg = dir.join(format!("hold-{hold}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "name = \"hold-{hold}\"\n[train]\nepochs = 2\nlr = 0.05\nbatch_size = 64\n\
                 hold_weight_norms = {hold}\n[amp]\nfactor = 4.0\n[amp.select]\nkind = \"all\"\n"
            ),
        )
        .unwrap();
        let o = amp(&["check", s(&cfg), "--model", "cnn"]);
        assert_eq!(
            text(&o).contains("train.hold_weight_norms: each candidate's weights are rescaled"),
            hold,
            "{}",
            text(&o)
        );
        let out = dir.join("runs");
        let o = amp(&common::train_args(&cfg, &out));
        assert!(o.status.success(), "{}", text(&o));
        let r = common::json(&out.join(format!("hold-{hold}-cnn-seed0.json")));
        let epoch = |e: usize| -> Vec<f64> {
            let v = r["epochs"][e]["weight_norms"].as_array().unwrap();
            v.iter().map(|n| n.as_f64().unwrap()).collect()
        };
        (epoch(0), epoch(1))
    };
    let rel = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / x)
            .fold(0.0, f64::max)
    };
    let (first, second) = norms(true);
    assert_eq!(first.len(), 4, "cnn has 4 candidates");
    assert!(rel(&first, &second) < 1e-5, "{first:?} vs {second:?}");
    let (first, second) = norms(false);
    assert!(rel(&first, &second) > 1e-3, "{first:?} vs {second:?}");
}

/// The loss guard end to end: `check` says what it does; a run whose amplified epoch blows
/// up (k = 1e6 in `output` mode) says the guard fired, shows the epoch as `(guard)` and
/// finishes, its record keeping the event; without the guard the same run diverges.
#[test]
fn a_guarded_run_undoes_the_amplified_epoch_that_blows_up() {
    let dir = scratch("guard");
    let run = |guard: &str| {
        let name = if guard.is_empty() {
            "unguarded"
        } else {
            "guarded"
        };
        let cfg = dir.join(format!("{name}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "name = \"{name}\"\n[train]\nepochs = 3\nlr = 0.05\nbatch_size = 64\n\
                 [amp]\nfactor = 1e6\n{guard}\n[[schedule]]\nepochs = \"0..1\"\nlr = 0.05\namplify = false\n\
                 [[schedule]]\nepochs = \"1..2\"\nlr = 0.05\namplify = true\n\
                 [[schedule]]\nepochs = \"2..3\"\nlr = 0.05\namplify = false\n\
                 [amp.select]\nkind = \"all\"\n"
            ),
        )
        .unwrap();
        let check = amp(&["check", s(&cfg), "--model", "cnn"]);
        assert!(check.status.success(), "{}", text(&check));
        assert_eq!(
            text(&check).contains("amp.guard: an amplified epoch whose mean training loss"),
            !guard.is_empty(),
            "{}",
            text(&check)
        );
        let out = dir.join("runs");
        let mut args = common::train_args(&cfg, &out);
        args.retain(|a| *a != "--quiet");
        let o = amp(&args);
        (o, common::json(&out.join(format!("{name}-cnn-seed0.json"))))
    };
    let (o, r) = run("");
    assert!(text(&o).contains("diverged"), "{}", text(&o));
    assert_eq!(r["status"]["state"], "diverged", "{r}");
    let (o, r) = run("guard = 1.5");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("epoch  2: guard at step"),
        "the progress line: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("(guard)"),
        "the epochs table: {}",
        text(&o)
    );
    assert_eq!(r["status"]["state"], "finished", "{r}");
    assert_eq!(r["guarded"][0]["epoch"], 1, "{r}");
    assert_eq!(r["epochs"][1]["amplified"], serde_json::json!([]), "{r}");
    // `amp report` says which runs had the guard and what it did.
    let rows = dir.join("runs.json");
    let o = amp(&["report", s(&dir.join("runs")), "--json", s(&rows)]);
    assert!(o.status.success(), "{}", text(&o));
    let rows = common::json(&rows);
    let policies: Vec<&str> = (rows["runs"].as_array().unwrap().iter())
        .map(|row| row["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        policies,
        [
            "all ×1000000 output, guard 1.5 (1 epoch undone)",
            "all ×1000000 output"
        ],
        "{rows}"
    );
}

#[test]
fn sweep_compares_each_config_with_its_baseline_per_seed() {
    let dir = scratch("sweep");
    let out = dir.join("runs");
    let o = amp(&[
        "sweep",
        "configs/demo/intelligent.toml",
        "--epochs",
        "5",
        "--seeds",
        "2",
        "--limit",
        "200",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("intelligent-cv-mean") && t.contains("/2"), "{t}");
    for seed in 0..2 {
        assert!(out
            .join(format!("intelligent-cv-mean-cnn-seed{seed}.json"))
            .is_file());
        assert!(out
            .join(format!("intelligent-cv-mean-baseline-cnn-seed{seed}.json"))
            .is_file());
    }
}

#[test]
fn data_errors_print_each_fact_once_and_test_limit_limits_evaluation() {
    let dir = scratch("data-flags");
    let cfg = dir.join("one.toml");
    std::fs::write(&cfg, "name = \"one\"\n[train]\nepochs = 1\nlr = 0.05\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    let page = dir.join("cifar-10-binary.tar.gz");
    std::fs::write(&page, "<!DOCTYPE html><html>Not Found</html>").unwrap();
    let o = amp(&["train", cfg, "--data", page.to_str().unwrap()]);
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: --data: {}: not a gzip file (starts with 3c 21 44 4f: an HTML page, perhaps \
             a failed download); expected a folder or a .tar.gz archive\n",
            page.display()
        )
    );
    let o = amp(&["train", cfg, "--test-limit", "0"]);
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: --test-limit 0 leaves no image; give at least 1, or leave it out for all\n"
    );
    let out = dir.join("runs");
    let o = amp(&[
        "train",
        cfg,
        "--limit",
        "64",
        "--test-limit",
        "50",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("16x16, 10 classes, 64 of 8000 train / 50 of 1000 test images"),
        "{}",
        text(&o)
    );
}

/// Every training command takes `--device`; a binary built without the `cuda` feature says how
/// to rebuild before it loads any data or writes anything.
#[cfg(not(feature = "cuda"))]
#[test]
fn device_cuda_without_the_feature_says_how_to_rebuild() {
    let dir = scratch("device");
    let out = dir.join("runs");
    let o = out.to_str().unwrap();
    for args in [
        vec![
            "train",
            "configs/demo/baseline.toml",
            "--device",
            "cuda",
            "--out",
            o,
        ],
        vec![
            "sweep",
            "configs/demo/intelligent.toml",
            "--device",
            "cuda:1",
            "--out",
            o,
        ],
        vec!["demo", "--device", "cuda:0", "--out", o],
    ] {
        let r = amp(&args);
        assert_eq!(r.status.code(), Some(1), "{args:?}: {}", text(&r));
        let t = text(&r);
        let dev = args[args.iter().position(|a| *a == "--device").unwrap() + 1];
        let dev = if dev == "cuda" { "cuda:0" } else { dev };
        assert!(
            t.contains(&format!(
                "--device {dev}: this amp binary was built without CUDA support; rebuild with \
                 `cargo build --release --features cuda`, see README 'CUDA build'"
            )),
            "{args:?}: {t}"
        );
        assert!(!t.contains("panicked"), "{t}");
    }
    assert!(!out.exists(), "nothing is written before the device check");
}

#[test]
fn an_unknown_device_is_a_usage_error_naming_the_flag() {
    let r = amp(&["train", "configs/demo/baseline.toml", "--device", "gpu"]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    let t = text(&r);
    assert!(
        t.contains("invalid value 'gpu' for '--device <DEVICE>'")
            && t.contains("expected `cpu`, `cuda` or `cuda:N`"),
        "{t}"
    );
}

/// `--seeds` is a count: 0 and a list are usage errors that say what it takes (0 used to
/// write an empty summary).
#[test]
fn sweep_seeds_is_a_count_of_at_least_one() {
    for (value, want) in [
        (
            "0",
            "invalid value '0' for '--seeds <SEEDS>': 0 seeds run nothing; give at least 1",
        ),
        (
            "0,1",
            "invalid value '0,1' for '--seeds <SEEDS>': the number of seeds, e.g. `--seeds 3`",
        ),
    ] {
        let out = scratch("sweep-seeds");
        let r = amp(&[
            "sweep",
            "configs/demo/intelligent.toml",
            "--seeds",
            value,
            "--out",
            s(&out),
        ]);
        assert_eq!(r.status.code(), Some(2), "{}", text(&r));
        assert!(text(&r).contains(want), "{}\nwant {want}", text(&r));
        assert!(
            !out.join("summary.json").exists(),
            "--seeds {value} wrote a summary"
        );
    }
}

/// `--epochs 0` is refused by the flag itself (train, sweep and demo), before a config is
/// read, so the error does not point at the config's `train.epochs` line.
#[test]
fn epochs_is_a_count_of_at_least_one() {
    let out = scratch("epochs-0");
    for args in [
        &["train", "configs/demo/intelligent.toml", "--epochs", "0"][..],
        &["sweep", "configs/demo/intelligent.toml", "--epochs", "0"][..],
        &["demo", "--epochs", "0"][..],
    ] {
        let r = amp(&[args, &["--out", s(&out)][..]].concat());
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", text(&r));
        let want = "invalid value '0' for '--epochs <EPOCHS>': a run trains at least 1 epoch";
        assert!(
            text(&r).contains(want),
            "{args:?}: {}\nwant {want}",
            text(&r)
        );
        assert!(!text(&r).contains("epochs = 12"), "{}", text(&r));
    }
    assert!(
        std::fs::read_dir(&out).map_or(true, |mut d| d.next().is_none()),
        "--epochs 0 wrote into --out"
    );
}

/// Seeds are saved in each run's config, and TOML integers stop at 2^63 - 1: a larger seed is
/// a usage error naming the flag (it made `to_toml` panic after the first epoch), and a sweep
/// whose last seed would pass it is refused before anything trains.
#[test]
fn seeds_a_config_cannot_hold_are_refused_before_training() {
    let out = scratch("seed-range");
    let want = "at most 9223372036854775807 (2^63 - 1, the largest integer TOML holds";
    for args in [
        &[
            "train",
            "configs/demo/intelligent.toml",
            "--seed",
            "9223372036854775808",
        ][..],
        &["demo", "--seed", "18446744073709551615"][..],
        &[
            "sweep",
            "configs/demo/intelligent.toml",
            "--first-seed",
            "18446744073709551615",
        ][..],
    ] {
        let r = amp(&[args, &["--out", s(&out)][..]].concat());
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", text(&r));
        assert!(text(&r).contains(want), "{args:?}: {}", text(&r));
        assert!(!text(&r).contains("panicked"), "{}", text(&r));
    }
    let r = amp(&[
        "sweep",
        "configs/demo/intelligent.toml",
        "--first-seed",
        "9223372036854775807",
        "--seeds",
        "2",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(
        text(&r)
            .contains("--first-seed 9223372036854775807 --seeds 2: the last seed would be above"),
        "{}",
        text(&r)
    );
    assert!(
        std::fs::read_dir(&out).map_or(true, |mut d| d.next().is_none()),
        "a refused seed wrote into --out"
    );
}

#[test]
fn every_registry_model_is_listed_and_an_unknown_one_names_the_valid_ones() {
    let o = amp(&["layers", "resnet20"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert_eq!(t.lines().count(), 18, "{t}");
    assert!(t.contains("layer3.2.conv2"), "{t}");
    // `--model`, as `train` and `check` take it, names the same network.
    let o = amp(&["layers", "--model", "resnet20"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o), t);
    let o = amp(&["layers", "resnet20", "--model", "vgg16"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot be used with"), "{}", text(&o));
    let o = amp(&["layers", "--help"]);
    let t = text(&o);
    for name in [
        "vgg16-nobn",
        "resnet101",
        "resnet110",
        "plain56",
        "plain110-nobn",
    ] {
        assert!(t.contains(name), "{name} in\n{t}");
    }
    let o = amp(&["layers", "resnet21"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("invalid value 'resnet21'") && t.contains("resnet20"),
        "{t}"
    );
}

#[test]
fn a_cifar_resnet_trains_with_a_warmup_phase() {
    let dir = scratch("warmup");
    let cfg = dir.join("warm.toml");
    std::fs::write(
        &cfg,
        "name = \"warm\"\n[train]\nepochs = 2\nlr = 0.1\nbatch_size = 32\n\
         [[schedule]]\nepochs = \"0..1\"\nlr = 0.1\namplify = true\nwarmup = true\n\
         [[schedule]]\nepochs = \"1..2\"\nlr = 0.01\namplify = false\n",
    )
    .unwrap();
    let out = dir.join("runs");
    let o = amp(&[
        "train",
        cfg.to_str().unwrap(),
        "--model",
        "resnet20",
        "--limit",
        "64",
        "--test-limit",
        "64",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let record = std::fs::read_to_string(out.join("warm-resnet20-seed0.json")).unwrap();
    assert!(
        record.contains("warmup = true"),
        "the record keeps the config"
    );
}

/// `amp check` shows the schedule a run will follow, phase by phase with epochs counted from
/// 1, written out or the default, and says when "amplification on" amplifies nothing.
#[test]
fn check_shows_the_schedule_phase_by_phase() {
    let dir = scratch("check-schedule");
    let cfg = dir.join("s.toml");
    std::fs::write(
        &cfg,
        "name = \"s\"\n[train]\nepochs = 5\nlr = 0.2\n[amp]\nfactor = 3.0\n\
         [amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"mean\"\n\
         observe_epochs = 1\n\
         [[schedule]]\nepochs = \"0..1\"\nlr = 0.2\namplify = false\nwarmup = true\n\
         [[schedule]]\nepochs = \"1..4\"\nlr = 0.2\namplify = true\nfactor = 1.5\n\
         [[schedule]]\nepochs = \"4..5\"\nlr = 0.02\namplify = false\n",
    )
    .unwrap();
    let o = amp(&["check", s(&cfg), "--model", "cnn"]);
    assert!(o.status.success(), "{}", text(&o));
    let want = "schedule ([[schedule]] of the config; epochs counted from 1):\n\
        \x20 epoch 1      lr rising to 0.2 (warm-up)  amplification off\n\
        \x20 epochs 2-4   lr 0.2                      amplification on, k = 1.5\n\
        \x20 epoch 5      lr 0.02                     amplification off\n\
        \x20 (intelligent selection observes epoch 1: the layers it selects are amplified from \
        epoch 2 on, where amplification is on)\n";
    assert!(text(&o).contains(want), "{}", text(&o));

    let base = dir.join("b.toml");
    std::fs::write(&base, "name = \"b\"\n[train]\nepochs = 4\nlr = 0.1\n").unwrap();
    let o = amp(&["check", s(&base), "--model", "cnn"]);
    let want = "schedule (the default, scaled to train.epochs; epochs counted from 1):\n\
        \x20 epochs 1-2   lr 0.1                      amplification on, k = 2\n\
        \x20 epoch 3      lr 0.01                     amplification off\n\
        \x20 epoch 4      lr 0.001                    amplification off\n\
        \x20 (a baseline: no layer is selected, nothing is amplified)\n";
    assert!(text(&o).contains(want), "{}", text(&o));
}
