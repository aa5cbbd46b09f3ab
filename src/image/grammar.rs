//! Docker's reference grammar (see the [module documentation](super)): a reference
//! split into the byte ranges of its parts, each part checked against its rule, the
//! first broken rule reported in reading order.

use std::ops::Range;

use super::{ReferenceError, TAG_LENGTH_MAX};

const TAG_RULE: &str =
    "a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'";
const SEPARATOR_RULE: &str =
    "path components are lowercase letters and digits separated by '.', '_', '__' or one or more '-'";

/// Byte ranges of the validated parts of a reference, before normalisation.
pub(super) struct Parts {
    pub(super) name: Range<usize>,
    pub(super) domain: Option<Range<usize>>,
    pub(super) path: Range<usize>,
    pub(super) tag: Option<Range<usize>>,
    pub(super) digest: Option<Range<usize>>,
}

/// Splits and validates `s`, reporting the first broken rule in reading order.
pub(super) fn split(s: &str) -> Result<Parts, ReferenceError> {
    let format_err = |reason: &str| ReferenceError::Format {
        input: s.to_string(),
        reason: reason.to_string(),
    };
    if s.is_empty() {
        return Err(format_err("the reference is empty"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format_err(
            "a reference cannot contain whitespace or control characters",
        ));
    }
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format_err(
            "a 64-character hexadecimal string is an image ID, not a repository name",
        ));
    }

    // Digests, tags and names never contain '@', so the first one starts the digest.
    let name_tag_end = s.find('@').unwrap_or(s.len());
    let name_tag = &s[..name_tag_end];

    let mut domain = None;
    if let Some(slash) = name_tag.find('/') {
        let candidate = &name_tag[..slash];
        if looks_like_domain(candidate) {
            match check_domain(candidate) {
                Ok(()) => domain = Some(0..slash),
                // `nginx:v1/2`: a colon after a dot-less host, followed by something that
                // is not a port, is a tag containing '/'; let the tag check report it.
                Err(_) if is_misplaced_tag(candidate) => {}
                Err(reason) => {
                    return Err(ReferenceError::Domain {
                        input: s.to_string(),
                        domain: candidate.to_string(),
                        reason,
                    })
                }
            }
        }
    }

    // Paths never contain ':', so the first one after the domain starts the tag.
    let path_start = domain.as_ref().map_or(0, |d| d.end + 1);
    let path_end = name_tag[path_start..]
        .find(':')
        .map_or(name_tag_end, |i| path_start + i);
    let path = &s[path_start..path_end];
    check_path(path).map_err(|reason| ReferenceError::Path {
        input: s.to_string(),
        path: path.to_string(),
        reason,
    })?;

    let tag = (path_end < name_tag_end).then(|| path_end + 1..name_tag_end);
    if let Some(range) = &tag {
        let tag = &s[range.clone()];
        check_tag(tag).map_err(|reason| ReferenceError::Tag {
            input: Some(s.to_string()),
            tag: tag.to_string(),
            reason,
        })?;
    }

    let digest = (name_tag_end < s.len()).then(|| name_tag_end + 1..s.len());
    if let Some(range) = &digest {
        let digest = &s[range.clone()];
        check_digest(digest).map_err(|reason| ReferenceError::Digest {
            input: Some(s.to_string()),
            digest: digest.to_string(),
            reason,
        })?;
    }

    Ok(Parts {
        name: 0..path_end,
        domain,
        path: path_start..path_end,
        tag,
        digest,
    })
}

/// Docker's `splitDockerDomain` rule for the first `/`-separated element.
pub(super) fn looks_like_domain(candidate: &str) -> bool {
    candidate == "localhost"
        || candidate.contains(['.', ':'])
        || candidate.bytes().any(|b| b.is_ascii_uppercase())
}

/// `name:not-a-port` with a dot-less, bracket-less host that is not `localhost`.
fn is_misplaced_tag(candidate: &str) -> bool {
    match candidate.split_once(':') {
        Some((host, port)) => {
            !host.contains(['.', '['])
                && host != "localhost"
                && !port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    let port = if let Some(rest) = domain.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err("an IPv6 address opened with '[' must be closed with ']'".into());
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err("an IPv6 address in brackets is made of hex digits and ':'".into());
        }
        match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err("only ':port' may follow an IPv6 address in brackets".into()),
            },
        }
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        for component in host.split('.') {
            let bytes = component.as_bytes();
            let valid = !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes.first() != Some(&b'-')
                && bytes.last() != Some(&b'-');
            if !valid {
                return Err(format!(
                    "host name component {component:?} is not letters, digits and inner '-'"
                ));
            }
        }
        port
    };
    match port {
        Some(port) if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("port {port:?} is not a number"))
        }
        _ => Ok(()),
    }
}

fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the repository name is empty".into());
    }
    path.split('/').try_for_each(check_path_component)
}

