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

/// Splits `a.b[2].c` into segments; a key in double quotes may hold dots
/// (`axes."train.lr"[1]`).
fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut segs = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.trim_start_matches('.');
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            segs.push(Seg::Key(&quoted[..end]));
            rest = quoted.get(end + 1..).unwrap_or("");
        } else if let Some(index) = rest.strip_prefix('[') {
            let end = index.find(']').unwrap_or(index.len());
            if let Ok(i) = index[..end].parse() {
                segs.push(Seg::Index(i));
            }
            rest = index.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end > 0 {
                segs.push(Seg::Key(&rest[..end]));
            }
            rest = &rest[end..];
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

/// The span of the key that names the field at `path` (`axes."train.lrr"` points at
/// `"train.lrr"`), for errors about the name rather than the value; `None` when the last
/// segment is an index or the field is missing.
pub(crate) fn key_span_of(text: &str, path: &str) -> Option<Range<usize>> {
    let doc = ImDocument::parse(text).ok()?;
    let segs = segments(path);
    let (Seg::Key(last), parents) = segs.split_last()? else {
        return None;
    };
    let mut item = doc.as_item();
    for seg in parents {
        item = match seg {
            Seg::Key(k) => item.get(k)?,
            Seg::Index(i) => item.get(*i)?,
        };
    }
    match item {
        Item::Table(t) => t.key(last)?.span(),
        Item::Value(Value::InlineTable(t)) => t.key(last)?.span(),
        _ => None,
    }
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

/// `path.key`, with the key in double quotes when it holds a dot or a bracket.
fn join(path: &str, key: &str) -> String {
    let key = if key.contains(['.', '[', ']']) {
        format!("\"{key}\"")
    } else {
        key.to_string()
    };
    if path.is_empty() {
        key
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_keys_keep_their_dots() {
        assert_eq!(
            segments("axes.\"train.lr\"[1]"),
            vec![Seg::Key("axes"), Seg::Key("train.lr"), Seg::Index(1)]
        );
        assert_eq!(
            segments("schedule[1].epochs"),
            vec![Seg::Key("schedule"), Seg::Index(1), Seg::Key("epochs")]
        );
        let text = "[axes]\n\"train.lr\" = [0.1, 0.4]\n";
        let span = span_of(text, "axes.\"train.lr\"[1]").unwrap();
        assert_eq!(&text[span.clone()], "0.4");
        let key = key_span_of(text, "axes.\"train.lr\"").unwrap();
        assert_eq!(&text[key], "\"train.lr\"");
        assert_eq!(key_span_of(text, "axes.\"train.lr\"[1]"), None);
        assert_eq!(key_span_of(text, "axes.missing"), None);
        let inline = "configs = [{ file = \"a.toml\", name = \"x\" }]\n";
        let key = key_span_of(inline, "configs[0].name").unwrap();
        assert_eq!(&inline[key], "name");
        assert_eq!(line_col(text, span.start), (2, 20));
        assert_eq!(
            path_at(text, span.start).as_deref(),
            Some("axes.\"train.lr\"[1]")
        );
    }
}
