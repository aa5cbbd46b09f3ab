//! The registry step of an image change: choosing the tag by a strategy, pinning or
//! verifying the digest, verifying the digest's signature, before the change is planned.
//!
//! With [`Resolve::verify`], the digest written is one whose cosign signature verifies
//! with one of the policy's keys: the image's tag is resolved to its digest (or its
//! given digest taken), the signature tag `sha256-<hex>.sig` read and checked
//! ([`verify::verify_with_keys`]), and the image written as `tag@digest`. A strategy
//! tries its best candidates in order (at most ten) and the first that verifies wins;
//! the others are listed as rejected with the reason. Without it no signature is looked
//! up.

use std::sync::{mpsc, Arc};

use serde::Serialize;

use super::error::{BumpError, Cause};
use super::{Event, Options};
use crate::image::ImageRef;
use crate::plan::Request;
use crate::registry::strategy::{Candidate, Rejection, TagFilter};
use crate::registry::{
    docker_config, BasicCredentials, Client, ClientOptions, Endpoint, Pinned, Platform,
    RegistryError, Resolver, Strategy,
};
use crate::verify::{Verified, VerifyError, VerifyPolicy};

/// What to ask the registry before an image change is planned
/// ([`Options::registry`]).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Resolve {
    /// Choose the tag: semver, newest-build or alphabetical replace the image's tag
    /// with the registry's best one; [`Strategy::Digest`] pins the digest of the
    /// image's tag. `None`: keep the tag.
    pub strategy: Option<Strategy>,
    /// Which tags a strategy may choose.
    pub filter: TagFilter,
    /// What to do with the digest.
    pub digest: DigestStep,
    /// The platform whose image to pin, verify or date (newest-build: default
    /// `linux/amd64`); `None`: the tag's manifest or index itself.
    pub platform: Option<Platform>,
    /// The credentials for the registry.
    pub credentials: RegistryCredentials,
    /// Hosts that may use plain HTTP besides loopback.
    pub insecure: Vec<String>,
    /// Requests in flight at once; `None`: [`crate::registry::DEFAULT_CONCURRENCY`].
    pub concurrency: Option<usize>,
    /// Require a cosign signature of the digest by one of the policy's keys, and write
    /// the verified digest: the tag is resolved to its digest, the signature tag
    /// `sha256-<hex>.sig` read and checked, and a strategy's candidates tried best first
    /// until one verifies. `None`: no signature lookups.
    pub verify: Option<VerifyPolicy>,
}

/// What the registry step does with the digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestStep {
    /// Nothing (but [`Strategy::Digest`] pins).
    #[default]
    Keep,
    /// Write the tag's digest next to it.
    Pin,
    /// Check the image's digest against the registry.
    Verify,
}

/// Where the registry credentials come from.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum RegistryCredentials {
    /// Docker's `config.json` (`DOCKER_CONFIG`, `~/.docker`), read through
    /// [`Options::env`]; none when it has none for the registry.
    #[default]
    DockerConfig,
    /// These.
    Basic(BasicCredentials),
    /// Anonymous.
    None,
}

/// What the registry said.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct RegistryReport {
    /// The strategy's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyReport>,
    /// The digest pinned or verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Pinned>,
    /// Whether the given digest was verified.
    pub verified: bool,
    /// HTTP requests made to the registry and its token service.
    pub requests: u32,
    /// What verified the digest's signature ([`Resolve::verify`]); the run's report
    /// shows it as its own `verification` member.
    #[serde(skip)]
    pub verification: Option<Verified>,
    /// The image the change writes.
    #[serde(skip)]
    pub image: Option<ImageRef>,
}

/// A strategy's choice.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct StrategyReport {
    /// The strategy.
    pub name: &'static str,
    /// The tag chosen.
    pub tag: String,
    /// Why it won.
    pub reason: String,
    /// Tags the registry listed.
    pub listed: usize,
    /// Tags that passed the filters.
    pub considered: usize,
    /// The best candidates, best first.
    pub candidates: Vec<Candidate>,
    /// The newest tags rejected, with why.
    pub rejected: Vec<RejectedTag>,
}

