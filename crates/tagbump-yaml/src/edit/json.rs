//! Editing JSON: JSON is YAML flow syntax, so the YAML editor finds the span of a value
//! and leaves every other byte alone; what it writes there is JSON, and the result is
//! read back with serde_json before it is returned.

use serde_json::Value;

use super::{apply, apply_syntax, EditError, EditOptions, Outcome};
use crate::model::{Node, NodeKind};
use crate::path::{KeyPath, Segment};
use crate::typed::ScalarType;
use crate::Edit;

use super::splice::Splice;

/// The syntax of a text, which decides how new values are written: YAML in the
/// scalar's own style ([`apply`]), or JSON ([`apply_json`]): a double-quoted JSON string,
/// or a JSON number or boolean where one stood.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// YAML.
    #[default]
    Yaml,
    /// JSON (read as YAML flow syntax, written as JSON).
    Json,
}

/// [`apply`] or [`apply_json`], as `syntax` says.
pub fn apply_as(
    syntax: Syntax,
    text: &str,
    edits: &[Edit],
    options: EditOptions,
) -> Result<Outcome, EditError> {
    match syntax {
        Syntax::Yaml => apply(text, edits, options),
        Syntax::Json => apply_json(text, edits, options),
    }
}

/// Applies `edits` to the JSON text `text`, byte-exactly like [`apply`](super::apply):
/// only the bytes of edited values change. A new value is written as a double-quoted
/// JSON string with JSON escapes ([`json_string`]), or, where a JSON number or boolean
/// stood and the new value is one of the same type in canonical form (`3`, `false`,
/// `0.75`), as that number or boolean; an explicit [`ValueType`](crate::ValueType)
/// asks for one. Keys are never created ([`EditError::CannotCreate`]).
///
/// The text must be JSON ([`EditError::NotJson`] otherwise). Besides the YAML safety
/// net, the result is read with serde_json and must equal the original with exactly
/// the new values ([`EditError::JsonSafetyNet`] otherwise).
pub fn apply_json(text: &str, edits: &[Edit], options: EditOptions) -> Result<Outcome, EditError> {
    let original = parse(text).map_err(|e| EditError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let (outcome, written) = apply_syntax(text, edits, options, Syntax::Json)?;
    if outcome.text == text {
        return Ok(outcome);
    }
    let net = |reason: String| EditError::JsonSafetyNet { reason };
    let actual = parse(&outcome.text).map_err(|e| net(format!("the result is not JSON: {e}")))?;
    let mut expected = original;
    for (document, path, value, ty) in written {
        if document != 0 {
            return Err(net(format!("{path} was written in document {document}")));
        }
        let new = match ty {
            ScalarType::String => Value::String(value),
            _ => serde_json::from_str(&value)
                .map_err(|e| net(format!("{path}: {value:?} is not a JSON {ty}: {e}")))?,
        };
        let place = at(&mut expected, &path)
            .ok_or_else(|| net(format!("{path} is not in the original")))?;
        *place = new;
    }
    if actual != expected {
        return Err(net("the result differs from the intended data".into()));
    }
    Ok(outcome)
}

/// `text` read by serde_json, after a byte order mark (which serde_json refuses).
fn parse(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The value at `path` in `value`.
fn at<'v>(value: &'v mut Value, path: &KeyPath) -> Option<&'v mut Value> {
    path.segments()
        .iter()
        .try_fold(value, |value, segment| match segment {
            Segment::Key(key) => value.as_object_mut()?.get_mut(key),
            Segment::Index(i) => value.as_array_mut()?.get_mut(*i),
        })
}

/// Whether `value` is a JSON literal of type `ty` (a number for int and float, `true`
/// or `false` for bool).
pub(super) fn is_literal(ty: ScalarType, value: &str) -> bool {
    match (ty, serde_json::from_str::<Value>(value)) {
        (ScalarType::Int, Ok(Value::Number(n))) => n.is_i64() || n.is_u64(),
        (ScalarType::Float, Ok(Value::Number(_))) => true,
        (ScalarType::Bool, Ok(Value::Bool(_))) => true,
        _ => false,
    }
}

/// The splice that writes `value` over the JSON value `node`: as a JSON string, or
/// (`plain`: a number or boolean) as its text.
pub(super) fn splice(node: &Node, value: &str, plain: bool) -> Option<Splice> {
    let NodeKind::Scalar(sc) = &node.kind else {
        return None;
    };
    if sc.span.is_empty() || node.tag.is_some() || node.anchor.is_some() {
        return None;
    }
    Some(Splice {
        start: sc.span.start,
        end: sc.span.end,
        text: if plain {
            value.to_string()
        } else {
            json_string(value)
        },
    })
}

/// `value` as a double-quoted JSON string, which YAML reads as the same string: `"`,
/// `\` and control characters escaped the JSON way (`\n`, `\t`, `\u001b`, never YAML's
/// `\x1B` or `\0`), and `\uXXXX` also for the characters YAML does not take as they
/// are (DEL, C1 controls, NEL, line and paragraph separators, byte order marks,
/// U+FFFE and U+FFFF).
pub fn json_string(value: &str) -> String {
    crate::scalar::quoted(value, |c, out| {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            _ => return false,
        }
        true
    })
}

#[cfg(test)]
mod tests;
