//! Writing a new value into a scalar's place, in the scalar's own style.
//!
//! Plain stays plain unless the new text would read back as something other than that
//! exact string (a number, a boolean, null, a date, an indicator…), in which case it is
//! double-quoted. Single-quoted stays single-quoted unless the value cannot be written
//! that way (line breaks, control characters). Double-quoted stays double-quoted.

use super::model::ScalarStyle;

/// Where a scalar stands: flow collections (`{…}`, `[…]`) forbid more characters in
/// plain scalars than block context does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Block context.
    Block,
    /// Inside `{…}` or `[…]`.
    Flow,
}

/// Renders `value` for a scalar that is currently written in `style`.
pub fn render(value: &str, style: ScalarStyle, context: Context) -> String {
    render_typed(value, style, context, false)
}

/// Like [`render`]; `explicit_str` says the scalar carries a `!!str` tag, so a plain
/// value only has to be syntactically safe (`!!str 1.10` is already a string).
pub fn render_typed(
    value: &str,
    style: ScalarStyle,
    context: Context,
    explicit_str: bool,
) -> String {
    let plain_ok = if explicit_str {
        plain_is_syntactically_safe(value, context)
    } else {
        plain_is_safe(value, context)
    };
    match style {
        ScalarStyle::Plain if plain_ok => value.to_string(),
        ScalarStyle::SingleQuoted if single_is_safe(value) => single_quoted(value),
        _ => double_quoted(value),
    }
}

/// `'…'` with `'` doubled.
pub fn single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `"…"` with YAML escapes.
pub fn double_quoted(value: &str) -> String {
    quoted(value, |c, out| {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if is_unicode_special(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            _ => return false,
        }
        true
    })
}

/// `value` between double quotes, with the escapes YAML and JSON write alike (`\"`,
/// `\\`, `\n`, `\r`, `\t`) and, for any other character, what `escape` writes: it
/// appends the character's escape to the output and returns true, or returns false for
/// a character written as it is.
pub(crate) fn quoted(value: &str, mut escape: impl FnMut(char, &mut String) -> bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if escape(c, &mut out) => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_unicode_special(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') || ('\u{80}'..='\u{9f}').contains(&c)
}

fn single_is_safe(value: &str) -> bool {
    !value
        .chars()
        .any(|c| c.is_control() || c == '\u{feff}' || is_unicode_special(c))
}

/// Whether `value` can be written as a plain scalar and read back as exactly this string
/// by YAML 1.1 and 1.2 readers alike (Helm's Go YAML is 1.1-flavoured: `yes`, `on`,
/// `010`, `1:20` are not strings there).
pub fn plain_is_safe(value: &str, context: Context) -> bool {
    !resolves_to_non_string(value) && plain_is_syntactically_safe(value, context)
}

/// Whether `value` written plain reads back as this text (whatever type a schema then
/// gives it).
pub fn plain_is_syntactically_safe(value: &str, context: Context) -> bool {
    if value.is_empty()
        || value != value.trim()
        || value
            .chars()
            .any(|c| c.is_control() || c == '\u{feff}' || is_unicode_special(c))
    {
        return false;
    }
    let first = value.chars().next().unwrap_or(' ');
    let second = value.chars().nth(1);
    if matches!(
        first,
        ',' | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    // `?x` and `:x` are valid plain scalars for YAML 1.2 but not for every parser
    // (libyaml rejects them in flow context): always quote them. `-x` is fine.
    if matches!(first, '?' | ':')
        || (first == '-' && second.is_none_or(|c| c == ' ' || is_flow_indicator(c)))
    {
        return false;
    }
    if value == "<<" || value.starts_with("---") || value.starts_with("...") {
        return false;
    }
    if value.contains(": ") || value.contains(" #") || value.ends_with(':') {
        return false;
    }
    if context == Context::Flow && value.chars().any(is_flow_indicator) {
        return false;
    }
    if context == Context::Flow && value.contains(':') {
        // `a:b` inside `{}` is a key/value split for some readers.
        return false;
    }
    true
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '[' | ']' | '{' | '}')
}

/// Does a plain scalar with this text resolve to anything but a string under the YAML 1.2
/// core schema or the YAML 1.1 types (bool, int, float, null, timestamp, merge, value)?
pub fn resolves_to_non_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y",
        "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<", "=",
    ];
    if WORDS.contains(&value) {
        return true;
    }
    looks_numeric(value) || looks_like_timestamp(value)
}

