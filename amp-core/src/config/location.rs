//! Where in a config file a field is: byte spans -> line:column, field paths <-> spans.
//!
//! `toml` reports byte spans; people read line:column and a field path (`amp.select.ratio`,
//! `schedule[1].epochs`). The path -> span direction lets checks that run after parsing (ranges,
//! overlaps, layer names) point at the offending value too.

use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The source line of `span` with a caret underline, for error messages.
pub(crate) fn snippet(text: &str, span: &Range<usize>) -> String {
    let (line, col) = line_col(text, span.start);
    let src = text.lines().nth(line - 1).unwrap_or("");
    let src_len = src.chars().count();
    let width = text
        .get(span.clone())
        .map_or(1, |s| s.lines().next().unwrap_or("").chars().count())
        .clamp(1, src_len.saturating_sub(col - 1).max(1));
    let gutter = line.to_string().len();
    format!(
        "{:gutter$} |\n{line} | {src}\n{:gutter$} | {}{}",
        "",
        "",
        " ".repeat(col - 1),
        "^".repeat(width)
    )
}

/// One step of a field path: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into segments.
fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut segs = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            segs.push(Seg::Key(&rest[..open]));
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                if let Ok(i) = rest[1..close].parse() {
                    segs.push(Seg::Index(i));
                }
                rest = &rest[close + 1..];
            }
        } else {
            segs.push(Seg::Key(rest));
        }
    }
    segs
}

/// The span of the value at `path`, or of its closest present ancestor (a missing field points
/// at its table); `None` when `text` is not TOML or nothing on the path has a span.
pub(crate) fn span_of(text: &str, path: &str) -> Option<Range<usize>> {
    let doc = ImDocument::parse(text).ok()?;
    let mut item = doc.as_item();
    let mut best = None;
    for seg in segments(path) {
        let next = match seg {
            Seg::Key(k) => item.get(k),
            Seg::Index(i) => item.get(i),
        };
        match next {
            Some(next) => {
                item = next;
                best = item.span().or(best);
            }
            None => break,
        }
    }
    best
}

/// The path of the innermost field whose key or value contains byte `offset`.
pub(crate) fn path_at(text: &str, offset: usize) -> Option<String> {
    let doc = ImDocument::parse(text).ok()?;
    let mut best = None;
    walk_item(doc.as_item(), "", offset, &mut best);
    best
}

fn contains(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk_item(item: &Item, path: &str, offset: usize, best: &mut Option<String>) {
    match item {
        Item::ArrayOfTables(tables) => {
            for (i, t) in tables.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if contains(t.span(), offset) {
                    *best = Some(p.clone());
                }
                for (k, v) in t.iter() {
                    let key_span = t.key(k).and_then(|k| k.span());
                    visit_entry(k, key_span, v, &p, offset, best);
                }
            }
        }
        Item::Value(v) => walk_value(v, path, offset, best),
        Item::Table(t) => {
            if !path.is_empty() && contains(t.span(), offset) {
                *best = Some(path.to_string());
            }
            for (k, v) in t.iter() {
                let key_span = t.key(k).and_then(|k| k.span());
                visit_entry(k, key_span, v, path, offset, best);
            }
        }
        Item::None => {}
    }
}

fn visit_entry(
    key: &str,
    key_span: Option<Range<usize>>,
    item: &Item,
    path: &str,
    offset: usize,
    best: &mut Option<String>,
) {
    let p = join(path, key);
    if contains(key_span, offset) || (item.is_value() && contains(item.span(), offset)) {
        *best = Some(p.clone());
    }
    walk_item(item, &p, offset, best);
}

fn walk_value(value: &Value, path: &str, offset: usize, best: &mut Option<String>) {
    match value {
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if contains(v.span(), offset) {
                    *best = Some(p.clone());
                }
                walk_value(v, &p, offset, best);
            }
        }
        Value::InlineTable(t) => {
            for (k, v) in t.iter() {
                let p = join(path, k);
                if contains(t.key(k).and_then(|k| k.span()), offset) || contains(v.span(), offset) {
                    *best = Some(p.clone());
                }
                walk_value(v, &p, offset, best);
            }
        }
        _ => {}
    }
}
