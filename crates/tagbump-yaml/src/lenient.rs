//! Files that libyaml and go-yaml read but yaml-rust2 refuses, made readable for the
//! editor without changing their data.
//!
//! Two such constructs are met in real files. First, a continuation line of a single- or
//! double-quoted scalar indented at (or left of) its key's column,
//!
//! ```yaml
//!     - message: '0/3 clusters are available: 3 cluster(s) didn''t match the placement
//!       cluster affinity constraint.'
//! ```
//!
//! which Kubernetes, Helm and Argo CD (go-yaml, libyaml) read, and yaml-rust2 refuses as
//! "invalid indentation in quoted scalar" (naming the scalar's opening quote). The leading white space of a quoted scalar's
//! continuation line is not part of its value (YAML 1.2 §7.3, line folding), so such a
//! line can be indented further without changing the data. [`Padded`] does that, indenting
//! the continuation lines of each scalar yaml-rust2 stops at to its opening quote's column.
//!
//! Second, the closing `]` or `}` of a flow collection on a line of its own at its key's
//! column (`bitnami/chainloop/values.yaml`),
//!
//! ```yaml
//!   args: [
//!     "--config", "/data/conf"
//!   ]
//! ```
//!
//! which yaml-rust2 refuses as "invalid indentation" (naming the bracket; a `}` there
//! it reads). White space
//! between flow tokens carries no data, so that line is indented further, one space at a
//! time, until yaml-rust2 reads on.
//!
//! Either way [`Padded`] then proves it: libyaml must read the padded text as exactly the
//! data it reads in the original. The editor locates its edits in the padded text and
//! maps them back to the original's bytes, so the original's lines stay as they were;
//! padding adds no line, so line numbers are the same in both.

use super::model::{self, LineIndex, ScalarStyle};
use super::verify;

/// yaml-rust2's words for the first construct.
const QUOTED_INDENT: &str = "invalid indentation in quoted scalar";

/// yaml-rust2's words for the second (and for other indentation errors, which are refused).
const INDENTATION: &str = "invalid indentation";

/// At most this many lines are padded; past it the file is refused as it stands.
const MAX_PADDED_LINES: usize = 256;

/// Whether yaml-rust2's error `message` may be a construct this module handles.
pub(crate) fn may_pad(message: &str) -> bool {
    message == QUOTED_INDENT || message == INDENTATION
}

/// Why a text is not read padded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// yaml-rust2's first error is none of the constructs this module handles: the
    /// error stands as it is.
    NotLenient,
    /// Padding was tried and did not make the text readable with the same data.
    Cannot(String),
}

/// A stream parsed as libyaml reads it: `text` is the original, or its padded copy
/// (see the module documentation) when yaml-rust2 needs one; the documents' byte offsets
/// are into `text`. Padding adds no line, so line numbers are the original's.
#[derive(Clone, Debug)]
pub struct Readable<'a> {
    /// The text the documents' offsets refer to.
    pub text: std::borrow::Cow<'a, str>,
    /// The documents.
    pub documents: Vec<model::Document>,
}

/// Parses `text` like [`model::parse`], reading the constructs this module handles
/// (lines indented at their key's column that libyaml and go-yaml accept) through a
/// padded copy. Any other syntax error is returned as it is.
pub fn parse_readable(text: &str) -> Result<Readable<'_>, model::SyntaxError> {
    let err = match model::parse(text) {
        Ok(documents) => {
            return Ok(Readable {
                text: text.into(),
                documents,
            })
        }
        Err(err) if may_pad(&err.message) => err,
        Err(err) => return Err(err),
    };
    match Padded::new(text) {
        Ok(padded) => {
            let documents = model::parse(&padded.text)?;
            Ok(Readable {
                text: padded.text.into(),
                documents,
            })
        }
        Err(Refusal::NotLenient) => Err(err),
        Err(Refusal::Cannot(why)) => Err(model::SyntaxError {
            message: format!(
                "{}; libyaml reads such a line, but this file cannot be checked that way: {why}",
                err.message
            ),
            ..err
        }),
    }
}

