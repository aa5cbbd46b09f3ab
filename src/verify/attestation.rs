//! Key-based verification of in-toto attestations of an image digest, stored as
//! cosign's `specs/ATTESTATION_SPEC.md` describes:
//!
//! - the attestations of `sha256:<hex>` are the OCI image manifest tagged
//!   `sha256-<hex>.att` (cosign's tag-based discovery, as for `.sig`);
//! - each attestation is a layer of media type `application/vnd.dsse.envelope.v1+json`
//!   whose blob is a DSSE envelope ([`Envelope`]) holding an in-toto statement
//!   ([`Statement`]); cosign annotates the layer with `predicateType` (a hint, not
//!   signed: layers annotated with another type are not read, layers without the
//!   annotation are);
//! - the spec's subject verification: a statement counts only when one of its
//!   subjects is the whole image, i.e. has the image's digest.
//!
//! An attestation of a required type verifies when its envelope is signed by one of
//! the policy's keys (over DSSE's PAE), its payload type is in-toto's, its statement
//! names the digest with that predicate type and, for SLSA v1 provenance, it names the
//! required source and ref ([`ProvenanceRequirement`]). The `.att` manifest is read
//! once; each required type then costs one blob request when the first candidate
//! verifies.

use std::collections::BTreeMap;

use super::dsse::{self, Envelope};
use super::intoto::Statement;
use super::provenance::{ProvenanceRequirement, SLSA_V1};
use super::registry_source;
use super::statement_error::StatementError;
use super::{cosign, PublicKey, VerifyError, VerifyPolicy};
use crate::registry::Client;

/// The layer annotation cosign writes with the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// The largest envelope read (SLSA provenance of a big build is tens of KiB).
pub const MAX_ENVELOPE_BYTES: u64 = 4 << 20;

/// An attestation that verified.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedAttestation {
    /// The statement's predicate type.
    pub predicate_type: String,
    /// The fingerprint of the key that signed the envelope.
    pub key_fingerprint: String,
    /// Where it was read: `host/repository:sha256-<hex>.att`.
    pub location: String,
    /// Which DSSE layer of that manifest (1-based, counting only those).
    pub layer: usize,
    /// For provenance with `--provenance-source`/`--provenance-ref`: what named them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

/// cosign's tag for the attestations of `digest`: `sha256-<hex>.att`.
pub fn attestation_tag(digest: &str) -> Result<String, VerifyError> {
    registry_source::cosign_tag(digest, "att")
}

/// What an attestation must be: its predicate type, signed by one of `keys`, and for
/// SLSA v1 provenance the `provenance` requirement.
pub(crate) struct Wanted<'a> {
    pub digest: &'a str,
    pub predicate_type: &'a str,
    pub keys: &'a [PublicKey],
    pub provenance: &'a ProvenanceRequirement,
}

impl Wanted<'_> {
    /// Checks one envelope (its JSON bytes, already read in full): the key that signed
    /// it, or why it does not count.
    pub(crate) fn check_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<(&PublicKey, Option<String>), StatementError> {
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(StatementError::PayloadType {
                found: super::excerpt::excerpt(&envelope.payload_type, 80),
                required: dsse::IN_TOTO_PAYLOAD_TYPE,
            });
        }
        // The signature is checked before the payload is interpreted.
        let key = envelope.verify(self.keys)?;
        let statement = Statement::parse(&envelope.payload)?;
        statement.check(self.digest, self.predicate_type)?;
        let evidence = if self.predicate_type == SLSA_V1 && !self.provenance.is_empty() {
            Some(self.provenance.check(&statement.predicate)?)
        } else {
            None
        };
        Ok((key, evidence))
    }
}

/// Verifies that `digest` has, for each of `types`, an attestation signed by one of
/// `keys` in its `.att` manifest (see the [module documentation](self)).
pub fn verify_attestations(
    client: &Client,
    digest: &str,
    keys: &[PublicKey],
    types: &[String],
    provenance: &ProvenanceRequirement,
) -> Result<Vec<VerifiedAttestation>, VerifyError> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let tag = attestation_tag(digest)?;
    if keys.is_empty() {
        return Err(VerifyError::NoKeys {
            digest: digest.to_string(),
        });
    }
    let registry = |source| VerifyError::Registry {
        digest: digest.to_string(),
        source: Box::new(source),
    };
    let (location, layers) = registry_source::read_layers(
        client,
        digest,
        &tag,
        dsse::MEDIA_TYPE,
        cosign::MAX_MANIFEST_BYTES,
    )?;
    let Some(layers) = layers else {
        return Err(VerifyError::NoAttestation {
            digest: digest.to_string(),
            predicate_type: types[0].clone(),
            location,
            why: "does not exist (404)".to_string(),
        });
    };
    let mut blobs: BTreeMap<String, Result<Vec<u8>, String>> = BTreeMap::new();
    let mut verified = Vec::new();
    for predicate_type in types {
        let wanted = Wanted {
            digest,
            predicate_type,
            keys,
            provenance,
        };
        let mut reasons = Vec::new();
        let mut found = None;
        for (index, layer) in layers.iter().enumerate() {
            let n = index + 1;
            if layer
                .annotations
                .get(PREDICATE_TYPE_ANNOTATION)
                .is_some_and(|t| t != predicate_type)
            {
                continue;
            }
            if !blobs.contains_key(&layer.digest) {
                let read =
                    registry_source::layer_blob(client, layer, "envelope", MAX_ENVELOPE_BYTES)
                        .map_err(registry)?;
                blobs.insert(layer.digest.clone(), read);
            }
            let checked = match &blobs[&layer.digest] {
                Ok(bytes) => Envelope::parse(bytes)
                    .and_then(|e| {
                        wanted
                            .check_envelope(&e)
                            .map(|(key, evidence)| (key.fingerprint(), evidence))
                    })
                    .map_err(|e| e.to_string()),
                Err(reason) => Err(reason.clone()),
            };
            match checked {
                Ok((key_fingerprint, evidence)) => {
                    found = Some(VerifiedAttestation {
                        predicate_type: predicate_type.clone(),
                        key_fingerprint,
                        location: location.clone(),
                        layer: n,
                        provenance: evidence,
                    });
                    break;
                }
                Err(reason) => reasons.push(format!("layer {n}: {reason}")),
            }
        }
        match found {
            Some(a) => verified.push(a),
            None if reasons.is_empty() => {
                return Err(VerifyError::NoAttestation {
                    digest: digest.to_string(),
                    predicate_type: predicate_type.clone(),
                    location,
                    why: "holds none of that type".to_string(),
                })
            }
            None => {
                return Err(VerifyError::AttestationNotVerified {
                    digest: digest.to_string(),
                    predicate_type: predicate_type.clone(),
                    location,
                    keys: super::key::describe_keys(keys),
                    reasons,
                })
            }
        }
    }
    Ok(verified)
}

/// The policy's attestations of `digest` ([`VerifyPolicy::attestations`]): with keys,
/// from the `.att` manifest ([`verify_attestations`]).
pub(crate) fn verify_attestations_under(
    client: &Client,
    digest: &str,
    policy: &VerifyPolicy,
) -> Result<Vec<VerifiedAttestation>, VerifyError> {
    verify_attestations(
        client,
        digest,
        &policy.keys,
        &policy.attestations,
        &policy.provenance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_attestation_tag_is_the_digest_with_att() {
        assert_eq!(
            attestation_tag(DIGEST).expect("tag"),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.att"
        );
        assert!(attestation_tag("sha256:../x").is_err());
    }
}
