//! Questions about one repository answered from its registry: the digest a tag
//! points to (one `HEAD` of the manifest, plus auth), a given digest checked, the
//! tags, an image's build time.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};

use super::client::Client;
use super::manifest::{self, Manifest, Platform};
use super::RegistryError;

/// A tag's digest as the registry reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pinned {
    /// The tag.
    pub tag: String,
    /// The digest to write: the tag's manifest (for a multi-platform image, its
    /// index), or the child for `platform`.
    pub digest: String,
    /// The media type of what the tag points to.
    pub media_type: String,
    /// The platform whose child was picked, if one was.
    pub platform: Option<String>,
}

/// Answers questions about one repository.
#[derive(Debug)]
pub struct Resolver {
    client: Client,
    /// `registry/repository`, for messages.
    image: String,
    /// Config `created` times by manifest digest.
    created: HashMap<String, Option<String>>,
}

impl Resolver {
    /// A resolver over `client`; `image` names the repository in messages.
    pub fn new(client: Client, image: String) -> Resolver {
        Resolver {
            client,
            image,
            created: HashMap::new(),
        }
    }

    /// The HTTP client (for its request count).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The digest of `tag`: one `HEAD` accepting the manifest, index and Docker v2
    /// media types; with `platform` and an index, one `GET` of the index more.
    pub fn pin(&mut self, tag: &str, platform: Option<&Platform>) -> Result<Pinned, RegistryError> {
        let step = format!("resolving tag {tag:?}");
        let answer = self.client.call(
            Method::HEAD,
            &format!("manifests/{tag}"),
            &manifest::ACCEPT,
            &step,
        )?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(self.client.not_found(format!("tag {tag:?}")));
        }
        self.client.expect_ok(&answer, &step)?;
        let media_type = answer
            .content_type
            .as_deref()
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
            .unwrap_or_default();
        let digest = match answer.digest {
            Some(d) if d.starts_with("sha256:") => d,
            // Docker-Content-Digest is optional for registries: hash the manifest.
            _ => self.get_manifest(tag, &step)?.0,
        };
        let Some(platform) = platform.filter(|_| manifest::is_index(&media_type)) else {
            return Ok(Pinned {
                tag: tag.to_string(),
                digest,
                media_type,
                platform: None,
            });
        };
        let (_, body) = self.get_manifest(&digest, &step)?;
        let index = Manifest::parse(&body).map_err(|e| self.client.protocol(&step, &e))?;
        let child = index
            .child_for(platform)
            .map_err(|available| RegistryError::NoPlatform {
                image: format!("{}:{tag}", self.image),
                platform: platform.to_string(),
                available,
            })?;
        Ok(Pinned {
            tag: tag.to_string(),
            digest: child.digest.clone(),
            media_type: child.media_type.clone(),
            platform: Some(platform.to_string()),
        })
    }

    /// Checks that `digest` is what `tag` points to (its index or, with `platform`,
    /// that platform's child); without a tag, that the repository has the digest.
    pub fn verify(
        &mut self,
        tag: Option<&str>,
        digest: &str,
        platform: Option<&Platform>,
    ) -> Result<Pinned, RegistryError> {
        if let Some(tag) = tag {
            let pinned = self.pin(tag, platform)?;
            if pinned.digest != digest {
                return Err(RegistryError::DigestMismatch {
                    image: self.image.clone(),
                    tag: tag.to_string(),
                    given: digest.to_string(),
                    actual: pinned.digest,
                });
            }
            return Ok(pinned);
        }
        let step = format!("checking digest {digest}");
        let answer = self.client.call(
            Method::HEAD,
            &format!("manifests/{digest}"),
            &manifest::ACCEPT,
            &step,
        )?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(self.client.not_found(format!("digest {digest}")));
        }
        self.client.expect_ok(&answer, &step)?;
        Ok(Pinned {
            tag: String::new(),
            digest: digest.to_string(),
            media_type: answer.content_type.unwrap_or_default(),
            platform: None,
        })
    }

    /// Every tag of the repository.
    pub fn tags(&mut self) -> Result<Vec<String>, RegistryError> {
        self.client.list_tags()
    }

    /// The `created` time of the image `tag` points to (for an index, of its
    /// `platform` child), from the image config; cached by manifest digest.
    pub fn created(
        &mut self,
        tag: &str,
        platform: &Platform,
    ) -> Result<Option<String>, RegistryError> {
        let step = format!("reading the build time of {tag:?}");
        let (digest, body) = self.get_manifest(tag, &step)?;
        if let Some(known) = self.created.get(&digest) {
            return Ok(known.clone());
        }
        let mut m = Manifest::parse(&body).map_err(|e| self.client.protocol(&step, &e))?;
        if m.manifests.is_some() {
            let child = m
                .child_for(platform)
                .map_err(|available| RegistryError::NoPlatform {
                    image: format!("{}:{tag}", self.image),
                    platform: platform.to_string(),
                    available,
                })?
                .digest
                .clone();
            let (_, child_body) = self.get_manifest(&child, &step)?;
            m = Manifest::parse(&child_body).map_err(|e| self.client.protocol(&step, &e))?;
        }
        let Some(config) = m.config else {
            return Err(self.client.protocol(&step, "the manifest has no config"));
        };
        let answer =
            self.client
                .call(Method::GET, &format!("blobs/{}", config.digest), &[], &step)?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(self
                .client
                .not_found(format!("config blob {}", config.digest)));
        }
        self.client.expect_ok(&answer, &step)?;
        let created =
            manifest::config_created(&answer.body).map_err(|e| self.client.protocol(&step, &e))?;
        self.created.insert(digest, created.clone());
        Ok(created)
    }

    /// `GET` of a manifest by tag or digest: (its digest, its bytes).
    fn get_manifest(
        &mut self,
        reference: &str,
        step: &str,
    ) -> Result<(String, Vec<u8>), RegistryError> {
        let answer = self.client.call(
            Method::GET,
            &format!("manifests/{reference}"),
            &manifest::ACCEPT,
            step,
        )?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(self.client.not_found(format!("manifest {reference:?}")));
        }
        self.client.expect_ok(&answer, step)?;
        let computed = sha256_digest(&answer.body);
        if reference.starts_with("sha256:") && reference != computed {
            return Err(self
                .client
                .protocol(step, "the manifest does not hash to its digest"));
        }
        Ok((computed, answer.body))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
