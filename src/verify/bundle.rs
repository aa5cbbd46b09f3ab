//! Sigstore bundles (`sigstore/protobuf-specs`, `protos/sigstore_bundle.proto`), read
//! from their protobuf JSON form into typed values; nothing here verifies anything.
//!
//! A bundle carries one signed content and what it takes to verify it offline:
//!
//! - [`Bundle::media_type`]: one of [`MEDIA_TYPE_V0_1`], [`MEDIA_TYPE_V0_2`],
//!   [`MEDIA_TYPE_V0_3`] or [`MEDIA_TYPE_V0_3_LEGACY`] (the `+json;version=0.3` spelling
//!   that clients must still accept); anything else is [`BundleError::MediaType`].
//! - [`VerificationMaterial`]: the signer ([`Signer`]: a public key hint, a certificate
//!   chain whose first member is the leaf, or one leaf certificate), the transparency-log
//!   entries ([`TlogEntry`]: an inclusion promise (SET) and/or an inclusion proof with
//!   its checkpoint) and the RFC 3161 timestamps (DER `TimeStampResp`/token bytes).
//! - [`Content`]: a [`MessageSignature`] (a signature over an artifact, with its digest)
//!   or a [`DsseEnvelope`] (exactly one signature, as the spec requires).
//!
//! Protobuf JSON rules followed: field names in lowerCamelCase (the proto names in
//! snake_case are accepted too), `bytes` as base64 (standard or URL-safe alphabet,
//! padding optional, line breaks skipped), 64-bit integers as decimal strings or numbers, unknown fields
//! ignored. What the spec rules out per version is refused here: a v0.1 entry without
//! an inclusion promise, a v0.2+ entry without an inclusion proof, a negative log
//! index, an empty certificate chain, a DSSE envelope with other than one signature.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::Deserialize;

/// `application/vnd.dev.sigstore.bundle+json;version=0.1`.
pub const MEDIA_TYPE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// `application/vnd.dev.sigstore.bundle+json;version=0.2`.
pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// `application/vnd.dev.sigstore.bundle.v0.3+json`: the current spelling, and the OCI
/// artifact type of bundles stored as referrers.
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// `application/vnd.dev.sigstore.bundle+json;version=0.3`: the earlier spelling of v0.3.
pub const MEDIA_TYPE_V0_3_LEGACY: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// The largest bundle parsed (real ones are a few KiB; GitHub's with a chain ~10 KiB).
pub const MAX_BUNDLE_BYTES: usize = 1 << 20;

/// Why a bundle could not be read. Messages name the field, never its contents in full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("the bundle is not valid JSON of the bundle's shape: {0}")]
    Json(String),
    /// Larger than [`MAX_BUNDLE_BYTES`].
    #[error("the bundle is {0} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")]
    TooLarge(usize),
    /// A media type that is not one of the bundle versions known here.
    #[error("unsupported bundle media type {0} (0.1, 0.2 and 0.3 are read)")]
    MediaType(String),
    /// A required field is absent or empty.
    #[error("the bundle has no {0}")]
    Missing(&'static str),
    /// A `bytes` field is not base64.
    #[error("{field} is not base64 ({reason})")]
    Base64 {
        /// The field, e.g. `messageSignature.signature`.
        field: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// A 64-bit integer field is not a non-negative integer.
    #[error("{field} must be a non-negative integer, found {value}")]
    Integer {
        /// The field, e.g. `tlogEntries[].logIndex`.
        field: &'static str,
        /// What was found (shortened).
        value: String,
    },
    /// Two members of a oneof are set, or none.
    #[error("the bundle must have exactly one {0}")]
    OneOf(&'static str),
    /// A field is set but its value breaks a rule of the spec.
    #[error("invalid bundle: {0}")]
    Invalid(String),
}

/// A bundle's format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BundleVersion {
    /// 0.1: inclusion promise required, inclusion proof optional.
    V0_1,
    /// 0.2: inclusion proof required.
    V0_2,
    /// 0.3: as 0.2, and a single `certificate` for keyless signers.
    V0_3,
}

impl BundleVersion {
    /// The version of a media type, if it is a bundle's.
    pub fn from_media_type(media_type: &str) -> Option<BundleVersion> {
        match media_type {
            MEDIA_TYPE_V0_1 => Some(BundleVersion::V0_1),
            MEDIA_TYPE_V0_2 => Some(BundleVersion::V0_2),
            MEDIA_TYPE_V0_3 | MEDIA_TYPE_V0_3_LEGACY => Some(BundleVersion::V0_3),
            _ => None,
        }
    }
}

/// A parsed bundle. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bundle {
    /// The media type as written.
    pub media_type: String,
    /// Its version.
    pub version: BundleVersion,
    /// Who signed, and the proofs of when.
    pub verification_material: VerificationMaterial,
    /// What was signed.
    pub content: Content,
}

