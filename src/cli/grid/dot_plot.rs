//! A dot plot: one labelled row per item, first at the top, a dot at its value and a
//! horizontal bar over its interval. The one-lr accuracy plot and the paired-difference plot
//! are both drawn with it. Its canvas ([`canvas`]) grows with the rows and their labels, so
//! that a report over many grids stays readable: rows do not crowd, labels are not cut, and
//! the axis keeps the width its tick labels and description need.

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::super::plot::{COLOURS, FONT};
use super::plot::SIZE;

/// Around the chart, in pixels.
const MARGIN: u32 = 14;
/// The chart's own width (right of the labels): room for the longest axis description.
const CHART_WIDTH: u32 = 680;
/// Height per row, and what the caption and the x axis take.
const ROW_HEIGHT: u32 = 30;
const FRAME_HEIGHT: u32 = 120;
/// Pixels per character of a row label (DejaVu Sans at 13 px is about 7 wide on average).
const LABEL_CHAR: u32 = 7;
/// Pixels between two x tick labels, at least (a signed tick label is about 45 wide).
const TICK_SPACING: u32 = 75;

/// The width of the row labels' area.
fn label_area(dots: &[Dot]) -> u32 {
    let chars = dots.iter().map(|d| d.label.chars().count()).max();
    (chars.unwrap_or(0) as u32 * LABEL_CHAR + 20).clamp(60, 1200)
}

/// The canvas `dots` need: at least the grid plots' `SIZE`, wider for long labels, taller
/// for many rows.
pub fn canvas(dots: &[Dot]) -> (u32, u32) {
    let width = label_area(dots) + CHART_WIDTH + 2 * MARGIN;
    let height = FRAME_HEIGHT + ROW_HEIGHT * dots.len() as u32;
    (width.max(SIZE.0), height.max(SIZE.1))
}

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub label: String,
    pub value: f64,
    /// The bar, `(low, high)`; `None`: the dot alone.
    pub bar: Option<(f64, f64)>,
    /// The values the dot summarizes (one per seed), drawn as small rings on its row, so
    /// that a mean made of ties and a few large values does not look like a steady shift.
    pub points: Vec<f64>,
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
    let (x_lo, x_hi) = frame.x_range;
    let labels = label_area(dots);
    let chart_width = root.dim_in_pixel().0.saturating_sub(labels + 2 * MARGIN);
    let mut chart = ChartBuilder::on(root)
        .caption(frame.caption, (FONT, 20))
        .margin(MARGIN)
        .x_label_area_size(40)
        .y_label_area_size(labels)
        .build_cartesian_2d(x_lo..x_hi, RowAxis::new(n))
        .map_err(|e| anyhow!("{e}"))?;
    let at = |i: usize| row_centre(n, i);
    draw_mesh(&mut chart, frame, dots, chart_width)?;
    if frame.around_zero {
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (0.0, n as f64)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?;
    }
    for (i, d) in dots.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        if let Some(bar) = d.bar {
            draw_bar(&mut chart, (x_lo, x_hi), at(i), d.value, bar, c)?;
        }
        draw_points(&chart, (x_lo, x_hi), at(i), &d.points, c)?;
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

/// The axes: the x ticks as many as fit (signed when `frame.around_zero`), a label per row.
fn draw_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Rows>,
    frame: &Frame,
    dots: &[Dot],
    chart_width: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let n = dots.len();
    // Zero as `0`, not the `-0.000` a tick a rounding error below it would print.
    let signed = |v: &f64| {
        if v.abs() < 1e-9 {
            "0".to_string()
        } else {
            format!("{v:+.3}")
        }
    };
    // The ticks are the rows' centres, `k + 0.5` for the k-th band from the bottom.
    let row_label = |v: &f64| match v.floor() {
        k if (0.0..n as f64).contains(&k) => dots[n - 1 - k as usize].label.clone(),
        _ => String::new(),
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(frame.x_desc)
        .x_labels((chart_width / TICK_SPACING).max(3) as usize)
        .y_labels(n)
        .y_label_formatter(&row_label)
        .disable_y_mesh()
        .x_max_light_lines(2)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15));
    if frame.around_zero {
        mesh.x_label_formatter(&signed);
    }
    mesh.draw().map_err(|e| anyhow!("{e}"))
}

