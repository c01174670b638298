//! Text in PNG plots, placed the way a text renderer places it.
//!
//! plotters 0.3.7 draws `ab_glyph` text one glyph at a time at whole-pixel pen positions,
//! without the glyph's left side bearing, with the baseline half the font size below the
//! anchor while it measures the line as `size / 1.24` high. At the sizes of tick labels and
//! legends the letters bunch up and drift apart ("l ayer1", "ep och") and capitals poke above
//! the anchor. [`TextBitmap`] wraps a bitmap backend and draws text itself: the pen advances
//! in fractional pixels (kerning included), each glyph is rasterized at its exact position
//! (so its bearing and sub-pixel offset are kept), and the line box is the font's ascent to
//! descent, with the baseline at the ascent. Everything else goes to the wrapped backend
//! untouched. SVG output keeps its `<text>` elements (the viewer lays them out).

use ab_glyph::{point, Font, FontRef, Glyph, PxScale, ScaleFont};
use anyhow::{anyhow, Result};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// A drawing backend (a bitmap) whose text is drawn with the bundled DejaVu Sans, the only
/// font amp registers, whatever family the style names.
pub(crate) struct TextBitmap<B> {
    inner: B,
    font: FontRef<'static>,
}

impl<B: DrawingBackend> TextBitmap<B> {
    pub(crate) fn new(inner: B) -> Result<Self> {
        Ok(TextBitmap {
            inner,
            font: dejavu()?,
        })
    }
}

/// The bundled DejaVu Sans (its bytes are `'static`, so the parsed font borrows nothing).
fn dejavu() -> Result<FontRef<'static>> {
    FontRef::try_from_slice(dejavu::sans::regular())
        .map_err(|_| anyhow!("the bundled DejaVu Sans font could not be read"))
}

/// One line of text laid out at the origin: the pen starts at x = 0 and the baseline lies
/// at the font's ascent, so the line box is `(0, 0)` to `(width, height)`.
struct Line {
    glyphs: Vec<Glyph>,
    width: f32,
    height: f32,
}

fn layout(font: &FontRef<'static>, size: f64, text: &str) -> Line {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let (mut pen, mut prev) = (0.0f32, None);
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scaled.scale(), point(pen, scaled.ascent())));
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    Line {
        glyphs,
        width: pen,
        height: scaled.height(),
    }
}

