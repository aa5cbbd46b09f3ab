//! Sigstore bundles stored as OCI 1.1 referrers, laid out as cosign's
//! `specs/BUNDLE_SPEC.md` says ("Storage"): the bundle's JSON as a blob; an OCI image
//! manifest with `artifactType` [`BUNDLE`], the empty descriptor as its config, the
//! bundle as its one layer and the image as its `subject`; and, for a registry without
//! the referrers API (distribution 2.8), the referrers tag schema's image index tagged
//! `sha256-<hex>` listing those manifests with their `artifactType` and annotations
//! (OCI distribution spec 1.1, "Referrers Tag Schema").

use super::registry::{Pushed, TestRegistry, OCI_INDEX, OCI_MANIFEST};

/// A Sigstore bundle v0.3: the artifact type and the layer's media type.
pub const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OCI image spec's empty descriptor media type (its blob is `{}`).
pub const EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// cosign 3's signature statement type.
pub const COSIGN_SIGN_V1: &str = "https://sigstore.dev/cosign/sign/v1";

/// What cosign 3 signs for an image instead of a simple-signing payload: an in-toto
/// statement whose one subject is the digest alone (no name).
pub fn sign_v1_statement(digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": hex}}],
        "predicateType": COSIGN_SIGN_V1,
        "predicate": {},
    }))
    .expect("json")
}

/// Pushes `bundle` as a referrer of `subject` in `repo`: the blob, the empty config and
/// the referring manifest (by digest). `predicate_type` (a DSSE statement's) goes into
/// the annotations as cosign writes them. Returns the manifest's descriptor as a
/// referrers index lists it.
pub fn push_bundle(
    reg: &TestRegistry,
    repo: &str,
    subject: &Pushed,
    bundle: &[u8],
    predicate_type: Option<&str>,
) -> serde_json::Value {
    let layer = reg.push_blob(repo, bundle);
    let empty = reg.push_blob(repo, b"{}");
    let mut annotations = serde_json::Map::new();
    let content = if predicate_type.is_some() {
        "dsse-envelope"
    } else {
        "message-signature"
    };
    annotations.insert("dev.sigstore.bundle.content".into(), content.into());
    if let Some(t) = predicate_type {
        annotations.insert("dev.sigstore.bundle.predicateType".into(), t.into());
    }
    annotations.insert(
        "org.opencontainers.image.created".into(),
        "2026-12-08T00:00:00Z".into(),
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE,
        "config": {"mediaType": EMPTY, "digest": empty, "size": 2},
        "layers": [{
            "mediaType": BUNDLE, "digest": layer, "size": bundle.len(),
            "annotations": {"org.opencontainers.image.title": format!("{}.sigstore.json", layer.replace(':', "-"))},
        }],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.bytes.len()},
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let digest = super::registry::sha256(&bytes);
    let pushed = reg.put_manifest(repo, &digest, OCI_MANIFEST, bytes);
    serde_json::json!({
        "mediaType": OCI_MANIFEST,
        "digest": pushed.digest,
        "size": pushed.bytes.len(),
        "artifactType": BUNDLE,
        "annotations": annotations,
    })
}

/// The referrers tag schema's index of `subject`: `descriptors`, tagged `sha256-<hex>`.
pub fn push_referrers_tag(
    reg: &TestRegistry,
    repo: &str,
    subject: &str,
    descriptors: &[serde_json::Value],
) {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": descriptors,
    });
    reg.put_manifest(
        repo,
        &subject.replacen(':', "-", 1),
        OCI_INDEX,
        serde_json::to_vec(&index).expect("json"),
    );
}