/// The coordinates of a dot plot: the value across, the rows down.
type Rows = Cartesian2d<RangedCoordf64, RowAxis>;

/// The y axis of `n` rows: `0..n`, row `k` from the bottom the band `k..k + 1`, its label
/// at the band's centre (the only ticks). plotters' segmented coordinates would do, but
/// they need two segments at least, which left a single row's plot an empty upper half.
struct RowAxis {
    n: usize,
    linear: RangedCoordf64,
}

impl RowAxis {
    fn new(n: usize) -> Self {
        let linear = (0.0..n as f64).into();
        RowAxis { n, linear }
    }
}

impl Ranged for RowAxis {
    // Plain formatting: the mesh's label formatter turns a centre into its row's label.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.n).map(|k| k as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Where row `i` (from the top) of `n` sits on the y axis.
fn row_centre(n: usize, i: usize) -> f64 {
    (n - 1 - i) as f64 + 0.5
}

/// Rings of radius 3 at `points` on row `y`, in the lower half of its band (below the dot
/// and bar): values within a ring's width of each other stack downwards, closer together
/// when many tie, so that ties stay countable and never reach the next row. Points past
/// the axis are left out (the callers' ranges hold them).
fn draw_points<DB: DrawingBackend>(
    chart: &ChartContext<DB, Rows>,
    (x_lo, x_hi): (f64, f64),
    y: f64,
    points: &[f64],
    c: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area().strip_coord_spec();
    let base = area.get_base_pixel();
    let pixel = |v: f64, y: f64| {
        let at = chart.backend_coord(&(v, y));
        (at.0 - base.0, at.1 - base.1)
    };
    let row_pitch = (pixel(x_lo, 0.0).1 - pixel(x_lo, 1.0).1).abs();
    let mut rings: Vec<(i32, usize)> = Vec::new();
    for &v in points.iter().filter(|v| (x_lo..=x_hi).contains(*v)) {
        let x = pixel(v, y).0;
        let below = rings.iter().filter(|(px, _)| (px - x).abs() < 6).count();
        rings.push((x, below));
    }
    let deepest = rings.iter().map(|r| r.1).max().unwrap_or(0) as f64;
    let room = (row_pitch as f64 / 2.0 - 14.0).max(0.0);
    let step = if deepest > 0.0 {
        (room / deepest).min(7.0)
    } else {
        0.0
    };
    let top = pixel(x_lo, y).1 + 10;
    for (x, below) in rings {
        let centre = (x, top + (step * below as f64).round() as i32);
        area.draw(&Circle::new(centre, 3, c.stroke_width(1)))
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// Row `y`'s bar over `(lo, hi)` around `value`. A bar past the axis (`x_range`) is cut at
/// it, and its cut end gets an arrowhead over the cap.
fn draw_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Rows>,
    (x_lo, x_hi): (f64, f64),
    y: f64,
    value: f64,
    (lo, hi): (f64, f64),
    c: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (a, b) = (lo.max(x_lo), hi.min(x_hi));
    let bar = ErrorBar::new_horizontal(y, a, value, b, c.stroke_width(2), 8);
    chart
        .draw_series(std::iter::once(bar))
        .map_err(|e| anyhow!("{e}"))?;
    for (end, cut, dir) in [(a, lo < x_lo, -1), (b, hi > x_hi, 1)] {
        if cut {
            // The head in the plotting area's own pixels (its origin is its top left).
            let area = chart.plotting_area().strip_coord_spec();
            let (at, base) = (chart.backend_coord(&(end, y)), area.get_base_pixel());
            let tip = (at.0 - base.0, at.1 - base.1);
            let head = [
                (tip.0, tip.1),
                (tip.0 - dir * 10, tip.1 - 6),
                (tip.0 - dir * 10, tip.1 + 6),
            ];
            area.draw(&Polygon::new(head, c.filled()))
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    Ok(())
}
