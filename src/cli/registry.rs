//! The registry step of `tagbump image`: choosing the tag by strategy, pinning or
//! verifying the digest. It turns the flags into [`tagbump::registry`] calls and
//! returns the image to write, with what it found for the report.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::ImageArgs;
use super::failure::invalid_input;
use tagbump::argocd_source::ArgoApp;
use tagbump::bump::{DigestStep, RegistryCredentials, Resolve};
use tagbump::image::ImageRef;
use tagbump::registry::strategy::{self, Constraint, TagFilter};
use tagbump::registry::{BasicCredentials, Platform, Strategy};
use tagbump::secret::Secret;
use tagbump::verify::{Identity, ProvenanceRequirement, TrustedRoot, VerifyPolicy};

/// Whether any registry flag asks for the registry (--verify-key counts once
/// [`resolve_options`] has read TAGBUMP_VERIFY_KEY).
pub fn wanted(a: &ImageArgs) -> bool {
    let r = &a.registry;
    r.pin_digest
        || r.verify_digest
        || r.strategy.is_some()
        || !r.verify_key.is_empty()
        || r.verify_identity.is_some()
}

/// The flag's value, else the variable's; an empty one counts as unset.
fn given(flag: &Option<String>, var: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    flag.clone().or_else(|| env(var)).filter(|s| !s.is_empty())
}

