//! Which forge hosts a repository, and where its API is.

use std::fmt;
use std::str::FromStr;

use super::ForgeError;

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
pub(crate) fn split_port(host_port: &str) -> (&str, Option<&str>) {
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
pub(crate) fn strip_userinfo(url: &str) -> String {
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
