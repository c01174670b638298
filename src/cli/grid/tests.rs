//! Grid files on hand-written examples: errors with file:line:col, exact expansions, stable
//! ids, and report numbers computed by hand.

use std::path::{Path, PathBuf};

use amp_core::train::{EpochRecord, GuardEvent, Position, Provenance, RunRecord, RunStatus};

use super::super::per_seed;
use super::super::versus;
use super::cell::CellState;
use super::diff_plot;
use super::expand::Plan;
use super::report::{self, from_states};
use super::spec::GridSpec;

const ICV: &str = "name = \"icv\"\n[train]\nepochs = 4\nlr = 0.1\nbatch_size = 32\n\
[amp.select]\nkind = \"intelligent\"\nmeasure = \"cv\"\nthreshold = \"mean\"\nobserve_epochs = 1\n";
const RAND: &str = "name = \"rand\"\n[train]\nepochs = 4\nlr = 0.1\nbatch_size = 32\n\
[amp.select]\nkind = \"random\"\nratio = 0.5\n";

/// A folder with the two configs above and `grid.toml` holding `grid`.
fn grid_dir(test: &str, grid: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amp-grid-unit-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("icv.toml"), ICV).unwrap();
    std::fs::write(dir.join("rand.toml"), RAND).unwrap();
    std::fs::write(dir.join("grid.toml"), grid).unwrap();
    dir
}

fn plan(test: &str, grid: &str) -> Result<Plan, String> {
    let dir = grid_dir(test, grid);
    let spec = GridSpec::load(&dir.join("grid.toml"), Some(&dir.join("out")))
        .map_err(|e| e.to_string())?;
    Plan::expand(spec).map_err(|e| e.to_string())
}

/// The first line of the error, with the temp folder replaced by `DIR`.
fn error(test: &str, grid: &str) -> String {
    let e = plan(test, grid).expect_err("an error");
    let dir = grid_dir(test, grid);
    e.replace(&dir.display().to_string(), "DIR")
        .lines()
        .next()
        .unwrap()
        .to_string()
}

const GRID: &str = "configs = [\"icv.toml\", { file = \"rand.toml\", name = \"rnd\" }]\n\
models = [\"mlp\"]\nseeds = [0, 1]\ndata = \"synthetic\"\nlimit = 64\n\
[axes]\n\"train.lr\" = [0.1, 0.2]\n\"amp.factor\" = [2.0, 4.0]\n";

#[test]
fn expansion_is_exact_with_shared_baselines() {
    let p = plan("expand", GRID).unwrap();
    let got: Vec<(usize, String, u64, Option<usize>)> = p
        .cells
        .iter()
        .map(|c| (c.index, c.config.name.clone(), c.seed, c.baseline))
        .collect();
    let mut want = Vec::new();
    for seed in [0u64, 1] {
        let o = 10 * seed as usize;
        let rows: [(&str, Option<usize>); 10] = [
            ("baseline+lr=0.1", None),
            ("icv+factor=2+lr=0.1", Some(o)),
            ("baseline+lr=0.2", None),
            ("icv+factor=2+lr=0.2", Some(o + 2)),
            ("icv+factor=4+lr=0.1", Some(o)),
            ("icv+factor=4+lr=0.2", Some(o + 2)),
            ("rnd+factor=2+lr=0.1", Some(o)),
            ("rnd+factor=2+lr=0.2", Some(o + 2)),
            ("rnd+factor=4+lr=0.1", Some(o)),
            ("rnd+factor=4+lr=0.2", Some(o + 2)),
        ];
        for (i, (name, b)) in rows.into_iter().enumerate() {
            want.push((o + i, name.to_string(), seed, b));
        }
    }
    assert_eq!(got, want);
    let c = &p.cells[14];
    assert_eq!(
        (c.config.train.lr, c.config.amp.factor, c.config.train.seed),
        (0.1, 4.0, 1)
    );
    assert_eq!(c.config.amp.select.kind.name(), "intelligent");
    let b = &p.cells[10];
    assert_eq!(
        (
            b.config.train.lr,
            b.config.amp.select.kind.name(),
            b.config.amp.factor
        ),
        (0.1, "none", 2.0)
    );
    assert_eq!(b.labels, vec![("train.lr".to_string(), "0.1".to_string())]);
    let mut ids: Vec<&str> = p.cells.iter().map(|c| c.id.as_str()).collect();
    assert!(ids
        .iter()
        .all(|i| i.len() == 12 && i.bytes().all(|b| b.is_ascii_hexdigit())));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "every cell has its own id");
}