/// A tag the filters, the strategy or signature verification rejected.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct RejectedTag {
    /// The tag.
    pub tag: String,
    /// Why.
    #[serde(skip)]
    pub why: Rejection,
    /// Why, in words: [`why`](Self::why)'s own unless the caller words it its own way
    /// (a CLI naming its flags); the reports show this.
    pub reason: String,
}

impl RejectedTag {
    /// `tag`, rejected for `why` (worded as `why` says it).
    pub fn new(tag: impl Into<String>, why: Rejection) -> RejectedTag {
        RejectedTag {
            tag: tag.into(),
            reason: why.to_string(),
            why,
        }
    }
}

/// Asks the registry what `resolve` wants and returns the change with the image to
/// write; reports [`Event::Registry`] (also on failure) and the client's log lines.
pub(super) fn resolve(
    change: &Request,
    resolve: &Resolve,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<(Request, RegistryReport), BumpError> {
    let Request::Image { image, paths } = change else {
        return Err(BumpError::RegistryNeedsImage);
    };
    if resolve.digest == DigestStep::Verify && image.digest().is_none() {
        return Err(BumpError::NoDigestToVerify {
            image: image.to_string(),
        });
    }
    let chooses = resolve.strategy.is_some_and(|s| s != Strategy::Digest);
    if resolve.verify.is_some() && !chooses && image.tag().is_none() && image.digest().is_none() {
        return Err(BumpError::NothingToVerify {
            image: image.to_string(),
        });
    }
    let endpoint = Endpoint::of(image, &resolve.insecure);
    let timeouts = options.timeouts.clone();
    let credentials = match &resolve.credentials {
        RegistryCredentials::Basic(c) => Some(c.clone()),
        RegistryCredentials::None => None,
        RegistryCredentials::DockerConfig => match docker_config::config_path(&*options.env) {
            Some(path) => docker_config::lookup(&path, &endpoint.config_keys(), timeouts.idle)?,
            None => None,
        },
    };
    // The client logs from its worker threads: the lines reach `events` here.
    let (tx, rx) = mpsc::channel::<String>();
    let client_options = ClientOptions {
        credentials,
        timeouts,
        ca_bundle: options.ca_bundle.clone(),
        insecure: resolve.insecure.clone(),
        page_size: None,
        concurrency: resolve.concurrency,
        log: Some(Arc::new(move |line: &str| {
            let _ = tx.send(line.to_string());
        })),
    };
    let name = image.name();
    let work = || -> Result<_, RegistryError> {
        let resolver = Resolver::new(Client::new(endpoint, client_options)?, name.clone());
        let mut found = RegistryReport::default();
        let result = steps(resolve, image, &resolver, &mut found);
        found.requests = resolver.client().requests();
        Ok((result, found))
    };
    let (result, mut found) = run_logging(work, rx, events)?;
    let image = match result {
        Ok(image) => image,
        Err(source) => {
            events(Event::Registry(&found));
            return Err(match (source.downcast::<VerifyError>(), &resolve.verify) {
                (Ok(e), Some(policy)) if e.kind() == "verification" => BumpError::NotVerified {
                    image: image.to_string(),
                    required: policy.describe(),
                    source: e,
                },
                (Ok(e), _) => BumpError::RegistryRead {
                    image: name,
                    source: e,
                },
                (Err(source), _) => BumpError::RegistryRead {
                    image: name,
                    source,
                },
            });
        }
    };
    found.image = Some(image.clone());
    events(Event::Registry(&found));
    let change = Request::Image {
        image,
        paths: paths.clone(),
    };
    Ok((change, found))
}

/// Runs `work` on a thread of its own while the log lines it sends reach `events`.
fn run_logging<T: Send>(
    work: impl FnOnce() -> T + Send,
    rx: mpsc::Receiver<String>,
    events: &dyn Fn(Event<'_>),
) -> T {
    std::thread::scope(|s| {
        let handle = s.spawn(work);
        for line in rx {
            events(Event::Log(&line));
        }
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn steps(
    resolve: &Resolve,
    image: &ImageRef,
    resolver: &Resolver,
    found: &mut RegistryReport,
) -> Result<ImageRef, Cause> {
    let mut image = image.clone();
    let platform = resolve.platform.as_ref();
    if let Some(strategy) = resolve.strategy.filter(|s| *s != Strategy::Digest) {
        let tags = resolver.tags()?;
        let build_platform = platform.cloned().unwrap_or_else(|| Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        });
        let filter = &resolve.filter;
        let choice = match resolver.choose(strategy, &tags, filter, &build_platform)? {
            Ok(c) => c,
            Err(none) => {
                return Err(RegistryError::NoMatch {
                    image: image.name(),
                    filters: filter.describe(),
                    listed: tags.len(),
                    rejected: none.rejected,
                }
                .into())
            }
        };
        let mut report = StrategyReport {
            name: strategy.name(),
            tag: choice.tag.clone(),
            reason: choice.reason.clone(),
            listed: choice.listed,
            considered: choice.considered,
            candidates: choice.candidates.clone(),
            rejected: (choice.rejected.iter())
                .map(|(tag, why)| RejectedTag::new(tag.clone(), why.clone()))
                .collect(),
        };
        if let Some(policy) = &resolve.verify {
            let outcome = best_verified(&choice.candidates, policy, resolver, platform);
            let (pinned, verified, refused) = match outcome {
                Ok(found) => found,
                Err(e) => {
                    found.strategy = Some(report);
                    return Err(e);
                }
            };
            if !refused.is_empty() {
                report.reason = format!(
                    "the best candidate with a verified signature: the {} better of {} candidate(s) were refused",
                    refused.len(),
                    report.considered
                );
            }
            report.tag = pinned.tag.clone();
            report.rejected.splice(0..0, refused);
            image = ImageRef::parse(&format!(
                "{}:{}@{}",
                image.name(),
                pinned.tag,
                pinned.digest
            ))?;
            found.strategy = Some(report);
            found.digest = Some(pinned);
            found.verification = Some(verified);
            return Ok(image);
        }
        found.strategy = Some(report);
        image = image.with_tag(&choice.tag)?;
    }
    let tag = image.tag().map(str::to_string);
    if resolve.digest == DigestStep::Verify {
        let digest = image.digest().unwrap_or_default().to_string();
        found.digest = Some(resolver.verify(tag.as_deref(), &digest, platform)?);
        found.verified = true;
    } else {
        let pin = resolve.digest == DigestStep::Pin
            || resolve.strategy == Some(Strategy::Digest)
            || (resolve.verify.is_some() && image.digest().is_none());
        if let (true, Some(tag)) = (pin, &tag) {
            let pinned = resolver.pin(tag, platform)?;
            image = ImageRef::parse(&format!("{}:{tag}@{}", image.name(), pinned.digest))?;
            found.digest = Some(pinned);
        }
    }
    if let Some(policy) = &resolve.verify {
        let digest = image.digest().unwrap_or_default();
        found.verification = Some(policy.verify(resolver.client(), digest)?);
    }
    Ok(image)
}

/// The first of `candidates` (best first) whose digest has a signature verifying with
/// `policy`: its digest, what verified it, and the better candidates refused with why.
/// A registry failure ends the search; none verifying is
/// [`VerifyError::NoCandidateVerified`].
fn best_verified(
    candidates: &[Candidate],
    policy: &VerifyPolicy,
    resolver: &Resolver,
    platform: Option<&Platform>,
) -> Result<(Pinned, Verified, Vec<RejectedTag>), Cause> {
    let mut refused = Vec::new();
    for candidate in candidates {
        let pinned = resolver.pin(&candidate.tag, platform)?;
        match policy.verify(resolver.client(), &pinned.digest) {
            Ok(verified) => return Ok((pinned, verified, refused)),
            Err(e) if e.kind() == "verification" => {
                let why = e.to_string();
                let rejection = match e {
                    VerifyError::NoAttestation { .. }
                    | VerifyError::AttestationNotVerified { .. } => {
                        Rejection::AttestationUnverified { why }
                    }
                    _ => Rejection::Unverified { why },
                };
                refused.push(RejectedTag::new(candidate.tag.clone(), rejection));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(VerifyError::NoCandidateVerified {
        keys: policy.describe(),
        tried: refused
            .into_iter()
            .map(|r| format!("{}: {}", r.tag, r.reason))
            .collect(),
    }
    .into())
}
