//! Verification of in-toto attestations of an image digest, stored as cosign's
//! `specs/ATTESTATION_SPEC.md` describes (or as Sigstore bundles among its OCI
//! referrers, `VerifyPolicy::verify`):
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
//! the policy's keys (over DSSE's PAE), or keyless by a Fulcio certificate for the
//! policy's identity (cosign's certificate annotation, proven in time by its Rekor
//! bundle or RFC 3161 timestamp annotation, as `.sig` layers are), its payload type is in-toto's, its statement
//! names the digest with that predicate type and, for SLSA v1 provenance, it names the
//! required source and ref ([`ProvenanceRequirement`]). The `.att` manifest is read
//! once; each required type then costs one blob request when the first candidate
//! verifies.

use std::collections::BTreeMap;

use super::bundled;
use super::cosign_keyless::{self, Evidence};
use super::dsse::{self, Envelope};
use super::intoto::Statement;
use super::keyless::{self, Identity, Material, Signed, SignedBy};
use super::provenance::{ProvenanceRequirement, SLSA_V1};
use super::referrers::Referrers;
use super::registry_source;
use super::statement_error::StatementError;
use super::trust_root::TrustedRoot;
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
    /// The fingerprint of the key that signed the envelope (keyless: absent).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key_fingerprint: String,
    /// Where it was read: `host/repository:sha256-<hex>.att`, or the referring
    /// manifest `host/repository@sha256:…` of a Sigstore bundle.
    pub location: String,
    /// Which DSSE layer of that manifest (1-based, counting only those; a bundle: 1).
    pub layer: usize,
    /// For provenance with `--provenance-source`/`--provenance-ref`: what named them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// Keyless: the signing certificate's SAN that matched the identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Keyless: the certificate's OIDC issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
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
    /// Keyless: a Fulcio certificate for this identity, under this root (cosign's
    /// certificate, bundle and timestamp annotations of the layer).
    pub identity: Option<(&'a Identity, &'a TrustedRoot)>,
}

/// Who signed an attestation: a key's fingerprint, or a certificate's SAN and issuer.
struct Signer {
    key_fingerprint: String,
    identity: Option<String>,
    issuer: Option<String>,
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
        Ok((key, self.check_statement(envelope)?))
    }

    /// The signed statement: its subject and type, and for SLSA v1 the provenance
    /// requirement (what named it).
    fn check_statement(&self, envelope: &Envelope) -> Result<Option<String>, StatementError> {
        let statement = Statement::parse(&envelope.payload)?;
        statement.check(self.digest, self.predicate_type)?;
        if self.predicate_type == SLSA_V1 && !self.provenance.is_empty() {
            Ok(Some(self.provenance.check(&statement.predicate)?))
        } else {
            Ok(None)
        }
    }

    /// One `.att` layer's envelope: signed by a key, else (keyless) by a certificate for
    /// the identity, and a statement as wanted; who signed, or why not.
    fn check_layer(
        &self,
        envelope: &Envelope,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(Signer, Option<String>), String> {
        let mut reasons = Vec::new();
        if !self.keys.is_empty() {
            match self.check_envelope(envelope) {
                Ok((key, evidence)) => {
                    let signer = Signer {
                        key_fingerprint: key.fingerprint(),
                        identity: None,
                        issuer: None,
                    };
                    return Ok((signer, evidence));
                }
                Err(e) => reasons.push(e.to_string()),
            }
        }
        if let Some((identity, root)) = self.identity {
            match self.check_keyless(envelope, annotations, identity, root) {
                Ok(found) => return Ok(found),
                Err(e) => reasons.push(e),
            }
        }
        Err(reasons.join("; "))
    }

    /// A keyless envelope: its one signature over DSSE's PAE by the certificate of
    /// cosign's annotations, proven in time by its Rekor entry or timestamp.
    fn check_keyless(
        &self,
        envelope: &Envelope,
        annotations: &BTreeMap<String, String>,
        identity: &Identity,
        root: &TrustedRoot,
    ) -> Result<(Signer, Option<String>), String> {
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(StatementError::PayloadType {
                found: super::excerpt::excerpt(&envelope.payload_type, 80),
                required: dsse::IN_TOTO_PAYLOAD_TYPE,
            }
            .to_string());
        }
        let evidence = Evidence::from_annotations(annotations)?;
        let [signature] = envelope.signatures.as_slice() else {
            return Err(format!(
                "a keyless envelope has one signature, this one {}",
                envelope.signatures.len()
            ));
        };
        let material = Material {
            certificates: &evidence.certificates,
            signature,
            signed: Signed::Dsse {
                payload_type: &envelope.payload_type,
                payload: &envelope.payload,
            },
            tlog_entries: &evidence.tlog_entries,
            timestamps: &evidence.timestamps,
        };
        let verified = keyless::verify_material(&material, SignedBy::Identity(identity), root)
            .map_err(|e| e.to_string())?;
        let named = self.check_statement(envelope).map_err(|e| e.to_string())?;
        let signer = Signer {
            key_fingerprint: String::new(),
            identity: verified.identity,
            issuer: verified.issuer,
        };
        Ok((signer, named))
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
    from_tag(client, digest, keys, None, types, provenance)
}

