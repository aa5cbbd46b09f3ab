//! Keyless cosign signatures in the registry (cosign 2's default, `specs/SIGNATURE_SPEC.md`):
//! the `sha256-<hex>.sig` manifest's simple-signing layers, each annotated with the
//! Fulcio certificate (`dev.sigstore.cosign/certificate`, PEM), its chain
//! (`dev.sigstore.cosign/chain`, not trusted: chains are built from the trust root
//! alone), the Rekor bundle (`dev.sigstore.cosign/bundle`: the SET and the entry) and
//! optionally an RFC 3161 timestamp (`dev.sigstore.cosign/rfc3161timestamp`). Each
//! layer goes through the same checks as a Sigstore bundle
//! ([`keyless`]); the payload must then name the digest
//! ([`SimpleSigning::check`]).

use std::collections::BTreeMap;

use base64::Engine as _;
use rustls_pki_types::pem::{PemObject, SectionKind};

use super::bundle::TlogEntry;
use super::cosign::{self, Verified, MAX_PAYLOAD_BYTES, SIGNATURE_ANNOTATION};
use super::keyless::{self, Identity, Material, Signed, SignedBy};
use super::registry_source::{self, Layer};
use super::simple_signing::{self, SimpleSigning};
use super::trust_root::TrustedRoot;
use super::VerifyError;
use crate::registry::Client;

/// The certificate annotation.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The chain annotation.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The Rekor bundle annotation.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The RFC 3161 timestamp annotation.
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// What cosign's annotations of a keyless layer (`.sig` or `.att`) hold besides the
/// signature: the leaf certificate, the Rekor entry, the RFC 3161 timestamp.
pub(super) struct Evidence {
    pub certificates: Vec<Vec<u8>>,
    pub tlog_entries: Vec<TlogEntry>,
    pub timestamps: Vec<Vec<u8>>,
}

impl Evidence {
    /// Reads the certificate (required), bundle and timestamp annotations; why not.
    pub(super) fn from_annotations(a: &BTreeMap<String, String>) -> Result<Evidence, String> {
        let Some(pem) = a.get(CERTIFICATE_ANNOTATION) else {
            return Err(format!(
                "no {CERTIFICATE_ANNOTATION} annotation (not a keyless signature)"
            ));
        };
        let certificates: Vec<Vec<u8>> = <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes())
            .filter_map(|s| match s {
                Ok((SectionKind::Certificate, der)) => Some(der),
                _ => None,
            })
            .take(1)
            .collect();
        if certificates.is_empty() {
            return Err(format!(
                "the {CERTIFICATE_ANNOTATION} annotation holds no PEM certificate"
            ));
        }
        let tlog_entries = (a.get(BUNDLE_ANNOTATION).map(|j| rekor_entry(j)))
            .transpose()?
            .into_iter()
            .collect();
        let timestamps = (a.get(TIMESTAMP_ANNOTATION).map(|j| timestamp(j)))
            .transpose()?
            .into_iter()
            .collect();
        Ok(Evidence {
            certificates,
            tlog_entries,
            timestamps,
        })
    }
}

