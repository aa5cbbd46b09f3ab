//! Why a DSSE envelope, the in-toto statement it carries, or its SLSA provenance does
//! not count for an attestation.

/// Why a DSSE envelope, its in-toto statement or its SLSA provenance was refused. Each
/// message says what was required and what was found (values shortened, never a whole
/// payload or signature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The bytes are not a DSSE envelope's JSON.
    #[error("not a DSSE envelope: {reason} ({len} bytes)")]
    NotAnEnvelope {
        /// The JSON parser's complaint.
        reason: String,
        /// The length of what was read.
        len: usize,
    },
    /// A member that must be base64 is not.
    #[error("{what} is not base64")]
    Base64 {
        /// Which member: `the envelope's payload`, `signature 2`.
        what: String,
    },
    /// The envelope has no signature at all.
    #[error("the envelope has no signature")]
    Unsigned,
    /// No signature verifies with any of the keys.
    #[error("no signature of the envelope ({signatures}) verifies with any of the {keys} key(s) (signed by another key, or the envelope changed after signing)")]
    NotVerified {
        /// How many signatures the envelope has.
        signatures: usize,
        /// How many keys were tried.
        keys: usize,
    },
    /// The envelope carries something else than an in-toto statement.
    #[error("the envelope's payloadType is {found}, not {required}")]
    PayloadType {
        /// The payload type found (quoted, shortened).
        found: String,
        /// `application/vnd.in-toto+json`.
        required: &'static str,
    },
    /// The payload is not an in-toto statement's JSON.
    #[error("not an in-toto statement: {reason} ({len} bytes)")]
    NotAStatement {
        /// The JSON parser's complaint.
        reason: String,
        /// The payload's length.
        len: usize,
    },
    /// The statement's `_type` is none of the in-toto statement types.
    #[error("the statement's _type must be {required}, found {found}")]
    StatementType {
        /// The types accepted, joined with `or`.
        required: String,
        /// The type found (quoted, shortened).
        found: String,
    },
    /// The statement names no subject.
    #[error("the statement has no subject")]
    NoSubject,
    /// The statement is of another predicate type.
    #[error("the statement's predicateType is {found}, not {required}")]
    PredicateType {
        /// The predicate type found (quoted, shortened).
        found: String,
        /// The predicate type required.
        required: String,
    },
    /// No subject of the statement has the image's digest.
    #[error("the statement is for another image: no subject has {digest} (its subjects: {found})")]
    Subject {
        /// The digest required.
        digest: String,
        /// The subjects' sha256 digests (at most three), or `none with a sha256 digest`.
        found: String,
    },
    /// The SLSA provenance does not name the required source or ref.
    #[error("the provenance does not name {required}: it names {found}")]
    Provenance {
        /// What was required (`source https://github.com/acme/api at ref refs/heads/main`).
        required: String,
        /// What the provenance names.
        found: String,
    },
}