/// Ids name a cell's content: another order of the grid file gives the same cells the same
/// ids, and adding a seed appends cells without moving the others.
#[test]
fn ids_are_stable_under_reordering_and_appending() {
    let p = plan("stable-a", GRID).unwrap();
    let reordered = "configs = [{ file = \"rand.toml\", name = \"rnd\" }, \"icv.toml\"]\n\
        models = [\"mlp\"]\nseeds = [1, 0]\ndata = \"synthetic\"\nlimit = 64\n\
        [axes]\n\"amp.factor\" = [4.0, 2.0]\n\"train.lr\" = [0.2, 0.1]\n";
    let q = plan("stable-b", reordered).unwrap();
    let by_id = |p: &Plan| {
        let mut v: Vec<(String, String, u64)> = p
            .cells
            .iter()
            .map(|c| (c.id.clone(), c.config.name.clone(), c.seed))
            .collect();
        v.sort();
        v
    };
    assert_eq!(by_id(&p), by_id(&q));
    assert_ne!(
        p.fingerprint(),
        q.fingerprint(),
        "the order differs, so does the fingerprint"
    );
    let more = plan(
        "stable-c",
        &GRID.replace("seeds = [0, 1]", "seeds = [0, 1, 2]"),
    )
    .unwrap();
    assert_eq!(more.cells.len(), 30);
    for (a, b) in p.cells.iter().zip(&more.cells) {
        assert_eq!((a.index, &a.id), (b.index, &b.id));
    }
    let other_data = plan("stable-d", &GRID.replace("limit = 64", "limit = 65")).unwrap();
    assert!(other_data
        .cells
        .iter()
        .zip(&p.cells)
        .all(|(a, b)| a.id != b.id));
}

/// Pinned: a changed id makes a rerun train finished cells again, so the hash input must
/// not change by accident.
#[test]
fn ids_are_pinned() {
    let p = plan("pinned", GRID).unwrap();
    assert_eq!(p.cells[0].id, PINNED[0]);
    assert_eq!(p.cells[1].id, PINNED[1]);
}

const PINNED: [&str; 2] = ["a7e2b7c4f3ab", "048fcfab9003"];

/// A config that writes out the default schedule (here amplifying its last two phases instead
/// of the first) is compared with the same baseline cell as one that omits it: same id, no
/// `[[schedule]]` in its config; so is one with a phase split in two (each epoch trains at
/// the same rate). A warm-up is another recipe.
#[test]
fn a_written_out_default_schedule_shares_the_baseline() {
    let phases = |first: &str| {
        format!(
            "{ICV}{first}[[schedule]]\nepochs = \"2..3\"\nlr = 0.01\namplify = true\n\
             [[schedule]]\nepochs = \"3..4\"\nlr = 0.001\namplify = true\n"
        )
    };
    let whole = "[[schedule]]\nepochs = \"0..2\"\nlr = 0.1\namplify = false\n";
    let split = "[[schedule]]\nepochs = \"0..1\"\nlr = 0.1\namplify = false\n\
                 [[schedule]]\nepochs = \"1..2\"\nlr = 0.1\namplify = false\n";
    let grid = "configs = [\"icv.toml\", \"late.toml\"]\nmodels = [\"mlp\"]\nseeds = [0]\n\
                data = \"synthetic\"\nlimit = 64\n";
    let expand = |test: &str, first: &str| {
        let dir = grid_dir(test, grid);
        std::fs::write(
            dir.join("late.toml"),
            phases(first).replace("\"icv\"", "\"late\""),
        )
        .unwrap();
        let spec = GridSpec::load(&dir.join("grid.toml"), Some(&dir.join("out"))).unwrap();
        Plan::expand(spec).unwrap()
    };
    let icv_only = plan("icv-only", &grid.replace(", \"late.toml\"", "")).unwrap();
    for (test, first, n) in [("default-schedule", whole, 3), ("split-schedule", split, 4)] {
        let p = expand(test, first);
        let names: Vec<(&str, Option<usize>)> = p
            .cells
            .iter()
            .map(|c| (c.config.name.as_str(), c.baseline))
            .collect();
        assert_eq!(
            names,
            [("baseline", None), ("icv", Some(0)), ("late", Some(0))],
            "{test}"
        );
        assert_eq!(p.cells[0].config.schedule, None);
        assert_eq!(p.cells[0].id, icv_only.cells[0].id, "{test}");
        let late = p.cells[2].config.schedule().unwrap();
        let amplified: Vec<bool> = late.phases().iter().map(|ph| ph.amplify).collect();
        assert_eq!(amplified.len(), n);
        assert_eq!(amplified[n - 2..], [true, true], "{test}");
    }

    let warm = whole.replace("amplify = false", "amplify = false\nwarmup = true");
    let q = expand("warmup-schedule", &warm);
    assert_eq!(
        q.cells.len(),
        4,
        "the warmed-up schedule has a baseline of its own"
    );
    assert_eq!(q.cells[2].config.name, "late-baseline");
    assert_eq!(q.cells[3].baseline, Some(2));
    assert!(q.cells[2].config.schedule.is_some());
}

