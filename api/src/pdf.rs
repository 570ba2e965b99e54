//! Printable records as PDF: a small layout (fields, paragraphs, tables that break across
//! pages, a footer with the verification code on every page) drawn with `krilla`, with
//! DejaVu Sans embedded (subset) so that every reader shows the same glyphs, Indonesian
//! names and the em dash included. The content of each record is `service::records`'.

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};

static REGULAR: LazyLock<Option<Font>> =
    LazyLock::new(|| Font::new(Arc::new(include_bytes!("../assets/fonts/DejaVuSans.ttf").to_vec()).into(), 0));
static BOLD: LazyLock<Option<Font>> =
    LazyLock::new(|| Font::new(Arc::new(include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf").to_vec()).into(), 0));

/// A4 in points, and the margins.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = WIDTH - 50.0;
const TOP: f32 = 60.0;
/// Where the body stops: the footer is below.
const BOTTOM: f32 = HEIGHT - 95.0;
/// Where a field's value starts.
const VALUE_X: f32 = 200.0;

enum Item {
    Text { x: f32, y: f32, size: f32, bold: bool, text: String },
    Rule { y: f32 },
}

/// A record being laid out, page by page.
pub struct Sheet {
    pages: Vec<Vec<Item>>,
    y: f32,
    footer: Vec<String>,
    title: String,
}

/// The width of `text` at `size`, estimated from DejaVu Sans' typical advances (a little
/// generous, so that lines never overrun the margin).
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let em: f32 = text
        .chars()
        .map(|c| match c {
            ' ' => 0.32,
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.3,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '/' | '-' => 0.42,
            'm' | 'w' | 'M' | 'W' | '—' | '@' => 0.95,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 0.7,
            _ => 0.62,
        })
        .sum();
    em * size * if bold { 1.1 } else { 1.0 }
}

/// `text` broken into lines no wider than `max` (a word longer than a line is cut).
fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line (a hash, a URL): cut it.
            let mut rest = word.to_owned();
            while width(&rest, size, bold) > max {
                let mut cut = String::new();
                for c in rest.chars() {
                    if width(&format!("{cut}{c}"), size, bold) > max {
                        break;
                    }
                    cut.push(c);
                }
                if cut.is_empty() {
                    break;
                }
                rest = rest[cut.len()..].to_owned();
                lines.push(cut);
            }
            line = rest;
        }
        lines.push(line);
    }
    lines
}

impl Sheet {
    /// A sheet with the office's letterhead and the record's title. `footer` is printed at
    /// the foot of every page (the verification code and where to check it).
    pub fn new(title: &str, footer: Vec<String>) -> Sheet {
        let mut s = Sheet { pages: vec![Vec::new()], y: TOP, footer, title: title.to_owned() };
        s.centered("PEMERINTAH KABUPATEN TRENGGALEK", 12.0, true);
        s.centered("DINAS KOMUNIKASI DAN INFORMATIKA", 13.0, true);
        s.space(4.0);
        s.rule();
        s.space(14.0);
        s.centered(title, 14.0, true);
        s.space(10.0);
        s
    }

    fn page(&mut self) -> &mut Vec<Item> {
        self.pages.last_mut().expect("a sheet has a page")
    }

