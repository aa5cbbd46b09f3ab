//! The YAML type of a scalar, and the rule that keeps numbers and booleans typed.
//!
//! Types are resolved as Helm's Go YAML (go-yaml v2, YAML 1.1) resolves a plain
//! scalar: `yes`/`on`/`true` are booleans, `010` is an octal integer, `1.10` is the float
//! 1.1. A value is only written plain as a number or boolean when it is in *canonical*
//! form — the text Helm renders for the value it reads (`{{ .Values.x }}`) — so that a
//! plain value never reads back as something other than what was written: `3`, `-2`,
//! `0.75`, `true`, `false`; not `010` (8), `1.10` (1.1), `2.0` (2), `1e3`, `yes`.

use std::fmt;

/// What a scalar's value is for a YAML 1.1 reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// A string (quoted, block, tagged `!!str`, or plain text no rule resolves).
    String,
    /// An integer.
    Int,
    /// A floating-point number.
    Float,
    /// A boolean.
    Bool,
    /// Null: empty, `~`, `null`.
    Null,
}

impl ScalarType {
    /// `string`, `int`, `float`, `bool`, `null`.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::String => "string",
            ScalarType::Int => "int",
            ScalarType::Float => "float",
            ScalarType::Bool => "bool",
            ScalarType::Null => "null",
        }
    }

    /// Int, float and bool: the types `set` keeps.
    pub fn is_typed(self) -> bool {
        matches!(self, ScalarType::Int | ScalarType::Float | ScalarType::Bool)
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value's type before and after an edit, when they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeChange {
    /// The old value's type.
    pub from: ScalarType,
    /// The new value's type.
    pub to: ScalarType,
}

impl fmt::Display for TypeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.from, self.to)
    }
}

/// The type an edit gives the new value.
// With the `clap` feature, a command-line value (`auto`, `string`, …) with a short help.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ValueType {
    /// Keep the old value's type where the new text is that type in canonical form
    /// (`replicas: 1` → `3`, `enabled: true` → `false`); otherwise a string, quoted
    /// where plain text would read as something else (`tag: 1.9` → `"1.10"`).
    #[default]
    #[cfg_attr(
        feature = "clap",
        value(help = "Keep an int, float or bool where the new value is one; else a string")
    )]
    Auto,
    /// Always a string.
    #[cfg_attr(feature = "clap", value(help = "A string"))]
    String,
    /// An integer, written plain (the value must be one, in canonical form).
    #[cfg_attr(feature = "clap", value(help = "An integer"))]
    Int,
    /// A float, written plain (the value must read as a float).
    #[cfg_attr(feature = "clap", value(help = "A floating-point number"))]
    Float,
    /// `true` or `false`, written plain.
    #[cfg_attr(feature = "clap", value(help = "true or false"))]
    Bool,
}

impl ValueType {
    /// The type asked for, `None` for [`ValueType::Auto`].
    pub fn explicit(self) -> Option<ScalarType> {
        match self {
            ValueType::Auto => None,
            ValueType::String => Some(ScalarType::String),
            ValueType::Int => Some(ScalarType::Int),
            ValueType::Float => Some(ScalarType::Float),
            ValueType::Bool => Some(ScalarType::Bool),
        }
    }

    /// Whether `value` can be written as this type; the error says why not.
    pub fn check(self, value: &str) -> Result<(), String> {
        let want = match self.explicit() {
            None | Some(ScalarType::String) => return Ok(()),
            Some(t) => t,
        };
        let fits = match want {
            // Readers agree on `true` / `false` only (`yes` is a string for YAML 1.2).
            ScalarType::Bool => value == "true" || value == "false",
            ScalarType::Int => is_canonical(ScalarType::Int, value),
            ScalarType::Float => {
                plain_type(value) == ScalarType::Float
                    && !value.contains('_')
                    && value.parse::<f64>().is_ok_and(f64::is_finite)
            }
            _ => false,
        };
        if fits {
            return Ok(());
        }
        let example = match want {
            ScalarType::Bool => "true or false",
            ScalarType::Int => "a decimal integer such as 3 or -2, without leading zeros",
            _ => "a decimal number with a point, such as 0.75",
        };
        Err(format!(
            "{value:?} is not {} {want}: give {example}",
            if want == ScalarType::Int { "an" } else { "a" }
        ))
    }
}

