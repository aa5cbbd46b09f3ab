//! The registry step of `tagbump image`: choosing the tag by strategy, pinning or
//! verifying the digest. It turns the flags into [`tagbump::registry`] calls and
//! returns the image to write, with what it found for the report.

use anyhow::{Context, Result};
use serde::Serialize;

use super::args::{AppKindArg, ImageArgs, StrategyArg};
use super::failure::invalid_input;
use tagbump::argocd_source::{self, AppKind, ArgoApp};
use tagbump::image::ImageRef;
use tagbump::registry::docker_config;
use tagbump::registry::strategy::{self, Candidate, Constraint, TagFilter};
use tagbump::registry::{
    BasicCredentials, Client, ClientOptions, Endpoint, Pinned, Platform, RegistryError, Resolver,
    Strategy,
};
use tagbump::retry::Timeouts;
use tagbump::secret::Secret;

/// What the registry said, for the text and JSON output.
#[derive(Clone, Debug, Default, Serialize)]
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
}

/// A strategy's choice.
#[derive(Clone, Debug, Serialize)]
pub struct StrategyReport {
    pub name: &'static str,
    pub tag: String,
    pub reason: String,
    pub listed: usize,
    pub considered: usize,
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<Rejected>,
}

/// A tag the filters or the strategy rejected.
#[derive(Clone, Debug, Serialize)]
pub struct Rejected {
    pub tag: String,
    pub reason: String,
}

/// Whether any registry flag asks for the registry.
pub fn wanted(a: &ImageArgs) -> bool {
    let r = &a.registry;
    r.pin_digest || r.verify_digest || r.strategy.is_some()
}

/// Checks the registry flags against each other and the image; `image` is IMAGE as
/// parsed (with --tag applied).
fn check_flags(a: &ImageArgs, image: &ImageRef) -> Result<()> {
    let r = &a.registry;
    let fail = |m: &str| Err(invalid_input(m.to_string()));
    match r.strategy {
        Some(StrategyArg::Digest) if image.tag().is_none() => {
            return fail("--strategy digest tracks one tag: give IMAGE:TAG (e.g. app:latest)")
        }
        Some(StrategyArg::Digest) | None => {}
        Some(_) if image.tag().is_some() || image.digest().is_some() => {
            return fail("--strategy chooses the tag: give IMAGE without a tag or digest")
        }
        Some(_) => {}
    }
    if r.constraint.is_some() && r.strategy != Some(StrategyArg::Semver) {
        return fail("--constraint is a semantic version range: it needs --strategy semver");
    }
    if !r.ignore_tags.is_empty() && matches!(r.strategy, None | Some(StrategyArg::Digest)) {
        return fail("--ignore-tags filters the tags a --strategy chooses from");
    }
    if r.verify_digest && image.digest().is_none() {
        return fail(
            "--verify-digest checks a given digest: give IMAGE@sha256:… or IMAGE:TAG@sha256:…",
        );
    }
    if r.pin_digest && image.digest().is_some() {
        return fail(
            "IMAGE already carries a digest; use --verify-digest to check it against the registry",
        );
    }
    if r.pin_digest && r.verify_digest {
        return fail("--pin-digest and --verify-digest exclude each other");
    }
    if r.platform.is_some() && !wanted(a) {
        return fail("--platform needs --pin-digest, --verify-digest or --strategy");
    }
    Ok(())
}

/// The credentials for `endpoint`: --registry-username with TAGBUMP_REGISTRY_PASSWORD,
/// else Docker's config.json, else none.
fn credentials(
    a: &ImageArgs,
    endpoint: &Endpoint,
    env: &dyn Fn(&str) -> Option<String>,
    timeout: std::time::Duration,
) -> Result<Option<BasicCredentials>> {
    let password = env("TAGBUMP_REGISTRY_PASSWORD").filter(|p| !p.is_empty());
    match (&a.registry.registry_username, password) {
        (Some(user), Some(password)) => Ok(Some(BasicCredentials {
            username: user.clone(),
            password: Secret::new(password),
        })),
        (Some(_), None) => Err(invalid_input(
            "--registry-username needs the password in TAGBUMP_REGISTRY_PASSWORD",
        )),
        (None, Some(_)) => Err(invalid_input(
            "TAGBUMP_REGISTRY_PASSWORD is set but --registry-username (TAGBUMP_REGISTRY_USERNAME) is not",
        )),
        (None, None) => match docker_config::config_path(env) {
            Some(path) => Ok(docker_config::lookup(&path, &endpoint.config_keys(), timeout)?),
            None => Ok(None),
        },
    }
}

/// Asks the registry what the flags want and returns the image to write.
pub fn resolve(
    a: &ImageArgs,
    image: ImageRef,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Option<RegistryReport>,
) -> Result<ImageRef> {
    check_flags(a, &image)?;
    if !wanted(a) {
        return Ok(image);
    }
    let r = &a.registry;
    let platform = r
        .platform
        .as_deref()
        .map(Platform::parse)
        .transpose()
        .map_err(invalid_input)?;
    let filter = TagFilter {
        constraint: r
            .constraint
            .as_deref()
            .map(Constraint::parse)
            .transpose()
            .map_err(invalid_input)?,
        allow: a
            .common
            .allow_tags
            .as_deref()
            .map(strategy::allow_regex)
            .transpose()
            .context("invalid --allow-tags regular expression")?,
        ignore: r.ignore_tags.clone(),
    };
    let timeouts = Timeouts {
        overall: a.common.git.timeout,
        idle: a.common.git.io_timeout,
    };
    let endpoint = Endpoint::of(&image, &r.insecure_registry);
    let options = ClientOptions {
        credentials: credentials(a, &endpoint, env, timeouts.idle)?,
        timeouts,
        ca_bundle: a.common.git.ca_bundle.clone(),
        insecure: r.insecure_registry.clone(),
        page_size: None,
        concurrency: Some(usize::from(r.registry_concurrency)),
        log: Some(std::sync::Arc::new(|line| eprintln!("tagbump: {line}"))),
    };
    let name = image.name();
    let resolver = Resolver::new(Client::new(endpoint, options)?, name.clone());
    let mut found = RegistryReport::default();
    let outcome = run_steps(a, &image, platform.as_ref(), &filter, &resolver, &mut found);
    found.requests = resolver.client().requests();
    *report = Some(found);
    outcome.with_context(|| format!("cannot read the registry of {name}"))
}

