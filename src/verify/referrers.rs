//! Sigstore bundles stored as OCI 1.1 referrers of an image digest, laid out as cosign's
//! `specs/BUNDLE_SPEC.md` describes (what `cosign sign --new-bundle-format`, cosign 3's
//! default, and GitHub's attest actions with `push-to-registry` write):
//!
//! - The referrers of `sha256:<hex>` are listed by the referrers API,
//!   `GET /v2/<name>/referrers/<digest>` (OCI distribution spec 1.1, "Listing
//!   Referrers"): an image index whose `manifests` describe the referring manifests. A
//!   `404` (or, from registries older than the API, `400`, `405`, `406` or `501`) means
//!   the registry has no such API: the referrers tag schema is read instead,
//!   the index tagged `sha256-<hex>` that pushing clients keep. A `404` there too means
//!   no referrers.
//! - A bundle's descriptor has the `artifactType` [`MEDIA_TYPE_V0_3`]; other referrers
//!   (SBOMs, Notary signatures) are left alone. The descriptor's annotation
//!   [`PREDICATE_TYPE_ANNOTATION`] is a hint (it is not signed) used only to skip
//!   bundles of another predicate type than the one looked for.
//! - Its manifest is read by digest (and checked against it); its first layer of the
//!   bundle media type is the bundle, read at most [`MAX_BUNDLE_BYTES`] and checked
//!   against its descriptor, then parsed ([`Bundle::from_json`]).
//!
//! What a bundle counts as is decided from its signed content alone ([`content`]): a
//! message signature, or a DSSE in-toto statement of predicate type [`COSIGN_SIGN_V1`]
//! (cosign 3's signature, whose subject names the digest only), signs the image; any
//! other in-toto statement is an attestation of its predicate type. At most
//! [`MAX_BUNDLES`] bundles are looked at; each is read once, when first needed.

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};

use super::bundle::{Bundle, Content as BundleContent, MAX_BUNDLE_BYTES, MEDIA_TYPE_V0_3};
use super::bundle::{MEDIA_TYPE_V0_1, MEDIA_TYPE_V0_2, MEDIA_TYPE_V0_3_LEGACY};
use super::error::VerifyError;
use super::intoto::Statement;
use super::registry_source::{self, Layer};
use super::simple_signing::check_digest;
use crate::registry::manifest::{OCI_INDEX, OCI_MANIFEST};
use crate::registry::Client;

/// The predicate type of cosign 3's signature statements: a DSSE in-toto statement
/// whose subject names the image digest, signed in place of a simple-signing payload.
pub const COSIGN_SIGN_V1: &str = "https://sigstore.dev/cosign/sign/v1";

/// The referrer annotation naming a DSSE bundle's predicate type (a hint, not signed).
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// The most bundle referrers looked at for one digest (the rest are named in messages).
pub const MAX_BUNDLES: usize = 32;

/// The largest referrers index or bundle manifest read.
const MAX_INDEX_BYTES: u64 = 4 << 20;

/// The media types a bundle layer may have (v0.3 is what cosign and GitHub write).
const BUNDLE_LAYER_TYPES: [&str; 4] = [
    MEDIA_TYPE_V0_3,
    MEDIA_TYPE_V0_3_LEGACY,
    MEDIA_TYPE_V0_2,
    MEDIA_TYPE_V0_1,
];

/// What a bundle's signed content is, for an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A signature of the image: a message signature, or a [`COSIGN_SIGN_V1`] statement.
    Signature,
    /// An in-toto attestation of this predicate type.
    Attestation(String),
    /// Neither (why, for messages).
    Other(String),
}

/// What `bundle` holds (see the [module documentation](self)); nothing is verified.
pub fn content(bundle: &Bundle) -> Content {
    match &bundle.content {
        BundleContent::MessageSignature(_) => Content::Signature,
        BundleContent::DsseEnvelope(d) if d.payload_type == super::dsse::IN_TOTO_PAYLOAD_TYPE => {
            match Statement::parse(&d.payload) {
                Ok(s) if s.predicate_type == COSIGN_SIGN_V1 => Content::Signature,
                Ok(s) => Content::Attestation(s.predicate_type),
                Err(e) => Content::Other(e.to_string()),
            }
        }
        BundleContent::DsseEnvelope(d) => Content::Other(format!(
            "a DSSE payload of type {}",
            super::excerpt::excerpt(&d.payload_type, 80)
        )),
    }
}

/// One bundle referrer, as listed.
#[derive(Clone, Debug)]
struct Listed {
    manifest: String,
    predicate_hint: Option<String>,
}