/// A bundle's verification material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerificationMaterial {
    /// The signer.
    pub signer: Signer,
    /// Transparency-log entries (possibly none).
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 signed timestamps, DER (possibly none).
    pub rfc3161_timestamps: Vec<Vec<u8>>,
}

/// Who signed: the oneof `verificationMaterial.content`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signer {
    /// `publicKey.hint`: a key known out of band (possibly an empty hint).
    PublicKey {
        /// The hint, as written.
        hint: String,
    },
    /// `x509CertificateChain.certificates`: DER certificates, the leaf first.
    CertificateChain(Vec<Vec<u8>>),
    /// `certificate`: the DER leaf certificate alone (v0.3).
    Certificate(Vec<u8>),
}

impl Signer {
    /// The DER certificates, the leaf first (empty for a public key).
    pub fn certificates(&self) -> &[Vec<u8>] {
        match self {
            Signer::PublicKey { .. } => &[],
            Signer::CertificateChain(chain) => chain,
            Signer::Certificate(leaf) => std::slice::from_ref(leaf),
        }
    }

    /// The leaf certificate's DER, if the signer is a certificate.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.certificates().first().map(Vec::as_slice)
    }
}

/// One transparency-log entry (`dev.sigstore.rekor.v1.TransparencyLogEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlogEntry {
    /// The entry's global index in the log.
    pub log_index: u64,
    /// The log's id: SHA-256 of its public key's DER.
    pub log_id: Vec<u8>,
    /// `kindVersion.kind`, e.g. `hashedrekord`, `dsse`, `intoto`.
    pub kind: String,
    /// `kindVersion.version`, e.g. `0.0.1`.
    pub kind_version: String,
    /// When the log integrated the entry (Unix seconds); absent (0) for Rekor v2 logs.
    pub integrated_time: Option<i64>,
    /// `inclusionPromise.signedEntryTimestamp`: the log's signature (SET), DER.
    pub inclusion_promise: Option<Vec<u8>>,
    /// The inclusion proof.
    pub inclusion_proof: Option<InclusionProof>,
    /// The entry's canonical body as the log stores it (JSON bytes).
    pub canonicalized_body: Vec<u8>,
}

/// An RFC 6962 inclusion proof with the log's signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InclusionProof {
    /// The entry's index in the tree the proof is for.
    pub log_index: u64,
    /// The tree's root hash.
    pub root_hash: Vec<u8>,
    /// The tree's size.
    pub tree_size: u64,
    /// The audit path, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (a signed note, `checkpoint.envelope`).
    pub checkpoint: String,
}

/// What was signed: the oneof `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A signature over an artifact.
    MessageSignature(MessageSignature),
    /// A DSSE envelope.
    DsseEnvelope(DsseEnvelope),
}

/// A hash algorithm named in a bundle (`dev.sigstore.common.v1.HashAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `SHA2_256`.
    Sha2_256,
    /// `SHA2_384`.
    Sha2_384,
    /// `SHA2_512`.
    Sha2_512,
}

impl HashAlgorithm {
    fn parse(name: &str) -> Result<HashAlgorithm, BundleError> {
        match name {
            "SHA2_256" => Ok(HashAlgorithm::Sha2_256),
            "SHA2_384" => Ok(HashAlgorithm::Sha2_384),
            "SHA2_512" => Ok(HashAlgorithm::Sha2_512),
            other => Err(BundleError::Invalid(format!(
                "unsupported message digest algorithm {}",
                super::excerpt::excerpt(other, 40)
            ))),
        }
    }

    /// The digest's length in bytes.
    pub fn digest_len(&self) -> usize {
        match self {
            HashAlgorithm::Sha2_256 => 32,
            HashAlgorithm::Sha2_384 => 48,
            HashAlgorithm::Sha2_512 => 64,
        }
    }
}

