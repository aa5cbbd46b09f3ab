//! Reading cosign's signature objects from the registry, through the registry
//! client's pool, auth and timeouts: the manifest at cosign's tag (`.sig`, `.att`) and
//! its layers, a layer's blob checked against its descriptor, each with a size cap.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};

use super::error::VerifyError;
use super::excerpt::excerpt;
use super::simple_signing::check_digest;
use crate::registry::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::registry::{Client, RegistryError};

/// A blob, or its absence (`404`).
pub(super) enum Fetched {
    Found(Vec<u8>),
    NotFound,
}

/// `host/repository:tag`, for messages.
pub(super) fn location(client: &Client, tag: &str) -> String {
    let endpoint = client.endpoint();
    format!("{}/{}:{tag}", endpoint.host, endpoint.repository)
}

/// `GET /v2/<repository>/manifests/<tag>` accepting the OCI and Docker image manifest
/// types; `None` on `404`.
pub(super) fn signature_manifest(
    client: &Client,
    tag: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, RegistryError> {
    let step = format!("reading the signatures at tag {tag:?}");
    let answer = client.call_capped(
        Method::GET,
        &format!("manifests/{tag}"),
        &[OCI_MANIFEST, DOCKER_MANIFEST],
        &step,
        max,
    )?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    client.expect_ok(&answer, &step)?;
    Ok(Some(answer.body))
}

/// `GET /v2/<repository>/blobs/<digest>` (`digest` already checked to be
/// `sha256:<64 hex>`), at most `max` bytes.
pub(super) fn payload_blob(
    client: &Client,
    digest: &str,
    max: u64,
) -> Result<Fetched, RegistryError> {
    let step = format!("reading the signed payload {digest}");
    let answer = client.call_capped(Method::GET, &format!("blobs/{digest}"), &[], &step, max)?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(Fetched::NotFound);
    }
    client.expect_ok(&answer, &step)?;
    Ok(Fetched::Found(answer.body))
}

/// One layer of a cosign manifest (`.sig`, `.att`): its blob's descriptor and its
/// annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Layer {
    /// The blob's digest, as the descriptor says (not yet checked).
    pub digest: String,
    /// The blob's size, as the descriptor says.
    pub size: u64,
    /// The descriptor's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// cosign's tag for the objects of `digest` (`sha256:<64 hex>`) of one kind:
/// `sha256-<hex>.<suffix>` (`sig` signatures, `att` attestations).
pub(super) fn cosign_tag(digest: &str, suffix: &str) -> Result<String, VerifyError> {
    check_digest(digest, "the image digest being verified")?;
    Ok(format!("{}.{suffix}", digest.replacen(':', "-", 1)))
}

/// The layers of `media_type` of a cosign manifest (an OCI image manifest), in order.
/// Layers of other media types are left out; a manifest that is not JSON, or whose
/// `layers` are not descriptors, is refused.
pub(super) fn manifest_layers(manifest: &[u8], media_type: &str) -> Result<Vec<Layer>, String> {
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
        .filter(|l| l.media_type == media_type)
        .map(|l| Layer {
            digest: l.digest,
            size: l.size,
            annotations: l.annotations.unwrap_or_default(),
        })
        .collect())
}

/// The layers of `media_type` in the manifest at cosign's `tag` for `digest` (see
/// [`cosign_tag`]), with the manifest's location (`host/repository:tag`, for
/// messages); no layers (`None`) when the tag does not exist.
pub(super) fn read_layers(
    client: &Client,
    digest: &str,
    tag: &str,
    media_type: &str,
    max_manifest: u64,
) -> Result<(String, Option<Vec<Layer>>), VerifyError> {
    let location = location(client, tag);
    let manifest =
        signature_manifest(client, tag, max_manifest).map_err(|source| VerifyError::Registry {
            digest: digest.to_string(),
            source: Box::new(source),
        })?;
    let Some(manifest) = manifest else {
        return Ok((location, None));
    };
    let layers = manifest_layers(&manifest, media_type).map_err(|reason| {
        VerifyError::SignatureManifest {
            location: location.clone(),
            reason,
        }
    })?;
    Ok((location, Some(layers)))
}