/// The bundle referrers of one digest: listed on first use, each bundle read once.
pub(super) struct Referrers<'c> {
    client: &'c Client,
    digest: String,
    listing: OnceCell<Listing>,
    read: RefCell<BTreeMap<String, Result<Bundle, String>>>,
}

/// What the listing found.
pub(super) struct Listing {
    /// Where the referrers were listed, for messages: `the referrers of sha256:… in
    /// host/repository` (the API) or `host/repository:sha256-<hex>` (the tag schema).
    pub location: String,
    listed: Vec<Listed>,
    /// Bundle referrers past [`MAX_BUNDLES`], not looked at.
    pub over_limit: usize,
}

impl Listing {
    /// Whether no bundle referrer was listed.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// `N more bundle referrers were not looked at`, when past [`MAX_BUNDLES`].
    pub fn over_limit_note(&self) -> Option<String> {
        (self.over_limit > 0).then(|| {
            format!(
                "{} more bundle referrers were not looked at (at most {MAX_BUNDLES} are)",
                self.over_limit
            )
        })
    }
}

/// One bundle referrer read: where (`host/repository@sha256:…`, its manifest) and the
/// bundle, or why it cannot be used.
pub(super) struct Read {
    pub location: String,
    pub bundle: Result<Bundle, String>,
}

impl<'c> Referrers<'c> {
    /// The referrers of `digest` (`sha256:<64 hex>`, checked when listed) through
    /// `client`; nothing is requested yet.
    pub fn new(client: &'c Client, digest: &str) -> Referrers<'c> {
        Referrers {
            client,
            digest: digest.to_string(),
            listing: OnceCell::new(),
            read: RefCell::new(BTreeMap::new()),
        }
    }

    fn registry(&self, source: crate::registry::RegistryError) -> VerifyError {
        VerifyError::Registry {
            digest: self.digest.clone(),
            source: Box::new(source),
        }
    }

    /// The bundle referrers: the referrers API, else the referrers tag schema (see the
    /// [module documentation](self)); listed on the first call.
    pub fn listing(&self) -> Result<&Listing, VerifyError> {
        if let Some(listing) = self.listing.get() {
            return Ok(listing);
        }
        let listing = self.list()?;
        Ok(self.listing.get_or_init(|| listing))
    }

    fn list(&self) -> Result<Listing, VerifyError> {
        let (client, digest) = (self.client, self.digest.as_str());
        check_digest(digest, "the image digest being verified")?;
        let endpoint = client.endpoint();
        let place = format!("{}/{}", endpoint.host, endpoint.repository);
        let step = format!("listing the OCI referrers of {digest}");
        let answer = client
            .call_capped(
                Method::GET,
                &format!("referrers/{digest}"),
                &[OCI_INDEX],
                &step,
                MAX_INDEX_BYTES,
            )
            .map_err(|e| self.registry(e))?;
        // The spec's signal for "no referrers API" is 404; registries that predate it
        // also answer an unknown route with 400, 405, 406 or 501.
        let no_api = matches!(
            answer.status,
            StatusCode::NOT_FOUND
                | StatusCode::BAD_REQUEST
                | StatusCode::METHOD_NOT_ALLOWED
                | StatusCode::NOT_ACCEPTABLE
                | StatusCode::NOT_IMPLEMENTED
        );
        let (location, index) = if no_api {
            let tag = digest.replacen(':', "-", 1);
            let step = format!("reading the referrers tag {tag:?}");
            let answer = client
                .call_capped(
                    Method::GET,
                    &format!("manifests/{tag}"),
                    &[OCI_INDEX],
                    &step,
                    MAX_INDEX_BYTES,
                )
                .map_err(|e| self.registry(e))?;
            let location = format!("{place}:{tag}");
            if answer.status == StatusCode::NOT_FOUND {
                (location, None)
            } else {
                client
                    .expect_ok(&answer, &step)
                    .map_err(|e| self.registry(e))?;
                (location, Some(answer.body))
            }
        } else {
            client
                .expect_ok(&answer, &step)
                .map_err(|e| self.registry(e))?;
            (
                format!("the referrers of {digest} in {place}"),
                Some(answer.body),
            )
        };
        let bundles = match index {
            Some(body) => {
                bundle_descriptors(&body).map_err(|reason| VerifyError::SignatureManifest {
                    location: location.clone(),
                    reason,
                })?
            }
            None => Vec::new(),
        };
        let over_limit = bundles.len().saturating_sub(MAX_BUNDLES);
        Ok(Listing {
            location,
            listed: bundles.into_iter().take(MAX_BUNDLES).collect(),
            over_limit,
        })
    }

    /// The bundles that may hold one of `predicate_types` (a listed hint of another type
    /// is skipped; empty: every bundle), each read on first use, in the order listed.
    pub fn bundles(&self, predicate_types: &[&str]) -> Result<Vec<Read>, VerifyError> {
        let endpoint = self.client.endpoint();
        let mut out = Vec::new();
        for listed in &self.listing()?.listed {
            if let Some(hint) = &listed.predicate_hint {
                if !predicate_types.is_empty() && !predicate_types.contains(&hint.as_str()) {
                    continue;
                }
            }
            let cached = self.read.borrow().get(&listed.manifest).cloned();
            let bundle = match cached {
                Some(b) => b,
                None => {
                    let b = self.read_bundle(&listed.manifest)?;
                    self.read
                        .borrow_mut()
                        .insert(listed.manifest.clone(), b.clone());
                    b
                }
            };
            out.push(Read {
                location: format!(
                    "{}/{}@{}",
                    endpoint.host, endpoint.repository, listed.manifest
                ),
                bundle,
            });
        }
        Ok(out)
    }

    /// The bundle of the referring manifest `manifest`, or why it cannot be used.
    fn read_bundle(&self, manifest: &str) -> Result<Result<Bundle, String>, VerifyError> {
        let step = format!("reading the bundle manifest {manifest}");
        let answer = self
            .client
            .call_capped(
                Method::GET,
                &format!("manifests/{manifest}"),
                &[OCI_MANIFEST],
                &step,
                MAX_INDEX_BYTES,
            )
            .map_err(|e| self.registry(e))?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(Err("its manifest is not in the repository (404)".into()));
        }
        self.client
            .expect_ok(&answer, &step)
            .map_err(|e| self.registry(e))?;
        let actual = registry_source::sha256(&answer.body);
        if actual != manifest {
            return Ok(Err(format!(
                "the manifest read is {actual}, not {manifest} (tampered or corrupted)"
            )));
        }
        let layer = match first_bundle_layer(&answer.body) {
            Ok(Some(layer)) => layer,
            Ok(None) => return Ok(Err("its manifest has no Sigstore bundle layer".into())),
            Err(reason) => return Ok(Err(format!("its manifest is not readable: {reason}"))),
        };
        let max = MAX_BUNDLE_BYTES as u64;
        let bytes = match registry_source::layer_blob(self.client, &layer, "bundle", max)
            .map_err(|e| self.registry(e))?
        {
            Ok(bytes) => bytes,
            Err(reason) => return Ok(Err(reason)),
        };
        Ok(Bundle::from_json(&bytes).map_err(|e| e.to_string()))
    }
}

