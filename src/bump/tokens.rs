//! Which token goes to a destination: the [`TokenSource`]s in order. A GitHub App
//! installation token is minted once per run, when a destination first asks for it,
//! and only for the repository's own GitHub host: the host of the remote URL and the
//! host of the API base it was minted at. Any other destination goes to the next source.

use std::cell::RefCell;

use super::{BumpError, Event, Options};
use crate::credentials;
use crate::forge::github_app::{self, GitHubApp, InstallationToken};
use crate::forge::{self, ForgeKind, RepoId};
use crate::git::Auth;
use crate::secret::Secret;
use crate::url::RemoteUrl;

/// The variable GitLab CI puts the job token in.
pub(super) const JOB_TOKEN: &str = "CI_JOB_TOKEN";

/// Where the tokens for git and the forge API come from.
#[derive(Debug)]
#[non_exhaustive]
pub enum TokenSource {
    /// The token variables ([`credentials::select_token`]): each only for its own
    /// forge's host; or `variable`, sent to any host.
    Environment {
        /// One variable to use for any host instead of the scoped ones.
        variable: Option<String>,
    },
    /// This token, for any host.
    Fixed(Secret),
    /// A GitHub App installation token for the repository (its GitHub host only).
    GitHubApp(GitHubApp),
    /// The first source that has a token for the destination.
    Chain(Vec<TokenSource>),
}

impl Default for TokenSource {
    /// The scoped token variables.
    fn default() -> Self {
        TokenSource::Environment { variable: None }
    }
}

/// A token and where it came from (a variable name, or the GitHub App).
pub(super) struct Chosen {
    /// `GITHUB_TOKEN`, …, [`APP`] or [`FIXED`].
    pub source: String,
    pub token: Secret,
}

const APP: &str = "GitHub App";
const FIXED: &str = "token";

impl Chosen {
    /// GitLab's CI/CD job token (also when named as the explicit variable).
    pub fn is_job_token(&self) -> bool {
        self.source == JOB_TOKEN
    }
}

struct AppSource<'a> {
    app: &'a GitHubApp,
    api: String,
    repo: RepoId,
    /// `host[:port]` of the remote and of the API base: where the token may go.
    hosts: Vec<String>,
    minted: RefCell<Option<InstallationToken>>,
}

enum Source<'a> {
    Env(Option<&'a str>),
    Fixed(&'a Secret),
    App(Box<AppSource<'a>>),
}

/// Token choice for one run and one repository.
pub(super) struct Tokens<'a> {
    sources: Vec<Source<'a>>,
    options: &'a Options,
    events: &'a dyn Fn(Event<'_>),
}

/// What [`Tokens::new`] needs besides the source.
pub(super) struct Context<'a> {
    pub options: &'a Options,
    pub events: &'a dyn Fn(Event<'_>),
}

