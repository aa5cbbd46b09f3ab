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
//!   waiting is done by a [`Sleeper`] so that tests can observe it instead of sleeping.
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
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::secret::Secret;

mod github;
pub mod github_app;
mod github_repo;
mod gitlab;
mod gitlab_repo;

pub use self::github::GitHub;
pub use self::github_repo::github_repo;
pub use self::gitlab::GitLab;
pub use self::gitlab_repo::gitlab_repo;

/// Which forge software hosts a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForgeKind {
    /// github.com or GitHub Enterprise Server (REST v3 + GraphQL).
    GitHub,
    /// gitlab.com or a self-managed GitLab (REST v4).
    GitLab,
}

impl FromStr for ForgeKind {
    type Err = ForgeError;

    /// Parses `github` or `gitlab` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "github" => Ok(ForgeKind::GitHub),
            "gitlab" => Ok(ForgeKind::GitLab),
            other => Err(ForgeError::Config(format!(
                "unknown forge `{other}` (expected `github` or `gitlab`)"
            ))),
        }
    }
}

impl fmt::Display for ForgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForgeKind::GitHub => "github",
            ForgeKind::GitLab => "gitlab",
        })
    }
}

/// A repository on a forge: the web host and the repository path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    /// Host name, lower-cased, with a port only when an HTTP(S) remote names a
    /// non-default one (an SSH port says nothing about where the API lives).
    pub host: String,
    /// `owner/name` on GitHub, `group/sub/project` on GitLab; no `.git` suffix.
    pub path: String,
}

impl RepoId {
    /// Derives the repository from a git remote URL.
    ///
    /// Accepts `https://host/owner/name(.git)`, `http://…`, `ssh://[user@]host[:port]/path(.git)`,
    /// `git://host/path` and the scp-like `[user@]host:path(.git)`. User names and
    /// credentials (`https://user:token@host/…`) are dropped and never appear in
    /// the result or in an error message.
    pub fn from_remote_url(url: &str) -> Result<RepoId, ForgeError> {
        let trimmed = url.trim();
        let invalid = |reason: &str| ForgeError::InvalidRemote {
            url: strip_userinfo(trimmed),
            reason: reason.to_string(),
        };
        let (host, raw_path) = if let Some((scheme, rest)) = trimmed.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            let keep_port = match scheme.as_str() {
                "https" | "http" => true,
                "ssh" | "git+ssh" | "ssh+git" | "git" => false,
                _ => return Err(invalid("unsupported URL scheme")),
            };
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host_port = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            let (host, port) = split_port(host_port);
            let default_port = match scheme.as_str() {
                "https" => Some("443"),
                "http" => Some("80"),
                _ => None,
            };
            let host = match port {
                Some(port) if keep_port && Some(port) != default_port => format!("{host}:{port}"),
                _ => host.to_string(),
            };
            (host, path)
        } else {
            // scp-like syntax: [user@]host:path
            let Some((before, path)) = trimmed.split_once(':') else {
                return Err(invalid("not a URL and not of the form host:path"));
            };
            if before.contains('/') || before.contains('\\') || path.starts_with('\\') {
                return Err(invalid("looks like a local path, not a forge remote"));
            }
            let host = before.rsplit_once('@').map_or(before, |(_, host)| host);
            (host.to_string(), path)
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || c == '/' || c == '@')
        {
            return Err(invalid("missing or malformed host"));
        }
        let raw_path = raw_path.split(['?', '#']).next().unwrap_or_default();
        let mut path = raw_path.trim_matches('/');
        path = path
            .strip_suffix(".git")
            .unwrap_or(path)
            .trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').collect();
        if segments.len() < 2
            || segments
                .iter()
                .any(|s| s.is_empty() || *s == "." || *s == "..")
        {
            return Err(invalid(
                "the path must name a repository like `owner/name` or `group/project`",
            ));
        }
        Ok(RepoId {
            host,
            path: segments.join("/"),
        })
    }

    /// The last path segment (the repository name).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Everything before the last path segment (GitHub owner, GitLab namespace).
    pub fn namespace(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(ns, _)| ns)
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.path)
    }
}

/// Splits `host:port` (also `[v6]:port`) into host and optional port.
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host_port.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((v6, tail)) => {
                let end = v6.len() + 2;
                (&host_port[..end], tail.strip_prefix(':'))
            }
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => (host, Some(port)),
        Some((host, "")) => (host, None),
        _ => (host_port, None),
    }
}

