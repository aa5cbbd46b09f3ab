//! Pull requests (GitHub) and merge requests (GitLab) behind one synchronous trait.
//!
//! The module knows nothing about git or YAML: it is handed a repository
//! ([`RepoId`]), a source branch that has already been pushed, a target branch
//! and the text of the request ([`PullRequestSpec`]), and makes sure exactly one
//! open pull/merge request exists for that branch ([`Forge::ensure_pull_request`]).
//!
//! - [`connect`] builds a [`Forge`] for a [`ForgeKind`] and an API base URL
//!   ([`default_api_base`] derives it from the remote URL's host).
//! - Every failure is a typed [`ForgeError`] whose text never contains the token.
//! - Rate limits and server errors are retried within a [`RetryPolicy`]; the
//!   waiting is done by a [`Sleeper`] ([`ConnectOptions::sleeper`]), which a caller may
//!   replace to observe or shorten the waits.
//!   GitHub's secondary rate limits are waited out as GitHub asks (`retry-after`, else
//!   [`ConnectOptions::secondary_rate_limit_wait`], doubling), within the deadline.
//! - [`api_repo::ApiRepo`] is a repository as a change is landed through a forge's API
//!   (read files, one commit with compare-and-swap on the tip); `land` drives it.
//! - The forges' own rules for pull/merge requests (author as reviewer, auto-merge of a
//!   request that is already mergeable, `sha` of the pushed commit, GitLab's 405 right
//!   after creation, job tokens) are described in `github_pr.rs` and `gitlab_mr.rs`.
//! - Every request has a connect and a read timeout ([`Timeouts`], 10 s and 30 s by
//!   default) and may be bounded by an overall deadline; a timed-out request is
//!   reported as [`ForgeError::Timeout`] naming the host and what was waited for, and
//!   is not retried (a server that stayed silent for the read timeout is not expected
//!   to answer the next time, and the run must end in bounded time).
//!
//! # Credentials stay on the API host
//!
//! The token is sent only to the origin (scheme, host, port) of the API base URL.
//! **No redirect is followed**, to another host or to the same one: a `3xx` answer
//! ends the call with [`ForgeError::Redirect`], naming the API host and the host it
//! pointed to, before anything is sent there. GitHub documents redirects for renamed
//! repositories and moved API endpoints ("Following redirects" in the REST API
//! docs); refusing them means such a move surfaces as a clear error asking for the
//! new URL instead of the token silently travelling along. GitLab is reached through
//! tagbump's own HTTP client (the `gitlab` crate's endpoints over a `reqwest` client
//! with redirects off), GitHub through `octocrab` built without its
//! `follow-redirect` feature. An `http://` API base is used as asked, with a
//! warning through [`ConnectOptions::log`].

use std::collections::BTreeMap;

use crate::secret::Secret;
use crate::url::{RemoteUrl, Transport};

pub mod api_repo;
mod error;
mod github;
pub mod github_app;
mod github_merge;
mod github_pr;
mod github_repo;
mod gitlab;
mod gitlab_http;
mod gitlab_mr;
mod gitlab_repo;
mod options;
mod pages;
mod repo_id;
mod retrier;

pub use self::error::ForgeError;
pub use self::options::{ConnectOptions, Logger, RetryPolicy, Sleeper, Timeouts};
pub use self::repo_id::{default_api_base, detect_kind, ForgeKind, RepoId};
pub(crate) use self::retrier::{wait_until, Failure, Retrier};

pub use self::github::GitHub;
pub use self::github_repo::github_repo;
pub use self::gitlab::GitLab;
pub use self::gitlab_repo::gitlab_repo;

/// One changed value, listed in the pull request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    /// File path relative to the repository root.
    pub file: String,
    /// Location of the value inside the file (e.g. `image.tag`).
    pub key: String,
    /// Previous value.
    pub old: String,
    /// New value.
    pub new: String,
}

/// What pull/merge request to open or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestSpec {
    /// The repository the request is opened in.
    pub repo: RepoId,
    /// Source branch (already pushed to `repo`).
    pub head: String,
    /// Target branch.
    pub base: String,
    /// Title (GitLab drafts get a `Draft: ` prefix).
    pub title: String,
    /// Body / description, Markdown.
    pub body: String,
    /// Labels to add (on creation and on update).
    pub labels: Vec<String>,
    /// Reviewers' user names, requested when the request is created. On GitHub an
    /// entry of the form `org/team` requests a team review.
    pub reviewers: Vec<String>,
    /// Assignees' user names, set when the request is created.
    pub assignees: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
    /// Ask the forge to merge automatically once checks pass (GitHub auto-merge, or
    /// an immediate merge when the pull request is already mergeable; GitLab
    /// auto-merge, which merges at once when there is no pipeline).
    pub auto_merge: bool,
    /// How to merge with [`PullRequestSpec::auto_merge`]; `None`: the repository's
    /// own (GitHub: the first it allows of merge, squash, rebase; GitLab: the
    /// project's merge method).
    pub merge_method: Option<MergeMethod>,
    /// The commit tagbump pushed to `head`: a merge is asked for exactly this commit,
    /// never for a later push by someone else (GitHub and GitLab `sha`).
    pub head_sha: Option<String>,
    /// Close other open requests into the same base whose source branch starts
    /// with this prefix (older bumps of the same image), with a "Superseded by" comment,
    /// and delete their branches when they hold only tagbump's one commit.
    pub supersede_prefix: Option<String>,
}

