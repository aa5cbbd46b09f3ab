//! Sigstore trusted roots (`protos/sigstore_trustroot.proto`, `trusted_root.json`):
//! the certificate authorities (Fulcio), transparency logs (Rekor), CT logs and
//! timestamp authorities a keyless signature is checked against, each with the time
//! window in which it is trusted. Read offline; nothing is fetched (no TUF).
//!
//! [`TrustedRoot::embedded`] is the default: the Sigstore public-good instance's root
//! (vendored from `sigstore/root-signing`) and GitHub's (its Fulcio and TSA, which sign
//! attestations of private repositories), merged ([`TrustedRoot::merge`]);
//! `src/verify/roots/README.md` gives their sources and dates. `--trusted-root FILE`
//! replaces them ([`TrustedRoot::from_file`]). A certificate must carry a verifying SCT
//! only when it chains to a CA of a root that has CT logs
//! ([`CertificateAuthority::requires_sct`]): GitHub's has none.

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;

use super::{time, PublicKey};

/// The Sigstore public-good instance's `trusted_root.json`, as vendored.
pub const SIGSTORE_PUBLIC_GOOD: &str = include_str!("roots/sigstore-public-good.json");

/// GitHub's `trusted_root.json` (`fulcio.githubapp.com`, `timestamp.githubapp.com`; no
/// logs), as vendored.
pub const GITHUB: &str = include_str!("roots/github.json");

/// The largest trusted root file read.
pub const MAX_TRUSTED_ROOT_BYTES: u64 = 1 << 20;

/// Why a trusted root could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustRootError {
    /// Not JSON of the trusted root's shape.
    #[error("not a Sigstore trusted root: {0}")]
    Json(String),
    /// A media type that is not a trusted root's.
    #[error("unsupported trusted root media type {0:?} (application/vnd.dev.sigstore.trustedroot+json;version=0.1 or v0.2 is read)")]
    MediaType(String),
    /// An entry is incomplete or malformed.
    #[error("trusted root {what}: {reason}")]
    Invalid {
        /// Which entry, e.g. `tlogs[1]`.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be read.
    #[error("trusted root file {path}: {reason}")]
    File {
        /// The path as given.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A time window in Unix seconds; `end` is inclusive, absent means open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start (inclusive).
    pub start: i64,
    /// End (inclusive), if any.
    pub end: Option<i64>,
}

impl TimeRange {
    /// Whether `t` is inside the window.
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|end| t <= end)
    }
}

/// A transparency log or CT log of the root.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransparencyLog {
    /// `baseUrl`, for messages.
    pub base_url: String,
    /// The log's key.
    pub key: PublicKey,
    /// The log's id (`logId.keyId`): for Rekor v1 and CT logs, SHA-256 of the key's DER.
    pub log_id: Vec<u8>,
    /// When the key is trusted.
    pub valid_for: TimeRange,
}

/// A certificate authority (Fulcio) or timestamp authority of the root.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CertificateAuthority {
    /// `uri`, for messages.
    pub uri: String,
    /// DER certificates, the issuing (lowest) one first, the root last.
    pub chain: Vec<Vec<u8>>,
    /// When certificates it issued are trusted.
    pub valid_for: TimeRange,
    /// Whether a certificate it issued must carry an SCT of one of the root's CT logs:
    /// when the root it was read from has CT logs.
    pub requires_sct: bool,
}

