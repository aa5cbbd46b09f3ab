//! An error and its causes as one line of text.

use std::error::Error;

/// The error and its causes joined by `: ` (like anyhow's `{:#}`), leaving out a cause
/// whose text is already part of an outer message (library errors often repeat their
/// source in their own message), and a cause's leading `FILE: ` under a message that
/// already says `in FILE`. `words` may put a cause in other words (`None`: its own
/// text), e.g. a command line's names for what was missing.
pub fn error_text(
    error: &(dyn Error + 'static),
    words: &dyn Fn(&(dyn Error + 'static)) -> Option<String>,
) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        cause = e.source();
        let mut part = words(e).unwrap_or_else(|| e.to_string());
        if text.contains(&part) {
            continue;
        }
        // `FILE: why` under a context that already says `in FILE`: the file once.
        if let Some((file, why)) = part.split_once(": ") {
            if text.contains(&format!(" in {file}")) {
                part = why.to_string();
            }
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message with an optional cause.
    #[derive(Debug)]
    struct Msg(&'static str, Option<Box<Msg>>);

    impl std::fmt::Display for Msg {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Msg {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|m| m as _)
        }
    }

    fn chain(parts: &[&'static str]) -> Msg {
        let (last, outer) = parts.split_last().expect("a part");
        outer
            .iter()
            .rev()
            .fold(Msg(last, None), |inner, m| Msg(m, Some(Box::new(inner))))
    }

    #[test]
    fn a_cause_repeated_by_its_parent_is_printed_once() {
        let own = |_: &(dyn Error + 'static)| None;
        let repeated = chain(&["cannot apply x", "writing failed: disk full", "disk full"]);
        assert_eq!(
            error_text(&repeated, &own),
            "cannot apply x: writing failed: disk full"
        );
        assert_eq!(
            error_text(&chain(&["outer", "root cause"]), &own),
            "outer: root cause"
        );
        let file = chain(&[
            "cannot apply x=1 in a.yaml",
            "a.yaml: malformed YAML at line 9",
        ]);
        assert_eq!(
            error_text(&file, &own),
            "cannot apply x=1 in a.yaml: malformed YAML at line 9"
        );
    }

    #[test]
    fn a_cause_may_be_put_in_other_words() {
        let words = |e: &(dyn Error + 'static)| {
            (e.to_string() == "no key").then(|| "no key: pass --key".to_string())
        };
        assert_eq!(
            error_text(&chain(&["cannot sign", "no key"]), &words),
            "cannot sign: no key: pass --key"
        );
    }
}
