//! The report's plot: final test accuracy against learning rate, one line per selector
//! configuration (the config name without its `+lr=` label) and model, mean over seeds with
//! ± sd error bars. Baselines are a series like the others; a configuration with
//! one learning rate is a single point.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::super::plot::{encode_png, register_font, COLOURS, FONT};
use super::super::plot_text::TextBitmap;
use super::report::GridReport;

const SIZE: (u32, u32) = (900, 560);

/// A series: (mean, sd) of final accuracy per learning rate.
type Series = BTreeMap<String, Vec<(f64, f64, f64)>>;

/// Groups the report's rows into series keyed `model: config-without-lr`.
fn series(report: &GridReport) -> Series {
    let models: std::collections::BTreeSet<&str> =
        report.rows.iter().map(|r| r.model.as_str()).collect();
    let mut out: Series = BTreeMap::new();
    for r in report.rows.iter().filter(|r| r.final_acc.n > 0) {
        let name: Vec<&str> = r
            .config
            .split('+')
            .filter(|p| !p.starts_with("lr="))
            .collect();
        let mut key = name.join("+");
        if models.len() > 1 {
            key = format!("{}: {key}", r.model);
        }
        let sd = if r.final_acc.sd.is_finite() {
            r.final_acc.sd
        } else {
            0.0
        };
        out.entry(key)
            .or_default()
            .push((r.lr, r.final_acc.mean, sd));
    }
    for points in out.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// Draws the plot as PNG at `path` (written atomically).
pub fn accuracy_vs_lr(report: &GridReport, path: &Path) -> Result<()> {
    register_font()?;
    let series = series(report);
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let bitmap = BitMapBackend::with_buffer(&mut pixels, SIZE);
        let root = TextBitmap::new(bitmap)?.into_drawing_area();
        draw(&root, &series)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    amp_core::io::write_atomic(path, &encode_png(&pixels, SIZE)?)?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    series: &Series,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let points = series.values().flatten();
    let (lo_x, hi_x) = points
        .clone()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (lo_y, hi_y) = points.fold((1.0f64, 0.0f64), |(a, b), p| {
        (a.min(p.1 - p.2), b.max(p.1 + p.2))
    });
    let (lo_x, hi_x) = if lo_x > hi_x {
        (0.0, 1.0)
    } else {
        (lo_x, hi_x)
    };
    let pad = ((hi_x - lo_x) * 0.08).max(lo_x.abs() * 0.1).max(1e-3);
    let y_lo = ((lo_y - 0.02) * 20.0).floor().max(0.0) / 20.0;
    let y_hi = (((hi_y + 0.02) * 20.0).ceil() / 20.0)
        .min(1.0)
        .max(y_lo + 0.05);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "final test accuracy vs learning rate (mean ± sd over seeds)",
            (FONT, 20),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo_x - pad)..(hi_x + pad), y_lo..y_hi)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("learning rate")
        .y_desc("test accuracy")
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        chart
            .draw_series(pts.iter().map(|p| {
                ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, c.stroke_width(2), 8)
            }))
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, c.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
