//! How Go's `gopkg.in/yaml.v3` (as `sigs.k8s.io/yaml/goyaml.v3`, which Argo CD Image
//! Updater marshals its override files with) writes a string scalar in block
//! context: plain when the text reads back as the same string, double-quoted when a
//! plain scalar would resolve to another type (`resolve.go`: null, bool, int, float,
//! timestamp; and the YAML 1.1 booleans `yes`/`no`/`on`/`off`, base-60 floats that
//! `encode.go` quotes for compatibility), single-quoted when the emitter cannot write
//! it plain (`emitterc.go`, `yaml_emitter_analyze_scalar`), double-quoted when it has
//! characters only double quotes can escape.

/// `s` as yaml.v3 writes a string value.
pub fn scalar(s: &str) -> String {
    if s.is_empty() {
        return "\"\"".to_string();
    }
    if !printable(s) {
        return double_quoted(s);
    }
    if resolves_to_other_type(s) {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn printable(s: &str) -> bool {
    s.chars()
        .all(|c| c == ' ' || (!c.is_control() && c != '\u{feff}'))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a plain scalar `s` would be read as something other than a string.
fn resolves_to_other_type(s: &str) -> bool {
    const SPECIAL: [&str; 25] = [
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", ".inf",
        ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
        ".NAN", "<<", "=", "",
    ];
    const OLD_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
        "OFF",
    ];
    if SPECIAL.contains(&s) || OLD_BOOLS.contains(&s) {
        return true;
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return false;
    }
    is_int(s) || is_float(s) || is_base60(s) || is_timestamp(s)
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` shapes, underscores included.
fn is_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits =
        |t: &str, ok: fn(char) -> bool| !t.is_empty() && t.chars().all(|c| ok(c) || c == '_');
    if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        return digits(h, |c| c.is_ascii_hexdigit());
    }
    if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        return digits(o, |c| ('0'..='7').contains(&c));
    }
    if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        return digits(b, |c| c == '0' || c == '1');
    }
    !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '_')
        && body.starts_with(|c: char| c.is_ascii_digit())
}

/// yaml.v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => digits(e.strip_prefix(['+', '-']).unwrap_or(e)),
    };
    mantissa_ok && exponent_ok
}

/// YAML 1.1 base-60 numbers (`1:20`, `190:20:30.15`), which `encode.go` quotes.
fn is_base60(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, _frac) = b.split_once('.').unwrap_or((b, ""));
    let mut parts = main.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_')
        && rest.iter().all(|p| {
            (1..=2).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u8>().is_ok_and(|n| n < 60)
        })
}

/// The timestamp shapes yaml.v3 tries (`2006-1-2`, with an optional time part).
fn is_timestamp(s: &str) -> bool {
    let date_len = s.find(['T', 't', ' ']).unwrap_or(s.len());
    let date: Vec<&str> = s[..date_len].split('-').collect();
    date.len() == 3
        && date[0].len() == 4
        && date
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
        && date[1].len() <= 2
        && date[2].len() <= 2
}

/// The emitter's rule for plain scalars in block context.
fn plain_allowed(s: &str) -> bool {
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_blank = next.is_none_or(|n| n == ' ');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => return false,
                '?' | ':' | '-' if followed_by_blank => return false,
                _ => {}
            }
        } else {
            if c == ':' && followed_by_blank {
                return false;
            }
            if c == '#' && chars[i - 1] == ' ' {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_tags_and_digests_are_plain() {
        for s in [
            "ghcr.io/acme/api",
            "v1.5.0",
            "1.5.0",
            "1.5.0@sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
            "ghcr.io/acme/api:1.5.0",
            "nginx=registry.example.com/mirror/nginx:1.27",
            "latest",
            "image.tag",
        ] {
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn strings_that_read_as_other_types_are_double_quoted() {
        for s in [
            "1.10",
            "2",
            "0755",
            "1e3",
            "true",
            "yes",
            "off",
            "null",
            "~",
            "2024-01-01",
            "1:20",
            "0x1F",
            ".5",
        ] {
            assert_eq!(scalar(s), format!("\"{s}\""), "{s}");
        }
        assert_eq!(scalar(""), "\"\"");
    }

    #[test]
    fn strings_the_emitter_cannot_write_plain_are_single_quoted() {
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("*x"), "'*x'");
        assert_eq!(scalar("- x"), "'- x'");
        assert_eq!(scalar("it's #1"), "'it''s #1'");
        assert_eq!(scalar("line\nbreak"), "\"line\\nbreak\"");
    }
}