/// Run names say what an axis value is: a kind and its values, or keys with their values.
#[test]
fn labels_of_axis_values() {
    let label = |v: &str| super::spec::label_of(&toml::from_str::<toml::Table>(v).unwrap()["v"]);
    assert_eq!(label("v = 0.1"), "0.1");
    assert_eq!(label("v = \"input\""), "input");
    assert_eq!(
        label("v = { kind = \"random\", ratio = 0.3 }"),
        "random-0.3"
    );
    assert_eq!(label("v = { top_k = 3 }"), "top_k-3");
    assert_eq!(label("v = { quantile = 0.75 }"), "quantile-0.75");
    assert_eq!(label("v = [1, { every = 4 }]"), "1-every-4");
    assert_eq!(label("v = \"a b/c\""), "a_b_c");
}

#[test]
fn cells_are_found_by_id_or_index() {
    let p = plan("find", GRID).unwrap();
    let id = p.cells[7].id.clone();
    assert_eq!(p.find(&id).unwrap().index, 7);
    assert_eq!(p.find("7").unwrap().id, id);
    let e = p.find("20").unwrap_err();
    assert!(
        e.starts_with("--cell 20: ") && e.contains("indexes 0 to 19"),
        "{e}"
    );
    assert!(p.find("0123456789ab").is_err());
}

#[test]
fn grid_file_errors_name_file_line_column_and_field() {
    let base = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0]\n";
    let cases: [(&str, String, &str); 11] = [
        (
            "model",
            base.replace("[\"mlp\"]", "[\"mlp\", \"resnet7\"]"),
            "DIR/grid.toml:2:18: models[1]: unknown model `resnet7`; valid: mlp, cnn",
        ),
        (
            "key",
            format!("{base}sed = 1\n"),
            "DIR/grid.toml:4:1: sed: unknown field `sed`, expected one of `configs`",
        ),
        (
            "seed",
            base.replace("[0]", "[0, 3, 0]"),
            "DIR/grid.toml:3:16: seeds[2]: seed 0 is listed twice",
        ),
        (
            "lr",
            format!("{base}[axes]\n\"train.lr\" = [0.1, -1.0]\n"),
            "DIR/grid.toml:5:20: axes.\"train.lr\"[1]: on mlp, seed 0: train.lr: ",
        ),
        (
            "field",
            format!("{base}[axes]\n\"train.lrr\" = [0.1]\n"),
            "DIR/grid.toml:5:1: axes.\"train.lrr\": train.lrr: unknown field `lrr`",
        ),
        (
            "inner",
            format!("{base}[set]\n\"amp.select\" = {{ kind = \"random\", ratoi = 0.3 }}\n"),
            "DIR/grid.toml:5:35: set.\"amp.select\".ratoi: amp.select.ratoi: unknown field `ratoi`",
        ),
        (
            "path",
            format!("{base}[axes]\n\"trian.lr\" = [0.1]\n"),
            "DIR/grid.toml:5:1: axes.\"trian.lr\": `trian.lr` is not a config field",
        ),
        (
            "layer",
            format!(
                "{base}[axes]\n\"amp.select\" = [{{ kind = \"explicit\", layers = [\"fc9\"] }}]\n"
            ),
            "DIR/grid.toml:5:17: axes.\"amp.select\"[0]: on mlp, seed 0: amp.select.layers[0]: ",
        ),
        (
            "labels",
            format!("{base}[axes]\n\"train.lr\" = [0.1, 0.2]\n[labels]\n\"train.lr\" = [\"lo\"]\n"),
            "DIR/grid.toml:7:14: labels.\"train.lr\": 1 labels for 2 values",
        ),
        (
            "baseline",
            format!("{base}[baseline]\nset = {{ \"amp.factor\" = 1.0 }}\n"),
            "DIR/grid.toml:5:24: baseline.set.\"amp.factor\": a baseline amplifies nothing",
        ),
        (
            "seedaxis",
            format!("{base}[axes]\n\"train.seed\" = [1]\n"),
            "DIR/grid.toml:5:1: axes.\"train.seed\": seeds are listed in `seeds`",
        ),
    ];
    for (test, grid, want) in cases {
        let got = error(test, &grid);
        assert!(got.starts_with(want), "{test}:\n got  {got}\n want {want}");
    }
    let missing = error(
        "missing",
        "configs = [\"nope.toml\"]\nmodels = [\"mlp\"]\nseeds = [0]\n",
    );
    assert!(
        missing.starts_with("DIR/nope.toml: cannot read the config"),
        "{missing}"
    );
    // A config given as the grid file says what it is.
    let config = error("config-as-grid", ICV);
    assert!(
        config.starts_with("DIR/grid.toml:1:1: name: unknown field `name`")
            && config.ends_with(
                "(this looks like an experiment config, which `amp train` and `amp check` \
                 read and a grid file lists under `configs`)"
            ),
        "{config}"
    );
}