    /// Room for `h` more points on this page, or a new page.
    fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
            let title = format!("{} (lanjutan)", self.title);
            self.line_at(LEFT, &title, 9.0, true);
            self.space(6.0);
        }
    }

    fn line_at(&mut self, x: f32, text: &str, size: f32, bold: bool) {
        let y = self.y + size;
        self.page().push(Item::Text { x, y, size, bold, text: text.to_owned() });
        self.y += size * 1.35;
    }

    pub fn space(&mut self, h: f32) {
        self.y += h;
    }

    pub fn rule(&mut self) {
        self.room(4.0);
        let y = self.y;
        self.page().push(Item::Rule { y });
        self.y += 2.0;
    }

    pub fn centered(&mut self, text: &str, size: f32, bold: bool) {
        for line in wrap(text, size, bold, RIGHT - LEFT) {
            self.room(size * 1.35);
            let x = LEFT + ((RIGHT - LEFT) - width(&line, size, bold)).max(0.0) / 2.0;
            self.line_at(x, &line, size, bold);
        }
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        self.room(40.0);
        self.space(6.0);
        self.line_at(LEFT, text, 11.0, true);
        self.space(2.0);
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, size: f32) {
        for line in wrap(text, size, false, RIGHT - LEFT) {
            self.room(size * 1.35);
            self.line_at(LEFT, &line, size, false);
        }
    }

    /// `label: value`, the value wrapped in its column.
    pub fn field(&mut self, label: &str, value: &str) {
        self.indented_field(LEFT, label, value);
    }

    /// A field indented under a list item.
    pub fn indented_field(&mut self, x: f32, label: &str, value: &str) {
        let size = 9.5;
        let lines = wrap(if value.trim().is_empty() { "—" } else { value }, size, false, RIGHT - VALUE_X);
        self.room(size * 1.35 * lines.len().min(3) as f32);
        let y = self.y;
        self.page().push(Item::Text { x, y: y + size, size, bold: true, text: label.to_owned() });
        for line in lines {
            self.room(size * 1.35);
            self.line_at(VALUE_X, &line, size, false);
        }
    }

    /// The finished PDF.
    pub fn finish(self, subject: &str) -> Result<Vec<u8>, String> {
        let (Some(regular), Some(bold)) = (REGULAR.clone(), BOLD.clone()) else {
            return Err("the embedded fonts cannot be read".into());
        };
        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(format!("{} — {subject}", self.title))
                .creator("Jembatan (Diskominfo Kabupaten Trenggalek)".into())
                .language("id".into()),
        );
        let total = self.pages.len();
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("bad page size")?;
        for (n, items) in self.pages.into_iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let mut text = |x: f32, y: f32, size: f32, bold_face: bool, s: &str| {
                let font = if bold_face { bold.clone() } else { regular.clone() };
                surface.draw_text(Point::from_xy(x, y), font, size, s, false, TextDirection::Auto);
            };
            let mut rules = Vec::new();
            for item in &items {
                match item {
                    Item::Text { x, y, size, bold, text: s } => text(*x, *y, *size, *bold, s),
                    Item::Rule { y } => rules.push(*y),
                }
            }
            let mut y = BOTTOM + 18.0;
            rules.push(y - 12.0);
            for line in &self.footer {
                for part in wrap(line, 7.5, false, RIGHT - LEFT) {
                    text(LEFT, y, 7.5, false, &part);
                    y += 10.0;
                }
            }
            text(LEFT, HEIGHT - 25.0, 7.5, false, &format!("Halaman {} dari {total}", n + 1));
            for y in rules {
                let mut pb = PathBuilder::new();
                pb.move_to(LEFT, y);
                pb.line_to(RIGHT, y);
                if let Some(path) = pb.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke { width: 0.6, ..Default::default() }));
                    surface.draw_path(&path);
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_and_paragraphs_wrap_within_the_column() {
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".repeat(2);
        let lines = wrap(&format!("SHA-256 {hash}"), 9.5, false, RIGHT - VALUE_X);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| width(l, 9.5, false) <= RIGHT - VALUE_X));
        assert_eq!(lines.concat().replace(' ', ""), format!("SHA-256{hash}"));
        assert_eq!(wrap("a\nb", 10.0, false, 100.0), ["a", "b"]);
    }

    #[test]
    fn a_long_record_breaks_into_pages_and_is_a_pdf() {
        let mut s = Sheet::new("BERKAS PERMOHONAN", vec!["Kode verifikasi: 1-abc".into()]);
        for i in 0..120 {
            s.field(&format!("Langkah {i}"), "Kepala Bidang — Plh Kepala Dinas; dokumen surat.pdf");
        }
        assert!(s.pages.len() >= 3);
        let pdf = s.finish("uji").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
