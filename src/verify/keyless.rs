//! Keyless (Fulcio certificate) and key-signed Sigstore verification of one signature,
//! offline against a [`TrustedRoot`]:
//!
//! 1. the signature verifies over the signed content with the certificate's key (or
//!    one of the given keys), and the content is the artifact's (message digest, DSSE
//!    in-toto subject);
//! 2. every transparency-log entry is by a log of the root and describes this very
//!    signature; its SET is checked (Rekor v1: the integrated time is a proof of time)
//!    and its inclusion proof against a checkpoint signed by that log;
//! 3. every RFC 3161 timestamp verifies and chains to a TSA of the root;
//! 4. a keyless signature needs at least one proof of time, and at each such time the
//!    certificate was valid and chains to a certificate authority of the root valid
//!    then (`rustls-webpki`, code-signing usage);
//! 5. where the root lists CT logs, one embedded SCT verifies;
//! 6. the certificate's SAN (email or URI) matches the identity and its OIDC issuer
//!    extension the issuer ([`Matcher`]: exact, or `regexp:` matching the whole value).

use super::bundle::{Bundle, Content, Signer, TlogEntry};
use super::trust_root::TrustedRoot;
use super::x509::Certificate;
use super::{chain, rekor, rfc3161, sct, time, PublicKey, VerifyError};

/// Why a signature was refused by the keyless (or bundle) verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeylessError {
    /// Something this verifier does not check (and so does not accept).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// No SAN of the certificate matches the required identity.
    #[error("the certificate's identity does not match: {required} was required, the certificate has {}", if .found.is_empty() { "no email or URI SAN".to_string() } else { .found.join(", ") })]
    Identity {
        /// The identity required (`regexp:…` as given).
        required: String,
        /// The SAN emails and URIs found.
        found: Vec<String>,
    },
    /// The certificate's OIDC issuer does not match.
    #[error("the certificate's OIDC issuer does not match: {required} was required, found {}", .found.as_deref().unwrap_or("no issuer extension"))]
    Issuer {
        /// The issuer required.
        required: String,
        /// The issuer found, if any.
        found: Option<String>,
    },
    /// The signature does not verify over the content.
    #[error("the signature does not verify: {0}")]
    Signature(String),
    /// The signed content is not the artifact's.
    #[error("the signature is for other content: {0}")]
    Content(String),
    /// The certificate does not chain to a CA of the trusted root at signing time.
    #[error("the certificate does not chain to a certificate authority of the trusted root: {0}")]
    Chain(String),
    /// The certificate was not valid at a proven signing time.
    #[error("the certificate was not valid at the signing time {time} (valid {not_before} to {not_after})")]
    Expired {
        /// The proven time.
        time: String,
        /// The certificate's notBefore.
        not_before: String,
        /// The certificate's notAfter.
        not_after: String,
    },
    /// No transparency-log entry or timestamp proves when a certificate signature was made.
    #[error("no proof of signing time: a keyless signature needs a transparency-log entry with a signed entry timestamp or an RFC 3161 timestamp from the trusted root ({0})")]
    NoTimeProof(String),
    /// A transparency-log entry was refused.
    #[error("transparency-log entry {index}: {reason}")]
    Tlog {
        /// The entry's log index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// An RFC 3161 timestamp was refused.
    #[error("RFC 3161 timestamp: {0}")]
    Timestamp(String),
    /// The certificate's SCTs were refused.
    #[error("certificate transparency: {0}")]
    Sct(String),
    /// The signer is of a kind the policy does not accept.
    #[error("{0}")]
    Signer(String),
}

/// An identity or issuer requirement: the exact value, or `regexp:RE` matching the
/// whole value (the pattern is anchored: `regexp:https://github.com/acme/api/.*`
/// does not accept `…/acme/api-evil/…`, and `regexp:acme` does not accept `xacmex`).
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this.
    Exact(String),
    /// Wholly matched by this.
    Regex {
        /// The pattern as written after `regexp:`.
        pattern: String,
        /// `^(?:pattern)$`.
        regex: regex::Regex,
    },
}

