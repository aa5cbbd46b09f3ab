//! The bytes that write a new value: into an existing scalar, or as new keys.

use super::EditError;
use crate::block;
use crate::model::{Document, LineIndex, Node, NodeKind, ScalarStyle};
use crate::path::{KeyPath, Segment};
use crate::scalar::{self, Context};
use crate::verify;

/// A byte range to replace.
pub(super) struct Splice {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The splice that writes `value` into the scalar `node`: as a string in the scalar's
/// style, or (`plain`: an int, float or bool) as plain text in place of the old scalar.
pub(super) fn scalar_splice(
    text: &str,
    node: &Node,
    key: Option<&Node>,
    value: &str,
    plain: bool,
    context: Context,
    newline: &str,
) -> Option<Splice> {
    let NodeKind::Scalar(sc) = &node.kind else {
        return None;
    };
    match sc.style {
        _ if plain && !sc.span.is_empty() => Some(Splice {
            start: sc.span.start,
            end: sc.span.end,
            text: value.to_string(),
        }),
        ScalarStyle::Literal | ScalarStyle::Folded => {
            block::rewrite(text, sc.span.start, value, newline).map(|r| Splice {
                start: r.range.start,
                end: r.range.end,
                text: r.text,
            })
        }
        _ if sc.span.is_empty() => {
            // `key:` with an empty value: write after the colon.
            let key = key?;
            let after_key = &text[key.end..];
            let colon = after_key.find(':')?;
            if !after_key[..colon].trim().is_empty() {
                return None;
            }
            let at = key.end + colon + 1;
            let mut rendered = String::new();
            if node.tag.is_some() || node.anchor.is_some() {
                // `key: !tag` / `key: &a` with an empty value: the value goes after them.
                return None;
            }
            rendered.push(' ');
            if plain {
                rendered.push_str(value);
            } else {
                rendered.push_str(&scalar::render(value, ScalarStyle::Plain, context));
            }
            // Keep at most the spaces that were there before a trailing comment.
            Some(Splice {
                start: at,
                end: at,
                text: rendered,
            })
        }
        style => Some(Splice {
            start: sc.span.start,
            end: sc.span.end,
            text: scalar::render_typed(
                value,
                style,
                context,
                node.tag.as_deref().is_some_and(verify::is_str_tag),
            ),
        }),
    }
}

/// The splice that adds the missing keys of `path` under `node` (the deepest existing
/// mapping), indented like its siblings. Returns the splice and the created keys.
#[allow(clippy::too_many_arguments)]
pub(super) fn create(
    text: &str,
    doc: &Document,
    node: &Node,
    path: &KeyPath,
    depth: usize,
    value: &str,
    plain: bool,
    newline: &str,
    lines: &LineIndex,
) -> Result<(Splice, Vec<String>), EditError> {
    let cannot = |reason: &str| EditError::CannotCreate {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let mut keys = Vec::new();
    for seg in &path.segments()[depth..] {
        match seg {
            Segment::Key(k) => keys.push(k.clone()),
            Segment::Index(_) => {
                return Err(cannot("sequence items are not created; only mapping keys"))
            }
        }
    }
    let NodeKind::Mapping { entries, flow } = &node.kind else {
        return Err(cannot(&format!(
            "{} at line {} is {}, keys can only be added to a non-empty block mapping",
            path.prefix(depth),
            lines.line(node.start),
            node.describe()
        )));
    };
    if *flow || entries.is_empty() {
        return Err(cannot(&format!(
            "{} at line {} is a flow or empty mapping; add the key by hand once",
            path.prefix(depth),
            lines.line(node.start)
        )));
    }
    let Some((first_key, _)) = entries.first() else {
        return Err(cannot("empty mapping"));
    };
    let indent = lines.column(first_key.start) - 1;
    let step = indent_step(doc, lines);
    // After the line that ends the mapping's last value.
    let end = node.end;
    // At the end of a file without a final newline the new lines go after a line break
    // of their own, and the file still ends without one.
    let (at, at_end) = match text[end..].find('\n') {
        Some(i) => (end + i + 1, false),
        None => (text.len(), true),
    };
    let mut out = String::new();
    for (n, key) in keys.iter().enumerate() {
        if at_end {
            out.push_str(newline);
        }
        out.push_str(&" ".repeat(indent + n * step));
        let key_text = if scalar::plain_is_safe(key, Context::Block) {
            key.clone()
        } else {
            scalar::double_quoted(key)
        };
        out.push_str(&key_text);
        out.push(':');
        if n + 1 == keys.len() {
            out.push(' ');
            if plain {
                out.push_str(value);
            } else {
                out.push_str(&scalar::render(value, ScalarStyle::Plain, Context::Block));
            }
        }
        if !at_end {
            out.push_str(newline);
        }
    }
    Ok((
        Splice {
            start: at,
            end: at,
            text: out,
        },
        keys,
    ))
}

/// The document's indentation step: how far a nested block mapping is indented from its
/// parent's keys (2 when nothing is nested).
fn indent_step(doc: &Document, lines: &LineIndex) -> usize {
    fn walk(node: &Node, parent_col: Option<usize>, lines: &LineIndex) -> Option<usize> {
        match &node.kind {
            NodeKind::Mapping {
                entries,
                flow: false,
            } => {
                let col = entries.first().map(|(k, _)| lines.column(k.start))?;
                if let Some(p) = parent_col {
                    if col > p {
                        return Some(col - p);
                    }
                }
                entries.iter().find_map(|(_, v)| walk(v, Some(col), lines))
            }
            _ => None,
        }
    }
    doc.root
        .as_ref()
        .and_then(|r| walk(r, None, lines))
        .unwrap_or(2)
}