/// `messageSignature`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageSignature {
    /// The artifact's digest, if given (the signature is over the artifact).
    pub message_digest: Option<MessageDigest>,
    /// The signature, DER for ECDSA.
    pub signature: Vec<u8>,
}

/// `messageSignature.messageDigest`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageDigest {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The digest bytes (checked to be the algorithm's length).
    pub digest: Vec<u8>,
}

/// A DSSE envelope with its one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DsseEnvelope {
    /// The payload bytes (decoded).
    pub payload: Vec<u8>,
    /// `payloadType`, e.g. `application/vnd.in-toto+json`.
    pub payload_type: String,
    /// The signature over PAE(payloadType, payload).
    pub signature: Vec<u8>,
    /// The signature's `keyid` (often empty).
    pub keyid: String,
}

impl Bundle {
    /// Parses a bundle's JSON. See the [module documentation](self).
    pub fn from_json(json: &[u8]) -> Result<Bundle, BundleError> {
        if json.len() > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge(json.len()));
        }
        let raw: raw::Bundle =
            serde_json::from_slice(json).map_err(|e| BundleError::Json(e.to_string()))?;
        let media_type = raw.media_type.ok_or(BundleError::Missing("mediaType"))?;
        let version = BundleVersion::from_media_type(&media_type)
            .ok_or_else(|| BundleError::MediaType(super::excerpt::excerpt(&media_type, 80)))?;
        let material = raw
            .verification_material
            .ok_or(BundleError::Missing("verificationMaterial"))?;
        let verification_material = material.into_typed(version)?;
        let content = match (raw.message_signature, raw.dsse_envelope) {
            (Some(m), None) => Content::MessageSignature(m.into_typed()?),
            (None, Some(d)) => Content::DsseEnvelope(d.into_typed()?),
            _ => {
                return Err(BundleError::OneOf(
                    "content (messageSignature or dsseEnvelope)",
                ))
            }
        };
        Ok(Bundle {
            media_type,
            version,
            verification_material,
            content,
        })
    }
}

/// Base64 as protobuf JSON writes `bytes`: standard or URL-safe, padded or not.
fn b64(field: &'static str, text: &str) -> Result<Vec<u8>, BundleError> {
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    // Line breaks are skipped, as Go's decoder (protojson) does.
    let joined;
    let text = if text.contains(['\r', '\n']) {
        joined = text.replace(['\r', '\n'], "");
        joined.as_str()
    } else {
        text
    };
    STANDARD
        .decode(text)
        .or_else(|e| URL_SAFE.decode(text).map_err(|_| e))
        .map_err(|e| BundleError::Base64 {
            field,
            reason: e.to_string(),
        })
}

fn b64_required(field: &'static str, text: Option<String>) -> Result<Vec<u8>, BundleError> {
    match text {
        Some(t) if !t.is_empty() => b64(field, &t),
        _ => Err(BundleError::Missing(field)),
    }
}

/// An int64/uint64 field: a JSON number or a decimal string.
fn uint(
    field: &'static str,
    value: &Option<serde_json::Value>,
) -> Result<Option<u64>, BundleError> {
    let bad = |v: &serde_json::Value| BundleError::Integer {
        field,
        value: super::excerpt::excerpt(&v.to_string(), 24),
    };
    match value {
        None => Ok(None),
        Some(v @ serde_json::Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| bad(v)),
        Some(v @ serde_json::Value::String(s)) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(v));
            }
            s.parse::<u64>().map(Some).map_err(|_| bad(v))
        }
        Some(v) => Err(bad(v)),
    }
}

