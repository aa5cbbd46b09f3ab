//! Container image references: parsing, validation and normalisation.
//!
//! The grammar is Docker's distribution reference grammar
//! (`github.com/distribution/reference`, files `reference.go` and `normalize.go`):
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path
//! domain           := host [ ":" port ]
//! host             := domain-name | "[" ipv6-address "]"
//! domain-name      := component ( "." component )*      component: [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
//! port             := [0-9]+
//! path             := path-component ( "/" path-component )*
//! path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest           := algorithm ":" hex
//! ```
//!
//! The first `/`-separated element is a domain only if it contains `.` or `:`, is
//! `localhost`, or contains an uppercase letter (path components never do); otherwise
//! the registry is Docker Hub. Normalisation then follows `normalize.go`:
//! `nginx` ≡ `docker.io/library/nginx`, `user/app` ≡ `docker.io/user/app` and
//! `index.docker.io` ≡ `docker.io`. The normalised name (`domain/path`) is at most
//! 255 characters.
//!
//! Digests with the algorithms `sha256`, `sha384` and `sha512` must have exactly 64, 96
//! or 128 lowercase hex digits. Any other algorithm must follow the generic grammar
//! `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*` and carry at least 32 hex digits.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// The registry that names without a domain refer to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy name of Docker Hub, normalised to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images (`nginx` is `library/nginx`).
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Longest allowed normalised name (`domain/path`), in bytes.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest allowed tag, in bytes.
pub const TAG_LENGTH_MAX: usize = 128;

const TAG_RULE: &str =
    "a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'";
const SEPARATOR_RULE: &str =
    "path components are lowercase letters and digits separated by '.', '_', '__' or one or more '-'";

/// Why an image reference, tag or digest was rejected.
///
/// Every message names the offending input and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The reference as a whole is malformed (empty, contains whitespace, …).
    #[error("invalid image reference {input:?}: {reason}")]
    Format {
        /// The whole reference.
        input: String,
        /// The rule that was broken.
        reason: String,
    },
    /// The registry part (`host[:port]`) is malformed.
    #[error("invalid registry domain {domain:?} in {input:?}: {reason}")]
    Domain {
        /// The whole reference.
        input: String,
        /// The domain as written.
        domain: String,
        /// The rule that was broken.
        reason: String,
    },
    /// The repository path is malformed.
    #[error("invalid repository path {path:?} in {input:?}: {reason}")]
    Path {
        /// The whole reference.
        input: String,
        /// The path as written (without domain, tag or digest).
        path: String,
        /// The rule that was broken.
        reason: String,
    },
    /// The tag is malformed.
    #[error("invalid tag {tag:?}{}: {reason}", in_input(.input))]
    Tag {
        /// The whole reference, when the tag was part of one.
        input: Option<String>,
        /// The tag as written.
        tag: String,
        /// The rule that was broken.
        reason: String,
    },
    /// The digest is malformed.
    #[error("invalid digest {digest:?}{}: {reason}", in_input(.input))]
    Digest {
        /// The whole reference, when the digest was part of one.
        input: Option<String>,
        /// The digest as written.
        digest: String,
        /// The rule that was broken.
        reason: String,
    },
    /// The normalised name is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name {name:?} is {len} characters long once normalised; the limit is 255")]
    NameTooLong {
        /// The whole reference.
        input: String,
        /// The normalised name (`domain/path`).
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// [`parse_image_and_tag`] was given an image that already has a different tag.
    #[error("conflicting tags for image {image:?}: it already has tag {existing:?}, but tag {given:?} was also given")]
    ConflictingTag {
        /// The image as given.
        image: String,
        /// The tag inside the image string.
        existing: String,
        /// The tag given separately.
        given: String,
    },
}

fn in_input(input: &Option<String>) -> String {
    match input {
        Some(input) => format!(" in {input:?}"),
        None => String::new(),
    }
}

