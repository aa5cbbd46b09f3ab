//! The remote as git will talk to it: a credential-free URL on an allowed transport,
//! the credentials and where they may be sent, and the time limits of every step.

use std::path::PathBuf;
use std::time::Instant;

use crate::retry::Timeouts;
use crate::secret::Secret;
use crate::url::{RemoteUrl, Transport};

use super::child::Limits;
use super::cli::{CredentialScope, GitRunner};
use super::redact::Redactor;
use super::{Auth, GitError, RemoteSpec};

/// A remote with its credentials stripped from the URL and everything needed to talk to it.
pub(crate) struct Remote {
    /// The URL without any `user:password@` part; safe to print and to store.
    pub url: String,
    /// How git talks to it.
    pub transport: Transport,
    /// The URL is a local path (not `file://`): clones need `--no-local`.
    pub plain_path: bool,
    pub auth: Auth,
    /// Where the token may go: the URL's own protocol and host.
    pub scope: Option<CredentialScope>,
    pub ca_bundle: Option<PathBuf>,
    pub redactor: Redactor,
    pub limits: Limits,
}

impl Remote {
    pub(crate) fn runner(&self) -> GitRunner<'_> {
        GitRunner {
            auth: Some(&self.auth),
            scope: self.scope.as_ref(),
            ca_bundle: self.ca_bundle.as_deref(),
            redactor: &self.redactor,
            limits: self.limits,
            display_url: &self.url,
        }
    }

    /// The run's overall deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.limits.deadline
    }
}

/// Checks the transport and splits credentials out of the URL.
///
/// # Errors
///
/// [`GitError::InvalidInput`] for a transport other than https, http, ssh, git and
/// file (`ext::…` and friends run commands; they are never allowed), and for a URL git
/// cannot parse.
pub(crate) fn resolve(spec: &RemoteSpec, timeouts: &Timeouts) -> Result<Remote, GitError> {
    let parsed = RemoteUrl::parse(&spec.url).map_err(|e| GitError::InvalidInput {
        message: e.to_string(),
    })?;
    let from_url = parsed.credentials();
    let url = parsed.without_credentials();
    let auth = match (&spec.auth, &from_url) {
        (Auth::Anonymous, Some((username, password))) => Auth::Token {
            username: username.clone(),
            token: Secret::new(password.clone()),
        },
        (auth, _) => auth.clone(),
    };
    let mut secrets = Vec::new();
    if let Auth::Token { token, .. } = &auth {
        secrets.push(token.clone());
    }
    if let Some((_, pw)) = from_url {
        secrets.push(Secret::new(pw));
    }
    Ok(Remote {
        scope: CredentialScope::of(&parsed),
        url,
        transport: parsed.transport(),
        plain_path: parsed.is_plain_path(),
        auth,
        // git runs in temporary directories: a relative path must not resolve there.
        ca_bundle: spec
            .ca_bundle
            .as_deref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
        redactor: Redactor::new(secrets),
        limits: Limits {
            idle: timeouts.idle,
            deadline: Some(timeouts.deadline_from_now()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> RemoteSpec {
        RemoteSpec {
            url: url.into(),
            branch: None,
            auth: Auth::Anonymous,
            ca_bundle: None,
        }
    }

    fn resolve_default(spec: &RemoteSpec) -> Remote {
        match resolve(spec, &Timeouts::default()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn url_credentials_move_into_auth_and_out_of_the_url() {
        let r = resolve_default(&spec("https://bot:s3cret@git.example:8443/org/cfg.git"));
        assert_eq!(r.url, "https://git.example:8443/org/cfg.git");
        match &r.auth {
            Auth::Token { username, token } => {
                assert_eq!(username, "bot");
                assert_eq!(token.expose(), "s3cret");
            }
            other => panic!("expected token auth, got {other:?}"),
        }
        assert_eq!(r.redactor.redact("x s3cret y"), "x *** y");
        assert_eq!(
            r.scope,
            Some(CredentialScope {
                protocol: "https".into(),
                host: "git.example:8443".into()
            })
        );
    }

    #[test]
    fn only_the_five_git_transports_are_allowed() {
        for ok in [
            "https://h/o/r.git",
            "http://h/o/r.git",
            "ssh://git@h/o/r.git",
            "git@h:o/r.git",
            "git://h/r.git",
            "file:///srv/r.git",
            "/srv/r.git",
            "./relative/r.git",
        ] {
            assert!(resolve(&spec(ok), &Timeouts::default()).is_ok(), "{ok}");
        }
        for bad in [
            "ext::sh -c touch% /tmp/pwned",
            "fd::17",
            "foo::https://h/r.git",
            "ftp://h/r.git",
            "rsync://h/r.git",
        ] {
            assert!(
                matches!(
                    resolve(&spec(bad), &Timeouts::default()),
                    Err(GitError::InvalidInput { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn relative_ca_bundle_is_made_absolute_because_git_runs_elsewhere() {
        let mut s = spec("https://h/o/r.git");
        s.ca_bundle = Some(PathBuf::from("certs/ca.pem"));
        let r = resolve_default(&s);
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(r.ca_bundle, Some(cwd.join("certs/ca.pem")));
    }

    #[test]
    fn only_http_remotes_have_a_credential_scope() {
        assert_eq!(resolve_default(&spec("git@h:o/r.git")).scope, None);
        assert_eq!(resolve_default(&spec("git://h/r.git")).scope, None);
        assert_eq!(
            resolve_default(&spec("HTTP://Git.Example/r.git")).scope,
            Some(CredentialScope {
                protocol: "http".into(),
                host: "git.example".into()
            })
        );
    }
}
