//! Which token goes to which host.
//!
//! A token taken from a forge's own variable belongs to that forge's host of the
//! current run and is never sent anywhere else; only an explicit choice goes to
//! whatever host the user named:
//!
//! | variable | sent to |
//! |---|---|
//! | `--token-env NAME` | any host (explicit choice) |
//! | `TAGBUMP_TOKEN` | any host (tagbump's own variable, set for this purpose) |
//! | `GITHUB_TOKEN` | the GitHub host of the run: the host of `$GITHUB_SERVER_URL` and of `$GITHUB_API_URL` when set, else `github.com` and `api.github.com` |
//! | `GITLAB_TOKEN` | `gitlab.com`, and the GitLab instance of the run (`$CI_SERVER_URL`, else `$CI_SERVER_HOST`) |
//! | `CI_JOB_TOKEN` | the GitLab instance of the run only (`$CI_SERVER_URL`, else `$CI_SERVER_HOST`) |
//!
//! `--forge gitlab` does not widen `GITLAB_TOKEN` to other hosts: naming the forge
//! software says nothing about whose token it is (a gitlab.com token must not reach
//! a self-managed instance, or a look-alike). For a self-managed GitLab outside its
//! CI, use `TAGBUMP_TOKEN` or `--token-env GITLAB_TOKEN`.
//!
//! Host matching: a scope taken from a URL (`$GITHUB_SERVER_URL`, `$CI_SERVER_URL`)
//! compares the host name and the port (the scheme's default when none is written);
//! a bare host name (`github.com`, `$CI_SERVER_HOST`) compares the host name only.
//! Host names are compared case-insensitively; nothing is matched by prefix or suffix.
//!
//! [`select_token`] is pure: it reads variables only through the closure it is
//! given, and returns the chosen variable with the reasons others were skipped, for
//! the caller to log. Variable values never appear in any message.

use std::fmt;

use crate::forge::ForgeKind;
use crate::secret::Secret;

/// The variables tried, in this order, when no `--token-env` is given.
pub const TOKEN_VARIABLES: [&str; 4] = [
    "TAGBUMP_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
];

/// A variable that was set but not used for this destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The variable's name.
    pub variable: String,
    /// Why: the hosts it belongs to and where they come from, and the destination.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not using {}: {} (name {} explicitly or set TAGBUMP_TOKEN to send a token there)",
            self.variable, self.reason, self.variable
        )
    }
}

/// The outcome of [`select_token`].
#[derive(Debug, Clone)]
pub struct Selection {
    /// `host[:port]` the token is meant for (as shown in messages).
    pub destination: String,
    /// The chosen variable and its value.
    pub chosen: Option<(String, Secret)>,
    /// Variables that were set but do not belong to the destination, in the order tried.
    pub skipped: Vec<Skipped>,
    explicit: bool,
}

impl Selection {
    /// The chosen token.
    pub fn token(&self) -> Option<&Secret> {
        self.chosen.as_ref().map(|(_, t)| t)
    }

    /// The name of the chosen variable.
    pub fn variable(&self) -> Option<&str> {
        self.chosen.as_ref().map(|(v, _)| v.as_str())
    }

    /// Whether the chosen variable was named explicitly ([`select_token`]'s `explicit`).
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// Lines to log: each skipped variable, then which variable is used (or that
    /// none is). Never contains a value.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.skipped.iter().map(ToString::to_string).collect();
        match &self.chosen {
            Some((variable, _)) => lines.push(format!(
                "using the token from {variable}{} for {}",
                if self.explicit {
                    " (named explicitly)"
                } else {
                    ""
                },
                self.destination
            )),
            None if !self.skipped.is_empty() => lines.push(format!(
                "no token for {}: sending no credentials",
                self.destination
            )),
            None => {}
        }
        lines
    }
}

/// Errors choosing a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The explicitly named token variable ([`select_token`]'s `explicit`) is not set.
    #[error("the token variable {0}, named explicitly, is not set or empty")]
    ExplicitUnset(String),
}

/// Chooses the token to send to `destination` (a git remote URL or an API base
/// URL), following the table in the module documentation.
///
/// `explicit` is the variable named with `--token-env`: it is used for any host, and
/// no other variable is considered. Otherwise [`TOKEN_VARIABLES`] are tried in order;
/// the first one that is set and belongs to the destination's host is chosen.
pub fn select_token(
    env: &dyn Fn(&str) -> Option<String>,
    explicit: Option<&str>,
    destination: &str,
) -> Result<Selection, CredentialsError> {
    let dest = Endpoint::parse(destination);
    let shown = dest
        .as_ref()
        .map_or_else(|| "an unrecognised host".to_string(), Endpoint::shown);
    let value = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(name) = explicit {
        let token = value(name).ok_or_else(|| CredentialsError::ExplicitUnset(name.to_string()))?;
        return Ok(Selection {
            destination: shown,
            chosen: Some((name.to_string(), Secret::new(token))),
            skipped: Vec::new(),
            explicit: true,
        });
    }
    let mut skipped = Vec::new();
    for name in TOKEN_VARIABLES {
        let Some(token) = value(name) else { continue };
        let scope = Scope::of(name, env);
        if scope.admits(dest.as_ref()) {
            return Ok(Selection {
                destination: shown,
                chosen: Some((name.to_string(), Secret::new(token))),
                skipped,
                explicit: false,
            });
        }
        skipped.push(Skipped {
            variable: name.to_string(),
            reason: scope.refusal(&shown),
        });
    }
    Ok(Selection {
        destination: shown,
        chosen: None,
        skipped,
        explicit: false,
    })
}

/// The git user name sent with a token over HTTPS: `gitlab-ci-token` for
/// `CI_JOB_TOKEN`, `oauth2` for GitLab, `x-access-token` otherwise (GitHub, and
/// hosts whose forge is unknown).
pub fn git_username(variable: &str, kind: Option<ForgeKind>) -> &'static str {
    if variable == "CI_JOB_TOKEN" {
        "gitlab-ci-token"
    } else if kind == Some(ForgeKind::GitLab) {
        "oauth2"
    } else {
        "x-access-token"
    }
}

/// The values of every token variable tagbump may read ([`TOKEN_VARIABLES`] and
/// `explicit`), set or not chosen: all of them are hidden from messages.
pub fn known_secrets(env: &dyn Fn(&str) -> Option<String>, explicit: Option<&str>) -> Vec<Secret> {
    TOKEN_VARIABLES
        .iter()
        .copied()
        .chain(explicit)
        .filter_map(env)
        .map(|v| v.trim().to_string())
        // Very short values would blank out ordinary words; real tokens are long.
        .filter(|v| v.len() >= 6)
        .map(Secret::new)
        .collect()
}

/// `text` with URL credentials (`user:password@`, token query parameters) removed and
/// every one of `secrets` replaced by `***`: for any message that shows a URL.
pub fn redact(text: &str, secrets: &[Secret]) -> String {
    let mut out = crate::git::strip_url_credentials(text);
    for secret in secrets {
        out = secret.redact(&out);
    }
    out
}

mod scope;
#[cfg(test)]
mod tests;

use self::scope::{Endpoint, Scope};
