//! Why a signature, key or payload was refused.

use crate::registry::RegistryError;

/// Why a signature, key or payload was refused: what was required and what was found.
/// No message holds a payload, key or signature in full (at most a short excerpt of a
/// value, such as a digest or a type string).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The key file is a private key; verification takes the public half.
    #[error("this is a private key (PEM `{label}`); pass the .pub (`cosign public-key --key …` prints it)")]
    PrivateKey {
        /// The PEM label found, e.g. `ENCRYPTED SIGSTORE PRIVATE KEY`.
        label: String,
    },
    /// The key file is not one PEM `PUBLIC KEY`.
    #[error("not a cosign public key: a PEM `PUBLIC KEY` block is required, found {found}")]
    NotPublicKey {
        /// What was found instead.
        found: String,
    },
    /// The DER inside the PEM is malformed.
    #[error("malformed public key: {0}")]
    MalformedKey(String),
    /// A well-formed key of a kind that cannot verify cosign signatures.
    #[error("unsupported public key: {found}; supported: ECDSA P-256 or P-384, Ed25519, RSA 2048 to 8192 bits")]
    UnsupportedKey {
        /// What the key is.
        found: String,
    },
    /// The signature text is not base64.
    #[error("the signature is not base64 ({0})")]
    SignatureEncoding(String),
    /// The signature does not verify with this key.
    #[error("the signature does not verify with {algorithm} key {fingerprint} ({len}-byte payload, {sig_len}-byte signature)")]
    BadSignature {
        /// The key's algorithm, e.g. `ECDSA P-256`.
        algorithm: &'static str,
        /// The key's fingerprint ([`PublicKey::fingerprint`](super::PublicKey::fingerprint)).
        fingerprint: String,
        /// The payload's length in bytes.
        len: usize,
        /// The decoded signature's length in bytes.
        sig_len: usize,
    },
    /// The signed payload is not a valid cosign simple-signing document.
    #[error("invalid simple-signing payload: {0}")]
    Payload(String),
    /// The signature is of another kind than a cosign container image signature.
    #[error("the payload's critical.type must be `{required}`, found {found}")]
    PayloadType {
        /// The type required.
        required: &'static str,
        /// The type found (quoted, shortened).
        found: String,
    },
    /// The payload signs another image.
    #[error(
        "the signature is for another image: {required} was required, the payload names {found}"
    )]
    DigestMismatch {
        /// The digest being verified.
        required: String,
        /// The digest in the payload (quoted, shortened).
        found: String,
    },
    /// No key was given to verify with.
    #[error("no public key to verify {digest} with")]
    NoKeys {
        /// The digest being verified.
        digest: String,
    },
    /// The registry holds no cosign signature for the digest (its `.sig` tag is absent).
    #[error("no cosign signature found for {digest}: {location} does not exist (404)")]
    NoSignature {
        /// The digest being verified.
        digest: String,
        /// Where it looked: `host/repository:sha256-<hex>.sig`.
        location: String,
    },
    /// The signature manifest is not an image manifest of cosign's layout.
    #[error("{location} is not a cosign signature manifest: {reason}")]
    SignatureManifest {
        /// `host/repository:sha256-<hex>.sig`.
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// Signatures were found, and none verified the digest with any of the keys.
    #[error("no signature in {location} verifies {digest} with {keys}: {}", .reasons.join("; "))]
    NotVerified {
        /// The digest being verified.
        digest: String,
        /// `host/repository:sha256-<hex>.sig`.
        location: String,
        /// The keys tried (`ECDSA P-256 key SHA256:…`, joined).
        keys: String,
        /// Why each signature layer was refused (`layer 1: …`).
        reasons: Vec<String>,
    },
    /// The registry holds no attestation of the required type for the digest.
    #[error("no attestation of type {predicate_type} found for {digest}: {location} {why}")]
    NoAttestation {
        /// The digest being verified.
        digest: String,
        /// The predicate type required.
        predicate_type: String,
        /// Where it looked: `host/repository:sha256-<hex>.att`.
        location: String,
        /// `does not exist (404)`, `holds none of that type`.
        why: String,
    },
    /// Attestations of the type were found, and none verified.
    #[error("no attestation of type {predicate_type} in {location} verifies {digest} with {keys}: {}", .reasons.join("; "))]
    AttestationNotVerified {
        /// The digest being verified.
        digest: String,
        /// The predicate type required.
        predicate_type: String,
        /// `host/repository:sha256-<hex>.att`.
        location: String,
        /// The keys tried (`ECDSA P-256 key SHA256:…`, joined).
        keys: String,
        /// Why each attestation was refused (`layer 1: …`).
        reasons: Vec<String>,
    },
    /// A flag's value is not usable (e.g. a predicate type that is not a URI).
    #[error("{0}")]
    Requirement(String),
    /// A key file could not be read or holds no usable public key.
    #[error("key file {}: {reason}", path.display())]
    KeyFile {
        /// The file as given.
        path: std::path::PathBuf,
        /// Why ([`VerifyError`]'s key messages, or the I/O error).
        reason: String,
    },
    /// A policy was asked for with no key file.
    #[error("no public key file given to verify signatures with")]
    NoKeyFiles,
    /// A strategy's candidates were tried best first and none has a signature that
    /// verifies.
    #[error("none of the {} best candidate(s) has a signature that verifies with {keys}: {}", .tried.len(), .tried.join("; "))]
    NoCandidateVerified {
        /// The keys required (`ECDSA P-256 key SHA256:…`, joined).
        keys: String,
        /// Each candidate tried and why it was refused (`1.5.0 (sha256:…): …`).
        tried: Vec<String>,
    },
    /// A certificate is malformed.
    #[error("malformed certificate: {0}")]
    Certificate(String),
    /// A Sigstore bundle could not be read.
    #[error(transparent)]
    Bundle(#[from] super::bundle::BundleError),
    /// A trusted root could not be read.
    #[error(transparent)]
    TrustRoot(#[from] super::trust_root::TrustRootError),
    /// An identity or issuer pattern (`regexp:…`) is not a valid regular expression.
    #[error("invalid {what} pattern {pattern:?}: {reason}")]
    Pattern {
        /// `identity` or `issuer`.
        what: &'static str,
        /// The pattern as given.
        pattern: String,
        /// The regex error.
        reason: String,
    },
    /// A keyless signature was refused: the certificate's identity or issuer, its chain,
    /// the proof of signing time, or the signed content did not satisfy the policy.
    #[error("{0}")]
    Keyless(#[from] super::keyless::KeylessError),
    /// The registry could not be read (transport, auth, rate limit, timeout).
    #[error("reading the signatures of {digest}: {source}")]
    Registry {
        /// The digest being verified.
        digest: String,
        /// The registry's error (boxed: it is large; match it with `source.as_ref()`).
        #[source]
        source: Box<RegistryError>,
    },
}

impl VerifyError {
    /// The error kind for JSON output and exit codes: `registry` when the registry
    /// could not be read ([`VerifyError::Registry`]; its source has the precise kind),
    /// `invalid-input` for a key file that is not a usable public key, else
    /// `verification`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Registry { .. } => "registry",
            VerifyError::KeyFile { .. }
            | VerifyError::NoKeyFiles
            | VerifyError::TrustRoot(_)
            | VerifyError::Pattern { .. }
            | VerifyError::Requirement(_) => "invalid-input",
            _ => "verification",
        }
    }
}