/// A record whose test accuracy is `best` after epoch 0 and `last` after epoch 1.
fn record(best: f64, last: f64, diverged: bool) -> RunRecord {
    let epoch = |e: usize, test_acc: f64| EpochRecord {
        epoch: e,
        lr: 0.1,
        factor: 2.0,
        amplified: vec![],
        train_loss: 1.0,
        train_acc: 0.5,
        test_acc,
        seconds: 1.0,
        weight_norms: vec![],
    };
    RunRecord {
        name: "r".into(),
        status: if diverged {
            RunStatus::Diverged {
                epoch: 1,
                step: 0,
                loss: f64::NAN,
                reason: "the loss is NaN".into(),
                amplified: vec![],
            }
        } else {
            RunStatus::Finished
        },
        provenance: Provenance::default(),
        config: String::new(),
        policy: String::new(),
        mode: "output".into(),
        layers: vec!["fc1".into(), "fc2".into(), "fc3".into()],
        epochs: vec![
            epoch(0, best),
            epoch(1, if diverged { f64::NAN } else { last }),
        ],
        decisions: vec![],
        stats: Default::default(),
        guarded: vec![],
    }
}

fn done(best: f64, last: f64) -> CellState {
    CellState::Finished(Box::new(record(best, last, false)))
}

/// `state`'s record with `layers` amplified in its second epoch.
fn amplifying(state: CellState, layers: &[&str]) -> CellState {
    let (CellState::Finished(mut r) | CellState::Diverged(mut r)) = state else {
        panic!("no record")
    };
    r.epochs[1].amplified = layers.iter().map(|l| l.to_string()).collect();
    CellState::Finished(r)
}

/// `state`'s record with training losses `l` in its two epochs.
fn with_losses(state: CellState, l: [f64; 2]) -> CellState {
    let (CellState::Finished(mut r) | CellState::Diverged(mut r)) = state else {
        panic!("no record")
    };
    (r.epochs[0].train_loss, r.epochs[1].train_loss) = (l[0], l[1]);
    CellState::Finished(r)
}