/// Removes `user[:password]@` from a URL so it can be shown in a message.
fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{host}{path}"),
                None => url.to_string(),
            }
        }
        None => match url.split_once(':') {
            // scp-like: keep the shape but drop the user part
            Some((before, path)) if before.contains('@') && !before.contains('/') => {
                let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
                format!("{host}:{path}")
            }
            _ => url.to_string(),
        },
    }
}

/// Guesses the forge from the host name: `github.com` (and hosts starting with
/// `github.`) are GitHub, `gitlab.com` and hosts starting with `gitlab.` are
/// GitLab. Anything else needs an explicit [`ForgeKind`].
pub fn detect_kind(repo: &RepoId) -> Option<ForgeKind> {
    let host = split_port(&repo.host).0.to_ascii_lowercase();
    if host == "github.com" || host.starts_with("github.") {
        Some(ForgeKind::GitHub)
    } else if host == "gitlab.com" || host.starts_with("gitlab.") {
        Some(ForgeKind::GitLab)
    } else {
        None
    }
}

/// The REST API base URL for a repository's host: `https://api.github.com`
/// for github.com, `https://<host>/api/v3` for GitHub Enterprise Server and
/// `https://<host>/api/v4` for GitLab.
pub fn default_api_base(kind: ForgeKind, repo: &RepoId) -> String {
    match kind {
        ForgeKind::GitHub if split_port(&repo.host).0 == "github.com" => {
            "https://api.github.com".to_string()
        }
        ForgeKind::GitHub => format!("https://{}/api/v3", repo.host),
        ForgeKind::GitLab => format!("https://{}/api/v4", repo.host),
    }
}

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
    /// Ask the forge to merge automatically once checks pass (GitHub auto-merge
    /// with squash, GitLab "merge when pipeline succeeds").
    pub auto_merge: bool,
    /// Close other open requests into the same base whose source branch starts
    /// with this prefix (older bumps of the same image), with a "Superseded by" comment.
    pub supersede_prefix: Option<String>,
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

/// How hard to try when the forge rate-limits or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per API call, including the first one (0 is treated as 1).
    pub max_attempts: u32,
    /// Longest single wait. A rate limit that resets later than this is
    /// reported as [`ForgeError::RateLimited`] instead of waited for.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, at most 60 s of waiting before each retry.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_wait: Duration::from_secs(60),
        }
    }
}

/// The function used to wait between attempts. [`connect`] uses
/// [`std::thread::sleep`]; tests pass one that records the requested waits.
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// Where log lines (warnings) go; the CLI prints them on stderr.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// How long any forge request may take.
///
/// A request that exceeds [`Timeouts::connect`] or [`Timeouts::read`] fails with
/// [`ForgeError::Timeout`] and is not retried; with the defaults, a server that
/// accepts the connection and never answers ends the call after about 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait to establish the TCP (and TLS) connection. Default: 10 s.
    pub connect: Duration,
    /// Longest wait for the answer to one request once connected (GitHub: for any
    /// single read of the response, and for the whole exchange at most `connect +
    /// read`; GitLab: for the whole response). Default: 30 s.
    pub read: Duration,
    /// Overall deadline (e.g. from the CLI's run timeout): no retry is started
    /// that would wait past it, and each request is cut short at it. Default: none.
    pub deadline: Option<Instant>,
}

impl Timeouts {
    /// The default connect timeout: 10 s.
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(10);
    /// The default read timeout: 30 s.
    pub const DEFAULT_READ: Duration = Duration::from_secs(30);

    /// Time left before [`Timeouts::deadline`], if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The longest one whole request may take: `connect + read`, cut to the deadline
    /// (at least 1 ms, so that a passed deadline fails the request at once).
    pub(crate) fn per_request(&self) -> Duration {
        let full = self.connect.saturating_add(self.read);
        self.remaining()
            .map_or(full, |left| full.min(left))
            .max(Duration::from_millis(1))
    }
}

impl Default for Timeouts {
    /// Connect 10 s, read 30 s, no deadline.
    fn default() -> Self {
        Timeouts {
            connect: Self::DEFAULT_CONNECT,
            read: Self::DEFAULT_READ,
            deadline: None,
        }
    }
}

