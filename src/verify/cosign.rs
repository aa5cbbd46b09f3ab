//! Key-based verification of an image digest against cosign's signatures in the
//! registry, stored as cosign's `specs/SIGNATURE_SPEC.md` (§ Storage) describes:
//!
//! - **Tag-based discovery**: the signatures of `sha256:<hex>` are the image manifest
//!   tagged `sha256-<hex>.sig` in the image's repository (or the repository the
//!   caller's client points to, where signatures are kept apart).
//! - **OCI image manifest**: each signature is a layer whose media type is
//!   `application/vnd.dev.cosign.simplesigning.v1+json`; the layer's blob is the
//!   signed payload (simple signing) and its annotation
//!   `dev.cosignproject.cosign/signature` the base64 signature over those bytes.
//!   Other layers (other payload kinds) are not looked at.
//!
//! A digest verifies when some layer's payload blob, read back and checked against
//! the layer's digest and size (at most [`MAX_PAYLOAD_BYTES`]), is signed by one of
//! the keys and names the digest ([`SimpleSigning::check`]). The signature is checked
//! before the payload is interpreted; payload blobs are read one at a time and the
//! first that verifies ends the search, so a signed image costs one manifest and one
//! blob request (plus the client's auth, once).

use super::registry_source::{self, Layer};
use super::simple_signing::{self, SimpleSigning};
use super::{key, PublicKey, VerifyError};
use crate::registry::Client;

/// The annotation holding a layer's base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// The largest payload blob read (cosign's payloads are a few hundred bytes).
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 20;

/// The largest signature manifest read: the OCI distribution spec's manifest limit.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// What verified a digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The image digest verified.
    pub digest: String,
    /// The fingerprint of the key that verified it ([`PublicKey::fingerprint`]).
    pub key_fingerprint: String,
    /// The key's algorithm, e.g. `ECDSA P-256`.
    pub key_algorithm: &'static str,
    /// Where the signature was read: `host/repository:sha256-<hex>.sig`.
    pub location: String,
    /// Which simple-signing layer of that manifest (1-based, counting only those).
    pub layer: usize,
    /// The payload's `critical.identity.docker-reference` (not judged).
    pub docker_reference: String,
    /// Simple-signing layers looked at, the one that verified included.
    pub signatures_checked: usize,
    /// The attestations required (`--verify-attestation`), each as it verified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<super::VerifiedAttestation>,
    /// Keyless: the Fulcio certificate's SAN that matched `--verify-identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Keyless: the certificate's OIDC issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Keyless: the transparency-log index of the signature's entry, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// Keyless: the proven signing time (RFC 3339): the log's integrated time or the
    /// RFC 3161 timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
}

/// cosign's tag for the signatures of `digest`: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> Result<String, VerifyError> {
    registry_source::cosign_tag(digest, "sig")
}

/// The simple-signing layers of the signature manifest at `tag` (`sha256-<hex>.sig`)
/// of `digest`, with where it was read; [`VerifyError::NoSignature`] when the tag does
/// not exist.
pub(super) fn signature_layers(
    client: &Client,
    digest: &str,
    tag: &str,
) -> Result<(String, Vec<Layer>), VerifyError> {
    let (location, layers) = registry_source::read_layers(
        client,
        digest,
        tag,
        simple_signing::MEDIA_TYPE,
        MAX_MANIFEST_BYTES,
    )?;
    match layers {
        Some(layers) => Ok((location, layers)),
        None => Err(VerifyError::NoSignature {
            digest: digest.to_string(),
            location,
        }),
    }
}

/// Verifies `digest` (`sha256:<64 hex>`) with cosign signatures read through `client`
/// (its repository), accepting when any of `keys` verifies any signature. See the
/// [module documentation](self).
pub fn verify_with_keys(
    client: &Client,
    digest: &str,
    keys: &[PublicKey],
) -> Result<Verified, VerifyError> {
    let tag = signature_tag(digest)?;
    if keys.is_empty() {
        return Err(VerifyError::NoKeys {
            digest: digest.to_string(),
        });
    }
    let registry = |source| VerifyError::Registry {
        digest: digest.to_string(),
        source: Box::new(source),
    };
    let (location, layers) = signature_layers(client, digest, &tag)?;
    let mut reasons = Vec::new();
    if layers.is_empty() {
        reasons.push(format!(
            "the manifest has no layer of media type {}",
            simple_signing::MEDIA_TYPE
        ));
    }
    for (index, layer) in layers.iter().enumerate() {
        let n = index + 1;
        match verify_layer(client, digest, layer, keys).map_err(registry)? {
            Ok((key, signed)) => {
                return Ok(Verified {
                    digest: digest.to_string(),
                    key_fingerprint: key.fingerprint(),
                    key_algorithm: key.algorithm().name(),
                    location,
                    layer: n,
                    docker_reference: signed.docker_reference().to_string(),
                    signatures_checked: n,
                    attestations: Vec::new(),
                    identity: None,
                    issuer: None,
                    log_index: None,
                    signed_at: None,
                })
            }
            Err(reason) => reasons.push(format!("layer {n}: {reason}")),
        }
    }
    Err(VerifyError::NotVerified {
        digest: digest.to_string(),
        location,
        keys: super::key::describe_keys(keys),
        reasons,
    })
}

/// One layer: the key that verified it and its payload, or why it did not verify
/// (a registry failure is the outer error).
fn verify_layer<'k>(
    client: &Client,
    digest: &str,
    layer: &Layer,
    keys: &'k [PublicKey],
) -> Result<Result<(&'k PublicKey, SimpleSigning), String>, crate::registry::RegistryError> {
    let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
        return Ok(Err(format!("no {SIGNATURE_ANNOTATION} annotation")));
    };
    let signature = match key::decode_signature(signature) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let payload = match registry_source::layer_blob(client, layer, "payload", MAX_PAYLOAD_BYTES)? {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(Err(reason)),
    };
    let Some(key) = keys.iter().find(|k| k.verify(&payload, &signature).is_ok()) else {
        return Ok(Err(format!(
            "the signature does not verify with any of the {} key(s) (signed by another key, or the payload changed after signing)",
            keys.len()
        )));
    };
    Ok(SimpleSigning::check(&payload, digest)
        .map(|signed| (key, signed))
        .map_err(|e| format!("signed by {}, but {e}", key.fingerprint())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_signature_tag_is_the_digest_with_a_dash_and_sig() {
        assert_eq!(
            signature_tag(DIGEST).expect("tag"),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"
        );
        for bad in ["sha256:ABC", "sha512:00", "sha256:../../x", ""] {
            assert!(signature_tag(bad).is_err(), "{bad:?}");
        }
    }
}