/// `state`'s record with the layers' weight norms `n` after every epoch.
fn with_norms(state: CellState, n: &[f64]) -> CellState {
    let (CellState::Finished(mut r) | CellState::Diverged(mut r)) = state else {
        panic!("no record")
    };
    for e in &mut r.epochs {
        e.weight_norms = n.to_vec();
    }
    CellState::Finished(r)
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

/// Seeds 0-3 of one amplified config and its baseline; seed 2's baseline diverged, seed 3
/// is not done (one cell interrupted, one to run).
#[test]
fn report_numbers_match_hand_computation() {
    let grid = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0, 1, 2, 3]\n";
    let p = plan("report", grid).unwrap();
    let names: Vec<&str> = p.cells.iter().map(|c| c.config.name.as_str()).collect();
    assert_eq!(names, ["baseline", "icv"].repeat(4));
    let diverged = CellState::Diverged(Box::new(record(0.3, 0.3, true)));
    // Weight growth: seed 0 grows fc1 2x; seed 1 fc2 3x (and shrinks fc3); seed 2's
    // baseline recorded no norms.
    let states = vec![
        with_norms(done(0.72, 0.70), &[1.0, 2.0, 4.0]),
        with_norms(amplifying(done(0.76, 0.75), &["fc1"]), &[2.0, 2.0, 4.0]), // seed 0
        with_norms(done(0.80, 0.80), &[1.0, 1.0, 1.0]),
        with_norms(
            amplifying(done(0.82, 0.78), &["fc2", "fc1"]),
            &[1.0, 3.0, 0.5],
        ), // seed 1
        diverged,
        amplifying(done(0.91, 0.90), &["fc3"]), // seed 2
        CellState::Interrupted(Some(Position { epoch: 2, step: 5 })),
        CellState::Pending, // seed 3
    ];
    let r = from_states(&[(&p, &states)]).unwrap();
    assert_eq!((r.cells, r.done), (8, 6));
    let base = &r.rows[0];
    assert_eq!((base.config.as_str(), base.amplified), ("baseline", false));
    assert_eq!(
        (
            base.finished.clone(),
            base.diverged.clone(),
            base.missing.clone()
        ),
        (vec![0, 1], vec![2], vec![3])
    );
    close(base.final_acc.mean, 0.75);
    close(base.final_acc.sd, 0.1 / 2f64.sqrt());
    assert!(base.final_diff.is_none());
    let amp = &r.rows[1];
    assert_eq!(
        (amp.finished.clone(), amp.missing.clone()),
        (vec![0, 1, 2], vec![3])
    );
    // Final 0.75, 0.78, 0.90: mean 0.81, squared deviations 0.0036 + 0.0009 + 0.0081.
    close(amp.final_acc.mean, 0.81);
    close(amp.final_acc.sd, (0.0126f64 / 2.0).sqrt());
    close(amp.best_acc.mean, (0.76 + 0.82 + 0.91) / 3.0);
    assert_eq!(amp.baseline.as_deref(), Some("baseline"));
    assert_eq!(amp.baseline_diverged, vec![2]);
    // Paired where both finished: seed 0 +0.05, seed 1 -0.02.
    let d = amp.final_diff.as_ref().unwrap();
    assert_eq!((d.seeds.clone(), d.better), (vec![0, 1], 1));
    close(d.difference.mean, 0.015);
    close(d.difference.sd, 0.07 / 2f64.sqrt());
    // t = 0.015 / (0.0495 / √2) = 3/7; one degree of freedom: p = 1 − 2·atan(t)/π.
    let p_final = 1.0 - 2.0 * (3.0f64 / 7.0).atan() / std::f64::consts::PI;
    assert!((d.p_value.unwrap() - p_final).abs() < 1e-9);
    // Best: +0.04 and +0.02.
    let b = amp.best_diff.as_ref().unwrap();
    close(b.difference.mean, 0.03);
    assert_eq!(b.better, 2);
    let states: Vec<(usize, &str)> = r
        .missing
        .iter()
        .map(|m| (m.index, m.state.as_str()))
        .collect();
    assert_eq!(
        states,
        vec![(6, "interrupted, 2/4 epochs + 5 steps"), (7, "to run")]
    );

    // One degree of freedom: the 0.975 quantile is tan(0.475 π); sd / √2 = 0.035.
    let half = (0.475 * std::f64::consts::PI).tan() * 0.035;
    let (lo, hi) = d.ci95.unwrap();
    assert!((lo - (0.015 - half)).abs() < 1e-9 && (hi - (0.015 + half)).abs() < 1e-9);

    let md = report::markdown(&r);
    let line = format!(
        "| mlp | icv | 3/4 | 0 | 1-2 of 3 | 2.0-3.0x | — | 0.8100 ± 0.0794 | 0.8300 ± 0.0755 | baseline | +0.0150 ± 0.0495 | {:+.4} to {:+.4} | 1/2 | {:.3} | +0.0300 ± 0.0141 | 1 |",
        0.015 - half,
        0.015 + half,
        p_final
    );
    assert!(md.contains(&line), "{md}\nwant {line}");
    assert!(md.contains("6 of 8 cells done. Not done (2):"), "{md}");
    let csv = report::csv(&r);
    let amp_line = csv.lines().nth(2).unwrap();
    assert!(
        amp_line.starts_with("mlp,icv,true,0.1,0 1 2 3,0 1 2,,3,3,"),
        "{amp_line}"
    );
    assert!(amp_line.ends_with(",2,1,2,3,2,3,,"), "{amp_line}");
    let growth: Vec<(u64, &str, f64)> = (amp.weight_growth.iter())
        .map(|g| (g.seed, g.layer.as_str(), g.ratio))
        .collect();
    assert_eq!(growth, [(0, "fc1", 2.0), (1, "fc2", 3.0)]);
    assert_eq!(base.growth_display(), "—");
    let layers: Vec<(u64, Vec<String>)> = amp
        .layers
        .iter()
        .map(|l| (l.seed, l.amplified.clone()))
        .collect();
    let names = |n: &[&str]| n.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert_eq!(
        layers,
        [
            (0, names(&["fc1"])),
            (1, names(&["fc1", "fc2"])),
            (2, names(&["fc3"]))
        ],
        "in forward order"
    );
    assert_eq!(base.layers_display(), "—");
}

/// With a loss guard, the table counts the seeds whose guard undid an epoch among those with
/// a record (not the cell still to run); rows without a guard show `—`.
#[test]
fn the_report_counts_the_seeds_the_guard_decided() {
    let grid = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0, 1, 2]\n\
                [axes]\n\"amp.guard\" = [1.5]\n";
    let p = plan("guarded", grid).unwrap();
    let names: Vec<&str> = p.cells.iter().map(|c| c.config.name.as_str()).collect();
    assert_eq!(names, ["baseline", "icv+guard=1.5"].repeat(3));
    let undone = {
        let (CellState::Finished(mut r) | CellState::Diverged(mut r)) = done(0.7, 0.7) else {
            unreachable!()
        };
        r.guarded.push(GuardEvent {
            epoch: 1,
            step: 3,
            loss: 9.0,
            limit: 1.5,
            reason: "the epoch's mean training loss so far passed the limit".into(),
            amplified: vec!["fc1".into()],
        });
        CellState::Finished(r)
    };
    let states = vec![
        done(0.7, 0.7),
        undone, // seed 0: the guard undid epoch 1
        done(0.7, 0.7),
        amplifying(done(0.8, 0.8), &["fc2"]), // seed 1: ran through
        done(0.7, 0.7),
        CellState::Pending, // seed 2: not run
    ];
    let r = from_states(&[(&p, &states)]).unwrap();
    let (base, amp) = (&r.rows[0], &r.rows[1]);
    assert_eq!((amp.guard, amp.guarded.clone()), (Some(1.5), vec![0]));
    assert_eq!(amp.guard_display(), "1 of 2 seeds");
    assert_eq!((base.guard, base.guard_display().as_str()), (None, "—"));
    let md = report::markdown(&r);
    assert!(
        md.contains("| mlp | icv+guard=1.5 | 2/3 | 0 | 0-1 of 3 | — | 1 of 2 seeds | "),
        "{md}"
    );
    let csv = report::csv(&r);
    assert!(
        csv.lines().next().unwrap().ends_with(",guard,guarded"),
        "{csv}"
    );
    let amp_line = csv.lines().nth(2).unwrap();
    assert!(amp_line.ends_with(",1.5,0"), "{amp_line}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",,"), "{csv}");
}

