//! What a bump requires of an image's signatures before it writes the image: the
//! public keys, any one of which must have signed the digest (key-based cosign
//! signatures, read from the registry by [`verify_with_keys`](super::verify_with_keys)),
//! and/or a keyless identity (a Fulcio certificate for `--verify-identity` issued by
//! `--verify-issuer`, checked against a trusted root by
//! [`verify_with_identity`](super::cosign_keyless::verify_with_identity)). Any one of
//! the ways suffices: a key, or the identity.

pub use super::key::describe_keys;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::keyless::SignedBy;
use super::provenance::{ProvenanceRequirement, SLSA_V1};
use super::referrers::Referrers;
use super::{cosign_keyless, Identity, PublicKey, TrustedRoot, Verified, VerifyError};
use crate::registry::Client;

/// The largest key file read: a PEM RSA-8192 public key is under 2 KiB.
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// The signatures a bump requires. Built from keys ([`VerifyPolicy::with_keys`]) or key
/// files ([`VerifyPolicy::from_key_files`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifyPolicy {
    /// Any one of these keys must have signed the image's digest.
    pub keys: Vec<PublicKey>,
    /// Or a keyless signature by this identity.
    pub identity: Option<Identity>,
    /// The trust root keyless signatures are checked against (default: the embedded
    /// roots, [`TrustedRoot::embedded`]).
    pub trusted_root: Option<Arc<TrustedRoot>>,
    /// In-toto attestations (predicate type URIs) the digest must also have, each
    /// signed under the same keys or identity ([`VerifyPolicy::require_attestations`]).
    pub attestations: Vec<String>,
    /// What SLSA v1 provenance must name (with [`SLSA_V1`] among `attestations`).
    pub provenance: ProvenanceRequirement,
}

impl VerifyPolicy {
    /// A policy accepting a signature by any one of `keys`.
    pub fn with_keys(keys: Vec<PublicKey>) -> VerifyPolicy {
        VerifyPolicy {
            keys,
            identity: None,
            trusted_root: None,
            attestations: Vec::new(),
            provenance: ProvenanceRequirement::default(),
        }
    }

    /// A policy accepting a keyless signature by `identity` under `root` (the embedded
    /// roots when `None`).
    pub fn with_identity(identity: Identity, root: Option<TrustedRoot>) -> VerifyPolicy {
        VerifyPolicy {
            keys: Vec::new(),
            identity: Some(identity),
            trusted_root: root.map(Arc::new),
            attestations: Vec::new(),
            provenance: ProvenanceRequirement::default(),
        }
    }

    /// This policy, also accepting a keyless signature by `identity` under `root`.
    pub fn or_identity(mut self, identity: Identity, root: Option<TrustedRoot>) -> VerifyPolicy {
        self.identity = Some(identity);
        self.trusted_root = root.map(Arc::new);
        self
    }

    /// Verifies `digest` with the signatures read through `client`: cosign's
    /// `sha256-<hex>.sig` first, a key of the policy (if any), then the identity (if
    /// any); then, when none verified, the Sigstore bundles among the digest's OCI
    /// referrers (the referrers API, else the referrers tag schema; see
    /// [`referrers`](super::referrers)), again keys then identity. The first that
    /// verifies wins. When none does, the error of the signature tag, with what the
    /// referrers held folded in.
    ///
    /// Then each attestation of [`attestations`](Self::attestations) is required, from
    /// the referrers' bundles (keys or identity) or cosign's `sha256-<hex>.att` (keys,
    /// [`verify_attestations`](super::verify_attestations)); its results are the
    /// returned [`Verified::attestations`]. The referrers are listed at most once.
    pub fn verify(&self, client: &Client, digest: &str) -> Result<Verified, VerifyError> {
        let referrers = Referrers::new(client, digest);
        let mut verified = match self.verify_signature(client, digest) {
            Ok(v) => v,
            Err(e) if e.kind() != "verification" => return Err(e),
            Err(e) => self.verify_signature_in_referrers(&referrers, digest, e)?,
        };
        verified.attestations =
            super::attestation::verify_attestations_under(client, digest, self, &referrers)?;
        Ok(verified)
    }

