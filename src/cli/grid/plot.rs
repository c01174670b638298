//! The report's plot: final test accuracy against learning rate, one line per selector
//! configuration (the config name without its `+lr=` label) and model, mean over seeds with
//! ± sd error bars. Baselines are a series like the others; a configuration with
//! one learning rate is a single point. A grid with one learning rate has no lr axis to speak
//! of: it is drawn as a dot plot instead, one row per configuration.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::super::plot::{encode_png, register_font, COLOURS, FONT};
use super::super::plot_text::TextBitmap;
use super::dot_plot::{self, Dot, Frame};
use super::report::GridReport;

/// The canvas of the accuracy-vs-lr plot, and the smallest one of a dot plot.
pub(super) const SIZE: (u32, u32) = (900, 560);

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
    write_png(path, &render(&series(report))?)
}

/// The plot of `series`: accuracy against learning rate, or a dot plot for a single one.
fn render(series: &Series) -> Result<Picture> {
    match single_lr(series) {
        Some(lr) => {
            let dots = rows(series);
            render_with(dot_plot::canvas(&dots), |root| draw_rows(root, &dots, lr))
        }
        None => render_with(SIZE, |root| draw(root, series)),
    }
}

/// What a grid plot draws on: a bitmap whose text amp places itself.
pub(super) type Area<'a> = DrawingArea<TextBitmap<BitMapBackend<'a>>, plotters::coord::Shift>;

/// A rendered plot: RGB pixels, `size` (width, height) large.
pub(super) struct Picture {
    pub pixels: Vec<u8>,
    pub size: (u32, u32),
}

/// Runs `draw` on a white canvas `size` large.
pub(super) fn render_with(
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> Result<()>,
) -> Result<Picture> {
    register_font()?;
    let mut pixels = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let bitmap = BitMapBackend::with_buffer(&mut pixels, size);
        let root = TextBitmap::new(bitmap)?.into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(Picture { pixels, size })
}

/// Writes `picture` as a PNG at `path`, atomically.
pub(super) fn write_png(path: &Path, picture: &Picture) -> Result<()> {
    amp_core::io::write_atomic(path, &encode_png(&picture.pixels, picture.size)?)?;
    Ok(())
}

/// The accuracy-vs-lr chart: a line per series with ± sd bars.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    series: &Series,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x, y) = ranges(series);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "final test accuracy vs learning rate (mean ± sd over seeds)",
            (FONT, 20),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)
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

/// The chart's axes: every learning rate with a margin; the accuracies ± sd, in steps of 0.05,
/// inside [0, 1].
fn ranges(series: &Series) -> (Range<f64>, Range<f64>) {
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
    ((lo_x - pad)..(hi_x + pad), y_lo..y_hi)
}

/// The learning rate of every point, when there is one and only one.
fn single_lr(series: &Series) -> Option<f64> {
    let mut lrs = series.values().flatten().map(|p| p.0);
    let first = lrs.next()?;
    lrs.all(|lr| lr == first).then_some(first)
}

/// A one-lr grid's rows: a row per series (first at the top), its mean final accuracy with
/// ± sd bars.
fn rows(series: &Series) -> Vec<Dot> {
    series
        .iter()
        .map(|(name, pts)| Dot {
            label: name.clone(),
            value: pts[0].1,
            bar: Some((pts[0].1 - pts[0].2, pts[0].1 + pts[0].2)),
            points: Vec::new(),
        })
        .collect()
}