/// The descriptors of an image index whose `artifactType` is a Sigstore bundle's.
fn bundle_descriptors(index: &[u8]) -> Result<Vec<Listed>, String> {
    #[derive(serde::Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Descriptor>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Descriptor {
        digest: String,
        #[serde(default)]
        artifact_type: Option<String>,
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
    }
    let index: Index = serde_json::from_slice(index)
        .map_err(|e| format!("the referrers index is not an image index ({e})"))?;
    Ok(index
        .manifests
        .into_iter()
        .filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| BUNDLE_LAYER_TYPES.contains(&t))
        })
        .filter(|d| check_digest(&d.digest, "a referrer's digest").is_ok())
        .map(|d| Listed {
            manifest: d.digest,
            predicate_hint: d
                .annotations
                .and_then(|mut a| a.remove(PREDICATE_TYPE_ANNOTATION)),
        })
        .collect())
}

/// The first layer of a bundle media type in a referring manifest.
fn first_bundle_layer(manifest: &[u8]) -> Result<Option<Layer>, String> {
    for media_type in BUNDLE_LAYER_TYPES {
        if let Some(layer) = registry_source::manifest_layers(manifest, media_type)?
            .into_iter()
            .next()
        {
            return Ok(Some(layer));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn only_bundle_referrers_with_sha256_digests_are_listed_with_their_hint() {
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1,"artifactType":"{MEDIA_TYPE_V0_3}",
                "annotations":{{"dev.sigstore.bundle.content":"dsse-envelope","{PREDICATE_TYPE_ANNOTATION}":"https://slsa.dev/provenance/v1"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1,"artifactType":"application/spdx+json"}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:../x","size":1,"artifactType":"{MEDIA_TYPE_V0_3}"}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1,"artifactType":"{MEDIA_TYPE_V0_3_LEGACY}"}}
            ]}}"#
        );
        let listed = bundle_descriptors(index.as_bytes()).expect("index");
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(
            listed[0].predicate_hint.as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert_eq!(listed[1].predicate_hint, None);
        assert!(bundle_descriptors(b"not json").is_err());
        assert!(bundle_descriptors(br#"{"manifests": 1}"#).is_err());
        assert!(bundle_descriptors(b"{}").expect("no manifests").is_empty());
    }
}
