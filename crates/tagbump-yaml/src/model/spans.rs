//! Where a scalar's text ends, from its style, checked against its parsed value.

use super::{block, ScalarStyle};

/// Works out where a scalar that starts at `start` ends, and checks that the raw text
/// there really reads back as `value`.
pub(crate) fn scalar_end(
    text: &str,
    start: usize,
    style: ScalarStyle,
    value: &str,
) -> Option<usize> {
    let rest = text.get(start..)?;
    match style {
        ScalarStyle::Plain => plain_end(rest, value).map(|n| start + n),
        ScalarStyle::SingleQuoted => {
            let bytes = rest.as_bytes();
            if bytes.first() != Some(&b'\'') {
                return None;
            }
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(start + i + 1);
                }
                i += 1;
            }
            None
        }
        ScalarStyle::DoubleQuoted => {
            let bytes = rest.as_bytes();
            if bytes.first() != Some(&b'"') {
                return None;
            }
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(start + i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        ScalarStyle::Literal | ScalarStyle::Folded => block::layout(text, start).map(|b| b.end),
    }
}

/// Length of a plain scalar's raw text at the start of `rest`.
fn plain_end(rest: &str, value: &str) -> Option<usize> {
    if rest.starts_with(value) {
        return Some(value.len());
    }
    // A multi-line plain scalar: lines are folded into one with single spaces (empty
    // lines become line breaks). Try each line end as the scalar's end until the folded
    // text equals the value.
    let mut offset = 0;
    for (n, line) in rest.split_inclusive('\n').enumerate() {
        if n > 1000 {
            break;
        }
        let content = line.trim_end_matches(['\n', '\r']);
        let end = offset + content.trim_end_matches([' ', '\t']).len();
        offset += line.len();
        if n == 0 || content.trim().is_empty() {
            continue;
        }
        if fold_plain(&rest[..end]) == value {
            return Some(end);
        }
    }
    None
}

/// Folds a multi-line plain scalar's raw text the way a YAML parser does.
fn fold_plain(raw: &str) -> String {
    let mut out = String::new();
    let mut empties = 0;
    for (n, line) in raw.lines().enumerate() {
        let line = if n == 0 { line.trim_end() } else { line.trim() };
        if line.is_empty() {
            empties += 1;
            continue;
        }
        if n > 0 {
            if empties == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', empties));
            }
        }
        empties = 0;
        out.push_str(line);
    }
    out
}
