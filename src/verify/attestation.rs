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
use super::registry_source::{self, Fetched};
use super::{cosign, simple_signing, PublicKey, VerifyError, VerifyPolicy};
use crate::registry::{Client, RegistryError};

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

/// One DSSE layer of an attestation manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvelopeLayer {
    pub digest: String,
    pub size: u64,
    pub predicate_type: Option<String>,
}

/// cosign's tag for the attestations of `digest`: `sha256-<hex>.att`.
pub fn attestation_tag(digest: &str) -> Result<String, VerifyError> {
    simple_signing::check_digest(digest, "the image digest being verified")?;
    Ok(format!("{}.att", digest.replacen(':', "-", 1)))
}

/// The DSSE layers of an attestation manifest, in order.
pub(crate) fn envelope_layers(manifest: &[u8]) -> Result<Vec<EnvelopeLayer>, String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(default)]
        layers: Option<Vec<Descriptor>>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Descriptor {
        media_type: String,
        digest: String,
        size: u64,
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
    }
    let parsed: Manifest = serde_json::from_slice(manifest).map_err(|e| e.to_string())?;
    let layers = parsed
        .layers
        .ok_or_else(|| "it has no `layers`".to_string())?;
    Ok(layers
        .into_iter()
        .filter(|l| l.media_type == dsse::MEDIA_TYPE)
        .map(|l| EnvelopeLayer {
            predicate_type: l
                .annotations
                .and_then(|mut a| a.remove(PREDICATE_TYPE_ANNOTATION)),
            digest: l.digest,
            size: l.size,
        })
        .collect())
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
    ) -> Result<(&PublicKey, Option<String>), String> {
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(format!(
                "the envelope's payloadType is {}, not {}",
                super::excerpt::excerpt(&envelope.payload_type, 80),
                dsse::IN_TOTO_PAYLOAD_TYPE
            ));
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
    let location = registry_source::location(client, &tag);
    let Some(manifest) =
        registry_source::signature_manifest(client, &tag, cosign::MAX_MANIFEST_BYTES)
            .map_err(registry)?
    else {
        return Err(VerifyError::NoAttestation {
            digest: digest.to_string(),
            predicate_type: types[0].clone(),
            location,
            why: "does not exist (404)".to_string(),
        });
    };
    let layers = envelope_layers(&manifest).map_err(|reason| VerifyError::SignatureManifest {
        location: location.clone(),
        reason,
    })?;
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
                .predicate_type
                .as_deref()
                .is_some_and(|t| t != predicate_type)
            {
                continue;
            }
            if !blobs.contains_key(&layer.digest) {
                let read = read_envelope(client, layer).map_err(registry)?;
                blobs.insert(layer.digest.clone(), read);
            }
            let checked = match &blobs[&layer.digest] {
                Ok(bytes) => Envelope::parse(bytes).and_then(|e| {
                    wanted
                        .check_envelope(&e)
                        .map(|(key, evidence)| (key.fingerprint(), evidence))
                }),
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

/// One envelope blob, checked against its descriptor, or why it cannot be used.
fn read_envelope(
    client: &Client,
    layer: &EnvelopeLayer,
) -> Result<Result<Vec<u8>, String>, RegistryError> {
    if simple_signing::check_digest(&layer.digest, "the layer digest").is_err() {
        return Ok(Err(format!(
            "the layer digest {} is not `sha256:` and 64 lowercase hex digits",
            super::excerpt::excerpt(&layer.digest, 80)
        )));
    }
    if layer.size > MAX_ENVELOPE_BYTES {
        return Ok(Err(format!(
            "the envelope of {} bytes is over the {MAX_ENVELOPE_BYTES}-byte limit (not read)",
            layer.size
        )));
    }
    let bytes = match registry_source::payload_blob(client, &layer.digest, MAX_ENVELOPE_BYTES)? {
        Fetched::Found(bytes) => bytes,
        Fetched::NotFound => {
            return Ok(Err(format!(
                "the envelope blob {} is not in the repository (404)",
                layer.digest
            )))
        }
    };
    let actual = cosign::sha256(&bytes);
    if actual != layer.digest {
        return Ok(Err(format!(
            "the envelope blob read is {actual}, not the layer's digest {} (tampered or corrupted)",
            layer.digest
        )));
    }
    if bytes.len() as u64 != layer.size {
        return Ok(Err(format!(
            "the envelope blob is {} bytes, the layer says {}",
            bytes.len(),
            layer.size
        )));
    }
    Ok(Ok(bytes))
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

    #[test]
    fn only_dsse_layers_are_taken_with_their_predicate_type() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"layers":[
              {{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"{DIGEST}","size":9,
                "annotations":{{"predicateType":"https://slsa.dev/provenance/v1","dev.cosignproject.cosign/signature":""}}}},
              {{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"{DIGEST}","size":5}},
              {{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"{DIGEST}","size":7}}]}}"#
        );
        assert_eq!(
            envelope_layers(manifest.as_bytes()).expect("layers"),
            vec![
                EnvelopeLayer {
                    digest: DIGEST.into(),
                    size: 9,
                    predicate_type: Some(SLSA_V1.into())
                },
                EnvelopeLayer {
                    digest: DIGEST.into(),
                    size: 7,
                    predicate_type: None
                },
            ]
        );
        assert!(envelope_layers(b"{}").is_err());
    }
}