fn run_steps(
    a: &ImageArgs,
    image: &ImageRef,
    platform: Option<&Platform>,
    filter: &TagFilter,
    resolver: &Resolver,
    found: &mut RegistryReport,
) -> Result<ImageRef> {
    let r = &a.registry;
    let mut image = image.clone();
    if let Some(arg) = r.strategy.filter(|s| *s != StrategyArg::Digest) {
        let strategy = match arg {
            StrategyArg::Semver => Strategy::Semver,
            StrategyArg::NewestBuild => Strategy::NewestBuild,
            _ => Strategy::Alphabetical,
        };
        let tags = resolver.tags()?;
        let build_platform = platform.cloned().unwrap_or_else(|| Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        });
        let choice = resolver.choose(strategy, &tags, filter, &build_platform)?;
        let choice = match choice {
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
        found.strategy = Some(StrategyReport {
            name: strategy.name(),
            tag: choice.tag.clone(),
            reason: choice.reason.clone(),
            listed: choice.listed,
            considered: choice.considered,
            candidates: choice.candidates.clone(),
            rejected: choice
                .rejected
                .iter()
                .map(|(tag, reason)| Rejected {
                    tag: tag.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        });
        image = image.with_tag(&choice.tag)?;
    }
    let tag = image.tag().map(str::to_string);
    if r.verify_digest {
        let digest = image.digest().unwrap_or_default().to_string();
        found.digest = Some(resolver.verify(tag.as_deref(), &digest, platform)?);
        found.verified = true;
        return Ok(image);
    }
    let pin = r.pin_digest || r.strategy == Some(StrategyArg::Digest);
    if let (true, Some(tag)) = (pin, tag) {
        let pinned = resolver.pin(&tag, platform)?;
        image = ImageRef::parse(&format!("{}:{tag}@{}", image.name(), pinned.digest))?;
        found.digest = Some(pinned);
    }
    Ok(image)
}

/// The human-readable lines: the strategy's choice with its runners-up and the
/// rejected tags, the digest.
pub fn write_text(out: &mut dyn std::io::Write, r: &RegistryReport) -> std::io::Result<()> {
    if let Some(s) = &r.strategy {
        writeln!(out, "registry: {} chose {}: {}", s.name, s.tag, s.reason)?;
        let candidates: Vec<String> = s
            .candidates
            .iter()
            .map(|c| {
                if c.key == c.tag {
                    c.tag.clone()
                } else {
                    format!("{} ({})", c.tag, c.key)
                }
            })
            .collect();
        writeln!(
            out,
            "registry: candidates ({} of {} listed): {}",
            s.considered,
            s.listed,
            candidates.join(", ")
        )?;
        for rej in &s.rejected {
            writeln!(out, "registry: rejected {}: {}", rej.tag, rej.reason)?;
        }
    }
    if let Some(d) = &r.digest {
        let what = if r.verified { "verified" } else { "pinned" };
        let platform = d
            .platform
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        if d.tag.is_empty() {
            writeln!(out, "registry: {what} {}{platform}", d.digest)?;
        } else {
            writeln!(out, "registry: {what} {} → {}{platform}", d.tag, d.digest)?;
        }
    }
    Ok(())
}

/// `--argocd-app` and its companions as the library's [`ArgoApp`].
pub fn argocd_app(a: &ImageArgs) -> Result<Option<ArgoApp>> {
    let g = &a.argocd;
    let Some(given) = &g.argocd_app else {
        if g.argocd_app_kind.is_some() || g.kustomize_image_name.is_some() {
            return Err(invalid_input(
                "--argocd-app-kind and --kustomize-image-name go with --argocd-app",
            ));
        }
        return Ok(None);
    };
    let (namespace, name) = match given.split_once('/') {
        Some((ns, name)) => (Some(ns.to_string()), name),
        None => (None, given.as_str()),
    };
    let whole = |_| argocd_source::ArgoSourceError::InvalidName(given.clone());
    argocd_source::check_name(name).map_err(whole)?;
    if let Some(ns) = &namespace {
        argocd_source::check_name(ns).map_err(whole)?;
    }
    let mut app = ArgoApp::new(name);
    app.namespace = namespace;
    app.argocd_namespace = g.argocd_namespace.clone();
    app.kind = g.argocd_app_kind.map(|k| match k {
        AppKindArg::Helm => AppKind::Helm,
        AppKindArg::Kustomize => AppKind::Kustomize,
    });
    app.helm_name_param = g.helm_image_name.clone();
    app.helm_tag_param = g.helm_image_tag.clone();
    app.kustomize_image_name = g.kustomize_image_name.clone();
    Ok(Some(app))
}
