//! Accuracy and gradient plots: PNG when the path ends in `.png`, SVG otherwise.
//!
//! Text is drawn with DejaVu Sans bundled by the `dejavu` crate (plotters' `ab_glyph`
//! feature), so a machine without system fonts draws the same picture; in PNGs through
//! [`TextBitmap`], which places the glyphs properly. Epochs
//! are whole numbers on the axis, every epoch has a marker (a one-epoch run is a visible
//! point), epochs with amplification are shaded, legends sit below their panels, and each
//! run selected gets its own gradient panel.

use std::path::Path;
use std::sync::Once;

use amp_core::train::RunRecord;
use anyhow::{anyhow, bail, Result};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::plot_text::TextBitmap;

pub(crate) const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const SHADE: RGBColor = RGBColor(255, 236, 179);
pub(crate) const FONT: &str = "sans-serif";
const PANEL_W: u32 = 640;
const CHART_H: u32 = 380;
const LEGEND_ROW: u32 = 18;
const LEGEND_COLS: usize = 3;

/// [`accuracy_and_gradients_of`] with a gradient panel for every run.
pub fn accuracy_and_gradients(runs: &[RunRecord], path: &Path) -> Result<()> {
    accuracy_and_gradients_of(runs, &[], path)
}

/// Test accuracy per epoch of every run, and the mean parameter-gradient norm per epoch of
/// each candidate layer (log scale) of the runs numbered in `panels` (from 1, as in the
/// report's tables; empty: every run). Written atomically.
pub fn accuracy_and_gradients_of(runs: &[RunRecord], panels: &[usize], path: &Path) -> Result<()> {
    register_font()?;
    for &n in panels {
        if n == 0 || n > runs.len() {
            bail!("--plot-runs {n}: the runs are numbered 1 to {}", runs.len());
        }
    }
    let selected: Vec<usize> = if panels.is_empty() {
        (0..runs.len()).collect()
    } else {
        panels.iter().map(|n| n - 1).collect()
    };
    let layout = Layout::new(runs, &selected);
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if png {
        let (w, h) = layout.size;
        let mut pixels = vec![0u8; (w * h * 3) as usize];
        {
            let bitmap = BitMapBackend::with_buffer(&mut pixels, layout.size);
            let root = TextBitmap::new(bitmap)?.into_drawing_area();
            draw(&root, runs, &selected, &layout)?;
        }
        let bytes = encode_png(&pixels, layout.size)?;
        amp_core::io::write_atomic(path, &bytes)?;
    } else {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, layout.size).into_drawing_area();
            draw(&root, runs, &selected, &layout)?;
        }
        amp_core::io::write_atomic(path, svg.as_bytes())?;
    }
    Ok(())
}

/// Registers the bundled font once per process.
pub(crate) fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| anyhow!("the bundled DejaVu Sans font could not be read"));
    });
    result
}

pub(crate) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, w, h, image::ColorType::Rgb8)
        .map_err(|e| anyhow!("encoding the PNG: {e}"))?;
    Ok(out)
}

/// Where the panels go: a grid of two columns, the accuracy panel first, each panel a chart
/// with its legend below it.
struct Layout {
    size: (u32, u32),
    /// (x, y, height) of each panel, accuracy first.
    panels: Vec<(u32, u32, u32)>,
}

impl Layout {
    fn new(runs: &[RunRecord], selected: &[usize]) -> Layout {
        let mut heights = vec![panel_height(runs.len() + 1)];
        heights.extend(
            selected
                .iter()
                .map(|&i| panel_height(runs[i].layers.len() + 1)),
        );
        let mut panels = Vec::new();
        let mut y = 0;
        for row in heights.chunks(2) {
            let h = *row.iter().max().unwrap_or(&0);
            for (c, _) in row.iter().enumerate() {
                panels.push((c as u32 * PANEL_W, y, h));
            }
            y += h;
        }
        let cols = heights.len().min(2) as u32;
        Layout {
            size: (cols * PANEL_W, y),
            panels,
        }
    }
}

