//! [`ReferenceError`]: why an image reference, tag or digest was rejected.

/// Why an image reference, tag or digest was rejected.
///
/// Every message names the offending input and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// The normalised name is longer than [`NAME_TOTAL_LENGTH_MAX`](super::NAME_TOTAL_LENGTH_MAX).
    #[error("repository name {name:?} is {len} characters long once normalised; the limit is 255")]
    NameTooLong {
        /// The whole reference.
        input: String,
        /// The normalised name (`domain/path`).
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// [`parse_image_and_tag`](super::parse_image_and_tag) was given an image that already has a different tag.
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
