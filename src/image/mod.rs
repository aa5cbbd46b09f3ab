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

mod error;
mod grammar;
pub use self::error::ReferenceError;
use self::grammar::{check_digest, check_tag, looks_like_domain, split};

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