fn check_path_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err("empty path component (a leading, trailing or doubled '/')".into());
    }
    if let Some(c) = component.chars().find(|c| c.is_ascii_uppercase()) {
        return Err(format!("repository names must be lowercase (found {c:?})"));
    }
    if let Some(c) = component
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        return Err(format!("invalid character {c:?}; {SEPARATOR_RULE}"));
    }
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return Err(format!(
            "path component {component:?} must start and end with a lowercase letter or digit"
        ));
    }
    // Only ASCII remains, so every byte index is a char boundary.
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && !alnum(&bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid =
            matches!(separator, "" | "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return Err(format!("invalid separator {separator:?}; {SEPARATOR_RULE}"));
        }
        i += 1;
    }
    Ok(())
}

pub(super) fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let problem = if bytes.is_empty() {
        Some("it is empty".to_string())
    } else if bytes.len() > TAG_LENGTH_MAX {
        Some(format!("it is {} characters long", bytes.len()))
    } else if !word(bytes[0]) {
        Some(format!("it starts with {:?}", char::from(bytes[0])))
    } else {
        tag.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .map(|c| format!("it contains {c:?}"))
    };
    match problem {
        Some(problem) => Err(format!("{problem}; {TAG_RULE}")),
        None => Ok(()),
    }
}

pub(super) fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err("a digest is 'algorithm:hex', e.g. 'sha256:' followed by 64 hex digits".into());
    };
    let expected_len = match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    };
    if let Some(len) = expected_len {
        if hex.len() != len {
            return Err(format!(
                "a {algorithm} digest has exactly {len} lowercase hex digits, this one has {} characters",
                hex.len()
            ));
        }
        if let Some(c) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(format!(
                "a {algorithm} digest has exactly {len} lowercase hex digits, found {c:?}"
            ));
        }
        return Ok(());
    }
    let valid_algorithm = !algorithm.is_empty()
        && algorithm.split(['-', '_', '+', '.']).all(|component| {
            let mut bytes = component.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && bytes.all(|b| b.is_ascii_alphanumeric())
        });
    if !valid_algorithm {
        return Err(format!(
            "digest algorithm {algorithm:?} is not letters and digits joined by '-', '_', '+' or '.', each part starting with a letter"
        ));
    }
    if hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "a {algorithm} digest needs at least 32 hex digits after the ':'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_component_separators_follow_the_grammar() {
        for ok in ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "a0.b1_c2__d3-e4"] {
            assert_eq!(check_path_component(ok), Ok(()), "{ok}");
        }
        for (bad, phrase) in [
            ("a..b", "invalid separator \"..\""),
            ("a___b", "invalid separator \"___\""),
            ("a._b", "invalid separator \"._\""),
            ("a-_b", "invalid separator \"-_\""),
            ("-a", "must start and end"),
            ("a_", "must start and end"),
            ("a+b", "invalid character '+'"),
            ("aB", "must be lowercase"),
            ("", "empty path component"),
        ] {
            let err = check_path_component(bad).expect_err(bad);
            assert!(err.contains(phrase), "{bad}: {err}");
        }
    }

    #[test]
    fn domains_are_host_names_or_bracketed_ipv6_with_an_optional_numeric_port() {
        for ok in [
            "localhost",
            "a.b",
            "Registry",
            "a-b.c:5000",
            "[::1]",
            "[fe80::1]:443",
            "127.0.0.1:5000",
        ] {
            assert_eq!(check_domain(ok), Ok(()), "{ok}");
        }
        for (bad, phrase) in [
            ("-a.b", "inner '-'"),
            ("a..b", "\"\""),
            ("a.b:", "port \"\" is not a number"),
            ("a.b:x1", "port \"x1\" is not a number"),
            ("[::1", "closed with ']'"),
            ("[zz]", "hex digits and ':'"),
            ("[::1]5000", "only ':port'"),
        ] {
            let err = check_domain(bad).expect_err(bad);
            assert!(err.contains(phrase), "{bad}: {err}");
        }
    }

    #[test]
    fn the_first_element_is_a_domain_only_by_dockers_rule() {
        assert!(looks_like_domain("localhost"));
        assert!(looks_like_domain("example.com"));
        assert!(looks_like_domain("registry:5000"));
        assert!(looks_like_domain("MyRegistry"));
        assert!(!looks_like_domain("library"));
        assert!(!looks_like_domain("my-org"));
    }

    #[test]
    fn a_colon_in_a_dotless_first_element_before_a_slash_is_a_misplaced_tag() {
        assert!(is_misplaced_tag("nginx:v1"));
        assert!(!is_misplaced_tag("nginx:5000"));
        assert!(!is_misplaced_tag("localhost:v1"));
        assert!(!is_misplaced_tag("example.com:v1"));
    }

    #[test]
    fn digest_algorithms_other_than_sha2_follow_the_generic_grammar() {
        let hex32 = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(check_digest(&format!("multihash+base58:{hex32}")), Ok(()));
        assert_eq!(check_digest(&format!("blake3:{hex32}")), Ok(()));
        assert!(check_digest(&format!("3blake:{hex32}")).is_err());
        assert!(check_digest(&format!("a..b:{hex32}")).is_err());
        assert!(check_digest("blake3:0123").is_err());
    }
}