/// The per-seed table: each seed's final accuracy, the amplified row's difference in points
/// where both runs finished, `diverged` and `—` where there is no accuracy to pair; the JSON
/// adds the training loss of the amplified epochs beside the baseline's.
#[test]
fn the_per_seed_table_shows_every_seeds_numbers() {
    let grid = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0, 1, 2, 3]\n";
    let p = plan("per-seed", grid).unwrap();
    let diverged = || CellState::Diverged(Box::new(record(0.3, 0.3, true)));
    // Seed 0 amplifies epoch 1: its loss there, 4.5, against the baseline's 1.25 (epoch 0's
    // higher losses are not amplified epochs).
    let amplified0 = amplifying(with_losses(done(0.76, 0.7525), [9.0, 4.5]), &["fc1"]);
    let states = vec![
        with_losses(done(0.72, 0.7), [3.0, 1.25]),
        amplified0, // seed 0: +5.25 points
        done(0.8, 0.8),
        diverged(), // seed 1: the amplified run diverged
        diverged(),
        done(0.91, 0.9), // seed 2: the baseline diverged
        done(0.5, 0.5),
        CellState::Pending, // seed 3: not done
    ];
    let r = from_states(&[(&p, &states)]).unwrap();
    let md = report::markdown(&r);
    for line in [
        "| model | config | seed 0 | seed 1 | seed 2 | seed 3 |\n|---|---|---|---|---|---|\n",
        "| mlp | baseline | 0.7000 | 0.8000 | diverged | 0.5000 |\n",
        "| mlp | icv | 0.7525 (+5.25) | diverged | 0.9000 | — |\n",
    ] {
        assert!(md.contains(line), "{md}\nwant {line}");
    }
    let json = serde_json::to_value(&r.rows[1].per_seed).unwrap();
    assert_eq!(
        json[0]["outcome"],
        serde_json::json!({ "finished": 0.7525 })
    );
    assert!((json[0]["diff"].as_f64().unwrap() - 0.0525).abs() < 1e-12);
    assert_eq!(json[0]["baseline"], serde_json::json!({ "finished": 0.7 }));
    assert_eq!(json[1]["outcome"], "diverged");
    assert_eq!(json[2]["diff"], serde_json::Value::Null);
    assert_eq!(json[3]["outcome"], "not_done");
    assert_eq!(
        json[0]["amplified_loss"],
        serde_json::json!({ "max": 4.5, "baseline_max": 1.25 })
    );
    // Seed 2's amplified run amplified no epoch: nothing to show.
    assert_eq!(json[2]["amplified_loss"], serde_json::Value::Null);
    let csv = per_seed::csv(&r.seed_rows());
    let seed0 = csv.lines().find(|l| l.starts_with("mlp,icv,amplified,0,"));
    assert!(seed0.unwrap().ends_with(",4.5,1.25,0"), "{csv}");
}

/// A run that diverged in its first amplified epoch counts the layers it was amplifying then
/// (its finished epochs amplified none).
#[test]
fn a_run_that_diverged_while_amplifying_counts_those_layers() {
    let grid = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0]\n";
    let p = plan("diverged-layers", grid).unwrap();
    let mut r = record(0.3, 0.3, true);
    let RunStatus::Diverged { amplified, .. } = &mut r.status else {
        panic!()
    };
    *amplified = vec!["fc2".into(), "fc3".into()];
    // As the trainer writes it: the epoch it diverged in is not among the finished ones.
    r.epochs.truncate(1);
    let RunStatus::Diverged { loss, .. } = &mut r.status else {
        panic!()
    };
    *loss = 3.1e5;
    let states = vec![
        with_losses(done(0.72, 0.70), [2.0, 1.5]),
        CellState::Diverged(Box::new(r)),
    ];
    let report = from_states(&[(&p, &states)]).unwrap();
    assert_eq!(report.rows[1].layers_display(), "2 of 3");
    // The loss it stopped at, against the baseline's in that epoch.
    assert_eq!(
        report.rows[1].per_seed[0].amplified_loss,
        Some(per_seed::AmplifiedLoss {
            max: 3.1e5,
            baseline_max: Some(1.5)
        })
    );
}