/// How go-yaml v2 (Helm) resolves a plain, untagged scalar with this text.
pub fn plain_type(text: &str) -> ScalarType {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "n"
        | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return ScalarType::Bool
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarType::Float,
        _ => {}
    }
    // go-yaml drops every `_` before reading a number.
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if is_int(&plain) {
        ScalarType::Int
    } else if is_float(&plain) {
        ScalarType::Float
    } else {
        ScalarType::String
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` (or `ParseUint`): decimal, `0x`, `0o`, `0b`, and a
/// leading `0` for octal, with a sign, within 64 bits.
fn is_int(s: &str) -> bool {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(rest) = lower.strip_prefix("0x") {
        (rest, 16)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (rest, 8)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (rest, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(n) => !negative || n <= 1 << 63,
        Err(_) => false,
    }
}

/// go-yaml's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => !int.is_empty() && digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    }
}

/// Whether `text` written plain reads as a `ty` whose canonical text is `text` itself:
/// what Helm renders for it is what was written.
pub fn is_canonical(ty: ScalarType, text: &str) -> bool {
    if plain_type(text) != ty {
        return false;
    }
    match ty {
        ScalarType::Bool => text == "true" || text == "false",
        ScalarType::Int => {
            let body = text.strip_prefix('-').unwrap_or(text);
            let decimal = !body.is_empty()
                && body.bytes().all(|b| b.is_ascii_digit())
                && (body == "0" || !body.starts_with('0'));
            decimal && text != "-0" && text.parse::<i64>().is_ok()
        }
        ScalarType::Float => {
            // Go prints floats in their shortest form, with an exponent outside
            // 1e-4 ≤ |x| < 1e6 and without a point for whole numbers: only the forms
            // Rust's shortest `Display` shares with it are canonical.
            let Ok(x) = text.parse::<f64>() else {
                return false;
            };
            let magnitude = x.abs();
            x.is_finite()
                && (1e-4..1e6).contains(&magnitude)
                && text.contains('.')
                && format!("{x}") == text
        }
        ScalarType::String | ScalarType::Null => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_go_yaml_reads_them() {
        for (text, ty) in [
            ("3", ScalarType::Int),
            ("-2", ScalarType::Int),
            ("010", ScalarType::Int),
            ("0x1F", ScalarType::Int),
            ("1_000", ScalarType::Int),
            ("0.75", ScalarType::Float),
            ("1.10", ScalarType::Float),
            (".5", ScalarType::Float),
            ("1e3", ScalarType::Float),
            ("99999999999999999999", ScalarType::Float),
            (".inf", ScalarType::Float),
            ("true", ScalarType::Bool),
            ("yes", ScalarType::Bool),
            ("Off", ScalarType::Bool),
            ("", ScalarType::Null),
            ("~", ScalarType::Null),
            ("v1", ScalarType::String),
            ("1.2.3", ScalarType::String),
            ("1:20", ScalarType::String),
            ("0x", ScalarType::String),
            ("1e", ScalarType::String),
            ("09", ScalarType::Float),
        ] {
            assert_eq!(plain_type(text), ty, "{text:?}");
        }
    }

    #[test]
    fn canonical_texts_are_what_helm_renders() {
        for text in [
            "3", "0", "-2", "0.75", "1.5", "-0.5", "0.0001", "true", "false",
        ] {
            let ty = plain_type(text);
            assert!(is_canonical(ty, text), "{text:?}");
        }
        for text in [
            "010",
            "+3",
            "1_000",
            "0x1F",
            "-0",
            "1.10",
            "2.0",
            "1e3",
            "0.00001",
            "1000000.5",
            "yes",
            "True",
            ".5",
        ] {
            assert!(!is_canonical(plain_type(text), text), "{text:?}");
        }
    }

    #[test]
    fn an_explicit_type_checks_the_value() {
        assert!(ValueType::Int.check("3").is_ok());
        assert!(ValueType::Int.check("010").is_err());
        assert!(ValueType::Int.check("three").is_err());
        assert!(ValueType::Float.check("2.0").is_ok());
        assert!(ValueType::Float.check("2").is_err());
        assert!(ValueType::Bool.check("false").is_ok());
        assert!(ValueType::Bool.check("yes").is_err());
        assert!(ValueType::String.check("anything").is_ok());
        assert_eq!(
            ValueType::Int.check("x").expect_err("not an int"),
            "\"x\" is not an int: give a decimal integer such as 3 or -2, without leading zeros"
        );
    }
}
