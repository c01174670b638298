//! The report's second plot: each amplified configuration's final test accuracy minus its
//! baseline's, paired by seed, as a dot plot with the 95% interval of the mean difference and
//! a line at zero, and each seed's difference as a ring below its row. The accuracy plot shows
//! where configurations end, with the spread between seeds; this one shows whether
//! amplification moved them, with the noise that pairing by seed removes taken out (the
//! table's "Δ final" and "95% CI of Δ final" columns), and whether the mean is a steady
//! shift or a few large gains among ties. Comparisons asked for with `--versus` follow as
//! `A − B` rows.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::super::paired::PairedDiff;
use super::super::plot::FONT;
use super::dot_plot::{self, Dot, Frame};
use super::plot::{render_with, write_png, Area};
use super::report::GridReport;

/// Draws the plot as PNG at `path` (written atomically).
pub fn paired_differences(report: &GridReport, path: &Path) -> Result<()> {
    let dots = dots(report);
    let versus = !report.versus.is_empty();
    write_png(
        path,
        &render_with(dot_plot::canvas(&dots), |root| draw(root, &dots, versus))?,
    )
}

/// The amplified rows with at least one finished pair, in the report's order: labelled
/// `config (better in k/n)` (the model first when the report has several), at the mean
/// difference, with its 95% interval (none with one pair); then the `--versus` comparisons,
/// labelled `A − B (k/n)`.
pub(super) fn dots(report: &GridReport) -> Vec<Dot> {
    let models: std::collections::BTreeSet<&str> =
        report.rows.iter().map(|r| r.model.as_str()).collect();
    let named = |model: &str, name: String| match models.len() > 1 {
        true => format!("{model}: {name}"),
        false => name,
    };
    let dot = |label: String, d: &PairedDiff, points: Vec<f64>| Dot {
        label: format!("{label} ({}/{})", d.better, d.difference.n),
        value: d.difference.mean,
        bar: d.ci95,
        points,
    };
    let rows = report.rows.iter().filter_map(|r| {
        let d = r.final_diff.as_ref().filter(|d| d.difference.n > 0)?;
        let points = r.per_seed.iter().filter_map(|s| s.diff).collect();
        Some(dot(named(&r.model, r.config.clone()), d, points))
    });
    let versus = report.versus.iter().filter_map(|v| {
        let d = Some(&v.final_diff).filter(|d| d.difference.n > 0)?;
        let points = v.per_seed.iter().map(|p| p.1).collect();
        Some(dot(
            named(&v.model, format!("{} − {}", v.a, v.b)),
            d,
            points,
        ))
    });
    rows.chain(versus).collect()
}

/// The x range: every difference and zero, and the intervals up to one span of the
/// differences beyond them, padded. A two-seed interval (a t quantile of 12.7) can be ten
/// times wider than the differences of the other rows; drawn whole, it would squeeze them
/// into a few pixels, so it is cut at the axis (the dot plot marks the cut).
fn x_range(dots: &[Dot]) -> (f64, f64) {
    let hull = |f: &dyn Fn(&Dot) -> (f64, f64)| {
        dots.iter()
            .map(f)
            .fold((0.0f64, 0.0f64), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)))
    };
    // The values: each row's mean and its seeds' differences.
    let (v_lo, v_hi) = hull(&|d| {
        (d.points.iter()).fold((d.value, d.value), |(lo, hi), &p| (lo.min(p), hi.max(p)))
    });
    let (b_lo, b_hi) = hull(&|d| d.bar.unwrap_or((d.value, d.value)));
    let span = (v_hi - v_lo).max(0.01);
    let (lo, hi) = (
        b_lo.max(v_lo - span).min(v_lo),
        b_hi.min(v_hi + span).max(v_hi),
    );
    let pad = ((hi - lo) * 0.08).max(0.005);
    (lo - pad, hi + pad)
}

/// `versus`: some rows are `A − B` (`--versus`), which the caption and axis then name.
fn draw(root: &Area, dots: &[Dot], versus: bool) -> Result<()> {
    if dots.is_empty() {
        root.draw(&Text::new(
            "no amplified run has a finished baseline yet",
            (40, 40),
            (FONT, 18),
        ))
        .map_err(|e| anyhow!("{e}"))?;
        return Ok(());
    }
    let (minus, delta) = match versus {
        false => ("baseline's", "amplified − baseline"),
        true => ("baseline's or B's", "amplified − baseline, or A − B"),
    };
    let caption =
        format!("final test accuracy − {minus}, paired by seed (mean, 95% CI; rings: seeds)");
    let x_desc = format!("Δ final test accuracy ({delta}); (k/n): better in k of n seeds");
    let frame = Frame {
        caption: &caption,
        x_desc: &x_desc,
        x_range: x_range(dots),
        around_zero: true,
    };
    dot_plot::draw(root, &frame, dots)
}

