//! The one place that answers "which token goes to this destination": a GitHub App
//! installation token first (`--github-app-id`), then the token variables
//! ([`credentials::select_token`]).
//!
//! The installation token is minted once per run, when a destination first asks for
//! it, and only for the repository's own GitHub host: the host of the remote URL and
//! the host of the API base it was minted at. Any other destination falls back to the
//! token variables and their scope rules.

use std::cell::RefCell;
use std::path::Path;

use anyhow::{Context, Result};

use super::args::CommonArgs;
use super::failure::invalid_input;
use tagbump::credentials;
use tagbump::forge::github_app::{self, AppKey, GitHubApp, InstallationToken};
use tagbump::forge::{self, ForgeKind, RepoId};
use tagbump::git::Auth;
use tagbump::secret::Secret;

/// The variable holding the App's PEM key itself.
pub(super) const APP_KEY_VARIABLE: &str = "TAGBUMP_GITHUB_APP_KEY";

/// A token and where it came from (a variable name, or the GitHub App).
pub(super) struct Chosen {
    /// `GITHUB_TOKEN`, …, or [`Chosen::APP`].
    pub source: String,
    pub token: Secret,
}

impl Chosen {
    const APP: &'static str = "GitHub App";
}

struct AppSource {
    app: GitHubApp,
    api: String,
    repo: RepoId,
    /// `host[:port]` of the remote and of the API base: where the token may go.
    hosts: Vec<String>,
    minted: RefCell<Option<InstallationToken>>,
}

/// Token choice for one run and one repository.
pub(super) struct Tokens<'a> {
    common: &'a CommonArgs,
    env: &'a dyn Fn(&str) -> Option<String>,
    app: Option<AppSource>,
}

impl<'a> Tokens<'a> {
    /// `url`: the repository's remote (for `--push`, the upstream's push URL);
    /// `kind`: its forge. Checks the GitHub App options; mints nothing yet.
    pub(super) fn new(
        common: &'a CommonArgs,
        env: &'a dyn Fn(&str) -> Option<String>,
        url: &str,
        kind: Option<ForgeKind>,
    ) -> Result<Tokens<'a>> {
        let app = app_source(common, env, url, kind)?;
        Ok(Tokens { common, env, app })
    }

    /// The token for `destination` (a git remote URL or an API base URL), with what
    /// was chosen and skipped logged on stderr.
    pub(super) fn for_destination(&self, destination: &str) -> Result<Option<Chosen>> {
        if let Some(app) = &self.app {
            let dest = host_port(destination);
            if app.hosts.iter().any(|h| Some(h) == dest.as_ref()) {
                return Ok(Some(Chosen {
                    source: Chosen::APP.to_string(),
                    token: self.mint(app)?,
                }));
            }
            eprintln!(
                "tagbump: not using the GitHub App token for {}: it belongs to {}",
                dest.as_deref().unwrap_or("an unrecognised host"),
                app.hosts.join(" and ")
            );
        }
        let selection =
            credentials::select_token(self.env, self.common.git.token_env.as_deref(), destination)?;
        for line in selection.log_lines() {
            eprintln!("tagbump: {line}");
        }
        Ok(selection
            .chosen
            .map(|(source, token)| Chosen { source, token }))
    }

    /// Git's HTTPS credentials for `destination`: the token with the user name for its
    /// source (`--username` wins).
    pub(super) fn git_auth(
        &self,
        kind: Option<ForgeKind>,
        destination: &str,
    ) -> Result<Option<Auth>> {
        let Some(chosen) = self.for_destination(destination)? else {
            return Ok(None);
        };
        let username = self.common.git.username.clone().unwrap_or_else(|| {
            if chosen.source == Chosen::APP {
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

    fn mint(&self, app: &AppSource) -> Result<Secret> {
        if let Some(minted) = app.minted.borrow().as_ref() {
            return Ok(minted.token.clone());
        }
        let options = super::run::forge_options(self.common);
        let minted = github_app::installation_token(&app.api, &app.repo, &app.app, &options)
            .with_context(|| {
                format!(
                    "cannot get an installation token for GitHub App {} on {}",
                    app.app.app_id, app.repo.path
                )
            })?;
        eprintln!(
            "tagbump: using a GitHub App installation token (app ID {}, installation ID {}) for {}",
            app.app.app_id,
            minted.installation_id,
            app.hosts.join(" and ")
        );
        let token = minted.token.clone();
        super::failure::hide_secrets(vec![token.clone()]);
        *app.minted.borrow_mut() = Some(minted);
        Ok(token)
    }
}

/// The GitHub App of this run, from `--github-app-id` and `--github-app-key` (or the
/// PEM in [`APP_KEY_VARIABLE`]); `None` without `--github-app-id`.
fn app_source(
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
    url: &str,
    kind: Option<ForgeKind>,
) -> Result<Option<AppSource>> {
    let key_env = env(APP_KEY_VARIABLE).filter(|v| !v.trim().is_empty());
    let app_id = common
        .git
        .github_app_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty());
    let Some(app_id) = app_id else {
        if common.git.github_app_key.is_some() || key_env.is_some() {
            return Err(invalid_input(format!(
                "a GitHub App key is given (--github-app-key or {APP_KEY_VARIABLE}) but no app: add --github-app-id ID (or TAGBUMP_GITHUB_APP_ID)"
            )));
        }
        return Ok(None);
    };
    let pem = match (&common.git.github_app_key, key_env) {
        (Some(path), _) => read_key_file(path)?,
        (None, Some(pem)) => pem.into_bytes(),
        (None, None) => {
            return Err(invalid_input(format!(
                "--github-app-id needs the app's private key: --github-app-key FILE, or the PEM itself in {APP_KEY_VARIABLE}"
            )))
        }
    };
    let key = AppKey::from_pem(&pem)
        .with_context(|| format!("the GitHub App key (--github-app-key or {APP_KEY_VARIABLE})"))?;
    let repo = RepoId::from_remote_url(url).map_err(|_| {
        invalid_input(
            "--github-app-id needs an https:// GitHub repository (--repo, or the upstream of the checkout with --push)",
        )
    })?;
    if kind != Some(ForgeKind::GitHub) {
        return Err(invalid_input(format!(
            "--github-app-id works with GitHub only, and {} is not known as GitHub: pass --forge github for GitHub Enterprise Server",
            repo.host
        )));
    }
    let api = common
        .pr
        .api_url
        .clone()
        .unwrap_or_else(|| forge::default_api_base(ForgeKind::GitHub, &repo));
    let mut hosts: Vec<String> = [host_port(url), host_port(&api)]
        .into_iter()
        .flatten()
        .collect();
    hosts.dedup();
    Ok(Some(AppSource {
        app: GitHubApp {
            app_id: app_id.to_string(),
            key,
        },
        api,
        repo,
        hosts,
        minted: RefCell::new(None),
    }))
}

fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        invalid_input(format!(
            "--github-app-key {}: cannot read the key file ({})",
            path.display(),
            e.kind()
        ))
    })
}

/// `host[:port]` of an `http(s)://` URL, lower-case, without the scheme's default
/// port; `None` for anything else (SSH, file, …).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_ascii_lowercase();
    let authority = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port || port.is_empty() => host.to_string(),
        _ => authority,
    };
    (!authority.is_empty()).then_some(authority)
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
