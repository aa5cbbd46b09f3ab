//! Which way a change lands: through git, or through the forge's API.

use std::fmt;

use crate::forge::ForgeKind;
use crate::url::{RemoteUrl, Transport};

fn name(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "GitHub",
        ForgeKind::GitLab => "GitLab",
    }
}

/// What the caller asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Via {
    /// The API where it can be used, git otherwise.
    #[default]
    #[cfg_attr(
        feature = "cli",
        value(help = "The API for an https:// GitHub / GitLab remote with a token; git otherwise")
    )]
    Auto,
    /// Always the forge's API (an error where there is none).
    #[cfg_attr(feature = "cli", value(help = "Always the forge's API"))]
    Api,
    /// Always git (clone, commit, push).
    #[cfg_attr(feature = "cli", value(help = "Always git"))]
    Git,
}

/// Why the forge's API cannot be used for a remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unusable {
    /// The remote is not an `https://` URL (nor `http://` with [`Via::Api`]).
    #[error("the remote is not an https:// URL")]
    NotHttps,
    /// The forge is neither detected from the host nor given.
    #[error(
        "the remote's host is not a known GitHub or GitLab host (name the forge: GitHub or GitLab)"
    )]
    UnknownForge,
    /// No token for the forge's API.
    #[error("no token for the {} API is configured", name(*.0))]
    NoToken(ForgeKind),
}

/// [`Via::Api`] was asked for, but the API cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot use the forge API: {0}")]
pub struct ApiUnavailable(pub Unusable);

/// Why a way was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// [`Via::Git`] or [`Via::Api`] was asked for.
    Asked(Via),
    /// [`Via::Auto`], and the API cannot be used: git.
    Unusable(Unusable),
    /// [`Via::Auto`], a known forge's `https://` remote with a token: the API.
    ForgeWithToken(ForgeKind),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Asked(Via::Git) => f.write_str("git was asked for"),
            Reason::Asked(_) => f.write_str("the API was asked for"),
            Reason::Unusable(why) => write!(f, "{why}"),
            Reason::ForgeWithToken(kind) => write!(
                f,
                "{} remote over https with a token (no clone; the forge creates the commit)",
                name(*kind)
            ),
        }
    }
}

/// The way chosen, and why (for the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// `true`: through the forge's API.
    pub api: bool,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = if self.api { "the forge API" } else { "git" };
        write!(f, "landing the change through {way}: {}", self.reason)
    }
}

/// Chooses the way for a remote URL: with [`Via::Auto`], the API when the remote is an
/// `https://` URL of a known forge (`forge`, detected from the host or given by the
/// caller) and a token for it is configured; git otherwise (SSH, `git://`,
/// `file://`, plain `http://`, unknown hosts, no token). [`Via::Api`] also accepts a
/// plain `http://` remote.
///
/// # Errors
///
/// With [`Via::Api`], [`ApiUnavailable`] saying why the API cannot be used.
pub fn choose(
    via: Via,
    url: &str,
    forge: Option<ForgeKind>,
    has_token: bool,
) -> Result<Choice, ApiUnavailable> {
    let transport = RemoteUrl::parse(url).ok().map(|u| u.transport());
    // Plain http:// only when asked for explicitly (a test or lab forge); the forge
    // client warns about it.
    let web = transport == Some(Transport::Https)
        || (via == Via::Api && transport == Some(Transport::Http));
    let usable = match (web, forge, has_token) {
        (false, _, _) => Err(Unusable::NotHttps),
        (true, None, _) => Err(Unusable::UnknownForge),
        (true, Some(kind), false) => Err(Unusable::NoToken(kind)),
        (true, Some(kind), true) => Ok(kind),
    };
    let (api, reason) = match (via, usable) {
        (Via::Git, _) => (false, Reason::Asked(Via::Git)),
        (Via::Api, Err(why)) => return Err(ApiUnavailable(why)),
        (Via::Api, Ok(_)) => (true, Reason::Asked(Via::Api)),
        (Via::Auto, Err(why)) => (false, Reason::Unusable(why)),
        (Via::Auto, Ok(kind)) => (true, Reason::ForgeWithToken(kind)),
    };
    Ok(Choice { api, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "https://github.com/acme/gitops.git";

    #[test]
    fn auto_uses_the_api_only_for_a_known_forge_over_https_with_a_token() {
        let api = |url, forge, token| choose(Via::Auto, url, forge, token).map(|c| c.api);
        assert_eq!(api(GH, Some(ForgeKind::GitHub), true), Ok(true));
        assert_eq!(api(GH, Some(ForgeKind::GitHub), false), Ok(false));
        assert_eq!(api(GH, None, true), Ok(false));
        assert_eq!(
            api(
                "git@github.com:acme/gitops.git",
                Some(ForgeKind::GitHub),
                true
            ),
            Ok(false)
        );
        assert_eq!(
            api("http://gitlab.local/g/c.git", Some(ForgeKind::GitLab), true),
            Ok(false)
        );
        assert_eq!(api("file:///srv/c.git", None, true), Ok(false));
    }

    #[test]
    fn explicit_choices_win_or_explain_why_not() {
        assert!(
            !choose(Via::Git, GH, Some(ForgeKind::GitHub), true)
                .expect("ok")
                .api
        );
        let err = choose(
            Via::Api,
            "git@github.com:a/b.git",
            Some(ForgeKind::GitHub),
            true,
        )
        .expect_err("no API over ssh");
        assert_eq!(err, ApiUnavailable(Unusable::NotHttps));
        assert_eq!(
            err.to_string(),
            "cannot use the forge API: the remote is not an https:// URL"
        );
        let auto = choose(Via::Auto, GH, Some(ForgeKind::GitHub), false).expect("ok");
        assert_eq!(
            auto.to_string(),
            "landing the change through git: no token for the GitHub API is configured"
        );
    }
}
