//! A dot plot: one labelled row per item, first at the top, a dot at its value and a
//! horizontal bar over its interval. The one-lr accuracy plot and the paired-difference plot
//! are both drawn with it.

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::super::plot::{COLOURS, FONT};

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub label: String,
    pub value: f64,
    /// The bar, `(low, high)`; `None`: the dot alone.
    pub bar: Option<(f64, f64)>,
}

/// What frames the rows.
pub struct Frame<'a> {
    pub caption: &'a str,
    pub x_desc: &'a str,
    pub x_range: (f64, f64),
    /// Tick labels with their sign (`+0.010`), and a line at zero.
    pub around_zero: bool,
}

/// Draws `dots` (at least one) in `frame` on `root`, each row in its own colour.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    frame: &Frame,
    dots: &[Dot],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let n = dots.len();
    let label_width = dots.iter().map(|d| d.label.chars().count()).max();
    let (x_lo, x_hi) = frame.x_range;
    let mut chart = ChartBuilder::on(root)
        .caption(frame.caption, (FONT, 20))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size((label_width.unwrap_or(0) as u32 * 7 + 20).clamp(60, 460))
        // `into_segmented` gives `0..k` k + 1 segments: one per row.
        .build_cartesian_2d(x_lo..x_hi, (0..n.max(1) - 1).into_segmented())
        .map_err(|e| anyhow!("{e}"))?;
    // Row `i` from the top sits at segment `n - 1 - i`.
    let at = |i: usize| SegmentValue::CenterOf(n - 1 - i);
    let signed = |v: &f64| format!("{v:+.3}");
    let row_label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < n => dots[n - 1 - k].label.clone(),
        _ => String::new(),
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(frame.x_desc)
        .y_labels(n)
        .y_label_formatter(&row_label)
        .disable_y_mesh()
        .x_max_light_lines(2)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15));
    if frame.around_zero {
        mesh.x_label_formatter(&signed);
    }
    mesh.draw().map_err(|e| anyhow!("{e}"))?;
    if frame.around_zero {
        chart
            .draw_series(LineSeries::new(
                [(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Last)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?;
    }
    for (i, d) in dots.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        if let Some((lo, hi)) = d.bar {
            let bar = ErrorBar::new_horizontal(at(i), lo, d.value, hi, c.stroke_width(2), 8);
            chart
                .draw_series(std::iter::once(bar))
                .map_err(|e| anyhow!("{e}"))?;
        }
        chart
            .draw_series(std::iter::once(Circle::new(
                (d.value, at(i)),
                5,
                c.filled(),
            )))
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}