    /// The trust root keyless signatures (and key-based bundles' log entries) are
    /// checked against.
    pub(super) fn root(&self) -> std::borrow::Cow<'_, TrustedRoot> {
        match &self.trusted_root {
            Some(root) => std::borrow::Cow::Borrowed(root.as_ref()),
            None => std::borrow::Cow::Owned(TrustedRoot::embedded()),
        }
    }

    /// The ways a bundle may be signed under this policy: the keys, then the identity.
    pub(super) fn signers(&self) -> Vec<SignedBy<'_>> {
        let mut ways = Vec::new();
        if !self.keys.is_empty() {
            ways.push(SignedBy::Keys(&self.keys));
        }
        if let Some(identity) = &self.identity {
            ways.push(SignedBy::Identity(identity));
        }
        ways
    }

    /// A signature among the referrers' bundles, after the signature tag refused
    /// (`tag_error`): verified, or `tag_error` when the referrers hold no signature
    /// bundle, or why each one held was refused.
    fn verify_signature_in_referrers(
        &self,
        referrers: &Referrers<'_>,
        digest: &str,
        tag_error: VerifyError,
    ) -> Result<Verified, VerifyError> {
        let root = self.root();
        let mut reasons = Vec::new();
        for signed_by in self.signers() {
            match super::bundled::signature(referrers, digest, signed_by, &root)? {
                Ok(v) => return Ok(v),
                Err(refused) => reasons.extend(refused),
            }
        }
        if reasons.is_empty() {
            return Err(tag_error);
        }
        let listing = referrers.listing()?;
        reasons.insert(0, tag_error.to_string());
        reasons.extend(listing.over_limit_note());
        Err(VerifyError::NotVerified {
            digest: digest.to_string(),
            location: listing.location.clone(),
            keys: self.describe_keys(),
            reasons,
        })
    }

    /// The image's signature tag alone (see [`verify`](Self::verify)).
    fn verify_signature(&self, client: &Client, digest: &str) -> Result<Verified, VerifyError> {
        let by_key = if self.keys.is_empty() && self.identity.is_some() {
            None
        } else {
            match super::verify_with_keys(client, digest, &self.keys) {
                Ok(v) => return Ok(v),
                Err(e) if e.kind() != "verification" => return Err(e),
                Err(e) => Some(e),
            }
        };
        let Some(identity) = &self.identity else {
            return Err(by_key.unwrap_or(VerifyError::NoKeys {
                digest: digest.to_string(),
            }));
        };
        let embedded;
        let root = match &self.trusted_root {
            Some(root) => root.as_ref(),
            None => {
                embedded = TrustedRoot::embedded();
                &embedded
            }
        };
        match (
            cosign_keyless::verify_with_identity(client, digest, identity, root),
            by_key,
        ) {
            (Ok(v), _) => Ok(v),
            (
                Err(VerifyError::NotVerified {
                    digest,
                    location,
                    keys,
                    mut reasons,
                }),
                Some(key_error),
            ) => {
                reasons.push(format!("with the keys: {key_error}"));
                Err(VerifyError::NotVerified {
                    digest,
                    location,
                    keys: format!("{}, or {keys}", self.describe_only_keys()),
                    reasons,
                })
            }
            (Err(e), _) => Err(e),
        }
    }

    fn describe_only_keys(&self) -> String {
        describe_keys(&self.keys)
    }

    /// Also requires an attestation of each predicate type (a URI, e.g.
    /// `https://slsa.dev/provenance/v1`; duplicates count once) and, when `provenance`
    /// requires a source or ref, SLSA v1 provenance naming them (added to the types
    /// when missing). A type that is not a URI is refused
    /// ([`VerifyError::Requirement`]).
    pub fn require_attestations(
        mut self,
        types: &[String],
        provenance: ProvenanceRequirement,
    ) -> Result<VerifyPolicy, VerifyError> {
        check_attestation_types(types)?;
        for t in types {
            if !self.attestations.contains(t) {
                self.attestations.push(t.clone());
            }
        }
        for (flag, value) in [
            ("--provenance-source", &provenance.source),
            ("--provenance-ref", &provenance.git_ref),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.trim().is_empty() || v.trim() != v)
            {
                return Err(VerifyError::Requirement(format!(
                    "{flag} must not be empty or have surrounding spaces"
                )));
            }
        }
        if !provenance.is_empty() && !self.attestations.iter().any(|t| t == SLSA_V1) {
            self.attestations.push(SLSA_V1.to_string());
        }
        self.provenance = provenance;
        Ok(self)
    }

    /// What is required, for messages: the signers ([`describe_keys`](Self::describe_keys)),
    /// then any attestations.
    pub fn describe(&self) -> String {
        let mut out = self.describe_keys();
        if !self.attestations.is_empty() {
            out.push_str(&format!(
                ", with in-toto attestation(s) of type {} signed by the same",
                self.attestations.join(", ")
            ));
            if !self.provenance.is_empty() {
                out.push_str(&format!(
                    " (SLSA provenance naming {})",
                    self.provenance.describe()
                ));
            }
        }
        out
    }

    /// Reads each file as a cosign public key (PEM `PUBLIC KEY`, see
    /// [`PublicKey::from_pem`]); the first that cannot be read or is not a public key
    /// fails, naming the file ([`VerifyError::KeyFile`]). An empty list is refused
    /// ([`VerifyError::NoKeyFiles`]): a policy without keys accepts nothing.
    pub fn from_key_files<P: AsRef<Path>>(paths: &[P]) -> Result<VerifyPolicy, VerifyError> {
        if paths.is_empty() {
            return Err(VerifyError::NoKeyFiles);
        }
        let keys = paths
            .iter()
            .map(|p| read_key_file(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VerifyPolicy::with_keys(keys))
    }

    /// What the policy requires, for messages: the keys (`ECDSA P-256 key SHA256:…`,
    /// joined with `, `) and/or `a certificate for ID issued by ISSUER`.
    pub fn describe_keys(&self) -> String {
        match (&self.identity, self.keys.is_empty()) {
            (Some(identity), true) => cosign_keyless::describe(identity),
            (Some(identity), false) => format!(
                "{}, or {}",
                describe_keys(&self.keys),
                cosign_keyless::describe(identity)
            ),
            (None, _) => describe_keys(&self.keys),
        }
    }
}