/// cosign's `dev.sigstore.cosign/bundle` annotation as a log entry.
fn rekor_entry(json: &str) -> Result<TlogEntry, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct RekorBundle {
        signed_entry_timestamp: String,
        payload: Payload,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        body: String,
        integrated_time: i64,
        log_index: u64,
        #[serde(rename = "logID")]
        log_id: String,
    }
    let b: RekorBundle = serde_json::from_str(json)
        .map_err(|e| format!("the {BUNDLE_ANNOTATION} annotation is malformed ({e})"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = b64
        .decode(&b.payload.body)
        .map_err(|_| "the Rekor entry body is not base64".to_string())?;
    let kind: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| "the Rekor entry body is not JSON".to_string())?;
    let log_id = (0..b.payload.log_id.len())
        .step_by(2)
        .map(|i| {
            b.payload
                .log_id
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("the Rekor log id is not hex")?;
    Ok(TlogEntry {
        log_index: b.payload.log_index,
        log_id,
        kind: kind["kind"].as_str().unwrap_or_default().to_string(),
        kind_version: kind["apiVersion"].as_str().unwrap_or_default().to_string(),
        integrated_time: Some(b.payload.integrated_time),
        inclusion_promise: Some(
            b64.decode(&b.signed_entry_timestamp)
                .map_err(|_| "the signed entry timestamp is not base64".to_string())?,
        ),
        inclusion_proof: None,
        canonicalized_body: body,
    })
}

fn timestamp(json: &str) -> Result<Vec<u8>, String> {
    #[derive(serde::Deserialize)]
    struct Ts {
        #[serde(rename = "SignedRFC3161Timestamp")]
        signed: String,
    }
    let t: Ts = serde_json::from_str(json)
        .map_err(|e| format!("the {TIMESTAMP_ANNOTATION} annotation is malformed ({e})"))?;
    base64::engine::general_purpose::STANDARD
        .decode(t.signed)
        .map_err(|_| "the RFC 3161 timestamp is not base64".to_string())
}

/// Verifies `digest` with keyless cosign signatures read through `client`: some
/// layer's Fulcio certificate must satisfy `identity` under `root`.
pub fn verify_with_identity(
    client: &Client,
    digest: &str,
    identity: &Identity,
    root: &TrustedRoot,
) -> Result<Verified, VerifyError> {
    let tag = cosign::signature_tag(digest)?;
    let registry = |source| VerifyError::Registry {
        digest: digest.to_string(),
        source: Box::new(source),
    };
    let (location, layers) = cosign::signature_layers(client, digest, &tag)?;
    let mut reasons = Vec::new();
    if layers.is_empty() {
        reasons.push(format!(
            "the manifest has no layer of media type {}",
            simple_signing::MEDIA_TYPE
        ));
    }
    for (index, layer) in layers.iter().enumerate() {
        let n = index + 1;
        match verify_layer(client, digest, layer, identity, root).map_err(registry)? {
            Ok((signed, v)) => {
                return Ok(Verified {
                    digest: digest.to_string(),
                    key_fingerprint: v.key_fingerprint.unwrap_or_default(),
                    key_algorithm: "Fulcio certificate",
                    location,
                    layer: n,
                    docker_reference: signed.docker_reference().to_string(),
                    signatures_checked: n,
                    identity: v.identity,
                    issuer: v.issuer,
                    log_index: v.log_index,
                    signed_at: v.signed_at,
                    attestations: Vec::new(),
                })
            }
            Err(reason) => reasons.push(format!("layer {n}: {reason}")),
        }
    }
    Err(VerifyError::NotVerified {
        digest: digest.to_string(),
        location,
        keys: describe(identity),
        reasons,
    })
}

/// `identity X issued by Y`, for messages.
pub fn describe(identity: &Identity) -> String {
    format!(
        "a certificate for {} issued by {}",
        identity.identity.describe(),
        identity.issuer.describe()
    )
}

type LayerOutcome = Result<(SimpleSigning, keyless::KeylessVerified), String>;

fn verify_layer(
    client: &Client,
    digest: &str,
    layer: &Layer,
    identity: &Identity,
    root: &TrustedRoot,
) -> Result<LayerOutcome, crate::registry::RegistryError> {
    let a = &layer.annotations;
    let Some(signature) = a.get(SIGNATURE_ANNOTATION) else {
        return Ok(Err(format!("no {SIGNATURE_ANNOTATION} annotation")));
    };
    let Ok(signature) = super::key::decode_signature(signature) else {
        return Ok(Err("the signature is not base64".into()));
    };
    let evidence = match Evidence::from_annotations(a) {
        Ok(evidence) => evidence,
        Err(reason) => return Ok(Err(reason)),
    };
    let Evidence {
        certificates,
        tlog_entries,
        timestamps,
    } = &evidence;
    let payload = match registry_source::layer_blob(client, layer, "payload", MAX_PAYLOAD_BYTES)? {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(Err(reason)),
    };
    let material = Material {
        certificates,
        signature: &signature,
        signed: Signed::Message(&payload),
        tlog_entries,
        timestamps,
    };
    let verified = match keyless::verify_material(&material, SignedBy::Identity(identity), root) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(SimpleSigning::check(&payload, digest)
        .map(|signed| (signed, verified))
        .map_err(|e| format!("signed by {}, but {e}", describe(identity))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cosign_rekor_bundle_annotations() {
        let json = r#"{"SignedEntryTimestamp":"MEUCIQ==","Payload":{"body":"eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIn0=","integratedTime":1700000000,"logIndex":42,"logID":"c0d23d6ad406973f"}}"#;
        let e = rekor_entry(json).expect("entry");
        assert_eq!((e.log_index, e.integrated_time), (42, Some(1_700_000_000)));
        assert_eq!(
            (e.kind.as_str(), e.kind_version.as_str()),
            ("hashedrekord", "0.0.1")
        );
        assert_eq!(
            e.log_id,
            vec![0xc0, 0xd2, 0x3d, 0x6a, 0xd4, 0x06, 0x97, 0x3f]
        );
        assert!(rekor_entry("{}").is_err());
        assert!(rekor_entry(&json.replace("c0d2", "zz")).is_err());
        assert_eq!(
            timestamp(r#"{"SignedRFC3161Timestamp":"MAA="}"#).expect("ts"),
            vec![0x30, 0]
        );
    }
}