/// A text with spaces added at the start of some lines.
#[derive(Clone, Debug)]
pub(crate) struct Padded {
    /// The padded text, which yaml-rust2 reads.
    pub text: String,
    /// (byte offset of a line start in the original, spaces added there), sorted.
    pads: Vec<(usize, usize)>,
}

impl Padded {
    /// Pads the under-indented continuation lines of quoted scalars in `text` until
    /// yaml-rust2 reads it, and checks that libyaml reads the same data in both.
    /// The error says why the text cannot be read this way.
    pub(crate) fn new(text: &str) -> Result<Padded, Refusal> {
        let mut padded = Padded {
            text: text.to_string(),
            pads: Vec::new(),
        };
        let mut last_error: Option<(usize, usize)> = None;
        let mut lines_padded = 0;
        loop {
            let err =
                match model::for_each_event(&padded.text, |_| Ok::<(), model::SyntaxError>(())) {
                    Ok(()) => break,
                    Err(e) => e,
                };
            let first = padded.pads.is_empty() && last_error.is_none();
            let refuse = || {
                let why = format!("line {}, column {}: {}", err.line, err.column, err.message);
                if first {
                    Refusal::NotLenient
                } else {
                    Refusal::Cannot(why)
                }
            };
            // yaml-rust2 names the quoted scalar's first character (or the bracket); the
            // same place again means padding did not help.
            if !may_pad(&err.message) || last_error == Some((err.line, err.column)) {
                return Err(refuse());
            }
            let index = LineIndex::new(&padded.text);
            if err.message == INDENTATION {
                let line_start = index.offset_of_line(err.line);
                let at = line_start + err.column.saturating_sub(1);
                let alone = padded
                    .text
                    .get(line_start..at)
                    .is_some_and(|lead| lead.bytes().all(|b| b == b' '))
                    && matches!(padded.text.as_bytes().get(at), Some(b']' | b'}'));
                lines_padded += 1;
                if !alone || lines_padded > MAX_PADDED_LINES {
                    return Err(refuse());
                }
                last_error = Some((err.line, err.column));
                padded.insert(line_start, 1);
                continue;
            }
            last_error = Some((err.line, err.column));
            let quote = index.offset_of_line(err.line) + err.column.saturating_sub(1);
            let style = match padded.text.as_bytes().get(quote) {
                Some(b'\'') => ScalarStyle::SingleQuoted,
                Some(b'"') => ScalarStyle::DoubleQuoted,
                _ => return Err(refuse()),
            };
            let end = model::scalar_end(&padded.text, quote, style, "").ok_or_else(refuse)?;
            // Every continuation line is indented to the opening quote's column: right
            // of its key, whatever the key stands in.
            let want = err.column.saturating_sub(1);
            let mut at = padded.text[quote..end].find('\n').map(|i| quote + i + 1);
            let mut inserts = Vec::new();
            while let Some(line_start) = at.filter(|a| *a < end) {
                let line_end = padded.text[line_start..end]
                    .find('\n')
                    .map(|i| line_start + i + 1);
                let line = &padded.text[line_start..line_end.unwrap_or(end)];
                let own = line.chars().take_while(|c| *c == ' ').count();
                if !line.trim().is_empty() && own < want {
                    inserts.push((line_start, want - own));
                }
                at = line_end;
            }
            lines_padded += inserts.len();
            if inserts.is_empty() || lines_padded > MAX_PADDED_LINES {
                return Err(Refusal::Cannot(format!(
                    "line {}, column {}: {}",
                    err.line, err.column, err.message
                )));
            }
            // From the last line up, so that earlier offsets stay valid.
            for (line_start, amount) in inserts.into_iter().rev() {
                padded.insert(line_start, amount);
            }
        }
        if padded.pads.is_empty() {
            return Ok(padded);
        }
        let before = verify::libyaml_data(text)
            .map_err(|e| Refusal::Cannot(format!("libyaml cannot read it either: {e}")))?;
        let after = verify::libyaml_data(&padded.text)
            .map_err(|e| Refusal::Cannot(format!("libyaml cannot read it indented: {e}")))?;
        if before != after {
            return Err(Refusal::Cannot(
                "indenting its lines further would change its data".into(),
            ));
        }
        Ok(padded)
    }