impl Matcher {
    /// Reads `text` (`what` names the requirement in errors: `identity`, `issuer`).
    pub fn parse(what: &'static str, text: &str) -> Result<Matcher, VerifyError> {
        match text.strip_prefix("regexp:") {
            Some(pattern) => regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(|regex| Matcher::Regex {
                    pattern: pattern.to_string(),
                    regex,
                })
                .map_err(|e| VerifyError::Pattern {
                    what,
                    pattern: text.to_string(),
                    reason: e.to_string(),
                }),
            None if text.is_empty() => Err(VerifyError::Pattern {
                what,
                pattern: String::new(),
                reason: "empty".into(),
            }),
            None => Ok(Matcher::Exact(text.to_string())),
        }
    }

    /// Whether `value` satisfies it.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(v) => v == value,
            Matcher::Regex { regex, .. } => regex.is_match(value),
        }
    }

    /// As written: the value, or `regexp:…`.
    pub fn describe(&self) -> String {
        match self {
            Matcher::Exact(v) => v.clone(),
            Matcher::Regex { pattern, .. } => format!("regexp:{pattern}"),
        }
    }
}

/// A keyless signer requirement: the certificate's identity and OIDC issuer.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The SAN requirement.
    pub identity: Matcher,
    /// The issuer requirement.
    pub issuer: Matcher,
}

impl Identity {
    /// From `--verify-identity` and `--verify-issuer` values.
    pub fn new(identity: &str, issuer: &str) -> Result<Identity, VerifyError> {
        Ok(Identity {
            identity: Matcher::parse("identity", identity)?,
            issuer: Matcher::parse("issuer", issuer)?,
        })
    }
}

/// Who must have signed.
#[derive(Debug, Clone, Copy)]
pub enum SignedBy<'a> {
    /// A Fulcio certificate for this identity.
    Identity(&'a Identity),
    /// One of these keys.
    Keys(&'a [PublicKey]),
}

/// What verified a signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct KeylessVerified {
    /// The certificate's SAN that matched (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The certificate's OIDC issuer (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The key's fingerprint (key-signed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// The transparency-log index of the first entry, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The earliest proven signing time (RFC 3339), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// How the time was proven: `tlog` (SET) or `rfc3161`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_source: Option<&'static str>,
}

/// What a signature is over.
pub(crate) enum Signed<'a> {
    /// A signature over these bytes (a blob, or cosign's simple-signing payload).
    Message(&'a [u8]),
    /// A signature over a message known only by its SHA-256.
    Digest([u8; 32]),
    /// A DSSE envelope: the signature is over PAE(type, payload).
    Dsse {
        payload_type: &'a str,
        payload: &'a [u8],
    },
}

/// DSSE's pre-authentication encoding.
pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} ", payload_type.len(), payload_type).into_bytes();
    out.extend_from_slice(format!("{} ", payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref());
    out
}

/// One signature with its verification material.
pub(crate) struct Material<'a> {
    /// DER certificates, the leaf first; or none for a key signer.
    pub certificates: &'a [Vec<u8>],
    pub signature: &'a [u8],
    pub signed: Signed<'a>,
    pub tlog_entries: &'a [TlogEntry],
    pub timestamps: &'a [Vec<u8>],
}

const SUPPORTED_ENTRIES: &[(&str, &str)] = &[
    ("hashedrekord", "0.0.1"),
    ("hashedrekord", "0.0.2"),
    ("dsse", "0.0.1"),
    ("dsse", "0.0.2"),
    ("intoto", "0.0.2"),
];

/// What a bundle is verified for.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The signed blob itself.
    Bytes(&'a [u8]),
    /// Only its SHA-256 (an image manifest's digest): a message signature is checked
    /// against the bundle's `messageDigest` (ECDSA P-256 and RSA signers), a DSSE
    /// statement must name it as a subject.
    Sha256([u8; 32]),
}