/// The dot plot of a one-lr grid's `dots` (its [`rows`]).
fn draw_rows<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    dots: &[Dot],
    lr: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = dots
        .iter()
        .filter_map(|d| d.bar)
        .fold((1.0f64, 0.0f64), |(a, b), (lo, hi)| (a.min(lo), b.max(hi)));
    let x_lo = ((lo - 0.02) * 20.0).floor().max(0.0) / 20.0;
    let x_hi = (((hi + 0.02) * 20.0).ceil() / 20.0)
        .min(1.0)
        .max(x_lo + 0.05);
    let caption = format!("final test accuracy at lr {lr} (mean ± sd over seeds)");
    let frame = Frame {
        caption: &caption,
        x_desc: "test accuracy",
        x_range: (x_lo, x_hi),
        around_zero: false,
    };
    dot_plot::draw(root, &frame, dots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(points: &[(&str, f64, f64, f64)]) -> Series {
        let mut s = Series::new();
        for &(name, lr, mean, sd) in points {
            s.entry(name.to_string()).or_default().push((lr, mean, sd));
        }
        s
    }

    /// How many pixels have exactly the colour `c`.
    fn count(pixels: &[u8], c: RGBColor) -> usize {
        pixels
            .chunks_exact(3)
            .filter(|p| (p[0], p[1], p[2]) == (c.0, c.1, c.2))
            .count()
    }

    #[test]
    fn one_learning_rate_is_a_dot_plot_with_a_row_per_configuration() {
        let rows = of(&[
            ("baseline", 0.1, 0.35, 0.01),
            ("intelligent", 0.1, 0.33, 0.02),
            ("intelligent+hold", 0.1, 0.27, 0.02),
        ]);
        assert_eq!(single_lr(&rows), Some(0.1));
        let two = of(&[("baseline", 0.1, 0.35, 0.01), ("baseline", 0.4, 0.3, 0.01)]);
        assert_eq!(single_lr(&two), None);
        assert_eq!(single_lr(&Series::new()), None);
        // Each row is drawn in its own colour; one row alone too.
        let pixels = render(&rows).unwrap().pixels;
        for c in &COLOURS[..3] {
            assert!(count(&pixels, *c) > 50, "{c:?}");
        }
        let one = render(&of(&[("baseline", 0.1, 0.35, 0.0)])).unwrap();
        assert!(count(&one.pixels, COLOURS[0]) > 50);
        // A row alone sits inside the chart, not on its top edge (where plotters put it,
        // unlabelled, before): its dot's pixels lie in the middle half of the picture.
        let width = one.size.0 as usize;
        let c = COLOURS[0];
        let rows: Vec<usize> = (one.pixels.chunks_exact(3).enumerate())
            .filter(|(_, p)| (p[0], p[1], p[2]) == (c.0, c.1, c.2))
            .map(|(i, _)| i / width)
            .collect();
        let mean = rows.iter().sum::<usize>() as f64 / rows.len() as f64;
        let height = one.size.1 as f64;
        assert!(
            mean > 0.25 * height && mean < 0.75 * height,
            "row at {mean} of {height}"
        );
        assert!(render(&two).is_ok());
    }

    /// The axes, by hand: x pads the lrs by 8% of their span (or 10% of the smallest lr,
    /// whichever is more); y rounds min(mean - sd) - 0.02 down and max(mean + sd) + 0.02 up
    /// to 0.05, inside [0, 1].
    #[test]
    fn the_axes_hold_every_bar_with_a_margin() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let (x, y) = ranges(&of(&[
            ("baseline", 0.1, 0.41, 0.04),
            ("baseline", 0.4, 0.23, 0.09),
        ]));
        // pad = max(0.3 * 0.08, 0.1 * 0.1) = 0.024; y: 0.14 - 0.02 -> 0.10, 0.45 + 0.02 -> 0.50.
        assert!(close(x.start, 0.076) && close(x.end, 0.424), "{x:?}");
        assert!(close(y.start, 0.10) && close(y.end, 0.50), "{y:?}");
        // Bars past 0 and 1 are cut there; one lr is padded by 10% of itself.
        let (x, y) = ranges(&of(&[("a", 0.8, 0.05, 0.1), ("b", 0.8, 0.97, 0.05)]));
        assert!(close(x.start, 0.72) && close(x.end, 0.88), "{x:?}");
        assert_eq!((y.start, y.end), (0.0, 1.0));
    }
}
