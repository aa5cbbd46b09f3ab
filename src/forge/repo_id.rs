//! Which forge hosts a repository, and where its API is.

use std::fmt;
use std::str::FromStr;

use super::ForgeError;
use crate::url::{strip_credentials, RemoteUrl, Transport, UrlError};

/// Which forge software hosts a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ForgeKind {
    /// github.com or GitHub Enterprise Server (REST v3 + GraphQL).
    #[cfg_attr(feature = "cli", value(name = "github", help = None))]
    GitHub,
    /// gitlab.com or a self-managed GitLab (REST v4).
    #[cfg_attr(feature = "cli", value(name = "gitlab", help = None))]
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
        let invalid = |reason: &str| ForgeError::InvalidRemote {
            url: strip_credentials(url).0,
            reason: reason.to_string(),
        };
        let remote = match RemoteUrl::parse(url) {
            Ok(remote) => remote,
            Err(UrlError::Transport(_)) => return Err(invalid("unsupported URL scheme")),
            Err(UrlError::Invalid(_)) => {
                return Err(invalid("not a URL and not of the form host:path"))
            }
        };
        if remote.is_local() {
            return Err(invalid("looks like a local path, not a forge remote"));
        }
        // An SSH (or git daemon) port says nothing about where the API lives.
        let host = if remote.transport().is_http() {
            remote.authority()
        } else {
            remote.host_in_url()
        };
        let Some(host) = host.filter(|h| !h.contains(char::is_whitespace)) else {
            return Err(invalid("missing or malformed host"));
        };
        let raw_path = remote.path();
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

/// The host name of a [`RepoId::host`] (`host[:port]`), lower-case, without the port.
fn host_name(repo: &RepoId) -> String {
    RemoteUrl::from_authority(Transport::Https, &repo.host)
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| repo.host.to_ascii_lowercase())
}

/// Guesses the forge from the host name: `github.com` (and hosts starting with
/// `github.`) are GitHub, `gitlab.com` and hosts starting with `gitlab.` are
/// GitLab. Anything else needs an explicit [`ForgeKind`].
pub fn detect_kind(repo: &RepoId) -> Option<ForgeKind> {
    let host = host_name(repo);
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
        ForgeKind::GitHub if host_name(repo) == "github.com" => {
            "https://api.github.com".to_string()
        }
        ForgeKind::GitHub => format!("https://{}/api/v3", repo.host),
        ForgeKind::GitLab => format!("https://{}/api/v4", repo.host),
    }
}