    /// Whether any line was padded.
    #[cfg(test)]
    pub(crate) fn is_padded(&self) -> bool {
        !self.pads.is_empty()
    }

    /// Adds `amount` spaces at byte `at` (a line start) of the padded text.
    fn insert(&mut self, at: usize, amount: usize) {
        let original = self.to_original(at);
        self.text.insert_str(at, &" ".repeat(amount));
        match self.pads.binary_search_by_key(&original, |(o, _)| *o) {
            Ok(i) => self.pads[i].1 += amount,
            Err(i) => self.pads.insert(i, (original, amount)),
        }
    }

    /// The original's byte offset of the padded text's byte `at` (a position inside
    /// added spaces maps to the start of their line).
    pub(crate) fn to_original(&self, at: usize) -> usize {
        let mut shift = 0;
        for &(line_start, n) in &self.pads {
            if at < line_start + shift {
                break;
            }
            if at < line_start + shift + n {
                return line_start;
            }
            shift += n;
        }
        at - shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGO: &str =
        "status:\n  conditions:\n    - message: 'one two\n      three four'\n      reason: X\n";

    #[test]
    fn a_continuation_line_at_the_key_column_is_padded_and_maps_back() {
        assert!(model::parse(ARGO).is_err(), "yaml-rust2 refuses it");
        let padded = Padded::new(ARGO).expect("padded");
        assert!(padded.is_padded());
        assert!(model::parse(&padded.text).is_ok());
        let reason = padded.text.find("reason").expect("reason");
        assert_eq!(padded.to_original(reason), ARGO.find("reason").expect("r"));
        let quote = padded.text.find('\'').expect("quote");
        assert_eq!(padded.to_original(quote), ARGO.find('\'').expect("q"));
    }

    #[test]
    fn other_syntax_errors_are_not_padded() {
        let err = Padded::new("a: [1, 2\nb: 3\n").expect_err("malformed");
        assert_eq!(err, Refusal::NotLenient);
        // An indentation error that is not a lone closing bracket stands as it is.
        let err = Padded::new("a:\n  b: 1\n c: 2\n").expect_err("malformed");
        assert_eq!(err, Refusal::NotLenient);
    }

    /// `bitnami/chainloop/values.yaml`: `args: [` … `]` with the `]` at `args`' column.
    const CHAINLOOP: &str = "controlplane:\n  args: [\n    \"--log-level\", \"debug\"\n  ]\n  sso: {\n    enabled: false\n  }\n  tag: 1.0.0\n";

    #[test]
    fn a_closing_bracket_at_the_key_column_is_padded_and_maps_back() {
        assert!(model::parse(CHAINLOOP).is_err(), "yaml-rust2 refuses it");
        let padded = Padded::new(CHAINLOOP).expect("padded");
        assert!(padded.is_padded());
        // (yaml-rust2 reads the `}` there; only the `]` needs a space.)
        assert_eq!(padded.text, CHAINLOOP.replace("\n  ]", "\n   ]"));
        let tag = padded.text.find("1.0.0").expect("tag");
        assert_eq!(padded.to_original(tag), CHAINLOOP.find("1.0.0").expect("t"));
    }

    #[test]
    fn a_bracket_left_of_its_key_is_padded_until_it_reads() {
        let text = "a:\n  b:\n    args: [\n      x\n  ]\n";
        let padded = Padded::new(text).expect("padded");
        assert!(model::parse(&padded.text).is_ok());
        assert_eq!(
            verify::libyaml_data(text).expect("libyaml"),
            verify::libyaml_data(&padded.text).expect("libyaml")
        );
    }

    #[test]
    fn well_formed_text_is_left_alone() {
        let padded = Padded::new("a: 'x\n  y'\n").expect("reads");
        assert!(!padded.is_padded());
        assert_eq!(padded.to_original(5), 5);
    }
}
