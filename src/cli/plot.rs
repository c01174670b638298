//! Accuracy and gradient plots as SVG (text is SVG text, so no font files are needed).

use std::path::Path;

use amp_core::train::RunRecord;
use anyhow::{anyhow, Result};
use plotters::prelude::*;

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Test accuracy per epoch of each run (left), and the mean parameter-gradient norm per epoch
/// of each candidate layer of the last run, log scale (right). Written atomically.
pub fn accuracy_and_gradients(runs: &[RunRecord], path: &Path) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1200, 450)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let (left, right) = root.split_horizontally(600);
        accuracy(runs, &left)?;
        if let Some(last) = runs.last() {
            gradients(last, &right)?;
        }
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    amp_core::io::write_atomic(path, svg.as_bytes())?;
    Ok(())
}

fn accuracy<DB: DrawingBackend>(
    runs: &[RunRecord],
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let epochs = runs
        .iter()
        .map(|r| r.epochs.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let lo = runs
        .iter()
        .flat_map(|r| r.epochs.iter().map(|e| e.test_acc))
        .fold(1.0f64, f64::min);
    let mut chart = ChartBuilder::on(area)
        .caption("test accuracy", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(1f64..epochs as f64, (lo - 0.02).max(0.0)..1.0f64)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("accuracy")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, r) in runs.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                r.epochs.iter().map(|e| ((e.epoch + 1) as f64, e.test_acc)),
                c.stroke_width(2),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(r.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn gradients<DB: DrawingBackend>(
    run: &RunRecord,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let epochs = run.stats.epochs.len().max(2);
    let values = run
        .stats
        .epochs
        .iter()
        .flat_map(|e| e.iter().map(|l| l.param.mean))
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = values.fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return Ok(());
    }
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: mean |grad W| per layer", run.name),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..epochs as f64, (lo / 1.5..hi * 1.5).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("norm")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (l, name) in run.layers.iter().enumerate() {
        let c = COLOURS[l % COLOURS.len()];
        let amplified = run.epochs.iter().any(|e| e.amplified.contains(name));
        let style = if amplified {
            c.stroke_width(3)
        } else {
            c.stroke_width(1)
        };
        chart
            .draw_series(LineSeries::new(
                run.stats
                    .epochs
                    .iter()
                    .enumerate()
                    .map(|(e, ls)| ((e + 1) as f64, ls[l].param.mean)),
                style,
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(if amplified {
                format!("{name} (amplified)")
            } else {
                name.clone()
            })
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], style));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