#[cfg(test)]
mod tests {
    use super::super::super::plot::COLOURS;
    use super::super::plot::{Picture, SIZE};
    use super::*;

    fn point(label: &str, mean: f64, ci: Option<(f64, f64)>) -> Dot {
        Dot {
            label: label.to_string(),
            value: mean,
            bar: ci,
            points: Vec::new(),
        }
    }

    /// The pixels of colour `c`, as (x, y).
    fn where_is(picture: &Picture, c: RGBColor) -> Vec<(usize, usize)> {
        let w = picture.size.0 as usize;
        picture
            .pixels
            .chunks_exact(3)
            .enumerate()
            .filter(|(_, p)| (p[0], p[1], p[2]) == (c.0, c.1, c.2))
            .map(|(i, _)| (i % w, i / w))
            .collect()
    }

    #[test]
    fn the_range_holds_every_interval_and_zero() {
        let (lo, hi) = x_range(&[
            point("a", 0.01, Some((0.004, 0.02))),
            point("b", 0.03, None),
        ]);
        assert!(lo < 0.0 && hi > 0.03, "{lo} {hi}");
        let (lo, hi) = x_range(&[point("a", -0.05, Some((-0.09, -0.01)))]);
        assert!(lo < -0.09 && hi > 0.0, "{lo} {hi}");
        // A two-seed interval of +-1.6 is cut one span of the differences and zero (0.11) past them.
        let (lo, hi) = x_range(&[
            point("two seeds", 0.07, Some((-1.59, 1.73))),
            point("four seeds", -0.04, Some((-0.06, -0.02))),
        ]);
        assert!(
            lo < -0.06 && lo > -0.25 && hi > 0.07 && hi < 0.3,
            "{lo} {hi}"
        );
    }