/// Verifies a parsed bundle over `artifact` (the signed blob; for a DSSE envelope, the
/// in-toto statement must name its SHA-256 as a subject digest).
pub fn verify_bundle(
    bundle: &Bundle,
    artifact: &[u8],
    signed_by: SignedBy<'_>,
    root: &TrustedRoot,
) -> Result<KeylessVerified, VerifyError> {
    verify_bundle_for(bundle, Artifact::Bytes(artifact), signed_by, root)
}

/// [`verify_bundle`] for an [`Artifact`] given as bytes or as its SHA-256 alone.
pub fn verify_bundle_for(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    signed_by: SignedBy<'_>,
    root: &TrustedRoot,
) -> Result<KeylessVerified, VerifyError> {
    let artifact_digest = match artifact {
        Artifact::Bytes(bytes) => sha256(bytes),
        Artifact::Sha256(d) => d,
    };
    let vm = &bundle.verification_material;
    let (signature, signed) = match &bundle.content {
        Content::MessageSignature(m) => {
            if let Some(d) = &m.message_digest {
                if d.algorithm != super::bundle::HashAlgorithm::Sha2_256 {
                    return Err(KeylessError::Unsupported(
                        "a message digest other than SHA-256".into(),
                    )
                    .into());
                }
                if d.digest[..] != artifact_digest[..] {
                    return Err(KeylessError::Content(
                        "the bundle's message digest is not the artifact's".into(),
                    )
                    .into());
                }
            }
            let signed = match artifact {
                Artifact::Bytes(bytes) => Signed::Message(bytes),
                Artifact::Sha256(d) => Signed::Digest(d),
            };
            (&m.signature[..], signed)
        }
        Content::DsseEnvelope(d) => {
            check_statement_subject(&d.payload_type, &d.payload, &artifact_digest)?;
            (
                &d.signature[..],
                Signed::Dsse {
                    payload_type: &d.payload_type,
                    payload: &d.payload,
                },
            )
        }
    };
    let certificates: &[Vec<u8>] = match &vm.signer {
        Signer::PublicKey { .. } => &[],
        other => other.certificates(),
    };
    verify_material(
        &Material {
            certificates,
            signature,
            signed,
            tlog_entries: &vm.tlog_entries,
            timestamps: &vm.rfc3161_timestamps,
        },
        signed_by,
        root,
    )
}

/// An in-toto statement (`application/vnd.in-toto+json`) must name `digest` (SHA-256)
/// among its subjects.
pub(crate) fn check_statement_subject(
    payload_type: &str,
    payload: &[u8],
    digest: &[u8; 32],
) -> Result<(), KeylessError> {
    if payload_type != "application/vnd.in-toto+json" {
        return Err(KeylessError::Unsupported(format!(
            "a DSSE payload of type {}",
            super::excerpt::excerpt(payload_type, 60)
        )));
    }
    let statement: serde_json::Value = serde_json::from_slice(payload).map_err(|_| {
        KeylessError::Content("the DSSE payload is not an in-toto statement".into())
    })?;
    let want = rekor::hex(digest);
    let named = statement["subject"].as_array().is_some_and(|subjects| {
        subjects
            .iter()
            .any(|s| s["digest"]["sha256"].as_str() == Some(&want))
    });
    if named {
        Ok(())
    } else {
        Err(KeylessError::Content(format!(
            "the in-toto statement has no subject with sha256 {want}"
        )))
    }
}