/// How a pull request is merged (GitHub's `merge_method` / `mergeMethod`; on GitLab
/// only `squash` changes anything: it asks for a squash on merge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum MergeMethod {
    /// A merge commit.
    Merge,
    /// One squashed commit.
    Squash,
    /// The commits rebased onto the base.
    #[cfg_attr(
        feature = "cli",
        value(help = "Rebase onto the base branch (GitHub; GitLab follows the project's setting)")
    )]
    Rebase,
}

impl MergeMethod {
    /// `merge`, `squash` or `rebase` (GitHub REST `merge_method`).
    pub fn rest_name(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }

    /// `MERGE`, `SQUASH` or `REBASE` (GitHub GraphQL `PullRequestMergeMethod`).
    pub fn graphql_name(self) -> &'static str {
        match self {
            MergeMethod::Merge => "MERGE",
            MergeMethod::Squash => "SQUASH",
            MergeMethod::Rebase => "REBASE",
        }
    }
}

/// The outcome of [`Forge::ensure_pull_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// PR number on GitHub, MR `iid` on GitLab.
    pub number: u64,
    /// Web URL for humans.
    pub url: String,
    /// `false` when an existing open request for the same head was updated.
    pub created: bool,
    /// Numbers of the older requests that were closed as superseded.
    pub closed_superseded: Vec<u64>,
    /// Source branches of the closed requests that were deleted: only branches with
    /// tagbump's one commit on top of their base (nobody else pushed to them).
    pub deleted_branches: Vec<String>,
    /// The request was merged during this run (GitHub: `--auto-merge` on a pull
    /// request that was already mergeable).
    pub merged: bool,
    /// Non-fatal problems, e.g. auto-merge could not be enabled yet or a
    /// reviewer name could not be resolved.
    pub warnings: Vec<String>,
}

/// A forge that can open pull/merge requests.
pub trait Forge: Send + Sync {
    /// Which forge this is.
    fn kind(&self) -> ForgeKind;
    /// Opens a PR/MR from spec.head into spec.base, or updates title/body/labels of the open one for the same head.
    fn ensure_pull_request(&self, spec: &PullRequestSpec) -> Result<PullRequest, ForgeError>;
}

/// Builds a [`Forge`] for `kind` talking to `api_base` (see [`default_api_base`])
/// with `token`, waiting with [`std::thread::sleep`] between retries and the
/// default [`Timeouts`].
///
/// For GitLab this already makes one request (`GET /user`) to check the token.
pub fn connect(
    kind: ForgeKind,
    api_base: &str,
    token: &Secret,
    retry: RetryPolicy,
) -> Result<Box<dyn Forge>, ForgeError> {
    connect_with(
        kind,
        api_base,
        token,
        &ConnectOptions {
            retry,
            ..ConnectOptions::default()
        },
    )
}

/// Like [`connect`], with every option ([`ConnectOptions`]): timeouts, deadline,
/// sleeper and where warnings go.
pub fn connect_with(
    kind: ForgeKind,
    api_base: &str,
    token: &Secret,
    options: &ConnectOptions,
) -> Result<Box<dyn Forge>, ForgeError> {
    if let Some(warning) = plain_http_warning(api_base) {
        (options.log)(&token.redact(&warning));
    }
    Ok(match kind {
        ForgeKind::GitHub => Box::new(GitHub::with_options(api_base, token, options)?),
        ForgeKind::GitLab => Box::new(GitLab::with_options(api_base, token, options)?),
    })
}

/// The warning logged for an `http://` API base: the token would cross the network
/// in clear text.
pub fn plain_http_warning(api_base: &str) -> Option<String> {
    let url = RemoteUrl::parse(api_base).ok()?;
    (url.transport() == Transport::Http).then(|| {
        format!(
            "warning: sending the API token to {} over unencrypted http://",
            url.origin()
        )
    })
}