    /// Each seed's difference is a ring below its row, inside the axis; tied seeds stack
    /// downwards (the seeds the loss guard returned to their baselines all sit at 0).
    #[test]
    fn each_seed_is_a_ring_below_its_row_and_ties_stack() {
        let row = |points: &[f64]| Dot {
            points: points.to_vec(),
            ..point("guarded (3/6)", 0.05, Some((0.02, 0.08)))
        };
        let (lo, hi) = x_range(&[row(&[-0.06, 0.0, 0.25])]);
        assert!(lo < -0.06 && hi > 0.25, "{lo} {hi}");
        // The row's colour: (right-most x, lowest y, the y of the right-most pixels).
        let extent = |points: &[f64]| {
            let pic = render_with(SIZE, |root| draw(root, &[row(points)], false)).unwrap();
            let at = where_is(&pic, COLOURS[0]);
            let right = at.iter().map(|p| p.0).max().unwrap();
            let column: Vec<usize> = (at.iter().filter(|p| p.0 == right)).map(|p| p.1).collect();
            (right, at.iter().map(|p| p.1).max().unwrap(), column)
        };
        let (_, bare_bottom, _) = extent(&[]);
        let (right, bottom, column) = extent(&[0.1]);
        // The right-most pixels are the ring at 0.1, past the bar and below the dot.
        assert!(
            column.iter().all(|y| *y > bare_bottom),
            "{column:?} {bare_bottom}"
        );
        assert!(bottom > bare_bottom + 4, "{bottom} {bare_bottom}");
        let (ties_right, ties_bottom, _) = extent(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.1]);
        assert_eq!(ties_right, right, "the same axis");
        assert!(
            ties_bottom >= bottom + 4 * 5,
            "five tied rings stacked: {ties_bottom} {bottom}"
        );
        assert!(
            ties_bottom < SIZE.1 as usize - 40,
            "above the x axis: {ties_bottom}"
        );
    }

    /// One row (a grid of one amplified setting, the common case) fills the chart: its dot
    /// sits halfway down, not in the lower of two bands with an empty one above; with two
    /// rows each has its half.
    #[test]
    fn a_single_row_sits_in_the_middle_of_the_chart() {
        let dot_y = |dots: &[Dot], i: usize| {
            let pic = render_with(SIZE, |root| draw(root, dots, false)).unwrap();
            let at = where_is(&pic, COLOURS[i]);
            // The row's colour spans the dot (10 px) and the bar's caps (8 px) around the
            // row's centre: their middle is the row's height.
            let ys: Vec<usize> = at.iter().map(|p| p.1).collect();
            let (lo, hi) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
            (lo + hi) as f64 / 2.0 / SIZE.1 as f64
        };
        let one = [point("guarded (5/8)", 0.08, Some((0.02, 0.15)))];
        let y = dot_y(&one, 0);
        assert!((0.42..0.58).contains(&y), "the row at {y} of the height");
        let two = [
            point("guarded (5/8)", 0.08, Some((0.02, 0.15))),
            point("random (4/8)", 0.03, Some((-0.02, 0.09))),
        ];
        let (top, bottom) = (dot_y(&two, 0), dot_y(&two, 1));
        assert!(
            (0.2..0.4).contains(&top) && (0.6..0.8).contains(&bottom),
            "{top} {bottom}"
        );
    }

    /// A report over many grids gets a canvas that fits it: rows keep their height, long
    /// labels their width, and every row is drawn (the last one near the bottom).
    #[test]
    fn many_rows_and_long_labels_get_a_larger_canvas() {
        let few = [point("late (5/8)", 0.02, Some((0.01, 0.03)))];
        assert_eq!(dot_plot::canvas(&few), SIZE);
        let label = "plain20: intelligent-cv-mean+mode=param+measure=rel_change+lr=0.1";
        let many: Vec<Dot> = (0..30)
            .map(|i| {
                point(
                    &format!("{label} {i} (2/4)"),
                    -0.01 * (i % 5) as f64,
                    Some((-0.05, 0.02)),
                )
            })
            .collect();
        let (w, h) = dot_plot::canvas(&many);
        assert!(w > SIZE.0 && h > SIZE.1, "{w} x {h}");
        assert!(h >= 30 * 30, "{h}: 30 px per row");
        let picture = render_with((w, h), |root| draw(root, &many, false)).unwrap();
        assert_eq!(picture.pixels.len(), (w * h * 3) as usize);
        // The 30th row is drawn in its colour below every other row's dot.
        let last = where_is(&picture, COLOURS[29 % COLOURS.len()]);
        assert!(!last.is_empty());
        let lowest = last.iter().map(|p| p.1).max().unwrap();
        assert!(lowest as u32 > h - 150, "{lowest} of {h}");
    }

    /// An interval cut at the axis stays inside the chart, and its cut ends are arrowheads
    /// (more pixels there than a bar's cap).
    #[test]
    fn an_interval_past_the_axis_is_cut_with_arrowheads() {
        let points = [
            point("two seeds (1/2)", 0.07, Some((-1.59, 1.73))),
            point("four seeds (0/4)", -0.04, Some((-0.06, -0.02))),
        ];
        let cut = render_with(SIZE, |root| draw(root, &points, false)).unwrap();
        let at = where_is(&cut, COLOURS[0]);
        let right = at.iter().map(|p| p.0).max().unwrap();
        assert!(
            right <= SIZE.0 as usize - 14,
            "drawn to x = {right}, past the chart"
        );
        // 7 px before its end the cut bar is an arrowhead (about 8 px tall); a whole bar
        // there is only its 2 px line (its cap is at the end).
        let height_at = |pic: &Picture, x: usize| {
            let ys: Vec<usize> = where_is(pic, COLOURS[0])
                .into_iter()
                .filter(|p| p.0 == x)
                .map(|p| p.1)
                .collect();
            ys.iter().max().unwrap() - ys.iter().min().unwrap() + 1
        };
        assert!(
            height_at(&cut, right - 7) >= 6,
            "{}",
            height_at(&cut, right - 7)
        );
        let whole = [point("two seeds (1/2)", 0.07, Some((-0.01, 0.15)))];
        let whole = render_with(SIZE, |root| draw(root, &whole, false)).unwrap();
        let end = where_is(&whole, COLOURS[0])
            .iter()
            .map(|p| p.0)
            .max()
            .unwrap();
        assert!(
            height_at(&whole, end - 7) <= 3,
            "{}",
            height_at(&whole, end - 7)
        );
    }

    /// Each row in its own colour, the first at the top; a row whose interval lies below
    /// zero is drawn left of one above it; one pair draws a point without an interval.
    #[test]
    fn rows_are_drawn_top_down_on_either_side_of_zero() {
        let points = [
            point("late (5/8)", 0.02, Some((0.01, 0.03))),
            point("all (0/4)", -0.05, Some((-0.08, -0.02))),
            point("one (1/1)", 0.01, None),
        ];
        let picture = render_with(SIZE, |root| draw(root, &points, false)).unwrap();
        let centre = |c: RGBColor| {
            let at = where_is(&picture, c);
            assert!(at.len() > 50, "{c:?}: {} pixels", at.len());
            let n = at.len() as f64;
            let x = at.iter().map(|p| p.0 as f64).sum::<f64>() / n;
            let y = at.iter().map(|p| p.1 as f64).sum::<f64>() / n;
            (x, y)
        };
        let (late, all, one) = (centre(COLOURS[0]), centre(COLOURS[1]), centre(COLOURS[2]));
        assert!(late.1 < all.1 && all.1 < one.1, "{late:?} {all:?} {one:?}");
        assert!(all.0 < one.0 && one.0 < late.0, "{late:?} {all:?} {one:?}");
        // No interval: only the dot, far fewer pixels than a dot with its bar.
        assert!(where_is(&picture, COLOURS[2]).len() < where_is(&picture, COLOURS[0]).len());
        // Nothing paired yet: a note, not an error.
        assert!(render_with(SIZE, |root| draw(root, &[], false)).is_ok());
    }
}