/// The core: see the [module documentation](self).
pub(crate) fn verify_material(
    material: &Material<'_>,
    signed_by: SignedBy<'_>,
    root: &TrustedRoot,
) -> Result<KeylessVerified, VerifyError> {
    let message = match &material.signed {
        Signed::Message(m) => m.to_vec(),
        Signed::Digest(_) => Vec::new(),
        Signed::Dsse {
            payload_type,
            payload,
        } => pae(payload_type, payload),
    };
    let check = |key: &PublicKey| match &material.signed {
        Signed::Digest(d) => key.verify_sha256_digest(d, material.signature),
        _ => key.verify(&message, material.signature),
    };
    // 1. the signer and the signature.
    let leaf = material.certificates.first();
    let (key, cert) = match (leaf, signed_by) {
        (Some(der), SignedBy::Identity(_)) => {
            let cert = Certificate::parse(der)?;
            if cert.is_ca {
                return Err(KeylessError::Signer("the signing certificate is a CA certificate".into()).into());
            }
            (PublicKey::from_spki_der(cert.spki)?, Some(cert))
        }
        (None, SignedBy::Identity(_)) => {
            return Err(KeylessError::Signer(
                "the signature is by a public key, not a certificate: an identity requirement needs a keyless (Fulcio) signature".into(),
            )
            .into())
        }
        (Some(_), SignedBy::Keys(_)) => {
            return Err(KeylessError::Signer(
                "the signature is by a certificate (keyless), not by one of the keys: it verifies only against an identity and an issuer".into(),
            )
            .into())
        }
        (None, SignedBy::Keys(keys)) => {
            let key = keys
                .iter()
                .find(|k| check(k).is_ok())
                .ok_or_else(|| KeylessError::Signature(format!("with none of the {} key(s)", keys.len())))?;
            (key.clone(), None)
        }
    };
    check(&key).map_err(|_| {
        KeylessError::Signature(
            "with the certificate's key (tampered content, or another signature)".into(),
        )
    })?;

    // 2. transparency-log entries.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let signer_der: &[u8] = match leaf {
        Some(der) => der,
        None => key.spki_der(),
    };
    let expected = rekor::Expected {
        signature: material.signature,
        signer_der,
        signer_is_cert: leaf.is_some(),
        signed_digest: match &material.signed {
            Signed::Digest(d) => *d,
            _ => sha256(&message),
        },
        payload_digest: match &material.signed {
            Signed::Dsse { payload, .. } => Some(sha256(payload)),
            Signed::Message(_) | Signed::Digest(_) => None,
        },
    };
    let mut times: Vec<(i64, &'static str)> = Vec::new();
    for entry in material.tlog_entries {
        let fail = |reason: String| KeylessError::Tlog {
            index: entry.log_index,
            reason,
        };
        if !SUPPORTED_ENTRIES.contains(&(entry.kind.as_str(), entry.kind_version.as_str())) {
            return Err(KeylessError::Unsupported(format!(
                "transparency-log entries of kind {} {}",
                entry.kind, entry.kind_version
            ))
            .into());
        }
        let log = root.tlog(&entry.log_id).ok_or_else(|| {
            fail(format!(
                "by a log that is not in the trusted root (log id {})",
                rekor::hex(&entry.log_id)
            ))
        })?;
        rekor::check_body(entry, &expected).map_err(fail)?;
        if let Some(t) = entry.integrated_time {
            if t > now + 60 {
                return Err(fail(format!("integrated in the future ({})", time::format(t))).into());
            }
        }
        if entry.inclusion_promise.is_some() {
            let t = rekor::verify_set(entry, log).map_err(fail)?;
            if !log.valid_for.contains(t) {
                return Err(fail(format!(
                    "the log's key was not trusted at {}",
                    time::format(t)
                ))
                .into());
            }
            times.push((t, "tlog"));
        }
        if entry.inclusion_proof.is_some() {
            rekor::verify_inclusion(entry, log).map_err(fail)?;
        }
    }
    // 3. timestamps.
    for ts in material.timestamps {
        let t = rfc3161::verify(ts, material.signature, &root.timestamp_authorities)
            .map_err(KeylessError::Timestamp)?;
        times.push((t, "rfc3161"));
    }
    times.sort();
    let first = times.first().copied();
    let mut verified = KeylessVerified {
        identity: None,
        issuer: None,
        key_fingerprint: None,
        log_index: material.tlog_entries.first().map(|e| e.log_index),
        signed_at: first.map(|(t, _)| time::format(t)),
        time_source: first.map(|(_, s)| s),
    };
    let (Some(cert), SignedBy::Identity(identity)) = (cert, signed_by) else {
        verified.key_fingerprint = Some(key.fingerprint());
        return Ok(verified);
    };
    let leaf_der = leaf.map(Vec::as_slice).unwrap_or_default();
    // 4. time proof, validity and chain at each proven time.
    if times.is_empty() {
        return Err(KeylessError::NoTimeProof(format!(
            "{} log entr(ies) without a signed entry timestamp, {} timestamp(s)",
            material.tlog_entries.len(),
            material.timestamps.len()
        ))
        .into());
    }
    let mut issuer_spki: Option<Vec<u8>> = None;
    let mut requires_sct = false;
    for &(t, _) in &times {
        if t < cert.not_before || t > cert.not_after {
            return Err(KeylessError::Expired {
                time: time::format(t),
                not_before: time::format(cert.not_before),
                not_after: time::format(cert.not_after),
            }
            .into());
        }
        let ca = chain::chain_to(
            leaf_der,
            &root.certificate_authorities,
            t,
            chain::EKU_CODE_SIGNING,
        )
        .map_err(KeylessError::Chain)?;
        if issuer_spki.is_none() {
            let issuing = &root.certificate_authorities[ca].chain[0];
            issuer_spki = Some(Certificate::parse(issuing)?.spki.to_vec());
        }
        requires_sct |= root.certificate_authorities[ca].requires_sct;
    }
    // 5. certificate transparency, where the CA's root has CT logs.
    if requires_sct {
        sct::verify_scts(
            &cert,
            issuer_spki.as_deref().unwrap_or_default(),
            &root.ctlogs,
        )
        .map_err(KeylessError::Sct)?;
    }
    // 6. identity and issuer.
    let sans = cert.san_identities()?;
    let Some(matched) = sans.iter().find(|s| identity.identity.matches(s)) else {
        return Err(KeylessError::Identity {
            required: identity.identity.describe(),
            found: sans,
        }
        .into());
    };
    let issuer = cert.oidc_issuer()?;
    if !issuer
        .as_deref()
        .is_some_and(|i| identity.issuer.matches(i))
    {
        return Err(KeylessError::Issuer {
            required: identity.issuer.describe(),
            found: issuer,
        }
        .into());
    }
    verified.identity = Some(matched.clone());
    verified.issuer = issuer;
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexp_matches_the_whole_value() {
        let m = Matcher::parse("--verify-identity", "regexp:https://github.com/acme/api/.*")
            .expect("re");
        assert!(m.matches("https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1"));
        assert!(!m.matches(
            "https://github.com/acme/api-evil/.github/workflows/release.yml@refs/tags/v1"
        ));
        let unanchored = Matcher::parse("--verify-identity", "regexp:acme/api").expect("re");
        assert!(!unanchored.matches("https://github.com/acme/api-evil/x"));
        assert!(!unanchored.matches("xacme/api"));
        assert!(unanchored.matches("acme/api"));
        let exact = Matcher::parse(
            "--verify-issuer",
            "https://token.actions.githubusercontent.com",
        )
        .expect("exact");
        assert!(!exact.matches("https://token.actions.githubusercontent.com.evil"));
        assert!(matches!(
            Matcher::parse("--verify-identity", "regexp:("),
            Err(VerifyError::Pattern { .. })
        ));
        assert!(matches!(
            Matcher::parse("--verify-identity", ""),
            Err(VerifyError::Pattern { .. })
        ));
        assert_eq!(m.describe(), "regexp:https://github.com/acme/api/.*");
    }

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab".to_vec());
    }
}