/// A parsed trusted root. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TrustedRoot {
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio CAs.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate Transparency logs.
    pub ctlogs: Vec<TransparencyLog>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustedRoot {
    /// The embedded default: Sigstore's public-good instance and GitHub's, merged.
    pub fn embedded() -> TrustedRoot {
        // The vendored files are checked by a unit test; they always parse.
        let public_good = TrustedRoot::from_json(SIGSTORE_PUBLIC_GOOD.as_bytes());
        let github = TrustedRoot::from_json(GITHUB.as_bytes());
        public_good
            .unwrap_or_default()
            .merge(github.unwrap_or_default())
    }

    /// This root and `other`'s services together (each CA keeps whether it requires an
    /// SCT, as its own root said).
    pub fn merge(mut self, other: TrustedRoot) -> TrustedRoot {
        self.tlogs.extend(other.tlogs);
        self.certificate_authorities
            .extend(other.certificate_authorities);
        self.ctlogs.extend(other.ctlogs);
        self.timestamp_authorities
            .extend(other.timestamp_authorities);
        self
    }

    /// Reads a `trusted_root.json` file (at most [`MAX_TRUSTED_ROOT_BYTES`]).
    pub fn from_file(path: &Path) -> Result<TrustedRoot, TrustRootError> {
        let fail = |reason: String| TrustRootError::File {
            path: path.display().to_string(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut bytes = Vec::new();
        file.take(MAX_TRUSTED_ROOT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(e.to_string()))?;
        if bytes.len() as u64 > MAX_TRUSTED_ROOT_BYTES {
            return Err(fail(format!("over {MAX_TRUSTED_ROOT_BYTES} bytes")));
        }
        TrustedRoot::from_json(&bytes).map_err(|e| fail(e.to_string()))
    }

    /// Parses a trusted root's protobuf JSON.
    pub fn from_json(json: &[u8]) -> Result<TrustedRoot, TrustRootError> {
        let raw: raw::Root =
            serde_json::from_slice(json).map_err(|e| TrustRootError::Json(e.to_string()))?;
        let media_type = raw.media_type.unwrap_or_default();
        if !media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
            return Err(TrustRootError::MediaType(media_type));
        }
        let ctlogs = logs("ctlogs", raw.ctlogs)?;
        let mut certificate_authorities =
            authorities("certificateAuthorities", raw.certificate_authorities)?;
        for ca in &mut certificate_authorities {
            ca.requires_sct = !ctlogs.is_empty();
        }
        Ok(TrustedRoot {
            tlogs: logs("tlogs", raw.tlogs)?,
            certificate_authorities,
            ctlogs,
            timestamp_authorities: authorities("timestampAuthorities", raw.timestamp_authorities)?,
        })
    }

    /// The transparency log with this id, if any.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }
}

fn b64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("not base64 ({e})"))
}

fn range(raw: Option<raw::Range>) -> Result<TimeRange, String> {
    let raw = raw.ok_or("no validFor")?;
    let start = raw
        .start
        .as_deref()
        .ok_or("validFor has no start")
        .and_then(|s| time::rfc3339(s).ok_or("validFor.start is not an RFC 3339 time"))?;
    let end = match raw.end.as_deref() {
        None => None,
        Some(e) => Some(time::rfc3339(e).ok_or("validFor.end is not an RFC 3339 time")?),
    };
    Ok(TimeRange { start, end })
}

/// A log's key: a SubjectPublicKeyInfo, or (as some roots write RSA CT log keys,
/// `PKIX_RSA_PKCS1V15_*`) a bare PKCS#1 RSAPublicKey, taken as rsaEncryption.
fn log_key(der_bytes: &[u8]) -> Result<PublicKey, super::VerifyError> {
    let mut probe = super::der::Reader::new(der_bytes);
    let pkcs1 = probe
        .sequence("the key")
        .is_ok_and(|inner| inner.peek_tag() == Some(super::der::INTEGER));
    if !pkcs1 {
        return PublicKey::from_spki_der(der_bytes);
    }
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let bits = [&[0u8][..], der_bytes].concat();
    let spki = [
        RSA_ALGORITHM,
        &super::der::encode(super::der::BIT_STRING, &bits),
    ]
    .concat();
    PublicKey::from_spki_der(&super::der::encode(super::der::SEQUENCE, &spki))
}

fn logs(field: &str, raw: Vec<raw::Log>) -> Result<Vec<TransparencyLog>, TrustRootError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, log)| {
            let invalid = |reason: String| TrustRootError::Invalid {
                what: format!("{field}[{i}]"),
                reason,
            };
            let key = log
                .public_key
                .ok_or_else(|| invalid("no publicKey".into()))?;
            let der = b64(key.raw_bytes.as_deref().unwrap_or_default()).map_err(invalid)?;
            let valid_for = range(key.valid_for).map_err(|e| invalid(e.to_string()))?;
            let public = log_key(&der).map_err(|e| invalid(e.to_string()))?;
            let log_id = b64(log
                .log_id
                .and_then(|l| l.key_id)
                .as_deref()
                .ok_or_else(|| invalid("no logId".into()))?)
            .map_err(invalid)?;
            Ok(TransparencyLog {
                base_url: log.base_url.unwrap_or_default(),
                key: public,
                log_id,
                valid_for,
            })
        })
        .collect()
}

fn authorities(
    field: &str,
    raw: Vec<raw::Authority>,
) -> Result<Vec<CertificateAuthority>, TrustRootError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, ca)| {
            let invalid = |reason: String| TrustRootError::Invalid {
                what: format!("{field}[{i}]"),
                reason,
            };
            let chain = ca
                .cert_chain
                .map(|c| c.certificates)
                .unwrap_or_default()
                .into_iter()
                .map(|c| b64(c.raw_bytes.as_deref().unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            if chain.is_empty() || chain.iter().any(Vec::is_empty) {
                return Err(invalid("no certificates in certChain".into()));
            }
            Ok(CertificateAuthority {
                uri: ca.uri.unwrap_or_default(),
                chain,
                valid_for: range(ca.valid_for).map_err(|e| invalid(e.to_string()))?,
                requires_sct: false,
            })
        })
        .collect()
}

