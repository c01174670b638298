//! Config errors: every one names the file and the field, and where the file is at hand, the
//! line and column with the offending source line.

use std::fmt;

use crate::registry::UnknownLayer;

use super::location::{key_span_of, line_col, path_at, snippet, span_of};

/// Where in the file an error is, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The source line with a caret under the offending text.
    pub snippet: String,
}

/// Why a config could not be read, parsed, validated or built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the config: {error}")]
    Io {
        /// The path given.
        path: String,
        /// The underlying error: in the message, not as a source (`{:#}` would repeat it).
        error: std::io::Error,
    },
    /// Not TOML, or TOML that does not fit the config format (unknown field, unknown name,
    /// wrong type, missing field).
    #[error("{}", render(origin, Some(&**location), field.as_deref(), message))]
    Syntax {
        /// The file name (or the origin name given to `from_toml_str`).
        origin: String,
        /// Where.
        location: Box<Location>,
        /// The field, when the error is inside one.
        field: Option<String>,
        /// What is wrong, from the TOML parser, with a suggestion for misspelled names.
        message: String,
    },
    /// Well-formed, but a value is out of its domain or values contradict each other.
    #[error("{}", render(origin, location.as_deref(), Some(field), message))]
    Invalid {
        /// The file name.
        origin: String,
        /// The field, as a path: `amp.select.ratio`, `schedule[1].epochs`.
        field: String,
        /// Where, when the file's text is at hand.
        location: Option<Box<Location>>,
        /// What is wrong.
        message: String,
    },
    /// A layer name the model does not have.
    #[error("{}", render(origin, location.as_deref(), Some(field), &error.to_string()))]
    UnknownLayer {
        /// The file name.
        origin: String,
        /// The field, e.g. `amp.select.layers[2]`.
        field: String,
        /// Where, when the file's text is at hand.
        location: Option<Box<Location>>,
        /// The name and every valid name (in the message, so not a `#[source]`: an error
        /// chain printed with `{:#}` would repeat it).
        error: UnknownLayer,
    },
    /// A command-line override (`--epochs 2`) that the config cannot take.
    #[error("{flag} does not fit {origin}: {message}")]
    Override {
        /// The flag with its value, as given.
        flag: String,
        /// The file name.
        origin: String,
        /// Why, including the config's own error where validation failed.
        message: String,
    },
}

impl ConfigError {
    /// The field the error is about, if known.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Io { .. } | ConfigError::Override { .. } => None,
            ConfigError::Syntax { field, .. } => field.as_deref(),
            ConfigError::Invalid { field, .. } | ConfigError::UnknownLayer { field, .. } => {
                Some(field)
            }
        }
    }

    /// Line and column, if known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Io { .. } | ConfigError::Override { .. } => None,
            ConfigError::Syntax { location, .. } => Some((location.line, location.column)),
            ConfigError::Invalid { location, .. } | ConfigError::UnknownLayer { location, .. } => {
                location.as_ref().map(|l| (l.line, l.column))
            }
        }
    }
}

fn render(origin: &str, location: Option<&Location>, field: Option<&str>, message: &str) -> String {
    let mut out = origin.to_string();
    if let Some(l) = location {
        out.push_str(&format!(":{}:{}", l.line, l.column));
    }
    out.push_str(": ");
    if let Some(f) = field {
        out.push_str(&format!("{f}: "));
    }
    out.push_str(message);
    if let Some(l) = location {
        out.push('\n');
        out.push_str(&l.snippet);
    }
    out
}

/// The file a config came from: its name for messages and, when parsed from text, the text,
/// to point at fields. Public so that other TOML files of the project (grid files) report
/// their errors the same way: file:line:col, field, the source line with a caret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub name: String,
    pub text: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Origin {
    /// A file named `name` (for messages) with contents `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Origin {
        Origin {
            name: name.into(),
            text: Some(text.into()),
        }
    }

    fn locate(&self, field: &str) -> Option<Box<Location>> {
        let text = self.text.as_deref()?;
        self.location(span_of(text, field)?)
    }

    fn location(&self, span: std::ops::Range<usize>) -> Option<Box<Location>> {
        let text = self.text.as_deref()?;
        let (line, column) = line_col(text, span.start);
        Some(Box::new(Location {
            line,
            column,
            snippet: snippet(text, &span),
        }))
    }

    /// A value-domain error at `field`.
    pub fn invalid(&self, field: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        let field = field.into();
        self.invalid_at(self.locate(&field), field, message)
    }

    /// An error about the name of `field` (an unknown key), pointing at its key rather than
    /// its value; at the value where the key has no span.
    pub fn invalid_key(&self, field: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        let field = field.into();
        let key = self.text.as_deref().and_then(|t| key_span_of(t, &field));
        let location = key
            .and_then(|span| self.location(span))
            .or_else(|| self.locate(&field));
        self.invalid_at(location, field, message)
    }

    fn invalid_at(
        &self,
        location: Option<Box<Location>>,
        field: String,
        message: impl fmt::Display,
    ) -> ConfigError {
        ConfigError::Invalid {
            origin: self.name.clone(),
            location,
            field,
            message: message.to_string(),
        }
    }

    /// An unknown layer at `field`.
    pub fn unknown_layer(&self, field: impl Into<String>, error: UnknownLayer) -> ConfigError {
        let field = field.into();
        ConfigError::UnknownLayer {
            origin: self.name.clone(),
            location: self.locate(&field),
            field,
            error,
        }
    }

    /// A TOML parse or deserialization error, with line:column and field.
    pub fn syntax(&self, text: &str, err: &toml::de::Error) -> ConfigError {
        let span = err.span().unwrap_or(0..0);
        let (line, column) = line_col(text, span.start);
        ConfigError::Syntax {
            origin: self.name.clone(),
            location: Box::new(Location {
                line,
                column,
                snippet: snippet(text, &span),
            }),
            field: path_at(text, span.start),
            message: with_kind_hint(&with_suggestion(&parser_message(
                err.message(),
                text.get(span.start..).unwrap_or(""),
            ))),
        }
    }
}