impl<'a> Tokens<'a> {
    /// `url`: the repository's remote (for a pushed checkout, the upstream's push URL);
    /// `kind`: its forge. Checks the GitHub App; mints nothing yet.
    pub fn new(
        source: &'a TokenSource,
        cx: Context<'a>,
        url: &str,
        kind: Option<ForgeKind>,
    ) -> Result<Tokens<'a>, BumpError> {
        let mut sources = Vec::new();
        flatten(source, &cx, url, kind, &mut sources)?;
        Ok(Tokens {
            sources,
            options: cx.options,
            events: cx.events,
        })
    }

    /// The token for `destination` (a git remote URL or an API base URL), with what
    /// was chosen and skipped logged.
    pub fn for_destination(&self, destination: &str) -> Result<Option<Chosen>, BumpError> {
        let log = |line: &str| (self.events)(Event::Log(line));
        for source in &self.sources {
            match source {
                Source::App(app) => {
                    let dest = host_port(destination);
                    if app.hosts.iter().any(|h| Some(h) == dest.as_ref()) {
                        return Ok(Some(Chosen {
                            source: APP.to_string(),
                            token: self.mint(app)?,
                        }));
                    }
                    log(&format!(
                        "not using the GitHub App token for {}: it belongs to {}",
                        dest.as_deref().unwrap_or("an unrecognised host"),
                        app.hosts.join(" and ")
                    ));
                }
                Source::Fixed(token) => {
                    return Ok(Some(Chosen {
                        source: FIXED.to_string(),
                        token: (*token).clone(),
                    }))
                }
                Source::Env(variable) => {
                    let selection =
                        credentials::select_token(&*self.options.env, *variable, destination)?;
                    (self.events)(Event::Token(&selection));
                    if let Some((source, token)) = selection.chosen {
                        return Ok(Some(Chosen { source, token }));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Git's HTTPS credentials for `destination`: the token with the user name for its
    /// source (the configured user name wins).
    pub fn git_auth(
        &self,
        kind: Option<ForgeKind>,
        destination: &str,
    ) -> Result<Option<Auth>, BumpError> {
        let Some(chosen) = self.for_destination(destination)? else {
            return Ok(None);
        };
        let username = self.options.username.clone().unwrap_or_else(|| {
            if chosen.source == APP {
                "x-access-token".to_string()
            } else {
                credentials::git_username(&chosen.source, kind).to_string()
            }
        });
        Ok(Some(Auth::Token {
            username,
            token: chosen.token,
        }))
    }

    fn mint(&self, app: &AppSource<'_>) -> Result<Secret, BumpError> {
        if let Some(minted) = app.minted.borrow().as_ref() {
            return Ok(minted.token.clone());
        }
        let options = super::with_deadline(&self.options.connect, self.options.timeouts.overall);
        let minted = github_app::installation_token(&app.api, &app.repo, app.app, &options)
            .map_err(|source| BumpError::AppToken {
                app_id: app.app.app_id.clone(),
                repo: app.repo.path.clone(),
                source: source.into(),
            })?;
        (self.events)(Event::Log(&format!(
            "using a GitHub App installation token (app ID {}, installation ID {}) for {}",
            app.app.app_id,
            minted.installation_id,
            app.hosts.join(" and ")
        )));
        let token = minted.token.clone();
        (self.events)(Event::Secret(&token));
        *app.minted.borrow_mut() = Some(minted);
        Ok(token)
    }
}

fn flatten<'a>(
    source: &'a TokenSource,
    cx: &Context<'a>,
    url: &str,
    kind: Option<ForgeKind>,
    out: &mut Vec<Source<'a>>,
) -> Result<(), BumpError> {
    match source {
        TokenSource::Environment { variable } => out.push(Source::Env(variable.as_deref())),
        TokenSource::Fixed(token) => out.push(Source::Fixed(token)),
        TokenSource::Chain(list) => {
            for s in list {
                flatten(s, cx, url, kind, out)?;
            }
        }
        TokenSource::GitHubApp(app) => {
            let repo =
                RepoId::from_remote_url(url).map_err(|_| BumpError::AppNeedsGitHubRepository)?;
            if kind != Some(ForgeKind::GitHub) {
                return Err(BumpError::AppNotGitHub { host: repo.host });
            }
            let api = cx
                .options
                .api_url
                .clone()
                .unwrap_or_else(|| forge::default_api_base(ForgeKind::GitHub, &repo));
            let mut hosts: Vec<String> = [host_port(url), host_port(&api)]
                .into_iter()
                .flatten()
                .collect();
            hosts.dedup();
            out.push(Source::App(Box::new(AppSource {
                app,
                api,
                repo,
                hosts,
                minted: RefCell::new(None),
            })));
        }
    }
    Ok(())
}

/// `host[:port]` of an `http(s)://` URL ([`RemoteUrl::authority`]: lower-case, without
/// the scheme's default port); `None` for anything else (SSH, file, …).
fn host_port(url: &str) -> Option<String> {
    RemoteUrl::parse(url)
        .ok()
        .filter(|u| u.transport().is_http())
        .and_then(|u| u.authority())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_drops_credentials_and_default_ports() {
        assert_eq!(
            host_port("https://x:y@GitHub.com:443/o/r.git").as_deref(),
            Some("github.com")
        );
        assert_eq!(
            host_port("http://127.0.0.1:8080/api/v3").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            host_port("https://api.github.com").as_deref(),
            Some("api.github.com")
        );
        assert_eq!(host_port("git@github.com:o/r.git"), None);
        assert_eq!(host_port("file:///tmp/r"), None);
    }
}
