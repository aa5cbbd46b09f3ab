//! `{placeholder}` templates for commit messages, branch names, pull-request titles
//! and bodies: the one template engine of the crate.
//!
//! A placeholder is `{name}`, the name made of ASCII letters, digits, `_`, `-` and
//! `.`. A placeholder whose name has a value is replaced by it; any other brace (an
//! unknown name, `{ x }`, `{}`, a lone `{` or `}`) stays as it is written. Substituted
//! text is never expanded again, so a value may contain braces.

use std::collections::BTreeMap;

/// Replaces each `{name}` whose name is in `vars`; every other brace is left as it is
/// (see the [module documentation](self)).
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> String {
    render_with(template, |name, out| match vars.get(name) {
        Some(value) => {
            out.push_str(value);
            true
        }
        None => false,
    })
}

/// The engine behind [`render`]: for each `{name}`, `fill(name, out)` appends the value
/// to `out` and returns `true`, or returns `false` (appending nothing) to keep the
/// placeholder as written.
pub(crate) fn render_with(
    template: &str,
    mut fill: impl FnMut(&str, &mut String) -> bool,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if !name.is_empty() && after[name_len..].starts_with('}') {
            if !fill(name, &mut out) {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Turns text into a git-branch-safe slug: `ghcr.io/acme/api:v1.2` → `ghcr.io-acme-api-v1.2`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(['-', '.']).replace("..", ".");
    if trimmed.is_empty() {
        "update".to_string()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_placeholders_only() {
        let mut vars = BTreeMap::new();
        vars.insert("image".to_string(), "api".to_string());
        vars.insert("tag".to_string(), "v2".to_string());
        assert_eq!(
            render("bump {image} to {tag} {unknown} {", &vars),
            "bump api to v2 {unknown} {"
        );
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn stray_braces_and_unknown_or_malformed_placeholders_stay_as_written() {
        let vars = vars(&[("tag", "v2")]);
        for text in [
            "{", "}", "{}", "{ tag }", "{tag", "tag}", "{tag x}", "{ta g}", "{{", "}}{",
        ] {
            assert_eq!(render(text, &vars), text, "{text:?}");
        }
        assert_eq!(render("{{tag}}", &vars), "{v2}");
        assert_eq!(render("{{tag}", &vars), "{v2");
        assert_eq!(render("x{tag}y{tag}z", &vars), "xv2yv2z");
    }

    #[test]
    fn names_may_hold_dots_dashes_and_underscores() {
        let vars = vars(&[("ci.url", "U"), ("image_slug", "S"), ("a-b", "D")]);
        assert_eq!(
            render("{ci.url} {image_slug} {a-b} {a_b}", &vars),
            "U S D {a_b}"
        );
    }

    #[test]
    fn values_are_not_expanded_again() {
        let vars = vars(&[("a", "{b}"), ("b", "no")]);
        assert_eq!(render("{a}", &vars), "{b}");
    }

    #[test]
    fn text_around_placeholders_keeps_multibyte_characters() {
        let vars = vars(&[("tag", "1.2")]);
        assert_eq!(render("→ {tag} ✓ {ü}", &vars), "→ 1.2 ✓ {ü}");
    }

    #[test]
    fn render_with_sees_each_name_once_in_order() {
        let mut seen = Vec::new();
        let out = render_with("{a}-{b}-{a}", |name, out| {
            seen.push(name.to_string());
            if name == "b" {
                out.push('B');
                true
            } else {
                false
            }
        });
        assert_eq!(out, "{a}-B-{a}");
        assert_eq!(seen, ["a", "b", "a"]);
    }

    #[test]
    fn slugs_are_branch_safe() {
        assert_eq!(slug("ghcr.io/acme/api:v1.2"), "ghcr.io-acme-api-v1.2");
        assert_eq!(slug("  "), "update");
        assert_eq!(slug("a..b"), "a.b");
    }
}