mod raw {
    use super::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Root {
        #[serde(alias = "media_type")]
        pub media_type: Option<String>,
        #[serde(default)]
        pub tlogs: Vec<Log>,
        #[serde(alias = "certificate_authorities", default)]
        pub certificate_authorities: Vec<Authority>,
        #[serde(default)]
        pub ctlogs: Vec<Log>,
        #[serde(alias = "timestamp_authorities", default)]
        pub timestamp_authorities: Vec<Authority>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Log {
        #[serde(alias = "base_url")]
        pub base_url: Option<String>,
        #[serde(alias = "public_key")]
        pub public_key: Option<Key>,
        #[serde(alias = "log_id")]
        pub log_id: Option<LogId>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Key {
        #[serde(alias = "raw_bytes")]
        pub raw_bytes: Option<String>,
        #[serde(alias = "valid_for")]
        pub valid_for: Option<Range>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct LogId {
        #[serde(alias = "key_id")]
        pub key_id: Option<String>,
    }

    #[derive(Deserialize)]
    pub(super) struct Range {
        pub start: Option<String>,
        pub end: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Authority {
        pub uri: Option<String>,
        #[serde(alias = "cert_chain")]
        pub cert_chain: Option<Chain>,
        #[serde(alias = "valid_for")]
        pub valid_for: Option<Range>,
    }

    #[derive(Deserialize)]
    pub(super) struct Chain {
        #[serde(default)]
        pub certificates: Vec<Cert>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Cert {
        #[serde(alias = "raw_bytes")]
        pub raw_bytes: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_root_parses_with_every_service() {
        let root = TrustedRoot::from_json(SIGSTORE_PUBLIC_GOOD.as_bytes()).expect("embedded root");
        assert_eq!(root.tlogs.len(), 2);
        assert_eq!(root.certificate_authorities.len(), 2);
        assert_eq!(root.ctlogs.len(), 2);
        assert_eq!(root.timestamp_authorities.len(), 1);
        // Rekor's log id is the SHA-256 of its key (wNI9…).
        let rekor = &root.tlogs[0];
        assert_eq!(rekor.base_url, "https://rekor.sigstore.dev");
        assert_eq!(rekor.key.fingerprint()[7..15], *"c0d23d6a");
        assert!(root.tlog(&rekor.log_id).is_some());
        let old_ca = &root.certificate_authorities[0];
        assert!(
            old_ca.valid_for.contains(1_640_995_200) && !old_ca.valid_for.contains(1_700_000_000)
        );
    }

    #[test]
    fn the_embedded_default_is_public_good_and_github_and_only_public_good_needs_scts() {
        let github = TrustedRoot::from_json(GITHUB.as_bytes()).expect("GitHub's root");
        assert_eq!(
            (github.tlogs.len(), github.ctlogs.len()),
            (0, 0),
            "GitHub's instance has no logs"
        );
        assert_eq!(github.certificate_authorities.len(), 6);
        assert_eq!(github.timestamp_authorities.len(), 6);
        assert!(github
            .certificate_authorities
            .iter()
            .all(|ca| ca.uri == "fulcio.githubapp.com" && ca.chain.len() == 3 && !ca.requires_sct));
        // The newest generation is open-ended (from 2026-06-12).
        let newest = &github.certificate_authorities[5].valid_for;
        assert!(newest.contains(1_796_000_000) && newest.end.is_none());
        let all = TrustedRoot::embedded();
        assert_eq!(all.certificate_authorities.len(), 2 + 6);
        assert_eq!(all.timestamp_authorities.len(), 1 + 6);
        assert_eq!((all.tlogs.len(), all.ctlogs.len()), (2, 2));
        let needs: Vec<bool> = (all.certificate_authorities.iter())
            .map(|ca| ca.requires_sct)
            .collect();
        assert_eq!(
            needs,
            [true, true, false, false, false, false, false, false]
        );
    }

    #[test]
    fn refuses_incomplete_entries() {
        let no_start = SIGSTORE_PUBLIC_GOOD.replacen(
            r#""start": "2021-01-12T11:53:27Z""#,
            r#""end": "2030-01-01T00:00:00Z""#,
            1,
        );
        assert_ne!(no_start, SIGSTORE_PUBLIC_GOOD);
        let err = TrustedRoot::from_json(no_start.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("tlogs[0]: validFor has no start"),
            "{err}"
        );
        assert!(matches!(
            TrustedRoot::from_json(br#"{"mediaType":"x"}"#),
            Err(TrustRootError::MediaType(_))
        ));
        assert!(matches!(
            TrustedRoot::from_json(b"[]"),
            Err(TrustRootError::Json(_))
        ));
    }
}