mod raw {
    //! The JSON shapes, as serde reads them; turned into the typed values above.
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Bundle {
        #[serde(alias = "media_type")]
        pub media_type: Option<String>,
        #[serde(alias = "verification_material")]
        pub verification_material: Option<Material>,
        #[serde(alias = "message_signature")]
        pub message_signature: Option<MessageSig>,
        #[serde(alias = "dsse_envelope")]
        pub dsse_envelope: Option<Envelope>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Material {
        #[serde(alias = "public_key")]
        public_key: Option<KeyHint>,
        #[serde(alias = "x509_certificate_chain")]
        x509_certificate_chain: Option<Chain>,
        certificate: Option<Cert>,
        #[serde(alias = "tlog_entries", default)]
        tlog_entries: Vec<Entry>,
        #[serde(alias = "timestamp_verification_data")]
        timestamp_verification_data: Option<Timestamps>,
    }

    #[derive(Deserialize)]
    struct KeyHint {
        #[serde(default)]
        hint: String,
    }

    #[derive(Deserialize)]
    struct Chain {
        #[serde(default)]
        certificates: Vec<Cert>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Cert {
        #[serde(alias = "raw_bytes")]
        raw_bytes: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Timestamps {
        #[serde(alias = "rfc3161_timestamps", default)]
        rfc3161_timestamps: Vec<Timestamp>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Timestamp {
        #[serde(alias = "signed_timestamp")]
        signed_timestamp: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry {
        #[serde(alias = "log_index")]
        log_index: Option<serde_json::Value>,
        #[serde(alias = "log_id")]
        log_id: Option<LogId>,
        #[serde(alias = "kind_version")]
        kind_version: Option<KindVersion>,
        #[serde(alias = "integrated_time")]
        integrated_time: Option<serde_json::Value>,
        #[serde(alias = "inclusion_promise")]
        inclusion_promise: Option<Promise>,
        #[serde(alias = "inclusion_proof")]
        inclusion_proof: Option<Proof>,
        #[serde(alias = "canonicalized_body")]
        canonicalized_body: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct LogId {
        #[serde(alias = "key_id")]
        key_id: Option<String>,
    }

    #[derive(Deserialize)]
    struct KindVersion {
        #[serde(default)]
        kind: String,
        #[serde(default)]
        version: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Promise {
        #[serde(alias = "signed_entry_timestamp")]
        signed_entry_timestamp: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Proof {
        #[serde(alias = "log_index")]
        log_index: Option<serde_json::Value>,
        #[serde(alias = "root_hash")]
        root_hash: Option<String>,
        #[serde(alias = "tree_size")]
        tree_size: Option<serde_json::Value>,
        #[serde(default)]
        hashes: Vec<String>,
        checkpoint: Option<Checkpoint>,
    }

    #[derive(Deserialize)]
    struct Checkpoint {
        #[serde(default)]
        envelope: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct MessageSig {
        #[serde(alias = "message_digest")]
        message_digest: Option<Digest>,
        signature: Option<String>,
    }

    #[derive(Deserialize)]
    struct Digest {
        algorithm: Option<String>,
        digest: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Envelope {
        payload: Option<String>,
        #[serde(alias = "payload_type")]
        payload_type: Option<String>,
        #[serde(default)]
        signatures: Vec<EnvelopeSig>,
    }

    #[derive(Deserialize)]
    struct EnvelopeSig {
        sig: Option<String>,
        #[serde(default)]
        keyid: String,
    }

    impl Material {
        pub(super) fn into_typed(
            self,
            version: BundleVersion,
        ) -> Result<VerificationMaterial, BundleError> {
            const SIGNER: &str =
                "verificationMaterial content (publicKey, x509CertificateChain or certificate)";
            let signer = match (
                self.public_key,
                self.x509_certificate_chain,
                self.certificate,
            ) {
                (Some(k), None, None) => Signer::PublicKey { hint: k.hint },
                (None, Some(chain), None) => {
                    if chain.certificates.is_empty() {
                        return Err(BundleError::Missing(
                            "x509CertificateChain.certificates (the chain is empty)",
                        ));
                    }
                    Signer::CertificateChain(
                        chain
                            .certificates
                            .into_iter()
                            .map(|c| {
                                b64_required(
                                    "x509CertificateChain.certificates[].rawBytes",
                                    c.raw_bytes,
                                )
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
                (None, None, Some(c)) => {
                    Signer::Certificate(b64_required("certificate.rawBytes", c.raw_bytes)?)
                }
                _ => return Err(BundleError::OneOf(SIGNER)),
            };
            let tlog_entries = self
                .tlog_entries
                .into_iter()
                .map(|e| e.into_typed(version))
                .collect::<Result<_, _>>()?;
            let rfc3161_timestamps = self
                .timestamp_verification_data
                .map(|t| t.rfc3161_timestamps)
                .unwrap_or_default()
                .into_iter()
                .map(|t| b64_required("rfc3161Timestamps[].signedTimestamp", t.signed_timestamp))
                .collect::<Result<_, _>>()?;
            Ok(VerificationMaterial {
                signer,
                tlog_entries,
                rfc3161_timestamps,
            })
        }
    }

    impl Entry {
        fn into_typed(self, version: BundleVersion) -> Result<TlogEntry, BundleError> {
            // Proto3 JSON leaves out a field holding its default: no `logIndex` is 0
            // (the first entry of a log; @sigstore/mock's Rekor writes such bundles).
            let log_index = uint("tlogEntries[].logIndex", &self.log_index)?.unwrap_or(0);
            let log_id = b64_required(
                "tlogEntries[].logId.keyId",
                self.log_id.and_then(|l| l.key_id),
            )?;
            let kind_version = self
                .kind_version
                .filter(|k| !k.kind.is_empty() && !k.version.is_empty())
                .ok_or(BundleError::Missing("tlogEntries[].kindVersion"))?;
            let integrated_time = uint("tlogEntries[].integratedTime", &self.integrated_time)?
                .filter(|&t| t != 0)
                .map(|t| {
                    i64::try_from(t).map_err(|_| BundleError::Integer {
                        field: "tlogEntries[].integratedTime",
                        value: t.to_string(),
                    })
                })
                .transpose()?;
            let inclusion_promise = match self.inclusion_promise {
                Some(p) => Some(b64_required(
                    "tlogEntries[].inclusionPromise.signedEntryTimestamp",
                    p.signed_entry_timestamp,
                )?),
                None => None,
            };
            let inclusion_proof = self.inclusion_proof.map(Proof::into_typed).transpose()?;
            if version == BundleVersion::V0_1 && inclusion_promise.is_none() {
                return Err(BundleError::Missing(
                    "tlogEntries[].inclusionPromise (required in a v0.1 bundle)",
                ));
            }
            if version >= BundleVersion::V0_2 && inclusion_proof.is_none() {
                return Err(BundleError::Missing(
                    "tlogEntries[].inclusionProof (required from bundle v0.2 on)",
                ));
            }
            Ok(TlogEntry {
                log_index,
                log_id,
                kind: kind_version.kind,
                kind_version: kind_version.version,
                integrated_time,
                inclusion_promise,
                inclusion_proof,
                canonicalized_body: b64_required(
                    "tlogEntries[].canonicalizedBody",
                    self.canonicalized_body,
                )?,
            })
        }
    }

    impl Proof {
        fn into_typed(self) -> Result<InclusionProof, BundleError> {
            let checkpoint = self
                .checkpoint
                .map(|c| c.envelope)
                .filter(|e| !e.is_empty())
                .ok_or(BundleError::Missing("inclusionProof.checkpoint.envelope"))?;
            Ok(InclusionProof {
                // Absent is 0, as for the entry's `logIndex` (proto3 JSON).
                log_index: uint("inclusionProof.logIndex", &self.log_index)?.unwrap_or(0),
                root_hash: b64_required("inclusionProof.rootHash", self.root_hash)?,
                tree_size: uint("inclusionProof.treeSize", &self.tree_size)?
                    .ok_or(BundleError::Missing("inclusionProof.treeSize"))?,
                hashes: self
                    .hashes
                    .iter()
                    .map(|h| b64("inclusionProof.hashes[]", h))
                    .collect::<Result<_, _>>()?,
                checkpoint,
            })
        }
    }

    impl MessageSig {
        pub(super) fn into_typed(self) -> Result<MessageSignature, BundleError> {
            let message_digest = match self.message_digest {
                None => None,
                Some(d) => {
                    let algorithm = HashAlgorithm::parse(
                        d.algorithm
                            .as_deref()
                            .ok_or(BundleError::Missing("messageDigest.algorithm"))?,
                    )?;
                    let digest = b64_required("messageDigest.digest", d.digest)?;
                    if digest.len() != algorithm.digest_len() {
                        return Err(BundleError::Invalid(format!(
                            "messageDigest.digest is {} bytes, {:?} is {}",
                            digest.len(),
                            algorithm,
                            algorithm.digest_len()
                        )));
                    }
                    Some(MessageDigest { algorithm, digest })
                }
            };
            Ok(MessageSignature {
                message_digest,
                signature: b64_required("messageSignature.signature", self.signature)?,
            })
        }
    }

    impl Envelope {
        pub(super) fn into_typed(self) -> Result<DsseEnvelope, BundleError> {
            let payload_type = self
                .payload_type
                .filter(|t| !t.is_empty())
                .ok_or(BundleError::Missing("dsseEnvelope.payloadType"))?;
            let payload = b64_required("dsseEnvelope.payload", self.payload)?;
            let mut signatures = self.signatures.into_iter();
            let (Some(one), None) = (signatures.next(), signatures.next()) else {
                return Err(BundleError::Invalid(
                    "a bundle's DSSE envelope must have exactly one signature".to_string(),
                ));
            };
            Ok(DsseEnvelope {
                payload,
                payload_type,
                signature: b64_required("dsseEnvelope.signatures[].sig", one.sig)?,
                keyid: one.keyid,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "MEUCIQDx"; // 6 bytes, valid base64
    const DIGEST_B64: &str = "oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab8=";

    fn entry(promise: bool, proof: bool) -> String {
        let mut e = String::from(
            r#"{"logIndex":"25579","logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},
            "kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1689177396",
            "canonicalizedBody":"e30=""#,
        );
        if promise {
            e.push_str(&format!(
                r#","inclusionPromise":{{"signedEntryTimestamp":"{SIG}"}}"#
            ));
        }
        if proof {
            e.push_str(&format!(
                r#","inclusionProof":{{"logIndex":"21","rootHash":"{DIGEST_B64}","treeSize":"22",
                "hashes":["{DIGEST_B64}"],"checkpoint":{{"envelope":"rekor.sigstore.dev - 1\n22\nabc=\n\n— rekor x\n"}}}}"#
            ));
        }
        e.push('}');
        e
    }

    fn bundle(media_type: &str, material: &str, entries: &[String], content: &str) -> String {
        format!(
            r#"{{"mediaType":"{media_type}","verificationMaterial":{{{material},"tlogEntries":[{}]}},{content}}}"#,
            entries.join(",")
        )
    }

    fn message() -> String {
        format!(
            r#""messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{DIGEST_B64}"}},"signature":"{SIG}"}}"#
        )
    }

    fn parse(json: &str) -> Result<Bundle, BundleError> {
        Bundle::from_json(json.as_bytes())
    }

    #[test]
    fn reads_each_version_and_signer_form() {
        let b = parse(&bundle(
            MEDIA_TYPE_V0_1,
            r#""x509CertificateChain":{"certificates":[{"rawBytes":"AQID"},{"rawBytes":"BAU"}]}"#,
            &[entry(true, false)],
            &message(),
        ))
        .expect("v0.1");
        assert_eq!(b.version, BundleVersion::V0_1);
        assert_eq!(
            b.verification_material.signer,
            Signer::CertificateChain(vec![vec![1, 2, 3], vec![4, 5]])
        );
        assert_eq!(
            b.verification_material.signer.leaf(),
            Some(&[1u8, 2, 3][..])
        );
        let e = &b.verification_material.tlog_entries[0];
        assert_eq!(e.log_index, 25579);
        assert_eq!(e.integrated_time, Some(1689177396));
        assert_eq!(e.kind, "hashedrekord");
        assert_eq!(e.canonicalized_body, b"{}");
        assert_eq!(e.inclusion_promise.as_deref().map(<[u8]>::len), Some(6));
        let Content::MessageSignature(m) = &b.content else {
            panic!("message signature")
        };
        let d = m.message_digest.as_ref().expect("digest");
        assert_eq!((d.algorithm, d.digest.len()), (HashAlgorithm::Sha2_256, 32));

        let b = parse(&bundle(
            MEDIA_TYPE_V0_3,
            r#""certificate":{"rawBytes":"AQID"}"#,
            &[entry(false, true)],
            &message(),
        ))
        .expect("v0.3");
        assert_eq!(b.version, BundleVersion::V0_3);
        assert_eq!(
            b.verification_material.signer,
            Signer::Certificate(vec![1, 2, 3])
        );
        let proof = b.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_ref()
            .expect("proof");
        assert_eq!((proof.log_index, proof.tree_size), (21, 22));
        assert!(proof.checkpoint.starts_with("rekor.sigstore.dev - 1\n22\n"));

        let b = parse(&bundle(
            MEDIA_TYPE_V0_3_LEGACY,
            r#""publicKey":{"hint":"k1"}"#,
            &[],
            r#""dsseEnvelope":{"payload":"e30","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEUCIQDx","keyid":""}]}"#,
        ))
        .expect("v0.3 legacy spelling, key hint, DSSE, no tlog entry");
        assert_eq!(b.version, BundleVersion::V0_3);
        assert_eq!(
            b.verification_material.signer,
            Signer::PublicKey { hint: "k1".into() }
        );
        assert!(b.verification_material.signer.leaf().is_none());
        let Content::DsseEnvelope(d) = &b.content else {
            panic!("dsse")
        };
        assert_eq!(
            (d.payload.as_slice(), d.payload_type.as_str()),
            (&b"{}"[..], "application/vnd.in-toto+json")
        );
    }

    #[test]
    fn snake_case_names_numbers_and_timestamps_are_read() {
        let json = format!(
            r#"{{"media_type":"{MEDIA_TYPE_V0_2}","verification_material":{{"certificate":{{"raw_bytes":"AQID"}},
            "tlog_entries":[{{"log_index":7,"log_id":{{"key_id":"AQ"}},"kind_version":{{"kind":"dsse","version":"0.0.1"}},
              "integrated_time":0,"canonicalized_body":"e30","inclusion_proof":{{"log_index":7,"root_hash":"AQ","tree_size":8,"hashes":[],"checkpoint":{{"envelope":"x"}}}}}}],
            "timestamp_verification_data":{{"rfc3161_timestamps":[{{"signed_timestamp":"MAA="}}]}}}},
            "message_signature":{{"signature":"{SIG}"}},"unknownField":true}}"#
        );
        let b = parse(&json).expect("snake case");
        let e = &b.verification_material.tlog_entries[0];
        assert_eq!((e.log_index, e.integrated_time), (7, None));
        assert_eq!(
            b.verification_material.rfc3161_timestamps,
            vec![vec![0x30, 0]]
        );
        let Content::MessageSignature(m) = &b.content else {
            panic!("message")
        };
        assert!(m.message_digest.is_none());
    }

    #[test]
    fn refuses_what_the_spec_rules_out() {
        let cert = r#""certificate":{"rawBytes":"AQID"}"#;
        let err = |json: String| parse(&json).unwrap_err();
        assert!(matches!(err("{".into()), BundleError::Json(_)));
        assert!(matches!(
            err(bundle(
                "application/vnd.dev.sigstore.bundle.v0.4+json",
                cert,
                &[],
                &message()
            )),
            BundleError::MediaType(_)
        ));
        assert_eq!(
            err(bundle(
                MEDIA_TYPE_V0_1,
                cert,
                &[entry(false, true)],
                &message()
            )),
            BundleError::Missing("tlogEntries[].inclusionPromise (required in a v0.1 bundle)")
        );
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_2, cert, &[entry(true, false)], &message())),
            BundleError::Missing(m) if m.contains("inclusionProof")
        ));
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_1, r#""x509CertificateChain":{"certificates":[]}"#, &[entry(true, false)], &message())),
            BundleError::Missing(m) if m.contains("chain is empty")
        ));
        let negative = entry(true, false).replace(r#""logIndex":"25579""#, r#""logIndex":"-1""#);
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_1, cert, &[negative], &message())),
            BundleError::Integer {
                field: "tlogEntries[].logIndex",
                ..
            }
        ));
        assert!(matches!(
            err(bundle(
                MEDIA_TYPE_V0_3,
                cert,
                &[],
                &message().replace(SIG, "!!not base64")
            )),
            BundleError::Base64 {
                field: "messageSignature.signature",
                ..
            }
        ));
        assert!(matches!(
            err(bundle(
                MEDIA_TYPE_V0_3,
                &format!(r#"{cert},"publicKey":{{"hint":""}}"#),
                &[],
                &message()
            )),
            BundleError::OneOf(_)
        ));
        let both = format!(r#"{},"dsseEnvelope":{{}}"#, message());
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_3, cert, &[], &both)),
            BundleError::OneOf(_)
        ));
        let two_sigs = r#""dsseEnvelope":{"payload":"e30","payloadType":"t","signatures":[{"sig":"AQ"},{"sig":"AQ"}]}"#;
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_3, cert, &[], two_sigs)),
            BundleError::Invalid(_)
        ));
        let short = message().replace(DIGEST_B64, "AQID");
        assert!(matches!(
            err(bundle(MEDIA_TYPE_V0_3, cert, &[], &short)),
            BundleError::Invalid(_)
        ));
        assert!(matches!(
            Bundle::from_json(&vec![b' '; MAX_BUNDLE_BYTES + 1]),
            Err(BundleError::TooLarge(_))
        ));
    }
}
