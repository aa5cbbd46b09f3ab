//! `{placeholder}` templates for commit messages, branch names and PR titles.

use std::collections::BTreeMap;

/// Replaces each `{name}` whose name is in `vars`; other braces are left as they are.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if vars.contains_key(&after[..close]) => {
                out.push_str(&vars[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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

    #[test]
    fn slugs_are_branch_safe() {
        assert_eq!(slug("ghcr.io/acme/api:v1.2"), "ghcr.io-acme-api-v1.2");
        assert_eq!(slug("  "), "update");
        assert_eq!(slug("a..b"), "a.b");
    }
}