/// A parsed, validated and normalised image reference.
///
/// Equality compares the normalised fields, so `nginx` equals `docker.io/library/nginx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses `name`, `name:tag`, `name@digest` or `name:tag@digest` and normalises the
    /// name (see the [module documentation](self)).
    pub fn parse(s: &str) -> Result<ImageRef, ReferenceError> {
        let parts = split(s)?;
        let written_path = &s[parts.path.clone()];
        let (domain, path) = match parts.domain.clone().map(|r| &s[r]) {
            None | Some(LEGACY_DEFAULT_DOMAIN) => (DEFAULT_DOMAIN, written_path),
            Some(domain) => (domain, written_path),
        };
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("{OFFICIAL_REPO_PREFIX}{path}")
        } else {
            path.to_string()
        };
        let image = ImageRef {
            domain: domain.to_string(),
            path,
            tag: parts.tag.map(|r| s[r].to_string()),
            digest: parts.digest.map(|r| s[r].to_string()),
        };
        let name = image.name();
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong {
                input: s.to_string(),
                len: name.len(),
                name,
            });
        }
        Ok(image)
    }

    /// The normalised registry domain, e.g. `docker.io` or `localhost:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The normalised repository path, e.g. `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, without the leading `:`.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, e.g. `sha256:…`, without the leading `@`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The normalised name without tag or digest, e.g. `docker.io/library/nginx`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The shortest name that parses back to this repository: `nginx`, `user/app`,
    /// `ghcr.io/o/a`. Unlike Docker's `FamiliarName`, a Docker Hub path whose first
    /// component would be read as a domain (`docker.io/my.org/app`,
    /// `docker.io/localhost/app`) keeps its `docker.io/` prefix.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => match self.path.split_once('/') {
                Some((first, _)) if looks_like_domain(first) => self.name(),
                _ => self.path.clone(),
            },
        }
    }

    /// Whether both references name the same repository once normalised (tags and
    /// digests are ignored). Domains compare ASCII case-insensitively, as host names do;
    /// paths are always lowercase.
    pub fn same_repository(&self, other: &ImageRef) -> bool {
        self.domain.eq_ignore_ascii_case(&other.domain) && self.path == other.path
    }

    /// The same repository with tag `tag`. Any digest is dropped: it pinned the content
    /// of the old tag, and keeping it would silently override the new one.
    pub fn with_tag(&self, tag: &str) -> Result<ImageRef, ReferenceError> {
        validate_tag(tag)?;
        Ok(ImageRef {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        })
    }

    /// Whether `candidate` — a repository name as written in a values file, such as
    /// `nginx`, `docker.io/library/nginx` or `ghcr.io/o/a` — names this repository.
    /// A candidate that is not a valid name, or that carries a tag or digest, is not a
    /// repository name and never matches.
    pub fn matches_name(&self, candidate: &str) -> bool {
        match ImageRef::parse(candidate) {
            Ok(other) => {
                other.tag.is_none() && other.digest.is_none() && self.same_repository(&other)
            }
            Err(_) => false,
        }
    }
}

/// Formats the reference in its familiar form: [`ImageRef::familiar_name`] followed by
/// `:tag` and `@digest` when present, e.g. `nginx:1.25` or `ghcr.io/o/a@sha256:…`.
/// This is not necessarily the text the user wrote (`index.docker.io/library/nginx`
/// prints as `nginx`), but it parses back to an equal [`ImageRef`].
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.familiar_name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Same as [`ImageRef::parse`].
impl FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

/// Parses the two-part image input of the CLI: `image` may already carry `:tag` and/or
/// `@digest`; `tag`, when given, is set as the tag. If `image` already has a tag that
/// differs from `tag`, that is a [`ReferenceError::ConflictingTag`]. A digest in
/// `image` is kept, since the user wrote both.
pub fn parse_image_and_tag(image: &str, tag: Option<&str>) -> Result<ImageRef, ReferenceError> {
    let mut parsed = ImageRef::parse(image)?;
    let Some(tag) = tag else {
        return Ok(parsed);
    };
    validate_tag(tag)?;
    match parsed.tag() {
        Some(existing) if existing != tag => Err(ReferenceError::ConflictingTag {
            image: image.to_string(),
            existing: existing.to_string(),
            given: tag.to_string(),
        }),
        _ => {
            parsed.tag = Some(tag.to_string());
            Ok(parsed)
        }
    }
}

/// Checks a tag on its own: 1 to 128 characters of `[A-Za-z0-9_.-]`, not starting with
/// `.` or `-`.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    check_tag(tag).map_err(|reason| ReferenceError::Tag {
        input: None,
        tag: tag.to_string(),
        reason,
    })
}

/// Checks a digest on its own (`algorithm:hex`, without the `@`); see the
/// [module documentation](self) for the rules.
pub fn validate_digest(d: &str) -> Result<(), ReferenceError> {
    check_digest(d).map_err(|reason| ReferenceError::Digest {
        input: None,
        digest: d.to_string(),
        reason,
    })
}

/// An `image:` string as found in a manifest, split into its parts *without*
/// normalising. The ranges are byte offsets into the original string, so a caller can
/// replace only the tag or digest: `s[range]` is exactly the tag (without `:`) or the
/// digest (without `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImageString<'a> {
    /// The name as written (domain, if any, and path), e.g. `nginx` or `ghcr.io/o/a`.
    pub name: &'a str,
    /// The tag as written and its byte range in the original string.
    pub tag: Option<(&'a str, Range<usize>)>,
    /// The digest as written (`sha256:…`) and its byte range in the original string.
    pub digest: Option<(&'a str, Range<usize>)>,
}

/// Splits `s` into name, tag and digest without normalising; `None` if `s` is not a
/// reference that [`ImageRef::parse`] accepts. See [`RawImageString`].
pub fn split_image_string(s: &str) -> Option<RawImageString<'_>> {
    ImageRef::parse(s).ok()?;
    let parts = split(s).ok()?;
    Some(RawImageString {
        name: &s[parts.name],
        tag: parts.tag.map(|r| (&s[r.clone()], r)),
        digest: parts.digest.map(|r| (&s[r.clone()], r)),
    })
}

/// Byte ranges of the validated parts of a reference, before normalisation.
struct Parts {
    name: Range<usize>,
    domain: Option<Range<usize>>,
    path: Range<usize>,
    tag: Option<Range<usize>>,
    digest: Option<Range<usize>>,
}

/// Splits and validates `s`, reporting the first broken rule in reading order.
fn split(s: &str) -> Result<Parts, ReferenceError> {
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
fn looks_like_domain(candidate: &str) -> bool {
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

fn check_tag(tag: &str) -> Result<(), String> {
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

fn check_digest(digest: &str) -> Result<(), String> {
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