/// Says which command reads the file when a grid file is given where a config is read, or
/// the other way round: an unknown top-level field that only the other kind has.
fn with_kind_hint(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let given = rest.split('`').next().unwrap_or("");
    let expects = |key: &str| rest.contains(&format!("`{key}`"));
    let hint = if expects("train") && ["configs", "models", "seeds", "axes"].contains(&given) {
        "this looks like a grid file, which `amp grid plan|run|report FILE` reads"
    } else if expects("configs") && ["name", "train", "amp", "schedule"].contains(&given) {
        "this looks like an experiment config, which `amp train` and `amp check` read \
         and a grid file lists under `configs`"
    } else {
        return message.to_string();
    };
    format!("{message} ({hint})")
}

/// toml's parser writes what it found and what it expected on two lines ("invalid array" /
/// "expected `]`"), which would split the one-line `file:line:col: field: message` form, and
/// nothing at all where the text ends while a value is still expected (`lr = ` on the last
/// line). `rest` is the text from the error on.
fn parser_message(message: &str, rest: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match (lines.is_empty(), rest.trim().is_empty()) {
        (false, _) => lines.join(", "),
        (true, true) => "the file ends where a value is expected".to_string(),
        (true, false) => "not valid TOML".to_string(),
    }
}

/// Adds "did you mean `x`?" to serde's "unknown variant/field `y`, expected one of `a`, `b`".
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown variant `")
        .or_else(|| message.strip_prefix("unknown field `"))
    else {
        return message.to_string();
    };
    let Some((given, rest)) = rest.split_once('`') else {
        return message.to_string();
    };
    let Some((_, expected)) = rest.split_once("expected") else {
        return message.to_string();
    };
    let candidates = expected.split('`').skip(1).step_by(2);
    match crate::suggest::closest(given, candidates) {
        Some(v) => format!("{message}; did you mean `{v}`?"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{parser_message, with_kind_hint, with_suggestion};

    #[test]
    fn a_grid_read_as_a_config_or_a_config_read_as_a_grid_is_named() {
        let config_fields = "expected one of `name`, `train`, `amp`, `schedule`";
        let grid_fields = "expected one of `configs`, `models`, `seeds`, `data`";
        assert_eq!(
            with_kind_hint(&format!("unknown field `configs`, {config_fields}")),
            format!(
                "unknown field `configs`, {config_fields} (this looks like a grid file, which \
                 `amp grid plan|run|report FILE` reads)"
            )
        );
        assert!(
            with_kind_hint(&format!("unknown field `train`, {grid_fields}")).ends_with(
                "(this looks like an experiment config, which `amp train` and `amp check` \
                        read and a grid file lists under `configs`)"
            )
        );
        // A typo is not the other kind of file.
        for m in [
            format!("unknown field `trian`, {config_fields}"),
            format!("unknown field `data`, {config_fields}"),
            format!("unknown field `configs`, {grid_fields}"),
            "unknown field `models`, expected `kind` or `ratio`".to_string(),
        ] {
            assert_eq!(with_kind_hint(&m), m);
        }
    }

    #[test]
    fn parser_messages_take_one_line_and_are_never_empty() {
        assert_eq!(
            parser_message("invalid array\nexpected `]`", ""),
            "invalid array, expected `]`"
        );
        assert_eq!(
            parser_message("duplicate key `lr` in table `train`", "lr = 1\n"),
            "duplicate key `lr` in table `train`"
        );
        assert_eq!(
            parser_message("", " \n"),
            "the file ends where a value is expected"
        );
        assert_eq!(parser_message("", "}"), "not valid TOML");
    }

    #[test]
    fn suggests_the_closest_name() {
        assert_eq!(
            with_suggestion("unknown variant `cvv`, expected one of `cv`, `rel_change`"),
            "unknown variant `cvv`, expected one of `cv`, `rel_change`; did you mean `cv`?"
        );
        assert_eq!(
            with_suggestion("unknown field `xyzzy`, expected `kind` or `ratio`"),
            "unknown field `xyzzy`, expected `kind` or `ratio`"
        );
    }
}
