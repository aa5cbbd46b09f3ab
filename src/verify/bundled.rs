//! An image's signatures and attestations stored as Sigstore bundles among its OCI
//! referrers ([`Referrers`]), verified for the image digest with
//! [`verify_bundle_for`](super::verify_bundle_for) ([`Artifact::Sha256`]: a message
//! signature's digest must be the image's, a DSSE statement must name it as a subject)
//! by the policy's keys or identity under the trust root.
//!
//! Each search returns what verified, or why each candidate was refused (empty: there
//! was no candidate at all); registry failures are errors of their own.

use super::intoto::Statement;
use super::keyless::{Artifact, KeylessVerified, SignedBy};
use super::provenance::{ProvenanceRequirement, SLSA_V1};
use super::referrers::{content, Content, Referrers, COSIGN_SIGN_V1};
use super::{PublicKey, TrustedRoot, Verified, VerifiedAttestation, VerifyError};

/// The 32 bytes of `sha256:<64 hex>` (already checked by the listing).
fn digest_bytes(digest: &str) -> Option<[u8; 32]> {
    let hex = digest.strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (hex.len() == 64).then_some(out)
}

/// The algorithm of the key whose fingerprint verified (keyless: the certificate).
fn algorithm(v: &KeylessVerified, keys: &[PublicKey]) -> &'static str {
    match (&v.identity, &v.key_fingerprint) {
        (None, Some(fp)) => keys
            .iter()
            .find(|k| k.fingerprint() == *fp)
            .map_or("public key", |k| k.algorithm().name()),
        _ => "Fulcio certificate",
    }
}

/// A signature of `digest` among its bundle referrers, by `signed_by` under `root`.
pub(super) fn signature(
    refs: &Referrers<'_>,
    digest: &str,
    signed_by: SignedBy<'_>,
    root: &TrustedRoot,
) -> Result<Result<Verified, Vec<String>>, VerifyError> {
    let Some(bytes) = digest_bytes(digest) else {
        return Ok(Err(vec![format!("{digest} is not a sha256 digest")]));
    };
    let keys = match signed_by {
        SignedBy::Keys(keys) => keys,
        SignedBy::Identity(_) => &[],
    };
    let mut reasons = Vec::new();
    let candidates = refs.bundles(&[COSIGN_SIGN_V1])?;
    let mut checked = 0;
    for read in candidates {
        let bundle = match read.bundle {
            Ok(bundle) => bundle,
            Err(reason) => {
                reasons.push(format!("{}: {reason}", read.location));
                continue;
            }
        };
        if content(&bundle) != Content::Signature {
            continue;
        }
        checked += 1;
        match super::verify_bundle_for(&bundle, Artifact::Sha256(bytes), signed_by, root) {
            Ok(v) => {
                return Ok(Ok(Verified {
                    digest: digest.to_string(),
                    key_algorithm: algorithm(&v, keys),
                    key_fingerprint: v.key_fingerprint.unwrap_or_default(),
                    location: read.location,
                    layer: 1,
                    docker_reference: String::new(),
                    signatures_checked: checked,
                    attestations: Vec::new(),
                    identity: v.identity,
                    issuer: v.issuer,
                    log_index: v.log_index,
                    signed_at: v.signed_at,
                }))
            }
            Err(e) => reasons.push(format!("{}: {e}", read.location)),
        }
    }
    Ok(Err(reasons))
}

/// An attestation of `predicate_type` for `digest` among its bundle referrers, by
/// `signed_by` under `root`; SLSA v1 provenance must also meet `provenance`.
pub(super) fn attestation(
    refs: &Referrers<'_>,
    digest: &str,
    predicate_type: &str,
    provenance: &ProvenanceRequirement,
    signed_by: SignedBy<'_>,
    root: &TrustedRoot,
) -> Result<Result<VerifiedAttestation, Vec<String>>, VerifyError> {
    let Some(bytes) = digest_bytes(digest) else {
        return Ok(Err(vec![format!("{digest} is not a sha256 digest")]));
    };
    let mut reasons = Vec::new();
    for read in refs.bundles(&[predicate_type])? {
        let bundle = match read.bundle {
            Ok(bundle) => bundle,
            Err(reason) => {
                reasons.push(format!("{}: {reason}", read.location));
                continue;
            }
        };
        if content(&bundle) != Content::Attestation(predicate_type.to_string()) {
            continue;
        }
        // The signature first; the statement is interpreted only once it verified.
        let verified =
            match super::verify_bundle_for(&bundle, Artifact::Sha256(bytes), signed_by, root) {
                Ok(v) => v,
                Err(e) => {
                    reasons.push(format!("{}: {e}", read.location));
                    continue;
                }
            };
        let super::bundle::Content::DsseEnvelope(envelope) = &bundle.content else {
            continue;
        };
        let checked = Statement::parse(&envelope.payload).and_then(|statement| {
            statement.check(digest, predicate_type)?;
            if predicate_type == SLSA_V1 && !provenance.is_empty() {
                provenance.check(&statement.predicate).map(Some)
            } else {
                Ok(None)
            }
        });
        match checked {
            Ok(evidence) => {
                return Ok(Ok(VerifiedAttestation {
                    predicate_type: predicate_type.to_string(),
                    key_fingerprint: verified.key_fingerprint.unwrap_or_default(),
                    location: read.location,
                    layer: 1,
                    provenance: evidence,
                    identity: verified.identity,
                    issuer: verified.issuer,
                }))
            }
            Err(e) => reasons.push(format!("{}: {e}", read.location)),
        }
    }
    Ok(Err(reasons))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_its_32_bytes() {
        let hex = "00ff".repeat(16);
        let bytes = digest_bytes(&format!("sha256:{hex}")).expect("digest");
        assert_eq!((bytes[0], bytes[1], bytes[31]), (0x00, 0xff, 0xff));
        assert_eq!(digest_bytes(&format!("sha512:{hex}")), None);
        assert_eq!(digest_bytes("sha256:00ff"), None);
        assert_eq!(digest_bytes(&format!("sha256:{hex}00")), None);
    }
}