/// Everything [`connect_with`] needs besides the forge, the API URL and the token.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Retries on rate limits, server errors and refused connections.
    pub retry: RetryPolicy,
    /// Connect / read timeouts and the overall deadline.
    pub timeouts: Timeouts,
    /// Waits between attempts ([`std::thread::sleep`] by default).
    pub sleeper: Sleeper,
    /// Receives warnings, e.g. about a token sent over plain `http://` (discarded
    /// by default).
    pub log: Logger,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            sleeper: Arc::new(std::thread::sleep),
            log: Arc::new(|_| {}),
        }
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// Errors talking to a forge. No message ever contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// The git remote URL does not name a forge repository.
    #[error("cannot derive a forge repository from remote `{url}`: {reason}")]
    InvalidRemote {
        /// The remote URL, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Bad configuration (unknown forge name, malformed API URL, …).
    #[error("invalid forge configuration: {0}")]
    Config(String),
    /// HTTP 401.
    #[error("token rejected by {api_base} (HTTP 401): check that it is valid and not expired")]
    Auth {
        /// The API base URL.
        api_base: String,
    },
    /// HTTP 403 that is not a rate limit.
    #[error("forbidden by {api_base} (HTTP 403): {message} (the token may lack a permission or scope, or a branch protection rule forbids this)")]
    Forbidden {
        /// The API base URL.
        api_base: String,
        /// The forge's own explanation.
        message: String,
    },
    /// HTTP 404.
    #[error("not found at {api_base}: {what}: {message} (check the repository path and the base branch; {hint})")]
    NotFound {
        /// The API base URL.
        api_base: String,
        /// The request that failed, e.g. `GET /repos/o/r/pulls`.
        what: String,
        /// The forge's own explanation.
        message: String,
        /// A forge-specific hint.
        hint: String,
    },
    /// Rate limited for longer than [`RetryPolicy::max_wait`], or still limited
    /// after [`RetryPolicy::max_attempts`].
    #[error("rate limited by {api_base}: {reset}")]
    RateLimited {
        /// The API base URL.
        api_base: String,
        /// When the limit resets, as far as the forge said.
        reset: String,
        /// Unix time of the reset, when the forge sent one.
        reset_at: Option<u64>,
    },
    /// HTTP 5xx still failing after all attempts.
    #[error("server error from {api_base} after {attempts} attempt(s): HTTP {status}: {message}")]
    Server {
        /// The API base URL.
        api_base: String,
        /// The last status code.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The forge's own explanation (or body excerpt).
        message: String,
    },
    /// The forge refused the request (another 4xx status, e.g. a validation error).
    #[error("{api_base} refused {what} (HTTP {status}): {message}")]
    Api {
        /// The API base URL.
        api_base: String,
        /// The request, e.g. `POST /repos/o/r/pulls`.
        what: String,
        /// Status code.
        status: u16,
        /// The forge's own explanation.
        message: String,
    },
    /// The forge could not be reached.
    #[error("could not reach {api_base} after {attempts} attempt(s): {message}")]
    Transport {
        /// The API base URL.
        api_base: String,
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        message: String,
    },
    /// The API did not answer in time (see [`Timeouts`]). Not retried.
    #[error("timed out after {}s waiting for {waited_for} from {host} ({what} at {api_base})", after.as_secs_f32())]
    Timeout {
        /// The API base URL.
        api_base: String,
        /// `host[:port]` that was waited for.
        host: String,
        /// The request, e.g. `GET /api/v4/user`.
        what: String,
        /// `a connection` or `an answer`.
        waited_for: String,
        /// How long tagbump waited.
        after: Duration,
    },
    /// The API answered with a redirect. Redirects are never followed, so the token
    /// cannot reach another host (see the module documentation).
    #[error("{api_base} answered {what} with a redirect (HTTP {status}) from {from} to {to}; tagbump does not follow redirects of API calls, so the token is never sent to another host: give the final API address with --api-url (or the new repository URL)")]
    Redirect {
        /// The API base URL.
        api_base: String,
        /// The request.
        what: String,
        /// The 3xx status.
        status: u16,
        /// Origin (`scheme://host[:port]`) of the API.
        from: String,
        /// Origin the redirect pointed to (path and query left out), or a note
        /// that the answer had no usable `Location`.
        to: String,
    },
    /// A GitHub App private key that cannot be used. The message never contains
    /// any of the key.
    #[error("unusable GitHub App private key: {0}")]
    AppKey(String),
    /// GitHub refused the GitHub App's JWT (HTTP 401).
    #[error("{api_base} rejected the JWT of GitHub App {app_id} (HTTP 401): check the app ID, that the private key belongs to that app (not revoked), and the machine's clock")]
    AppRejected {
        /// The API base URL.
        api_base: String,
        /// The app ID (or client ID) the JWT was issued for.
        app_id: String,
    },
    /// The GitHub App is not installed on the repository (HTTP 404 on
    /// `repos/{owner}/{repo}/installation`).
    #[error("GitHub App {app_id} is not installed on {repo} (HTTP 404 from {api_base}): install the app on that repository (or its organisation)")]
    AppNotInstalled {
        /// The API base URL.
        api_base: String,
        /// The app ID (or client ID).
        app_id: String,
        /// `owner/name`.
        repo: String,
    },
    /// A successful response that could not be understood.
    #[error("unexpected response from {api_base} to {what}: {message}")]
    Decode {
        /// The API base URL.
        api_base: String,
        /// The request.
        what: String,
        /// What was wrong.
        message: String,
    },
}

