//! Which way a change lands: through git, or through the forge's API.

use std::fmt;

use crate::forge::ForgeKind;

fn name(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "GitHub",
        ForgeKind::GitLab => "GitLab",
    }
}

/// What the user asked for (`--via`).
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

/// The way chosen, and why (for the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// `true`: through the forge's API.
    pub api: bool,
    /// One line saying why.
    pub reason: String,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = if self.api { "the forge API" } else { "git" };
        write!(f, "landing the change through {way}: {}", self.reason)
    }
}

/// Chooses the way for a remote URL: with [`Via::Auto`], the API when the remote is an
/// `https://` URL of a known forge (`forge`, detected from the host or given with
/// `--forge`) and a token for it is configured; git otherwise (SSH, `git://`,
/// `file://`, plain `http://`, unknown hosts, no token). [`Via::Api`] also accepts a
/// plain `http://` remote.
///
/// # Errors
///
/// With [`Via::Api`], a message saying why the API cannot be used.
pub fn choose(
    via: Via,
    url: &str,
    forge: Option<ForgeKind>,
    has_token: bool,
) -> Result<Choice, String> {
    let scheme = |prefix: &str| {
        url.get(..prefix.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(prefix))
    };
    // Plain http:// only when asked for explicitly (a test or lab forge); the forge
    // client warns about it.
    let web = scheme("https://") || (via == Via::Api && scheme("http://"));
    let blocker = match (web, forge, has_token) {
        (false, _, _) => Some("the remote is not an https:// URL".to_string()),
        (true, None, _) => Some(
            "the remote's host is not a known GitHub or GitLab host (pass --forge github|gitlab)"
                .to_string(),
        ),
        (true, Some(kind), false) => {
            Some(format!("no token for the {} API is configured", name(kind)))
        }
        (true, Some(_), true) => None,
    };
    match (via, blocker) {
        (Via::Git, _) => Ok(Choice {
            api: false,
            reason: "--via git".to_string(),
        }),
        (Via::Api, Some(why)) => Err(format!("--via api: cannot use the forge API: {why}")),
        (Via::Api, None) => Ok(Choice {
            api: true,
            reason: "--via api".to_string(),
        }),
        (Via::Auto, Some(why)) => Ok(Choice {
            api: false,
            reason: why,
        }),
        (Via::Auto, None) => Ok(Choice {
            api: true,
            reason: format!(
                "{} remote over https with a token (no clone; the forge creates the commit; --via git to clone instead)",
                forge.map_or("forge", name)
            ),
        }),
    }
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
        assert!(err.contains("not an https:// URL"), "{err}");
        let auto = choose(Via::Auto, GH, Some(ForgeKind::GitHub), false).expect("ok");
        assert_eq!(
            auto.to_string(),
            "landing the change through git: no token for the GitHub API is configured"
        );
    }
}
