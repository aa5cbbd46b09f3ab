//! What to pass next, for the library errors whose remedy is a flag or a command: the
//! library says what it found, the command line says which of its flags would help.

use std::error::Error as StdError;

use tagbump::argocd_source::ArgoSourceError;
use tagbump::bump::RegistryReport;
use tagbump::bump::APP_KEY_VARIABLE as KEY;
use tagbump::bump::{type_name, AppConfigError, AssignmentError, BumpError, FileRole};
use tagbump::credentials::{CredentialsError, Selection};
use tagbump::environments::PromoteError;
use tagbump::forge::ForgeError;
use tagbump::git::{GitError, TimeLimit};
use tagbump::image::{split_image_string, ImageRef};
use tagbump::land::api_lander::ApiLandError;
use tagbump::land::via::{ApiUnavailable, Choice, Reason, Unusable, Via};
use tagbump::plan::PlanError;
use tagbump::policy::PolicyError;
use tagbump::registry::strategy::Rejection;
use tagbump::registry::RegistryError;
use tagbump::targets::{NameMention, NamePlace};

/// A library error's words in the command line's: `(library text, command-line text)`
/// pairs for `cause`, where its message describes an option that the command line sets
/// with a flag (the library names no flag; the command line names it, by error kind).
/// The caller replaces each library text by its command-line text in the message.
pub fn flag_words(cause: &(dyn StdError + 'static)) -> Vec<(String, String)> {
    let pair = |lib: &str, cli: &str| vec![(lib.to_string(), cli.to_string())];
    if let Some(text) = flag_text(cause) {
        return vec![(cause.to_string(), text)];
    }
    if let Some(e) = cause.downcast_ref::<BumpError>() {
        return match e {
            BumpError::Credentials(e) => credentials_words(e),
            BumpError::ApiUnavailable(e) => api_unavailable_words(e),
            BumpError::Registry(e) => registry_words(e),
            _ => Vec::new(),
        };
    }
    if let Some(e) = cause.downcast_ref::<CredentialsError>() {
        return credentials_words(e);
    }
    if let Some(e) = cause.downcast_ref::<ApiUnavailable>() {
        return api_unavailable_words(e);
    }
    if let Some(e) = cause.downcast_ref::<RegistryError>() {
        return registry_words(e);
    }
    if let Some(e) = cause.downcast_ref::<PlanError>() {
        return match e {
            PlanError::ArgoCdSourceDir => pair(
                &e.to_string(),
                "--argocd-app writes one application's override file: give its source directory as the only path",
            ),
            PlanError::Policy { error, .. } => policy_words(error),
            PlanError::ArgoCdSource(e) => argo_words(e),
            _ => Vec::new(),
        };
    }
    if let Some(e) = cause.downcast_ref::<PolicyError>() {
        return policy_words(e);
    }
    if let Some(e) = cause.downcast_ref::<ArgoSourceError>() {
        return argo_words(e);
    }
    if let Some(e) = cause.downcast_ref::<GitError>() {
        return match e {
            GitError::RetriesExhausted { .. } => pair(LIB_RETRY_FOR, CLI_RETRY_FOR),
            GitError::Tls { .. } => pair(
                "give its certificate as the CA bundle",
                "pass its certificate with --ca-bundle",
            ),
            GitError::Timeout { waited, .. } => pair(&waited.to_string(), &time_limit(waited)),
            _ => Vec::new(),
        };
    }
    if let Some(e) = cause.downcast_ref::<ApiLandError>() {
        return match e {
            ApiLandError::Incomplete { .. } | ApiLandError::TooManyFiles { .. } => {
                pair("or land with git", "or use --via git")
            }
            ApiLandError::RetriesExhausted { .. } => pair(LIB_RETRY_FOR, CLI_RETRY_FOR),
            ApiLandError::Forge(e) => forge_words(e),
            _ => Vec::new(),
        };
    }
    if let Some(e) = cause.downcast_ref::<ForgeError>() {
        return forge_words(e);
    }
    if let Some(PromoteError::NoSource { .. }) = cause.downcast_ref::<PromoteError>() {
        return pair(
            "say which environment to promote from",
            "say which environment to promote from (--from ENV)",
        );
    }
    Vec::new()
}

/// The retry budget in the library's words and the flag that sets it.
const LIB_RETRY_FOR: &str = "a longer retry budget (`RetryPolicy::retry_for`) waits longer";
const CLI_RETRY_FOR: &str = "raise --retry-for to wait longer";

fn credentials_words(e: &CredentialsError) -> Vec<(String, String)> {
    match e {
        CredentialsError::ExplicitUnset(name) => vec![(
            e.to_string(),
            format!("--token-env {name}: the variable {name} is not set or empty"),
        )],
        _ => Vec::new(),
    }
}

fn api_unavailable_words(e: &ApiUnavailable) -> Vec<(String, String)> {
    vec![(
        e.to_string(),
        format!("--via api: cannot use the forge API: {}", unusable(&e.0)),
    )]
}

fn unusable(why: &Unusable) -> String {
    match why {
        Unusable::UnknownForge => {
            "the remote's host is not a known GitHub or GitLab host (pass --forge github|gitlab)"
                .to_string()
        }
        _ => why.to_string(),
    }
}

fn registry_words(e: &RegistryError) -> Vec<(String, String)> {
    match e {
        RegistryError::Auth { user: Some(_), .. } => vec![(
            "check the registry user name and password, or the docker login for this registry".into(),
            "check --registry-username / TAGBUMP_REGISTRY_PASSWORD or the docker login for this registry".into(),
        )],
        RegistryError::Auth { user: None, .. } => vec![(
            "give a registry user name and password, or docker login to this registry".into(),
            "give --registry-username with TAGBUMP_REGISTRY_PASSWORD, or docker login to this registry".into(),
        )],
        RegistryError::NoMatch { .. } => {
            let text = e.to_string();
            let flags = filter_words(&text);
            vec![(text, flags)]
        }
        RegistryError::InsecureRefused { .. } => vec![(
            "the hosts named as insecure registries".into(),
            "hosts named with --insecure-registry".into(),
        )],
        _ => Vec::new(),
    }
}

/// Text naming tag filters (a filter description, a rejection reason) with the flags
/// that set them: `the constraint "^3", the allowed tags "^v"` → `--constraint "^3"
/// --allow-tags "^v"`.
pub fn filter_words(text: &str) -> String {
    use tagbump::registry::strategy::{ALLOWED, CONSTRAINT, IGNORED};
    let mut out = text.to_string();
    for (library, flag) in [
        (CONSTRAINT, "--constraint "),
        (ALLOWED, "--allow-tags "),
        (IGNORED, "--ignore-tags "),
    ] {
        out = out
            .replace(&format!("\", {library}"), &format!("\" {flag}"))
            .replace(library, flag);
    }
    out
}

/// Why a tag was rejected, naming the filter flags: `outside --constraint "~1.4"`.
pub fn rejection_words(why: &Rejection) -> String {
    match why {
        Rejection::NotAllowed { pattern } => format!("does not match --allow-tags {pattern:?}"),
        Rejection::OutsideConstraint { constraint } => {
            format!("outside --constraint {constraint:?}")
        }
        other => other.to_string(),
    }
}

/// The registry report with every rejected tag's reason in [`rejection_words`].
pub fn flag_registry(report: &mut RegistryReport) {
    for rejected in report.strategy.iter_mut().flat_map(|s| &mut s.rejected) {
        rejected.reason = rejection_words(&rejected.why);
    }
}

fn policy_words(e: &PolicyError) -> Vec<(String, String)> {
    match e {
        PolicyError::Downgrade { .. } | PolicyError::NotSemver { .. } => {
            vec![("(no downgrades)".into(), "(--no-downgrade)".into())]
        }
        PolicyError::NotAllowed { .. } => vec![(
            "does not match the allowed tags".into(),
            "does not match --allow-tags".into(),
        )],
        _ => Vec::new(),
    }
}

fn argo_words(e: &ArgoSourceError) -> Vec<(String, String)> {
    match e {
        ArgoSourceError::UnknownKind(_) => vec![(
            "give the application's kind".into(),
            "give --argocd-app-kind".into(),
        )],
        _ => Vec::new(),
    }
}

fn forge_words(e: &ForgeError) -> Vec<(String, String)> {
    match e {
        ForgeError::Redirect { .. } => vec![(
            "give the final API address (or".into(),
            "give the final API address with --api-url (or".into(),
        )],
        _ => Vec::new(),
    }
}

/// Which time limit ended a git step, naming its flag.
fn time_limit(limit: &TimeLimit) -> String {
    match limit {
        TimeLimit::Idle(d) => format!("received nothing for {} s (--io-timeout)", d.as_secs_f32()),
        TimeLimit::Overall => "the run's overall deadline passed (--timeout)".to_string(),
        _ => limit.to_string(),
    }
}

/// The log line of the way a remote change lands, naming the flags.
pub fn way_line(choice: &Choice) -> String {
    let way = if choice.api { "the forge API" } else { "git" };
    let why = match &choice.reason {
        Reason::Asked(Via::Git) => "--via git".to_string(),
        Reason::Asked(_) => "--via api".to_string(),
        Reason::Unusable(why) => unusable(why),
        Reason::ForgeWithToken(_) => choice.reason.to_string().replace(
            "the forge creates the commit)",
            "the forge creates the commit; --via git to clone instead)",
        ),
        _ => choice.reason.to_string(),
    };
    format!("landing the change through {way}: {why}")
}

/// The log lines of a token choice, naming `--token-env`.
pub fn token_lines(selection: &Selection) -> Vec<String> {
    let mut lines: Vec<String> = selection
        .skipped
        .iter()
        .map(|s| {
            format!(
                "not using {0}: {1} (pass --token-env {0} or set TAGBUMP_TOKEN to send a token there)",
                s.variable, s.reason
            )
        })
        .collect();
    match selection.variable() {
        Some(variable) if selection.is_explicit() => lines.push(format!(
            "using the token from {variable} (--token-env) for {}",
            selection.destination
        )),
        _ => lines.extend(
            selection
                .log_lines()
                .into_iter()
                .skip(selection.skipped.len()),
        ),
    }
    lines
}

/// The message of a library error in the command line's words (naming the flag that
/// gives what was missing), for the errors that need one.
fn flag_text(cause: &(dyn StdError + 'static)) -> Option<String> {
    let flag = |role: &FileRole| match role {
        FileRole::CaBundle => "--ca-bundle",
        _ => "--ssh-key",
    };
    if let Some(a) = cause.downcast_ref::<AssignmentError>() {
        return match a {
            AssignmentError::EmptyValue { item } => Some(format!(
                "{item:?}: the value is empty; pass --allow-empty to set an empty string"
            )),
            AssignmentError::BeforeAnyFile { .. } => {
                Some(format!("{a} (tagbump set FILE KEY=VALUE…)"))
            }
            AssignmentError::ValueType {
                item,
                value_type,
                why,
            } => Some(format!("{item} (--type {}): {why}", type_name(*value_type))),
            _ => None,
        };
    }
    if let Some(a) = cause.downcast_ref::<AppConfigError>() {
        return Some(match a {
            AppConfigError::KeyWithoutApp => format!("a GitHub App key is given (--github-app-key or {KEY}) but no app: add --github-app-id ID (or TAGBUMP_GITHUB_APP_ID)"),
            AppConfigError::AppWithoutKey => format!("--github-app-id needs the app's private key: --github-app-key FILE, or the PEM itself in {KEY}"),
            AppConfigError::UnreadableKey { path, kind } => format!("--github-app-key {}: cannot read the key file ({kind})", path.display()),
            AppConfigError::BadKey(_) => format!("the GitHub App key (--github-app-key or {KEY})"),
            _ => return None,
        });
    }
    Some(match cause.downcast_ref::<BumpError>()? {
        BumpError::AppNeedsGitHubRepository => "--github-app-id needs an https:// GitHub repository (--repo, or the upstream of the checkout with --push)".to_string(),
        BumpError::AppNotGitHub { host } => format!("--github-app-id works with GitHub only, and {host} is not known as GitHub: pass --forge github for GitHub Enterprise Server"),
        BumpError::UnknownForge { url } => format!("cannot tell which forge hosts {url}: pass --forge github|gitlab"),
        BumpError::PullRequestNeedsToken { api } => format!("--pr needs an API token for {api}: set TAGBUMP_TOKEN, GITHUB_TOKEN or GITLAB_TOKEN (each only for its own forge's host), name one with --token-env, or use a GitHub App (--github-app-id)"),
        BumpError::JobTokenCannotOpenMergeRequest => "--pr cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot create, edit or merge merge requests. Set TAGBUMP_TOKEN (a masked CI/CD variable) to a project or group access token with the Developer role and the api scope".to_string(),
        BumpError::JobTokenCannotCommitViaApi => "--via api cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot commit through the API. Land with git (--via git or auto; the project must allow Git push requests with job tokens), or set TAGBUMP_TOKEN to a project or group access token (Developer role, api scope)".to_string(),
        BumpError::NoSuchFile { role, path } => format!("{} {}: no such file", flag(role), path.display()),
        BumpError::UnresolvablePath { role, path, .. } => format!("{} {}: cannot resolve the path", flag(role), path.display()),
        _ => return None,
    })
}

/// The advice for the first error in the chain that has one, to follow its message.
pub fn advice(err: &(dyn StdError + 'static)) -> Option<String> {
    let plan = anyhow::Chain::new(err).find_map(|c| c.downcast_ref::<PlanError>())?;
    match plan {
        PlanError::SkippedReference { files, .. } => Some(format!(
            "fix {}, or pass --skip-unreadable to update the other files anyway",
            if files.len() == 1 { "it" } else { "them" }
        )),
        PlanError::NameOnly {
            image, mentions, ..
        } => {
            let mut ways: Vec<String> = Vec::new();
            for (file, m) in mentions {
                let way = way_for(image, &file.display().to_string(), m);
                if !ways.contains(&way) {
                    ways.push(way);
                }
            }
            Some(format!("to write it, {}", ways.join("; or ")))
        }
        _ => None,
    }
}

/// What to pass to write the tag where `m` names the image.
fn way_for(image: &ImageRef, file: &str, m: &NameMention) -> String {
    let document = if m.document > 0 {
        format!(" --document {}", m.document)
    } else {
        String::new()
    };
    match &m.place {
        NamePlace::ArgoCdParameter { parameter } => format!(
            "pass --argocd-param {parameter},TAG_PARAMETER naming the application's Helm \
             parameter for the tag (add one if it has none), or --argocd-param {parameter} \
             if the chart reads the whole reference from {parameter}"
        ),
        NamePlace::MapWithoutTag { tag_path } => {
            let (path, value) = match (image.tag(), image.digest()) {
                (None, Some(digest)) => {
                    let map = tag_path.prefix(tag_path.len().saturating_sub(1));
                    (format!("{map}.digest"), digest.to_string())
                }
                (tag, _) => (tag_path.to_string(), tag.unwrap_or("TAG").to_string()),
            };
            format!(
                "run `tagbump set {file} {}{document} --create` if the chart reads the tag there",
                shell_word(&format!("{path}={value}"))
            )
        }
        NamePlace::TemplatedTag { tag_path } => format!(
            "{file}: {tag_path} is templated; run `tagbump set` on the value it is rendered from"
        ),
        NamePlace::Value => {
            let name = split_image_string(&m.value).map_or(m.value.as_str(), |raw| raw.name);
            let mut value = name.to_string();
            if let Some(tag) = image.tag() {
                value.push(':');
                value.push_str(tag);
            }
            if let Some(digest) = image.digest() {
                value.push('@');
                value.push_str(digest);
            }
            format!(
                "run `tagbump set {file} {}{document}`",
                shell_word(&format!("{}={value}", m.path))
            )
        }
    }
}

/// `word` quoted for a POSIX shell when it holds characters the shell would read.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tagbump::yaml::KeyPath;

    fn mention(path: &str, value: &str, place: NamePlace) -> (PathBuf, NameMention) {
        (
            PathBuf::from("values.yaml"),
            NameMention {
                document: 0,
                path: KeyPath::parse(path).expect("path"),
                line: 2,
                value: value.into(),
                place,
            },
        )
    }

    #[test]
    fn each_kind_of_name_only_place_gets_the_flag_or_command_that_writes_it() {
        let image = ImageRef::parse("quay.io/acme/quarkus:1.2").expect("image");
        let err = anyhow::Error::new(PlanError::NameOnly {
            image: Box::new(image),
            mentions: vec![
                mention(
                    "image.name",
                    "quay.io/acme/quarkus",
                    NamePlace::MapWithoutTag {
                        tag_path: KeyPath::parse("image.tag").expect("path"),
                    },
                ),
                mention("env[0].value", "quay.io/acme/quarkus:1.0", NamePlace::Value),
                mention(
                    "spec.source.helm.parameters[0].value",
                    "quay.io/acme/quarkus",
                    NamePlace::ArgoCdParameter {
                        parameter: "image.name".into(),
                    },
                ),
            ],
            skipped: Vec::new(),
            not_searched: Vec::new(),
        });
        assert_eq!(
            advice(&*err).expect("advice"),
            "to write it, run `tagbump set values.yaml image.tag=1.2 --create` if the chart \
             reads the tag there; or run `tagbump set values.yaml \
             'env[0].value=quay.io/acme/quarkus:1.2'`; or pass --argocd-param \
             image.name,TAG_PARAMETER naming the application's Helm parameter for the tag \
             (add one if it has none), or --argocd-param image.name if the chart reads the \
             whole reference from image.name"
        );
    }

    #[test]
    fn the_way_and_the_token_are_logged_with_their_flags() {
        use tagbump::forge::ForgeKind;
        use tagbump::land::via::choose;
        let gh = "https://github.com/acme/gitops.git";
        let way = |via, forge, token| way_line(&choose(via, gh, forge, token).expect("choice"));
        assert_eq!(
            way(Via::Git, None, true),
            "landing the change through git: --via git"
        );
        assert_eq!(
            way(Via::Api, Some(ForgeKind::GitHub), true),
            "landing the change through the forge API: --via api"
        );
        assert_eq!(
            way(Via::Auto, None, true),
            "landing the change through git: the remote's host is not a known GitHub or GitLab host (pass --forge github|gitlab)"
        );
        assert_eq!(
            way(Via::Auto, Some(ForgeKind::GitHub), true),
            "landing the change through the forge API: GitHub remote over https with a token (no clone; the forge creates the commit; --via git to clone instead)"
        );

        let env = |name: &str| {
            (name == "GITHUB_TOKEN" || name == "X").then(|| "ghp_0123456789".to_string())
        };
        let explicit = tagbump::credentials::select_token(&env, Some("X"), "https://h:8443/o/r")
            .expect("selection");
        assert_eq!(
            token_lines(&explicit),
            ["using the token from X (--token-env) for h:8443"]
        );
        let skipped = tagbump::credentials::select_token(&env, None, "https://h:8443/o/r")
            .expect("selection");
        let lines = token_lines(&skipped);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("not using GITHUB_TOKEN: it belongs to github.com"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with("), not h:8443 (pass --token-env GITHUB_TOKEN or set TAGBUMP_TOKEN to send a token there)"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "no token for h:8443: sending no credentials");
    }

    #[test]
    fn tag_filters_are_named_by_their_flags() {
        use tagbump::registry::strategy::{allow_regex, Constraint, TagFilter};
        let filter = TagFilter {
            constraint: Some(Constraint::parse("^3").expect("constraint")),
            allow: Some(allow_regex("^v").expect("regex")),
            ignore: vec!["sha-*".into(), "x".into()],
        };
        assert_eq!(
            filter.describe(),
            r#"the constraint "^3", the allowed tags "^v", the ignored tags "sha-*", the ignored tags "x""#
        );
        assert_eq!(
            filter_words(&filter.describe()),
            r#"--constraint "^3" --allow-tags "^v" --ignore-tags "sha-*" --ignore-tags "x""#
        );
        assert_eq!(
            filter_words(r#"outside the constraint "~1.4""#),
            r#"outside --constraint "~1.4""#
        );
        let outside = Rejection::OutsideConstraint {
            constraint: "~1.4".into(),
        };
        assert_eq!(rejection_words(&outside), r#"outside --constraint "~1.4""#);
        let allow = Rejection::NotAllowed {
            pattern: "^v".into(),
        };
        assert_eq!(
            rejection_words(&allow),
            r#"does not match --allow-tags "^v""#
        );
        assert_eq!(
            rejection_words(&Rejection::NotSemver),
            "not a semantic version"
        );
        assert_eq!(
            filter_words(r#"does not match the allowed tags "^v""#),
            r#"does not match --allow-tags "^v""#
        );
    }
}