/// [`verify_attestations`] by `keys` or (keyless, cosign's annotations) `identity`.
fn from_tag(
    client: &Client,
    digest: &str,
    keys: &[PublicKey],
    identity: Option<(&Identity, &TrustedRoot)>,
    types: &[String],
    provenance: &ProvenanceRequirement,
) -> Result<Vec<VerifiedAttestation>, VerifyError> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let tag = attestation_tag(digest)?;
    if keys.is_empty() && identity.is_none() {
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
            identity,
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
                    .map_err(|e| e.to_string())
                    .and_then(|e| wanted.check_layer(&e, &layer.annotations)),
                Err(reason) => Err(reason.clone()),
            };
            match checked {
                Ok((signer, evidence)) => {
                    found = Some(VerifiedAttestation {
                        predicate_type: predicate_type.clone(),
                        key_fingerprint: signer.key_fingerprint,
                        location: location.clone(),
                        layer: n,
                        provenance: evidence,
                        identity: signer.identity,
                        issuer: signer.issuer,
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
                    keys: match identity {
                        Some((id, _)) if keys.is_empty() => cosign_keyless::describe(id),
                        Some((id, _)) => format!(
                            "{}, or {}",
                            super::key::describe_keys(keys),
                            cosign_keyless::describe(id)
                        ),
                        None => super::key::describe_keys(keys),
                    },
                    reasons,
                })
            }
        }
    }
    Ok(verified)
}

/// The policy's attestations of `digest` ([`VerifyPolicy::attestations`]). cosign's
/// `.att` manifest is read first, for every type at once (signed by a key, or keyless by
/// the identity through cosign's annotations); a type it does not verify is looked for
/// among the Sigstore bundles of the digest's OCI referrers (`referrers`, listed at
/// most once), signed by the keys or the identity, then in the `.att` manifest alone. A
/// type found nowhere: the `.att` error when the referrers held no bundle of that type,
/// else why each was refused.
pub(super) fn verify_attestations_under(
    client: &Client,
    digest: &str,
    policy: &VerifyPolicy,
    referrers: &Referrers<'_>,
) -> Result<Vec<VerifiedAttestation>, VerifyError> {
    let types = &policy.attestations;
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let keys = &policy.keys;
    let root = policy.root();
    let identity = policy.identity.as_ref().map(|id| (id, root.as_ref()));
    let tag =
        |types: &[String]| from_tag(client, digest, keys, identity, types, &policy.provenance);
    // With one type, this answer is the type's own: it is not asked for again below.
    let mut for_the_only_type = match tag(types) {
        Ok(all) => return Ok(all),
        Err(e) if e.kind() != "verification" => return Err(e),
        Err(e) => (types.len() == 1).then_some(e),
    };
    let mut verified = Vec::new();
    for predicate_type in types {
        let mut reasons = Vec::new();
        let mut found = None;
        for signed_by in policy.signers() {
            let by = bundled::attestation(
                referrers,
                digest,
                predicate_type,
                &policy.provenance,
                signed_by,
                &root,
            )?;
            match by {
                Ok(a) => {
                    found = Some(a);
                    break;
                }
                Err(refused) => reasons.extend(refused),
            }
        }
        if let Some(a) = found {
            verified.push(a);
            continue;
        }
        let tag_error = match for_the_only_type.take() {
            Some(e) => e,
            None => match tag(std::slice::from_ref(predicate_type)) {
                Ok(mut a) => {
                    verified.append(&mut a);
                    continue;
                }
                Err(e) if e.kind() != "verification" => return Err(e),
                Err(e) => e,
            },
        };
        let listing = referrers.listing()?;
        if reasons.is_empty() {
            return Err(match tag_error {
                VerifyError::NoAttestation {
                    digest,
                    predicate_type,
                    location,
                    why,
                } => VerifyError::NoAttestation {
                    digest,
                    predicate_type,
                    location,
                    why: format!(
                        "{why}, and {} {}",
                        listing.location,
                        if listing.is_empty() {
                            "holds no Sigstore bundle"
                        } else {
                            "holds no bundle of that type"
                        }
                    ),
                },
                other => other,
            });
        }
        reasons.insert(0, tag_error.to_string());
        reasons.extend(listing.over_limit_note());
        return Err(VerifyError::AttestationNotVerified {
            digest: digest.to_string(),
            predicate_type: predicate_type.clone(),
            location: listing.location.clone(),
            keys: policy.describe_keys(),
            reasons,
        });
    }
    Ok(verified)
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