/// Integers and floats in any YAML 1.1/1.2 notation: `10`, `010`, `0o7`, `0x1F`, `0b101`,
/// `1_000`, `1:20` (sexagesimal), `1.10`, `.5`, `1e3`, `+1`, `-2.5E-3`.
fn looks_numeric(value: &str) -> bool {
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    if body.is_empty() {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    for (prefix, digits) in [
        ("0x", "0123456789abcdef_"),
        ("0o", "01234567_"),
        ("0b", "01_"),
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            if !rest.is_empty() && rest.chars().all(|c| digits.contains(c)) {
                return true;
            }
        }
    }
    // Sexagesimal (YAML 1.1): 190:20:30 or 190:20:30.15
    if body.contains(':') {
        let mut parts = body.split(':');
        let head_ok = parts
            .next()
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_digit() || c == '_'));
        let tail: Vec<&str> = parts.collect();
        let tail_ok = tail.iter().enumerate().all(|(i, p)| {
            let p = if i + 1 == tail.len() {
                p.split('.').next().unwrap_or("")
            } else {
                p
            };
            !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit())
        });
        return head_ok && tail_ok;
    }
    // Decimal / float with optional underscores and exponent.
    let (mantissa, exponent) = match lower.find('e') {
        Some(i) => (&lower[..i], Some(&lower[i + 1..])),
        None => (lower.as_str(), None),
    };
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp.is_empty() || !exp.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let mut dots = 0;
    let mut digits = 0;
    for c in mantissa.chars() {
        match c {
            '0'..='9' => digits += 1,
            '_' => {}
            '.' => dots += 1,
            _ => return false,
        }
    }
    // `1.2.3` has too many dots to be a number for any reader (Go, PyYAML, libyaml).
    digits > 0 && dots <= 1
}

/// `2024-01-01`, `2001-12-14t21:59:43.10-05:00`…
fn looks_like_timestamp(value: &str) -> bool {
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..4) && b.get(4) == Some(&b'-')) {
        return false;
    }
    let rest = &value[5..];
    let mut parts = rest.splitn(2, '-');
    let month = parts.next().unwrap_or("");
    let day_and_time = parts.next().unwrap_or("");
    let day: String = day_and_time
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (1..=2).contains(&month.len())
        && month.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_that_would_change_type_are_quoted() {
        for v in [
            "1.10",
            "010",
            "true",
            "null",
            "~",
            "1e3",
            "0x1F",
            "yes",
            "on",
            "No",
            "2024-01-01",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "a: b",
            "a #b",
            "",
            " a",
            "a ",
            "-",
            "- a",
            "12",
            "+1",
            ".5",
            "1_000",
            "1:20",
            "---x",
            "<<",
            "=",
            "[a]",
            "{a}",
            "'a'",
            "\"a\"",
            "#a",
            "a\nb",
            ".inf",
            "0o17",
            "0b11",
        ] {
            assert!(!plain_is_safe(v, Context::Block), "{v:?} must be quoted");
        }
    }

    #[test]
    fn ordinary_tags_stay_plain() {
        for v in [
            "v1.2.3",
            "1.2.3",
            "latest",
            "main-abc1234",
            "sha-7f3c2e1",
            "2024.01.01-1",
            "1.10.0",
            "v010",
            "app:v2",
            "nginx:1.25",
            "a-b",
            "-a",
            "ghcr.io/org/app",
            "1.0.0-rc.1+build.5",
            "20240101",
            "abc_123",
        ] {
            let safe = plain_is_safe(v, Context::Block);
            let numeric = v.chars().all(|c| c.is_ascii_digit());
            assert_eq!(safe, !numeric, "{v:?}");
        }
    }

    #[test]
    fn flow_context_quotes_flow_indicators() {
        assert!(plain_is_safe("v1", Context::Flow));
        assert!(!plain_is_safe("a,b", Context::Flow));
        assert!(!plain_is_safe("nginx:1.25", Context::Flow));
        assert!(plain_is_safe("a,b", Context::Block));
    }

    #[test]
    fn styles_are_kept_where_possible() {
        assert_eq!(render("v2", ScalarStyle::Plain, Context::Block), "v2");
        assert_eq!(
            render("1.10", ScalarStyle::Plain, Context::Block),
            "\"1.10\""
        );
        assert_eq!(
            render("it's", ScalarStyle::SingleQuoted, Context::Block),
            "'it''s'"
        );
        assert_eq!(
            render("a\nb", ScalarStyle::SingleQuoted, Context::Block),
            "\"a\\nb\""
        );
        assert_eq!(
            render("q\"\\", ScalarStyle::DoubleQuoted, Context::Block),
            "\"q\\\"\\\\\""
        );
        assert_eq!(
            render("é✓", ScalarStyle::DoubleQuoted, Context::Block),
            "\"é✓\""
        );
    }
}
