//! The commit message GitHub's `createCommitOnBranch` takes: a headline and a body,
//! with the requested author as a `Co-authored-by:` trailer.

use crate::change::Identity;

/// The author recorded when none was asked for; it adds no `Co-authored-by:` trailer.
const DEFAULT_AUTHOR: (&str, &str) = ("tagbump", "tagbump@localhost");

/// Splits a message into GitHub's headline (the first line) and body (the rest,
/// without the blank line after the headline), with a `Co-authored-by:` trailer for
/// an author other than tagbump's default.
pub(super) fn headline_and_body(message: &str, author: &Identity) -> (String, String) {
    let message = message.trim_start_matches(['\n', '\r']);
    let (headline, rest) = message.split_once('\n').unwrap_or((message, ""));
    let headline = headline.trim_end().to_string();
    let mut body = rest.trim_matches(['\n', '\r']).to_string();
    let is_default = author.name == DEFAULT_AUTHOR.0 && author.email == DEFAULT_AUTHOR.1;
    if !is_default && !author.name.is_empty() {
        let trailer = format!("Co-authored-by: {} <{}>", author.name, author.email);
        if !body.lines().any(|l| l.trim() == trailer) {
            let last_paragraph = body.rsplit("\n\n").next().unwrap_or("");
            let ends_in_trailers =
                !last_paragraph.trim().is_empty() && last_paragraph.lines().all(is_trailer_line);
            if body.is_empty() {
                body = trailer;
            } else if ends_in_trailers {
                body = format!("{body}\n{trailer}");
            } else {
                body = format!("{body}\n\n{trailer}");
            }
        }
    }
    (headline, body)
}

/// `Key: value` with a git trailer key (letters, digits, `-`).
fn is_trailer_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str, email: &str) -> Identity {
        Identity {
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn the_first_line_is_the_headline_and_the_rest_the_body() {
        let default = who("tagbump", "tagbump@localhost");
        assert_eq!(
            headline_and_body("Bump api to 1.5.0\n\nfrom CI run 7\n", &default),
            ("Bump api to 1.5.0".to_string(), "from CI run 7".to_string())
        );
        assert_eq!(
            headline_and_body("only a subject", &default),
            ("only a subject".to_string(), String::new())
        );
    }

    #[test]
    fn an_explicit_author_becomes_a_co_authored_by_trailer() {
        let alice = who("Alice", "alice@example.com");
        let (_, body) = headline_and_body("Bump\n\nwhy", &alice);
        assert_eq!(body, "why\n\nCo-authored-by: Alice <alice@example.com>");
        let (_, body) = headline_and_body("Bump\n\nwhy\n\nTagbump-Image: api:1.5.0", &alice);
        assert_eq!(
            body,
            "why\n\nTagbump-Image: api:1.5.0\nCo-authored-by: Alice <alice@example.com>"
        );
        let (_, body) = headline_and_body("Bump", &alice);
        assert_eq!(body, "Co-authored-by: Alice <alice@example.com>");
    }
}