/// The blob of `layer`, checked against its descriptor: a `sha256:` digest, at most
/// `max` bytes (larger is not read), present, and exactly the bytes the digest and
/// size name. Or why it cannot be used; `what` names it in messages (`payload`,
/// `envelope`). A registry failure is the outer error.
pub(super) fn layer_blob(
    client: &Client,
    layer: &Layer,
    what: &str,
    max: u64,
) -> Result<Result<Vec<u8>, String>, RegistryError> {
    if check_digest(&layer.digest, "the layer digest").is_err() {
        return Ok(Err(format!(
            "the layer digest {} is not `sha256:` and 64 lowercase hex digits",
            excerpt(&layer.digest, 80)
        )));
    }
    if layer.size > max {
        return Ok(Err(format!(
            "the {what} of {} bytes is over the {max}-byte limit (not read)",
            layer.size
        )));
    }
    let bytes = match payload_blob(client, &layer.digest, max)? {
        Fetched::Found(bytes) => bytes,
        Fetched::NotFound => {
            return Ok(Err(format!(
                "the {what} blob {} is not in the repository (404)",
                layer.digest
            )))
        }
    };
    let actual = sha256(&bytes);
    if actual != layer.digest {
        return Ok(Err(format!(
            "the {what} blob read is {actual}, not the layer's digest {} (tampered or corrupted)",
            layer.digest
        )));
    }
    if bytes.len() as u64 != layer.size {
        return Ok(Err(format!(
            "the {what} blob is {} bytes, the layer says {}",
            bytes.len(),
            layer.size
        )));
    }
    Ok(Ok(bytes))
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in d.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    const DSSE: &str = "application/vnd.dsse.envelope.v1+json";

    #[test]
    fn sha256_is_lowercase_hex_with_its_prefix() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn cosign_tags_are_the_digest_with_a_dash_and_the_suffix() {
        assert_eq!(
            cosign_tag(DIGEST, "sig").expect("tag"),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"
        );
        for bad in ["sha256:ABC", "sha512:00", "sha256:../../x", ""] {
            assert!(cosign_tag(bad, "att").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_layers_of_the_media_type_are_taken_with_their_annotations() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{DIGEST}","size":2}},
            "layers":[
              {{"mediaType":"{SIMPLE_SIGNING}","digest":"{DIGEST}","size":210,
                "annotations":{{"dev.cosignproject.cosign/signature":"MEUC"}}}},
              {{"mediaType":"{DSSE}","digest":"{DIGEST}","size":9,
                "annotations":{{"predicateType":"https://slsa.dev/provenance/v1"}}}},
              {{"mediaType":"{SIMPLE_SIGNING}","digest":"{DIGEST}","size":5}}]}}"#
        );
        let layer = |size, annotations: &[(&str, &str)]| Layer {
            digest: DIGEST.into(),
            size,
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        assert_eq!(
            manifest_layers(manifest.as_bytes(), SIMPLE_SIGNING).expect("layers"),
            vec![
                layer(210, &[("dev.cosignproject.cosign/signature", "MEUC")]),
                layer(5, &[]),
            ]
        );
        assert_eq!(
            manifest_layers(manifest.as_bytes(), DSSE).expect("layers"),
            vec![layer(
                9,
                &[("predicateType", "https://slsa.dev/provenance/v1")]
            )]
        );
        assert!(manifest_layers(b"{}", DSSE).is_err());
        assert!(manifest_layers(b"not json", DSSE).is_err());
        assert!(manifest_layers(br#"{"layers":[{"mediaType":"x"}]}"#, DSSE).is_err());
    }
}