fn panel_height(legend_entries: usize) -> u32 {
    CHART_H + legend_entries.div_ceil(LEGEND_COLS) as u32 * LEGEND_ROW + 16
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunRecord],
    selected: &[usize],
    layout: &Layout,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let area = |k: usize| {
        let (x, y, h) = layout.panels[k];
        root.clone().shrink((x, y), (PANEL_W, h))
    };
    accuracy(runs, &area(0))?;
    for (k, &i) in selected.iter().enumerate() {
        gradients(&runs[i], i + 1, &area(k + 1))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A legend entry: colour, whether the line is thick, label.
type Entry = (RGBColor, bool, String);

/// Draws `entries` in columns below a chart.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let col_w = (PANEL_W as i32 - 40) / LEGEND_COLS as i32;
    for (k, (c, thick, label)) in entries.iter().enumerate() {
        let x = 30 + (k % LEGEND_COLS) as i32 * col_w;
        let y = 6 + (k / LEGEND_COLS) as i32 * LEGEND_ROW as i32;
        let style = c.stroke_width(if *thick { 3 } else { 1 });
        area.draw(&PathElement::new(vec![(x, y + 7), (x + 18, y + 7)], style))
            .map_err(|e| anyhow!("{e}"))?;
        let text: String = label.chars().take(30).collect();
        area.draw(&Text::new(text, (x + 24, y), (FONT, 13).into_font()))
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// The x range of `epochs` epochs drawn at 1..=epochs, with half an epoch either side.
fn epoch_range(epochs: usize) -> std::ops::Range<f64> {
    0.5..epochs.max(1) as f64 + 0.5
}

/// Whole epochs only: the other key points plotters picks get no label.
fn epoch_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// A log-axis tick with at most two significant digits: `0.3`, `0.02`, `5e-5`, `2000`.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exp = v.abs().log10().floor() as i32;
    if (-3..5).contains(&exp) {
        let decimals = (1 - exp).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    }
}

/// Tick values of a log axis over `lo..hi`: 1, 2 and 5 times powers of ten, or every
/// multiple 1..9 when that gives fewer than three (a range within one decade).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
    let pick = |multiples: &[u32]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|d| multiples.iter().map(move |&m| f64::from(m) * 10f64.powi(d)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let ticks = pick(&[1, 2, 5]);
    if ticks.len() >= 3 {
        ticks
    } else {
        pick(&[1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
}

/// Shades epochs `epochs` (from 0) of a chart whose x axis is epochs from 1.
fn shade<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, Y>>,
    epochs: &[usize],
    (lo, hi): (f64, f64),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .draw_series(epochs.iter().map(|&e| {
            let x = e as f64 + 1.0;
            Rectangle::new([(x - 0.5, lo), (x + 0.5, hi)], SHADE.filled())
        }))
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// The axes of a chart whose x axis is epochs from 1: whole epochs labelled, at most 17
/// labels, no minor grid; `y_label` formats the y ticks (plotters' own format when `None`).
fn mesh<DB: DrawingBackend, Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, Y>>,
    epochs: usize,
    y_desc: &str,
    y_label: Option<&dyn Fn(&f64) -> String>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("epoch")
        .y_desc(y_desc)
        .x_labels(epochs.min(16) + 1)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&epoch_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15));
    if let Some(f) = y_label {
        mesh.y_label_formatter(f);
    }
    mesh.draw().map_err(|e| anyhow!("{e}"))
}

/// Runs of consecutive finite points, so that a NaN (a diverged epoch) breaks the line
/// instead of drawing garbage.
fn finite_segments(points: impl Iterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (x, y) in points {
        if y.is_finite() {
            out.last_mut().expect("never empty").push((x, y));
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn accuracy<DB: DrawingBackend>(runs: &[RunRecord], area: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (chart_area, legend_area) = area.split_vertically(CHART_H);
    let epochs = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(1);
    let lo = runs
        .iter()
        .flat_map(|r| r.epochs.iter().map(|e| e.test_acc))
        .filter(|a| a.is_finite())
        .fold(1.0f64, f64::min);
    let y_lo = ((lo - 0.05) * 10.0).floor().max(0.0) / 10.0;
    let mut chart = ChartBuilder::on(&chart_area)
        .caption("test accuracy", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(epoch_range(epochs), y_lo..1.0f64)
        .map_err(|e| anyhow!("{e}"))?;
    let amplified: Vec<usize> = (0..epochs)
        .filter(|&e| {
            runs.iter()
                .any(|r| r.epochs.get(e).is_some_and(|x| !x.amplified.is_empty()))
        })
        .collect();
    shade(&mut chart, &amplified, (y_lo, 1.0))?;
    mesh(&mut chart, epochs, "accuracy", None)?;
    let mut entries: Vec<Entry> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let points = r.epochs.iter().map(|e| ((e.epoch + 1) as f64, e.test_acc));
        for segment in finite_segments(points) {
            chart
                .draw_series(LineSeries::new(segment, c.stroke_width(2)))
                .map_err(|e| anyhow!("{e}"))?;
        }
        // Filled markers on amplified epochs, hollow ones elsewhere.
        chart
            .draw_series(r.epochs.iter().filter(|e| e.test_acc.is_finite()).map(|e| {
                let style = if e.amplified.is_empty() {
                    c.stroke_width(2)
                } else {
                    c.filled()
                };
                Circle::new(((e.epoch + 1) as f64, e.test_acc), 4, style)
            }))
            .map_err(|e| anyhow!("{e}"))?;
        let status = if r.status.diverged() {
            ", diverged"
        } else {
            ""
        };
        entries.push((c, true, format!("#{} {}{status}", i + 1, r.name)));
    }
    if !amplified.is_empty() {
        entries.push((SHADE, true, "amplified epochs".into()));
    }
    legend(&legend_area, &entries)
}

fn gradients<DB: DrawingBackend>(
    run: &RunRecord,
    number: usize,
    area: &DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (chart_area, legend_area) = area.split_vertically(CHART_H);
    let epochs = run.stats.epochs.len();
    let (lo, hi) = run
        .stats
        .epochs
        .iter()
        .flat_map(|e| e.iter().map(|l| l.param.mean))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let caption = format!("#{number} {}: mean |grad W| per layer", run.name);
    if !lo.is_finite() {
        chart_area
            .titled(&caption, (FONT, 18))
            .and_then(|a| a.draw(&Text::new("no gradient statistics", (200, 150), (FONT, 15))))
            .map_err(|e| anyhow!("{e}"))?;
        return Ok(());
    }
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            epoch_range(epochs),
            (lo / 1.5..hi * 1.5)
                .log_scale()
                .with_key_points(log_ticks(lo / 1.5, hi * 1.5)),
        )
        .map_err(|e| anyhow!("{e}"))?;
    let amplified: Vec<usize> = run
        .epochs
        .iter()
        .filter(|e| !e.amplified.is_empty())
        .map(|e| e.epoch)
        .collect();
    shade(&mut chart, &amplified, (lo / 1.5, hi * 1.5))?;
    mesh(&mut chart, epochs, "norm", Some(&|v| tick_label(*v)))?;
    let mut entries = layer_lines(&mut chart, run)?;
    if !amplified.is_empty() {
        entries.push((SHADE, true, "amplified epochs".into()));
    }
    legend(&legend_area, &entries)
}

/// One line per candidate layer of `run`: its mean parameter-gradient norm per epoch, thick
/// for a layer amplified in some epoch; the legend's entries.
fn layer_lines<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, Y>>,
    run: &RunRecord,
) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    let mut entries: Vec<Entry> = Vec::new();
    for (l, name) in run.layers.iter().enumerate() {
        let c = COLOURS[l % COLOURS.len()];
        let thick = run.epochs.iter().any(|e| e.amplified.contains(name));
        let points = run
            .stats
            .epochs
            .iter()
            .enumerate()
            .map(|(e, ls)| ((e + 1) as f64, ls.get(l).map_or(f64::NAN, |s| s.param.mean)))
            .map(|(x, y)| (x, if y > 0.0 { y } else { f64::NAN }));
        for segment in finite_segments(points) {
            chart
                .draw_series(LineSeries::new(
                    segment.clone(),
                    c.stroke_width(if thick { 3 } else { 1 }),
                ))
                .map_err(|e| anyhow!("{e}"))?;
            chart
                .draw_series(segment.into_iter().map(|p| Circle::new(p, 3, c.filled())))
                .map_err(|e| anyhow!("{e}"))?;
        }
        let label = if thick {
            format!("{name} (amplified)")
        } else {
            name.clone()
        };
        entries.push((c, thick, label));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_have_at_most_two_significant_digits() {
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(0.020000000000000004), "0.02");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(3.0), "3");
        assert_eq!(tick_label(2000.0), "2000");
        assert_eq!(tick_label(5.000000000000001e-5), "5e-5");
        assert_eq!(tick_label(2.5e-7), "2.5e-7");
    }

    #[test]
    fn log_ticks_are_round_numbers_inside_the_range() {
        let t: Vec<String> = log_ticks(0.004, 0.3).into_iter().map(tick_label).collect();
        assert_eq!(t, ["0.005", "0.01", "0.02", "0.05", "0.1", "0.2"]);
        let t: Vec<String> = log_ticks(0.25, 0.9).into_iter().map(tick_label).collect();
        assert_eq!(t, ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]);
    }

    #[test]
    fn epoch_axis_labels_only_whole_epochs() {
        assert_eq!(epoch_label(&3.0), "3");
        assert_eq!(epoch_label(&2.5), "");
        assert_eq!(epoch_label(&0.5), "");
    }

    #[test]
    fn nan_breaks_a_line() {
        let s = finite_segments([(1.0, 0.5), (2.0, f64::NAN), (3.0, 0.7), (4.0, 0.8)].into_iter());
        assert_eq!(s, vec![vec![(1.0, 0.5)], vec![(3.0, 0.7), (4.0, 0.8)]]);
    }
}