impl ForgeError {
    /// Replaces every occurrence of the secret in every text field with `***`.
    pub fn redacted(self, secret: &Secret) -> ForgeError {
        let r = |s: String| secret.redact(&s);
        match self {
            ForgeError::InvalidRemote { url, reason } => ForgeError::InvalidRemote {
                url: r(url),
                reason: r(reason),
            },
            ForgeError::Config(m) => ForgeError::Config(r(m)),
            ForgeError::AppKey(m) => ForgeError::AppKey(r(m)),
            ForgeError::AppRejected { api_base, app_id } => ForgeError::AppRejected {
                api_base: r(api_base),
                app_id,
            },
            ForgeError::AppNotInstalled {
                api_base,
                app_id,
                repo,
            } => ForgeError::AppNotInstalled {
                api_base: r(api_base),
                app_id,
                repo,
            },
            ForgeError::Auth { api_base } => ForgeError::Auth {
                api_base: r(api_base),
            },
            ForgeError::Forbidden { api_base, message } => ForgeError::Forbidden {
                api_base: r(api_base),
                message: r(message),
            },
            ForgeError::NotFound {
                api_base,
                what,
                message,
                hint,
            } => ForgeError::NotFound {
                api_base: r(api_base),
                what: r(what),
                message: r(message),
                hint: r(hint),
            },
            ForgeError::RateLimited {
                api_base,
                reset,
                reset_at,
            } => ForgeError::RateLimited {
                api_base: r(api_base),
                reset: r(reset),
                reset_at,
            },
            ForgeError::Server {
                api_base,
                status,
                attempts,
                message,
            } => ForgeError::Server {
                api_base: r(api_base),
                status,
                attempts,
                message: r(message),
            },
            ForgeError::Api {
                api_base,
                what,
                status,
                message,
            } => ForgeError::Api {
                api_base: r(api_base),
                what: r(what),
                status,
                message: r(message),
            },
            ForgeError::Transport {
                api_base,
                attempts,
                message,
            } => ForgeError::Transport {
                api_base: r(api_base),
                attempts,
                message: r(message),
            },
            ForgeError::Decode {
                api_base,
                what,
                message,
            } => ForgeError::Decode {
                api_base: r(api_base),
                what: r(what),
                message: r(message),
            },
            ForgeError::Timeout {
                api_base,
                host,
                what,
                waited_for,
                after,
            } => ForgeError::Timeout {
                api_base: r(api_base),
                host: r(host),
                what: r(what),
                waited_for,
                after,
            },
            ForgeError::Redirect {
                api_base,
                what,
                status,
                from,
                to,
            } => ForgeError::Redirect {
                api_base: r(api_base),
                what: r(what),
                status,
                from: r(from),
                to: r(to),
            },
        }
    }

    /// The HTTP status behind this error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Auth { .. } | ForgeError::AppRejected { .. } => Some(401),
            ForgeError::AppNotInstalled { .. } => Some(404),
            ForgeError::Forbidden { .. } => Some(403),
            ForgeError::NotFound { .. } => Some(404),
            ForgeError::Server { status, .. }
            | ForgeError::Api { status, .. }
            | ForgeError::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }
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