/// Loads `file` in `dir`, results in `dir/out`.
fn plan_in(dir: &Path, file: &str) -> Plan {
    let spec = GridSpec::load(&dir.join(file), Some(&dir.join("out"))).unwrap();
    Plan::expand(spec).unwrap()
}

/// A follow-up grid in the first one's folder: one table, the shared baselines once, the
/// new config paired with them; different runs under one name are refused.
#[test]
fn grids_sharing_a_folder_report_as_one_table() {
    let first = "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0, 1]\n";
    let dir = grid_dir("merge", first);
    std::fs::write(
        dir.join("k4.toml"),
        format!("{first}[axes]\n\"amp.factor\" = [4.0]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("small.toml"), format!("{first}limit = 32\n")).unwrap();
    let (a, b) = (plan_in(&dir, "grid.toml"), plan_in(&dir, "k4.toml"));
    let names =
        |p: &Plan| -> Vec<String> { p.cells.iter().map(|c| c.config.name.clone()).collect() };
    assert_eq!(names(&b), ["baseline", "icv+factor=4"].repeat(2));
    let ids = |p: &Plan, i: usize| p.cells[i].id.clone();
    assert_eq!(
        (ids(&a, 0), ids(&a, 2)),
        (ids(&b, 0), ids(&b, 2)),
        "shared baselines"
    );
    // Baselines: final 0.70 and 0.80; icv: 0.74, 0.81; icv at k = 4: 0.71, 0.85.
    let sa = vec![
        done(0.70, 0.70),
        done(0.75, 0.74),
        done(0.80, 0.80),
        done(0.82, 0.81),
    ];
    let sb = vec![
        done(0.70, 0.70),
        amplifying(done(0.72, 0.71), &["fc2", "fc3"]),
        done(0.80, 0.80),
        CellState::Pending,
    ];
    let r = from_states(&[(&a, &sa), (&b, &sb)]).unwrap();
    assert_eq!(r.grids.len(), 2);
    assert_eq!((r.cells, r.done), (6, 5), "the baselines counted once");
    let rows: Vec<(&str, Vec<u64>, Vec<u64>)> = r
        .rows
        .iter()
        .map(|r| (r.config.as_str(), r.seeds.clone(), r.finished.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("baseline", vec![0, 1], vec![0, 1]),
            ("icv", vec![0, 1], vec![0, 1]),
            ("icv+factor=4", vec![0, 1], vec![0]),
        ]
    );
    close(
        r.rows[1].final_diff.as_ref().unwrap().difference.mean,
        0.025,
    );
    let k4 = &r.rows[2];
    assert_eq!(k4.baseline.as_deref(), Some("baseline"));
    let d = k4.final_diff.as_ref().unwrap();
    assert_eq!((d.seeds.clone(), d.better), (vec![0], 1));
    close(d.difference.mean, 0.01);
    assert_eq!(k4.layers_display(), "2 of 3");
    let missing: Vec<(&str, usize, u64)> = r
        .missing
        .iter()
        .map(|m| (m.config.as_str(), m.index, m.seed))
        .collect();
    assert_eq!(missing, [("icv+factor=4", 3, 1)]);
    assert!(
        r.missing[0].grid.ends_with("k4.toml"),
        "{}",
        r.missing[0].grid
    );
    assert!(
        report::markdown(&r).contains("seed 1: to run (")
            && report::markdown(&r).contains("k4.toml)"),
        "{}",
        report::markdown(&r)
    );

    // The same names on another data subset are other runs: no silent mixing.
    let c = plan_in(&dir, "small.toml");
    let sc: Vec<CellState> = (0..4).map(|_| done(0.5, 0.5)).collect();
    let e = from_states(&[(&a, &sa), (&c, &sc)]).unwrap_err();
    assert!(
        e.contains("small.toml both hold `baseline` on mlp, seed 0, as different runs"),
        "{e}"
    );
    assert!(
        e.contains(&ids(&c, 0)) && e.contains("report them separately"),
        "{e}"
    );
}

#[test]
fn report_names_come_from_the_grid_files() {
    let f =
        |names: &[&str]| report::default_name(&names.iter().map(PathBuf::from).collect::<Vec<_>>());
    assert_eq!(f(&["configs/grids/plain20-cpu.toml"]), "report-plain20-cpu");
    assert_eq!(f(&["a/x.toml", "b/y.toml"]), "report-x+y");
}

#[test]
fn default_out_is_named_after_the_grid_file() {
    let dir = grid_dir(
        "out",
        "configs = [\"icv.toml\"]\nmodels = [\"mlp\"]\nseeds = [0]\n",
    );
    let spec = GridSpec::load(&dir.join("grid.toml"), None).unwrap();
    assert_eq!(spec.out, Path::new("runs/grid/grid"));
}

/// A run under way says how far it got; without a checkpoint (or a readable one) it says
/// only what it is.
#[test]
fn unfinished_cells_show_their_progress() {
    let at = |epoch, step| Some(Position { epoch, step });
    for (state, want) in [
        (CellState::Running(None), "running"),
        (CellState::Running(at(9, 0)), "running, 9/16 epochs"),
        (
            CellState::Interrupted(at(0, 1)),
            "interrupted, 0/16 epochs + 1 step",
        ),
        (CellState::Interrupted(None), "interrupted"),
        (CellState::Pending, "to run"),
    ] {
        assert_eq!(state.describe(16), want);
    }
}

/// `--versus icv rnd`: the two configurations' runs of the same seed paired directly (A − B),
/// ties counted, seeds without both finished left out; names resolved whole or by a part
/// only one contains, with errors naming the flag's value.
#[test]
fn versus_pairs_two_configurations_seed_by_seed() {
    let grid = "configs = [\"icv.toml\", { file = \"rand.toml\", name = \"rnd\" }]\n\
                models = [\"mlp\"]\nseeds = [0, 1, 2, 3]\n";
    let p = plan("versus", grid).unwrap();
    let names: Vec<&str> = p.cells.iter().map(|c| c.config.name.as_str()).collect();
    assert_eq!(names, ["baseline", "icv", "rnd"].repeat(4));
    let states = vec![
        done(0.7, 0.7),
        done(0.75, 0.75),
        done(0.72, 0.72), // seed 0: icv − rnd = +0.03
        done(0.8, 0.8),
        done(0.78, 0.78),
        done(0.8, 0.8), // seed 1: −0.02
        done(0.9, 0.9),
        done(0.9, 0.9),
        done(0.9, 0.9), // seed 2: tied
        done(0.5, 0.5),
        CellState::Diverged(Box::new(record(0.3, 0.3, true))),
        done(0.6, 0.6), // seed 3: icv diverged, not paired
    ];
    let r = from_states(&[(&p, &states)]).unwrap();
    let pairs = |a: &str, b: &str| [(a.to_string(), b.to_string())];
    let v = versus::compare(&r.seed_rows(), &pairs("ic", "rnd")).unwrap();
    assert_eq!(v.len(), 1);
    let v = &v[0];
    assert_eq!(
        (v.model.as_str(), v.a.as_str(), v.b.as_str()),
        ("mlp", "icv", "rnd")
    );
    let d = [0.75 - 0.72, 0.78 - 0.8, 0.0];
    assert_eq!(v.final_diff.seeds, [0, 1, 2]);
    assert_eq!((v.final_diff.better, v.tied), (1, 1));
    let mean = d.iter().sum::<f64>() / 3.0;
    close(v.final_diff.difference.mean, mean);
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0;
    close(v.final_diff.difference.sd, var.sqrt());
    for (got, want) in v.per_seed.iter().zip([0, 1, 2].iter().zip(d)) {
        assert_eq!(got.0, *want.0);
        close(got.1, want.1);
    }
    let mut with = r.clone();
    with.versus = vec![v.clone()];
    let md = report::markdown(&with);
    let line = "| mlp | icv | rnd | 3 | +0.0033 ± 0.0252 | ";
    assert!(md.contains(line), "{md}");
    assert!(md.contains("| 1 / 1 of 3 | "), "{md}");
    assert!(md.contains("| 0: +3.00, 1: -2.00, 2: +0.00 |"), "{md}");
    assert!(
        !report::markdown(&r).contains("--versus"),
        "no section unasked"
    );
    // The diff plot draws it as a row after the baseline comparisons, with its seeds.
    let dots = diff_plot::dots(&with);
    assert_eq!(
        dots.len(),
        3,
        "icv and rnd against the baseline, then icv − rnd"
    );
    let last = dots.last().unwrap();
    assert_eq!(last.label, "icv − rnd (1/3)");
    close(last.value, mean);
    assert_eq!(last.points.len(), 3);

    let err = |a: &str, b: &str| versus::compare(&r.seed_rows(), &pairs(a, b)).unwrap_err();
    assert_eq!(
        err("icx", "rnd"),
        "--versus: no configuration of the report is `icx` or contains it; did you mean \
         `icv`? the report's configurations: `baseline`, `icv`, `rnd`"
    );
    assert_eq!(
        err("icv", "n"),
        "--versus: `n` is part of several configurations' names (`baseline`, `rnd`); give \
         one whole"
    );
    assert_eq!(err("icv", "ic"), "--versus: `icv` against itself");
    let mut elsewhere = r.seed_rows();
    elsewhere[2].model = "cnn";
    assert_eq!(
        versus::compare(&elsewhere, &pairs("icv", "rnd")).unwrap_err(),
        "--versus: `icv` and `rnd` have no model in common, so no seed to pair"
    );
}
