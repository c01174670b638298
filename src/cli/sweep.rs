//! `amp sweep`: each config against its own baseline over several seeds, so that a
//! difference can be told from seed noise.

use amp_core::config::ExperimentConfig;
use amp_core::train::RunRecord;
use anyhow::{Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::args::SweepArgs;
use super::data;
use super::experiment::Experiment;

pub fn run(args: SweepArgs) -> Result<()> {
    super::device::check_training_device(args.device)?;
    let mut configs = Vec::new();
    for path in &args.configs {
        let mut c = ExperimentConfig::load(path)?;
        if let Some(e) = args.epochs {
            c.train.epochs = e;
        }
        c.validate()?;
        configs.push(c);
    }
    // Baselines shared by configs with the same recipe run once per seed.
    let mut rows: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut baselines: Vec<(String, u64, f64)> = Vec::new();
    for config in &configs {
        let (mut amp_acc, mut base_acc) = (Vec::new(), Vec::new());
        for s in 0..args.seeds {
            let seed = args.first_seed + s;
            let mut c = config.clone();
            c.train.seed = seed;
            c.name = format!("{}-seed{seed}", config.name);
            let data = data::load(&args.data, seed, args.limit)?;
            let base = c.baseline();
            let key = base.to_toml().replace(&base.name, "");
            let known = baselines.iter().find(|(k, s, _)| *k == key && *s == seed);
            let b = match known {
                Some((_, _, acc)) => *acc,
                None => {
                    let r = train_one(&base, &data, &args)?;
                    baselines.push((key, seed, r.final_test_acc()));
                    r.final_test_acc()
                }
            };
            let r = train_one(&c, &data, &args)?;
            amp_acc.push(r.final_test_acc());
            base_acc.push(b);
        }
        rows.push((config.name.clone(), base_acc, amp_acc));
    }
    println!("{}", table(&rows));
    Ok(())
}

fn train_one(c: &ExperimentConfig, data: &data::Data, args: &SweepArgs) -> Result<RunRecord> {
    let r = Experiment {
        config: c,
        train_set: &data.train,
        test_set: &data.test,
        augment: data.augment,
        quiet: args.quiet,
    }
    .run(args.model)?;
    let path = args.out.join(format!("{}.json", r.name));
    r.save(&path)
        .with_context(|| format!("writing the run record {}", path.display()))?;
    eprintln!(
        "{:>40}: final test accuracy {:.4}",
        r.name,
        r.final_test_acc()
    );
    Ok(r)
}

/// Mean and sample standard deviation.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        f64::NAN
    };
    (m, var.sqrt())
}

fn table(rows: &[(String, Vec<f64>, Vec<f64>)]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "config",
        "seeds",
        "baseline acc (mean ± sd)",
        "amplified acc (mean ± sd)",
        "difference (mean ± sd)",
        "better in",
    ]);
    for (name, base, amp) in rows {
        let diff: Vec<f64> = amp.iter().zip(base).map(|(a, b)| a - b).collect();
        let (bm, bs) = mean_std(base);
        let (am, as_) = mean_std(amp);
        let (dm, ds) = mean_std(&diff);
        let wins = diff.iter().filter(|d| **d > 0.0).count();
        t.add_row(vec![
            Cell::new(name),
            Cell::new(base.len()),
            Cell::new(format!("{bm:.4} ± {bs:.4}")),
            Cell::new(format!("{am:.4} ± {as_:.4}")),
            Cell::new(format!("{dm:+.4} ± {ds:.4}")),
            Cell::new(format!("{wins}/{}", diff.len())),
        ]);
    }
    for c in t.column_iter_mut().skip(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}