/// Like [`connect`], with a custom [`Sleeper`] (tests use one that records waits).
pub fn connect_with_sleeper(
    kind: ForgeKind,
    api_base: &str,
    token: &Secret,
    retry: RetryPolicy,
    sleeper: Sleeper,
) -> Result<Box<dyn Forge>, ForgeError> {
    connect_with(
        kind,
        api_base,
        token,
        &ConnectOptions {
            retry,
            sleeper,
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
    let trimmed = api_base.trim();
    let scheme_is_http = trimmed
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
    scheme_is_http.then(|| {
        format!(
            "warning: sending the API token to {} over unencrypted http://",
            origin_of(trimmed)
        )
    })
}

/// `scheme://host[:port]` of a URL, without credentials, path or query (for messages).
pub(crate) fn origin_of(url: &str) -> String {
    let stripped = strip_userinfo(url.trim());
    match stripped.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{}://{authority}", scheme.to_ascii_lowercase())
        }
        None => stripped
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// `host[:port]` of a URL (for messages).
pub(crate) fn host_of(url: &str) -> String {
    let origin = origin_of(url);
    origin
        .split_once("://")
        .map_or(origin.clone(), |(_, host)| host.to_string())
}

/// Where a redirect points: the origin of `location` resolved against `request_url`.
pub(crate) fn redirect_target(request_url: &str, location: Option<&str>) -> String {
    match location.map(str::trim).filter(|l| !l.is_empty()) {
        None => "an unnamed location (no Location header)".to_string(),
        Some(loc) if loc.contains("://") => origin_of(loc),
        Some(loc) if loc.starts_with("//") => {
            let scheme = request_url.split_once("://").map_or("https", |(s, _)| s);
            origin_of(&format!("{scheme}:{loc}"))
        }
        // A path on the same origin.
        Some(_) => origin_of(request_url),
    }
}

/// Fills a body template.
///
/// `{changes}` becomes a Markdown list with one line per change,
/// ``- `file`: `key` old → new``; `{name}` is replaced by `vars["name"]`;
/// any other `{…}` is left as it is. Substituted text is not expanded again.
pub fn render_body(
    template: &str,
    vars: &BTreeMap<String, String>,
    changes: &[ChangeLine],
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let closed = after[name_len..].starts_with('}');
        if closed && !name.is_empty() {
            if name == "changes" {
                out.push_str(&render_changes(changes));
            } else if let Some(value) = vars.get(name) {
                out.push_str(value);
            } else {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn render_changes(changes: &[ChangeLine]) -> String {
    changes
        .iter()
        .map(|c| format!("- `{}`: `{}` {} → {}", c.file, c.key, c.old, c.new))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why one attempt failed, and whether it is worth another.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Rate limited; `wait` is what the forge asked for, `reset_at` the Unix reset time.
    RateLimited {
        wait: Option<Duration>,
        reset_at: Option<u64>,
    },
    /// A 5xx answer.
    Server { status: u16, message: String },
    /// No answer at all.
    Transport { message: String },
    /// Not worth retrying.
    Fatal(ForgeError),
}

/// Runs attempts according to a [`RetryPolicy`], sleeping with a [`Sleeper`].
#[derive(Clone)]
pub(crate) struct Retrier {
    pub(crate) policy: RetryPolicy,
    pub(crate) sleeper: Sleeper,
    pub(crate) api_base: String,
    /// No retry is started that would wait past this instant.
    pub(crate) deadline: Option<Instant>,
}

impl Retrier {
    /// Calls `attempt` until it succeeds, fails fatally or the policy is exhausted.
    pub(crate) fn run<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, ForgeError> {
        let max = self.policy.max_attempts.max(1);
        let mut n = 1;
        loop {
            let failure = match attempt() {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(failure) => failure,
            };
            let backoff = self.backoff(n);
            let out_of_time = |wait: Duration| {
                self.deadline
                    .is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|t| t >= d))
            };
            let wait = match failure {
                Failure::RateLimited { wait, reset_at } => {
                    let wait = wait.unwrap_or(backoff);
                    if n >= max || wait > self.policy.max_wait || out_of_time(wait) {
                        return Err(ForgeError::RateLimited {
                            api_base: self.api_base.clone(),
                            reset: describe_reset(wait, reset_at, n, self.policy.max_wait),
                            reset_at,
                        });
                    }
                    wait
                }
                Failure::Server { status, message } => {
                    if n >= max || out_of_time(backoff) {
                        return Err(ForgeError::Server {
                            api_base: self.api_base.clone(),
                            status,
                            attempts: n,
                            message,
                        });
                    }
                    backoff
                }
                Failure::Transport { message } => {
                    if n >= max || out_of_time(backoff) {
                        return Err(ForgeError::Transport {
                            api_base: self.api_base.clone(),
                            attempts: n,
                            message,
                        });
                    }
                    backoff
                }
                Failure::Fatal(e) => return Err(e),
            };
            (self.sleeper)(wait);
            n += 1;
        }
    }

    /// 1 s, 2 s, 4 s, … capped by `max_wait`.
    fn backoff(&self, attempt: u32) -> Duration {
        let secs = 1u64 << attempt.saturating_sub(1).min(16);
        Duration::from_secs(secs).min(self.policy.max_wait)
    }
}

fn describe_reset(
    wait: Duration,
    reset_at: Option<u64>,
    attempts: u32,
    max_wait: Duration,
) -> String {
    let when = match reset_at {
        Some(t) => format!(
            "the limit resets at unix time {t} (in about {}s)",
            wait.as_secs()
        ),
        None => format!("the forge asked to retry after {}s", wait.as_secs()),
    };
    if wait > max_wait {
        format!(
            "{when}, longer than the allowed wait of {}s",
            max_wait.as_secs()
        )
    } else {
        format!("{when}; still limited after {attempts} attempt(s)")
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long to wait for a reset at Unix time `reset_at` (at least one second).
pub(crate) fn wait_until(reset_at: u64) -> Duration {
    Duration::from_secs(reset_at.saturating_sub(now_unix()).max(1))
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
    use std::sync::Mutex;

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
    fn retrier_gives_up_on_rate_limits_longer_than_max_wait_without_sleeping() {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: None,
        };
        let err = r
            .run::<()>(|| {
                Err(Failure::RateLimited {
                    wait: Some(Duration::from_secs(3600)),
                    reset_at: Some(42),
                })
            })
            .unwrap_err();
        assert!(matches!(
            err,
            ForgeError::RateLimited {
                reset_at: Some(42),
                ..
            }
        ));
        assert!(slept.lock().unwrap().is_empty());
    }

    #[test]
    fn retrier_backs_off_exponentially_on_server_errors() {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy {
                max_attempts: 4,
                max_wait: Duration::from_secs(3),
            },
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: None,
        };
        let mut calls = 0;
        let err = r
            .run::<()>(|| {
                calls += 1;
                Err(Failure::Server {
                    status: 503,
                    message: "busy".into(),
                })
            })
            .unwrap_err();
        assert_eq!(calls, 4);
        assert!(matches!(
            err,
            ForgeError::Server {
                status: 503,
                attempts: 4,
                ..
            }
        ));
        let secs: Vec<u64> = slept.lock().unwrap().iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 3]);
    }

    #[test]
    fn default_timeouts_are_the_documented_ones() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Duration::from_secs(10));
        assert_eq!(t.read, Duration::from_secs(30));
        assert_eq!(t.deadline, None);
        assert_eq!(t.per_request(), Duration::from_secs(40));
        let o = ConnectOptions::default();
        assert_eq!(o.timeouts, t);
        assert_eq!(o.retry, RetryPolicy::default());
    }

    #[test]
    fn a_passed_deadline_cuts_requests_short_and_stops_retries() {
        let t = Timeouts {
            deadline: Some(Instant::now()),
            ..Timeouts::default()
        };
        assert_eq!(t.per_request(), Duration::from_millis(1));
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: Some(Instant::now() + Duration::from_millis(500)),
        };
        let mut calls = 0;
        let err = r
            .run::<()>(|| {
                calls += 1;
                Err(Failure::Server {
                    status: 502,
                    message: "busy".into(),
                })
            })
            .unwrap_err();
        assert_eq!(calls, 1, "the 1 s backoff would pass the deadline");
        assert!(matches!(err, ForgeError::Server { attempts: 1, .. }));
        assert!(slept.lock().unwrap().is_empty());
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
