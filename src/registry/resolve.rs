//! Questions about one repository answered from its registry: the digest a tag
//! points to (one `HEAD` of the manifest, plus auth), a given digest checked, the
//! tags, an image's build time. Build times of many tags ([`Resolver::build_times`],
//! what `newest-build` needs) are read concurrently through the client's pool, each
//! distinct manifest and config blob once (many tags share one digest: `latest`,
//! `v1`, `v1.2`, `v1.2.3`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Method, StatusCode};

use super::client::Client;
use super::manifest::{self, Manifest, Platform};
use super::strategy::{self, Choice, NoMatch, Strategy, TagFilter};
use super::RegistryError;

/// A build time, once known (or the error reading it), by digest.
type Known = Arc<OnceLock<Result<Option<String>, RegistryError>>>;

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

/// Answers questions about one repository; `Sync`: threads may share it.
#[derive(Debug)]
pub struct Resolver {
    client: Client,
    /// `registry/repository`, for messages.
    image: String,
    /// `created` times by the digest of a manifest, an index's child or a config
    /// blob: each is read once, also when several threads want it at once.
    created: Mutex<HashMap<String, Known>>,
}

impl Resolver {
    /// A resolver over `client`; `image` names the repository in messages.
    pub fn new(client: Client, image: String) -> Resolver {
        Resolver {
            client,
            image,
            created: Mutex::new(HashMap::new()),
        }
    }

    /// The HTTP client (for its request count).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The digest of `tag`: one `HEAD` accepting the manifest, index and Docker v2
    /// media types; with `platform` and an index, one `GET` of the index more.
    pub fn pin(&self, tag: &str, platform: Option<&Platform>) -> Result<Pinned, RegistryError> {
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
        &self,
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
    pub fn tags(&self) -> Result<Vec<String>, RegistryError> {
        self.client.list_tags()
    }

    /// Chooses a tag of `tags` by `strategy` (not [`Strategy::Digest`]). The name
    /// filters go first; for [`Strategy::NewestBuild`] the build times of the tags
    /// that pass are then read concurrently ([`Resolver::build_times`]), the image
    /// for `platform` where a tag is an index.
    pub fn choose(
        &self,
        strategy: Strategy,
        tags: &[String],
        filter: &TagFilter,
        platform: &Platform,
    ) -> Result<Result<Choice, NoMatch>, RegistryError> {
        let times = match strategy {
            Strategy::NewestBuild => {
                let wanted: Vec<String> = tags
                    .iter()
                    .filter(|t| filter.admits_name(t))
                    .cloned()
                    .collect();
                self.build_times(&wanted, platform)?
            }
            _ => HashMap::new(),
        };
        strategy::choose(strategy, tags, filter, |tag| {
            Ok(times.get(tag).cloned().flatten())
        })
    }

    /// The `created` times of `tags` (see [`Resolver::created`]), read with as many
    /// requests in flight as the client allows. The first error ends the run: no new
    /// request starts, and it is returned once those in flight are done.
    pub fn build_times(
        &self,
        tags: &[String],
        platform: &Platform,
    ) -> Result<HashMap<String, Option<String>>, RegistryError> {
        let workers = self.client.concurrency().min(tags.len());
        if workers <= 1 {
            return tags
                .iter()
                .map(|t| Ok((t.clone(), self.created(t, platform)?)))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let found = Mutex::new(HashMap::new());
        let first_error = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while !failed.load(Ordering::SeqCst) {
                        let Some(tag) = tags.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            return;
                        };
                        match self.created(tag, platform) {
                            Ok(time) => {
                                lock(&found).insert(tag.clone(), time);
                            }
                            Err(e) => {
                                if !failed.swap(true, Ordering::SeqCst) {
                                    *lock(&first_error) = Some(e);
                                }
                                return;
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok(found.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// The `created` time of the image `tag` points to (for an index, of its
    /// `platform` child), from the image config; cached by manifest digest.
    pub fn created(&self, tag: &str, platform: &Platform) -> Result<Option<String>, RegistryError> {
        let step = format!("reading the build time of {tag:?}");
        let (digest, body) = self.get_manifest(tag, &step)?;
        self.once(&digest, || {
            let m = Manifest::parse(&body).map_err(|e| self.client.protocol(&step, &e))?;
            if m.manifests.is_none() {
                return self.config_created(&m, &step);
            }
            let child = m
                .child_for(platform)
                .map_err(|available| RegistryError::NoPlatform {
                    image: format!("{}:{tag}", self.image),
                    platform: platform.to_string(),
                    available,
                })?
                .digest
                .clone();
            self.once(&child, || {
                let (_, child_body) = self.get_manifest(&child, &step)?;
                let m =
                    Manifest::parse(&child_body).map_err(|e| self.client.protocol(&step, &e))?;
                self.config_created(&m, &step)
            })
        })
    }

    /// The `created` time in the config blob `m` names (read once per blob).
    fn config_created(&self, m: &Manifest, step: &str) -> Result<Option<String>, RegistryError> {
        let Some(config) = &m.config else {
            return Err(self.client.protocol(step, "the manifest has no config"));
        };
        self.once(&config.digest, || {
            let answer =
                self.client
                    .call(Method::GET, &format!("blobs/{}", config.digest), &[], step)?;
            if answer.status == StatusCode::NOT_FOUND {
                return Err(self
                    .client
                    .not_found(format!("config blob {}", config.digest)));
            }
            self.client.expect_ok(&answer, step)?;
            manifest::config_created(&answer.body).map_err(|e| self.client.protocol(step, &e))
        })
    }

    /// The build time known for `digest`, computed by `read` the first time (other
    /// threads asking meanwhile wait for it instead of reading it too).
    fn once(
        &self,
        digest: &str,
        read: impl FnOnce() -> Result<Option<String>, RegistryError>,
    ) -> Result<Option<String>, RegistryError> {
        let cell = lock(&self.created)
            .entry(digest.to_string())
            .or_default()
            .clone();
        cell.get_or_init(read).clone()
    }

    /// `GET` of a manifest by tag or digest: (its digest, its bytes).
    fn get_manifest(
        &self,
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