/// Each predicate type must be a URI (`scheme:rest`, no whitespace), e.g.
/// `https://slsa.dev/provenance/v1`; the first that is not is refused
/// ([`VerifyError::Requirement`]).
pub fn check_attestation_types(types: &[String]) -> Result<(), VerifyError> {
    match types.iter().find(|t| !is_uri(t)) {
        Some(t) => Err(VerifyError::Requirement(format!(
            "--verify-attestation takes a predicate type URI (e.g. {SLSA_V1}), not {}",
            super::excerpt::excerpt(t, 80)
        ))),
        None => Ok(()),
    }
}

/// `scheme:rest` with an RFC 3986 scheme and no whitespace.
fn is_uri(t: &str) -> bool {
    t.split_once(':').is_some_and(|(scheme, rest)| {
        scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            && !rest.is_empty()
    }) && !t.chars().any(char::is_whitespace)
}

/// One key file, at most [`MAX_KEY_FILE_BYTES`].
fn read_key_file(path: &Path) -> Result<PublicKey, VerifyError> {
    let fail = |reason: String| VerifyError::KeyFile {
        path: PathBuf::from(path),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(io_reason(&e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(io_reason(&e)))?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(fail(format!(
            "over {MAX_KEY_FILE_BYTES} bytes: not a public key file"
        )));
    }
    PublicKey::from_pem(&bytes).map_err(|e| fail(e.to_string()))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "a directory, not a key file".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_that_cannot_be_read_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("cosign.pub");
        let err = VerifyPolicy::from_key_files(&[&missing]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("key file {}: no such file", missing.display())
        );
        let private = dir.path().join("cosign.key");
        std::fs::write(
            &private,
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        )
        .expect("write");
        let err = VerifyPolicy::from_key_files(&[&private]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "key file {}: this is a private key",
                private.display()
            )),
            "{err}"
        );
        let huge = dir.path().join("huge.pub");
        std::fs::write(&huge, vec![b'A'; (MAX_KEY_FILE_BYTES + 1) as usize]).expect("write");
        let err = VerifyPolicy::from_key_files(&[&huge]).unwrap_err();
        assert!(err.to_string().contains("over 65536 bytes"), "{err}");
        let none: [&Path; 0] = [];
        assert!(matches!(
            VerifyPolicy::from_key_files(&none),
            Err(VerifyError::NoKeyFiles)
        ));
        assert_eq!(describe_keys(&[]), "no key");
    }
}
