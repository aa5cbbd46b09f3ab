//! Reading a container registry over the OCI distribution API: the digest a tag
//! points to (`--pin-digest`, `--verify-digest`), the tags a repository holds, and
//! the build time of an image — what Argo CD Image Updater's update strategies need,
//! done from a CI job with no controller.
//!
//! One job per file:
//!
//! - [`endpoint`]: image reference → API base URL and repository (Docker Hub's
//!   `registry-1.docker.io` and `library/`), HTTPS-or-loopback rule.
//! - [`challenge`]: `WWW-Authenticate` (Basic, Bearer `realm`/`service`/`scope`).
//! - [`docker_config`]: credentials from Docker's `config.json` (`auths`,
//!   `credsStore`, `credHelpers` through `docker-credential-*`).
//! - [`client`]: the HTTP exchanges: auth, timeouts, `429` + `Retry-After`, `Link`
//!   pagination; credentials only to the registry's host and its token realm; a
//!   bounded pool of requests in flight (8 by default), paused as a whole by a `429`.
//! - manifest, index and config JSON and platform selection ([`Platform`]) stay inside.
//! - [`resolve`]: a tag's digest, a given digest checked, an image's `created` time;
//!   build times of many tags read concurrently, each manifest and config once.
//! - [`strategy`]: choosing a tag (semver, newest-build, alphabetical, digest) with
//!   Image Updater's constraint / allow / ignore rules, and why the winner won.

pub mod challenge;
pub mod client;
pub mod docker_config;
pub mod endpoint;
pub(crate) mod manifest;
mod pool;
pub mod resolve;
pub mod strategy;

use std::time::Duration;

use crate::secret::Secret;

pub use client::{Client, ClientOptions};
pub use endpoint::Endpoint;
pub use manifest::{Platform, PlatformError};
pub use pool::{Logger, DEFAULT_CONCURRENCY, MAX_CONCURRENCY};
pub use resolve::{Pinned, Resolver};
pub use strategy::{Choice, Strategy, TagFilter};

/// A username and password for a registry (or its token service).
#[derive(Clone, Debug)]
pub struct BasicCredentials {
    /// The username.
    pub username: String,
    /// The password or access token; never printed.
    pub password: Secret,
}

/// Why a registry could not answer what was asked. Messages name the registry host
/// and the repository, never a password or token.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The repository, tag or digest does not exist (404).
    #[error("{host}: {what} not found in repository {repository} (404)")]
    NotFound {
        /// The registry host.
        host: String,
        /// The repository.
        repository: String,
        /// What was looked up (`tag "1.2.3"`, `digest sha256:…`).
        what: String,
    },
    /// The registry or its token service refused the credentials (401 / 403).
    #[error("{host}: access to repository {repository} denied ({status}) {}", denied_remedy(user.as_deref()))]
    Auth {
        /// The host that refused.
        host: String,
        /// The repository.
        repository: String,
        /// The HTTP status.
        status: u16,
        /// The user name sent ([`BasicCredentials::username`]), `None` without credentials.
        user: Option<String>,
    },
    /// Rate limited (429) for longer than the run may wait.
    #[error("{host}: rate limited (429 Too Many Requests){}; gave up after {attempts} attempt(s)", retry_after.map(|d| format!(", Retry-After {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The host.
        host: String,
        /// What the server asked to wait, if it said.
        retry_after: Option<Duration>,
        /// Requests made.
        attempts: u32,
    },
    /// No answer in time.
    #[error("{host}: no answer within {}s while waiting for {waited_for} ({step})", after.as_secs_f32())]
    Timeout {
        /// The host.
        host: String,
        /// `a connection` or `an answer`.
        waited_for: &'static str,
        /// What was being done.
        step: String,
        /// How long was waited.
        after: Duration,
    },
    /// The connection failed (refused, TLS, DNS …).
    #[error("{host}: {step} failed: {reason}")]
    Transport {
        /// The host.
        host: String,
        /// What was being done.
        step: String,
        /// The cause.
        reason: String,
    },
    /// Plain HTTP was asked for where only HTTPS is allowed.
    #[error("{url}: plain HTTP is only used for localhost, 127.0.0.0/8 and the hosts named as insecure registries")]
    InsecureRefused {
        /// The URL.
        url: String,
    },
    /// An answer the registry should not give (unexpected status or body).
    #[error("{host}: unexpected answer to {step}: {reason}")]
    Protocol {
        /// The host.
        host: String,
        /// What was being done.
        step: String,
        /// What was wrong.
        reason: String,
    },
    /// Reading credentials failed (Docker config, credential helper).
    #[error("registry credentials from {source_name}: {reason}")]
    Credentials {
        /// The file or helper program.
        source_name: String,
        /// What went wrong (never a secret).
        reason: String,
    },
    /// The CA bundle could not be used.
    #[error("CA bundle {path}: {reason}")]
    CaBundle {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// `--verify-digest`: the registry holds another digest for the tag.
    #[error("digest mismatch for {image}: the given digest is {given}, but the registry has {actual} for tag {tag:?}")]
    DigestMismatch {
        /// The image (without digest).
        image: String,
        /// The tag.
        tag: String,
        /// The digest given.
        given: String,
        /// The registry's.
        actual: String,
    },
    /// `--platform` names a platform the image index does not list.
    #[error("{platform} is not in the index of {image} (it has: {available})")]
    NoPlatform {
        /// The image.
        image: String,
        /// The platform asked for.
        platform: String,
        /// The platforms the index lists.
        available: String,
    },
    /// A strategy found no tag that passes the filters.
    #[error("no tag of {image} matches {filters} ({listed} tag(s) listed){}", rejected_list(.rejected))]
    NoMatch {
        /// The image.
        image: String,
        /// The filters, as given.
        filters: String,
        /// How many tags the registry listed.
        listed: usize,
        /// The newest rejected candidates and why each was rejected.
        rejected: Vec<(String, strategy::Rejection)>,
    },
}

/// `as user "bot"; check …` or `without credentials; give …`: who was refused and what
/// would help.
fn denied_remedy(user: Option<&str>) -> String {
    match user {
        Some(user) => format!(
            "as user {user:?}; check the registry user name and password, or the docker login for this registry"
        ),
        None => "without credentials; give a registry user name and password, or docker login to this registry"
            .to_string(),
    }
}

fn rejected_list(rejected: &[(String, strategy::Rejection)]) -> String {
    if rejected.is_empty() {
        return String::new();
    }
    let items: Vec<String> = rejected
        .iter()
        .map(|(tag, why)| format!("{tag} ({why})"))
        .collect();
    format!("; newest rejected: {}", items.join(", "))
}