/// --verify-identity with --verify-issuer (and --trusted-root) as a keyless identity;
/// each flag else its variable (TAGBUMP_VERIFY_IDENTITY, TAGBUMP_VERIFY_ISSUER,
/// TAGBUMP_TRUSTED_ROOT), an empty one unset.
fn keyless(
    a: &ImageArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(Identity, Option<TrustedRoot>)>> {
    let r = &a.registry;
    let trusted_root = given(&r.trusted_root, "TAGBUMP_TRUSTED_ROOT", env);
    let identity = given(&r.verify_identity, "TAGBUMP_VERIFY_IDENTITY", env);
    let issuer = given(&r.verify_issuer, "TAGBUMP_VERIFY_ISSUER", env);
    let (identity, issuer) = match (&identity, &issuer) {
        (Some(identity), Some(issuer)) => (identity, issuer),
        (Some(_), None) => return Err(invalid_input(
            "--verify-identity needs --verify-issuer (the OIDC issuer the certificate must name)",
        )),
        (None, Some(_)) => {
            return Err(invalid_input("--verify-issuer goes with --verify-identity"))
        }
        (None, None) if trusted_root.is_some() => return Err(invalid_input(
            "--trusted-root is the trust for keyless signatures: it goes with --verify-identity",
        )),
        (None, None) => return Ok(None),
    };
    let identity = Identity::new(identity, issuer).map_err(|e| invalid_input(e.to_string()))?;
    let root = (trusted_root.as_deref())
        .map(|p| TrustedRoot::from_file(std::path::Path::new(p)))
        .transpose()
        .map_err(|e| invalid_input(e.to_string()))?;
    Ok(Some((identity, root)))
}

/// The --verify-key files, else TAGBUMP_VERIFY_KEY's lines (blank lines skipped).
fn verify_keys(a: &ImageArgs, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if !a.registry.verify_key.is_empty() {
        return a.registry.verify_key.clone();
    }
    let listed = env("TAGBUMP_VERIFY_KEY").unwrap_or_default();
    (listed.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// The --verify-attestation types, else TAGBUMP_VERIFY_ATTESTATION's lines.
fn verify_attestations(a: &ImageArgs, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    if !a.registry.verify_attestation.is_empty() {
        return a.registry.verify_attestation.clone();
    }
    let listed = env("TAGBUMP_VERIFY_ATTESTATION").unwrap_or_default();
    (listed.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks the registry flags against each other and the image; `image` is IMAGE as
/// parsed (with --tag applied).
fn check_flags(a: &ImageArgs, image: &ImageRef, verify: bool) -> Result<()> {
    let r = &a.registry;
    let fail = |m: &str| Err(invalid_input(m.to_string()));
    match r.strategy {
        Some(Strategy::Digest) if image.tag().is_none() => {
            return fail("--strategy digest tracks one tag: give IMAGE:TAG (e.g. app:latest)")
        }
        Some(Strategy::Digest) | None => {}
        Some(_) if image.tag().is_some() || image.digest().is_some() => {
            return fail("--strategy chooses the tag: give IMAGE without a tag or digest")
        }
        Some(_) => {}
    }
    if r.constraint.is_some() && r.strategy != Some(Strategy::Semver) {
        return fail("--constraint is a semantic version range: it needs --strategy semver");
    }
    if !r.ignore_tags.is_empty() && matches!(r.strategy, None | Some(Strategy::Digest)) {
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
    if r.platform.is_some() && !wanted(a) && !verify {
        return fail("--platform needs --pin-digest, --verify-digest, --verify-key, --verify-identity or --strategy");
    }
    Ok(())
}

/// --registry-username with TAGBUMP_REGISTRY_PASSWORD, else Docker's config.json.
fn credentials(a: &ImageArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<RegistryCredentials> {
    let password = env("TAGBUMP_REGISTRY_PASSWORD").filter(|p| !p.is_empty());
    match (&a.registry.registry_username, password) {
        (Some(user), Some(password)) => Ok(RegistryCredentials::Basic(BasicCredentials {
            username: user.clone(),
            password: Secret::new(password),
        })),
        (Some(_), None) => Err(invalid_input(
            "--registry-username needs the password in TAGBUMP_REGISTRY_PASSWORD",
        )),
        (None, Some(_)) => Err(invalid_input(
            "TAGBUMP_REGISTRY_PASSWORD is set but --registry-username (TAGBUMP_REGISTRY_USERNAME) is not",
        )),
        (None, None) => Ok(RegistryCredentials::DockerConfig),
    }
}

/// What the registry flags ask of the registry (checked against each other and
/// `image`, IMAGE as parsed with --tag applied); `None`: nothing.
pub fn resolve_options(
    a: &ImageArgs,
    image: &ImageRef,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Resolve>> {
    let keys = verify_keys(a, env);
    let identity = keyless(a, env)?;
    check_flags(a, image, !keys.is_empty() || identity.is_some())?;
    let attestations = verify_attestations(a, env);
    tagbump::verify::policy::check_attestation_types(&attestations)?;
    let r = &a.registry;
    let provenance = ProvenanceRequirement::new(
        r.provenance_source.clone().filter(|s| !s.is_empty()),
        r.provenance_ref.clone().filter(|s| !s.is_empty()),
    );
    if (!attestations.is_empty() || !provenance.is_empty()) && keys.is_empty() && identity.is_none()
    {
        return Err(invalid_input(
            "--verify-attestation, --provenance-source and --provenance-ref need --verify-key or --verify-identity: the attestation must be signed under the same policy",
        ));
    }
    if !wanted(a) && keys.is_empty() && identity.is_none() {
        return Ok(None);
    }
    let mut ask = Resolve::default();
    ask.platform = r
        .platform
        .as_deref()
        .map(Platform::parse)
        .transpose()
        .map_err(|e| invalid_input(e.to_string()))?;
    ask.filter = TagFilter {
        constraint: r
            .constraint
            .as_deref()
            .map(Constraint::parse)
            .transpose()
            .map_err(|e| {
                invalid_input(format!("invalid --constraint {:?}: {}", e.text, e.reason))
            })?,
        allow: a
            .common
            .allow_tags
            .as_deref()
            .map(strategy::allow_regex)
            .transpose()
            .context("invalid --allow-tags regular expression")?,
        ignore: r.ignore_tags.clone(),
    };
    ask.strategy = r.strategy;
    ask.digest = match (r.pin_digest, r.verify_digest) {
        (true, _) => DigestStep::Pin,
        (_, true) => DigestStep::Verify,
        _ => DigestStep::Keep,
    };
    ask.credentials = credentials(a, env)?;
    ask.insecure = r.insecure_registry.clone();
    ask.concurrency = Some(usize::from(r.registry_concurrency));
    ask.verify = match (keys.is_empty(), identity) {
        (true, None) => None,
        (false, None) => Some(VerifyPolicy::from_key_files(&keys)?),
        (true, Some((identity, root))) => Some(VerifyPolicy::with_identity(identity, root)),
        (false, Some((identity, root))) => {
            Some(VerifyPolicy::from_key_files(&keys)?.or_identity(identity, root))
        }
    };
    if !attestations.is_empty() || !provenance.is_empty() {
        if let Some(policy) = ask.verify.take() {
            ask.verify = Some(policy.require_attestations(&attestations, provenance)?);
        }
    }
    Ok(Some(ask))
}

/// Whether the strategy flag chooses the tag (IMAGE then needs none).
pub fn chooses_tag(a: &ImageArgs) -> bool {
    a.registry.strategy.is_some_and(|s| s != Strategy::Digest)
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
    let mut app = ArgoApp::qualified(given)?;
    app.argocd_namespace = g.argocd_namespace.clone();
    app.kind = g.argocd_app_kind;
    app.helm_name_param = g.helm_image_name.clone();
    app.helm_tag_param = g.helm_image_tag.clone();
    app.kustomize_image_name = g.kustomize_image_name.clone();
    Ok(Some(app))
}