/// `scheme://host[:port]` of a URL ([`RemoteUrl::origin`]: no credentials, path, query
/// or default port), for messages and redirect checks.
pub(crate) fn origin_of(url: &str) -> String {
    RemoteUrl::parse(url).map_or_else(|_| "an unrecognised URL".to_string(), |u| u.origin())
}

/// `host[:port]` of a URL ([`RemoteUrl::authority`]), for messages.
pub(crate) fn host_of(url: &str) -> String {
    RemoteUrl::parse(url)
        .ok()
        .and_then(|u| u.authority())
        .unwrap_or_else(|| "an unrecognised host".to_string())
}

/// Where a redirect points: the origin of `location` resolved against `request_url`.
pub(crate) fn redirect_target(request_url: &str, location: Option<&str>) -> String {
    match location.map(str::trim).filter(|l| !l.is_empty()) {
        None => "an unnamed location (no Location header)".to_string(),
        Some(loc) if loc.contains("://") => origin_of(loc),
        Some(loc) if loc.starts_with("//") => {
            let scheme = RemoteUrl::parse(request_url).map_or(Transport::Https, |u| u.transport());
            origin_of(&format!("{scheme}:{loc}"))
        }
        // A path on the same origin.
        Some(_) => origin_of(request_url),
    }
}

/// Fills a pull-request body template (the [`template`](crate::template) engine).
///
/// `{changes}` becomes a Markdown list with one line per change,
/// ``- `file`: `key` old → new``; `{name}` is replaced by `vars["name"]`;
/// any other `{…}` is left as it is. Substituted text is not expanded again.
pub fn render_body(
    template: &str,
    vars: &BTreeMap<String, String>,
    changes: &[ChangeLine],
) -> String {
    crate::template::render_with(template, |name, out| {
        if name == "changes" {
            out.push_str(&render_changes(changes));
        } else if let Some(value) = vars.get(name) {
            out.push_str(value);
        } else {
            return false;
        }
        true
    })
}

fn render_changes(changes: &[ChangeLine]) -> String {
    changes
        .iter()
        .map(|c| format!("- `{}`: `{}` {} → {}", c.file, c.key, c.old, c.new))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error and its sources, `outer: inner: …`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Cuts a message to a readable length (error bodies can be whole HTML pages).
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    let text = text.trim();
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_kind_round_trips_through_its_name() {
        for kind in [ForgeKind::GitHub, ForgeKind::GitLab] {
            assert_eq!(kind.to_string().parse::<ForgeKind>().ok(), Some(kind));
        }
        assert_eq!("GitLab".parse::<ForgeKind>().ok(), Some(ForgeKind::GitLab));
        assert!("bitbucket".parse::<ForgeKind>().is_err());
    }

    #[test]
    fn render_body_leaves_unknown_placeholders_and_stray_braces() {
        let vars = BTreeMap::from([("image".to_string(), "{changes}".to_string())]);
        let out = render_body("{image} {unknown} { x } {", &vars, &[]);
        assert_eq!(out, "{changes} {unknown} { x } {");
    }

    #[test]
    fn plain_http_api_urls_get_a_warning_naming_the_host_only() {
        assert_eq!(
            plain_http_warning("HTTP://bot:pw@gitlab.corp:8080/api/v4?private_token=x").as_deref(),
            Some("warning: sending the API token to http://gitlab.corp:8080 over unencrypted http://")
        );
        assert_eq!(plain_http_warning("https://api.github.com"), None);
    }

    #[test]
    fn redirect_targets_are_origins() {
        let api = "http://127.0.0.1:1/api/v4/user";
        assert_eq!(
            redirect_target(api, Some("http://evil.example:81/x?private_token=t")),
            "http://evil.example:81"
        );
        assert_eq!(redirect_target(api, Some("/other")), "http://127.0.0.1:1");
        assert_eq!(
            redirect_target(api, Some("//evil.example/x")),
            "http://evil.example"
        );
        assert!(redirect_target(api, None).contains("no Location"));
        // The old textual parser kept a written default port; the URL type's origin
        // does not: `http://h:80` is the same origin as `http://h`.
        assert_eq!(
            redirect_target(api, Some("HTTP://Evil.Example:80/x")),
            "http://evil.example"
        );
        assert_eq!(host_of("https://u:p@h.example:8443/api"), "h.example:8443");
    }

    #[test]
    fn encode_component_escapes_reserved_characters() {
        assert_eq!(encode_component("o:feat/x y"), "o%3Afeat%2Fx%20y");
    }

    #[test]
    fn redacted_errors_hide_the_token_everywhere() {
        let secret = Secret::new("tok123");
        let e = ForgeError::Forbidden {
            api_base: "https://x".into(),
            message: "bad token tok123".into(),
        }
        .redacted(&secret);
        assert!(!e.to_string().contains("tok123"));
        assert!(e.to_string().contains("***"));
    }
}
