//! The status as a text table and as Markdown (one row per image, one column per
//! environment: for a pull request comment or `$GITHUB_STEP_SUMMARY`).

use super::status::{EnvState, Status};

/// A digest as a table shows it: the algorithm and the first 12 hex digits.
fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d.to_string(),
    }
}

/// One cell: `TAG`, `TAG@sha256:0123456789ab…`, `@sha256:…` for a digest alone,
/// `(untagged)`, or `conflict: A, B` when the places disagree.
fn cell(state: &EnvState) -> String {
    if !state.conflicts.is_empty() {
        let mut seen: Vec<String> = Vec::new();
        for c in &state.conflicts {
            let v = value(c.tag.as_deref(), c.digest.as_deref());
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        return format!("conflict: {}", seen.join(", "));
    }
    value(state.tag.as_deref(), state.digest.as_deref())
}

fn value(tag: Option<&str>, digest: Option<&str>) -> String {
    match (tag, digest) {
        (Some(t), Some(d)) => format!("{t}@{}", short_digest(d)),
        (Some(t), None) => t.to_string(),
        (None, Some(d)) => format!("@{}", short_digest(d)),
        (None, None) => "(untagged)".to_string(),
    }
}

fn places(state: &EnvState) -> String {
    match state.places {
        1 => " (1 place)".to_string(),
        n => format!(" ({n} places)"),
    }
}

impl Status {
    /// A table: a column per environment, a row per image, then whether it is in
    /// sync. `-` where an environment does not reference the image.
    pub fn to_text(&self) -> String {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["IMAGE".to_string()];
        head.extend(self.environments.iter().cloned());
        head.push("IN SYNC".to_string());
        rows.push(head);
        for image in &self.images {
            let mut row = vec![image.image.clone()];
            row.extend(image.environments.iter().map(|(_, s)| match s {
                Some(s) => format!("{}{}", cell(s), places(s)),
                None => "-".to_string(),
            }));
            row.push(if image.in_sync { "yes" } else { "no" }.to_string());
            rows.push(row);
        }
        let columns = rows[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (i, value) in row.iter().enumerate() {
                if i + 1 == columns {
                    line.push_str(value);
                } else {
                    line.push_str(value);
                    line.push_str(&" ".repeat(widths[i] - value.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if self.images.is_empty() {
            out.push_str("(no image is referenced under the environments' paths)\n");
        }
        out
    }

    /// A Markdown table: a row per image, a column per environment, values in code
    /// spans, `—` where an environment does not reference the image, and a last
    /// column saying whether the image is in sync.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| Image |");
        for env in &self.environments {
            out.push_str(&format!(" {} |", escape(env)));
        }
        out.push_str(" In sync |\n|---|");
        for _ in &self.environments {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        for image in &self.images {
            out.push_str(&format!("| `{}` |", image.image));
            for (_, state) in &image.environments {
                match state {
                    Some(s) if !s.conflicts.is_empty() => {
                        let mut seen: Vec<String> = Vec::new();
                        for c in &s.conflicts {
                            let v = format!("`{}`", value(c.tag.as_deref(), c.digest.as_deref()));
                            if !seen.contains(&v) {
                                seen.push(v);
                            }
                        }
                        out.push_str(&format!(" conflict: {} |", seen.join(", ")));
                    }
                    Some(s) => out.push_str(&format!(" `{}` |", cell(s))),
                    None => out.push_str(" — |"),
                }
            }
            out.push_str(if image.in_sync {
                " yes |\n"
            } else {
                " **no** |\n"
            });
        }
        out
    }
}

/// A table cell's text with `|` escaped.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}