impl<B: DrawingBackend> DrawingBackend for TextBitmap<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        let line = layout(&self.font, style.size(), text);
        Ok((line.width.ceil() as u32, line.height.round() as u32))
    }

    /// Anchors the line box at `pos` as the style says, then turns it as the style says
    /// (axis titles are drawn turned by 90 degrees) about `pos`.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let line = layout(&self.font, style.size(), text);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -line.width / 2.0,
            HPos::Right => -line.width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -line.height / 2.0,
            VPos::Bottom => -line.height,
        };
        let turn = style.transform();
        for mut glyph in line.glyphs {
            glyph.position = point(glyph.position.x + dx, glyph.position.y + dy);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let at = outline.px_bounds().min;
            let mut result = Ok(());
            outline.draw(|x, y, coverage| {
                if coverage <= 0.0 || result.is_err() {
                    return;
                }
                let (x, y) = turn.transform(at.x as i32 + x as i32, at.y as i32 + y as i32);
                let ink = BackendColor {
                    alpha: color.alpha * f64::from(coverage.min(1.0)),
                    rgb: color.rgb,
                };
                result = self.inner.draw_pixel((pos.0 + x, pos.1 + y), ink);
            });
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use plotters::style::text_anchor::Pos;

    const W: u32 = 200;
    const H: u32 = 60;

    /// Draws `text` at (10, 10) with its top left there, returns the ink (0: white, 1: black)
    /// per pixel, row by row.
    fn ink(text: &str, size: f64) -> Vec<f32> {
        crate::cli::plot::register_font().unwrap();
        let mut rgb = vec![255u8; (W * H * 3) as usize];
        {
            let backend = BitMapBackend::with_buffer(&mut rgb, (W, H));
            let root = TextBitmap::new(backend).unwrap().into_drawing_area();
            let style = ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Top));
            root.draw_text(text, &style, (10, 10)).unwrap();
            root.present().unwrap();
        }
        rgb.chunks(3)
            .map(|p| 1.0 - f32::from(p[0]) / 255.0)
            .collect()
    }

    /// The ink-weighted mean column of each run of inked columns (one per separate glyph).
    fn column_centroids(ink: &[f32]) -> Vec<f32> {
        let cols: Vec<f32> = (0..W as usize)
            .map(|x| (0..H as usize).map(|y| ink[y * W as usize + x]).sum())
            .collect();
        let mut out = Vec::new();
        let (mut mass, mut moment) = (0.0f32, 0.0f32);
        for (x, &c) in cols.iter().enumerate() {
            if c > 0.0 {
                mass += c;
                moment += c * x as f32;
            } else if mass > 0.0 {
                out.push(moment / mass);
                (mass, moment) = (0.0, 0.0);
            }
        }
        out
    }

    /// The first and last inked rows.
    fn rows(ink: &[f32]) -> (usize, usize) {
        let inked: Vec<usize> = (0..H as usize)
            .filter(|y| ink[y * W as usize..][..W as usize].iter().any(|&v| v > 0.0))
            .collect();
        (inked[0], *inked.last().unwrap())
    }

    #[test]
    fn repeated_letters_sit_one_advance_apart() {
        // plotters' own drawing truncates the pen to whole pixels: at 14 px an `l` advances
        // 3.34 px, so its stems came 3, 3, 4 pixels apart.
        let size = 14.0;
        let scaled = dejavu().unwrap().into_scaled(PxScale::from(size as f32));
        let advance = scaled.h_advance(scaled.glyph_id('l'));
        let centres = column_centroids(&ink("l l l l l", size));
        assert_eq!(centres.len(), 5, "{centres:?}");
        let space = scaled.h_advance(scaled.glyph_id(' '));
        for pair in centres.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (gap - (advance + space)).abs() < 0.15,
                "stems {gap} px apart, the advance is {} px: {centres:?}",
                advance + space
            );
        }
    }

    #[test]
    fn line_box_holds_the_glyphs_and_dots_sit_on_the_baseline() {
        let size = 14.0;
        let scaled = dejavu().unwrap().into_scaled(PxScale::from(size as f32));
        let (top, bottom) = rows(&ink("Tx", size));
        // Anchored at its top, the line's capitals start at or below y = 10, not above it.
        assert!(top >= 10, "capitals start at row {top}, above the anchor");
        let baseline = 10.0 + scaled.ascent();
        assert!(
            (bottom as f32 + 1.0 - baseline).abs() <= 1.0,
            "x ends at row {bottom}, the baseline is at {baseline}"
        );
        let (_, dot_bottom) = rows(&ink(".", size));
        assert_eq!(dot_bottom, bottom, "a full stop ends where an x ends");
    }

    #[test]
    fn size_estimate_is_the_drawn_line() {
        let size = 12.0;
        let backend_size = {
            let mut rgb = vec![255u8; (W * H * 3) as usize];
            let backend = TextBitmap::new(BitMapBackend::with_buffer(&mut rgb, (W, H))).unwrap();
            backend
                .estimate_text_size(
                    "layer1.0.conv1",
                    &("sans-serif", size).into_font().color(&BLACK),
                )
                .unwrap()
        };
        let centres = column_centroids(&ink("layer1.0.conv1", size));
        let (first, last) = (centres[0], *centres.last().unwrap());
        // The drawn glyphs lie inside the estimated width (10 px from the left edge).
        assert!(
            first >= 10.0 && last <= 10.0 + backend_size.0 as f32,
            "{backend_size:?} {centres:?}"
        );
        assert_eq!(
            backend_size.1, size as u32,
            "DejaVu's ascent - descent is the font size"
        );
    }
}
