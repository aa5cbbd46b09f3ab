//! Scrubbing of credentials from every text that leaves this module.

use std::sync::OnceLock;

use regex::Regex;

use crate::secret::Secret;

/// Removes secrets from text: the token of the current [`Auth`](super::Auth) (via
/// [`Secret::redact`]) and any `user:password@` / `token@` part of a URL.
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    /// A redactor that hides `secrets` (empty secrets are ignored by [`Secret::redact`]).
    pub(crate) fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        Redactor {
            secrets: secrets.into_iter().collect(),
        }
    }

    /// `text` with every known secret replaced by `***` and URL credentials stripped.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = strip_url_credentials(text);
        for secret in &self.secrets {
            out = secret.redact(&out);
        }
        out
    }
}

fn url_userinfo_with_password() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // scheme://user:pass@ (any scheme): both parts go.
        Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s:]*:[^/@\s]*@").expect("constant regex")
    })
}

fn http_userinfo() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // http(s)://token@: over HTTP a bare user part is commonly the token itself.
    RE.get_or_init(|| Regex::new(r"(?i)\b(https?://)[^/@\s]+@").expect("constant regex"))
}

fn token_query_values() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ?private_token=…, &access_token=…, token=…, job_token=… (GitLab and OAuth
    // conventions): the value goes, the parameter name stays.
    RE.get_or_init(|| {
        Regex::new(r"(?i)([?&](?:private_token|access_token|job_token|token)=)[^&#\s]+")
            .expect("constant regex")
    })
}

/// `text` with `user:password@` (any scheme) and `user@` (http/https) removed from URLs,
/// and the values of `token=`, `private_token=`, `access_token=` and `job_token=` query
/// parameters replaced by `***`. `ssh://git@host` and scp-like `git@host:path` keep
/// their (non-secret) user name.
pub fn strip_url_credentials(text: &str) -> String {
    let step = url_userinfo_with_password().replace_all(text, "$1");
    let step = http_userinfo().replace_all(&step, "$1");
    token_query_values()
        .replace_all(&step, "$1***")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_user_and_password_from_urls() {
        assert_eq!(
            strip_url_credentials("fatal: https://bot:s3cr3t@example.com/a.git failed"),
            "fatal: https://example.com/a.git failed"
        );
        assert_eq!(
            strip_url_credentials("https://ghp_tok@github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(
            strip_url_credentials("ssh://git:pw@host/r.git and ssh://git@host/r.git"),
            "ssh://host/r.git and ssh://git@host/r.git"
        );
        assert_eq!(
            strip_url_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
    }

    #[test]
    fn blanks_token_query_parameters() {
        assert_eq!(
            strip_url_credentials("https://h/api/v4/user?private_token=glpat-x&per_page=1 and https://h/r?ACCESS_TOKEN=abc#f"),
            "https://h/api/v4/user?private_token=***&per_page=1 and https://h/r?ACCESS_TOKEN=***#f"
        );
        assert_eq!(
            strip_url_credentials("https://h/r?mytoken=x"),
            "https://h/r?mytoken=x"
        );
    }

    #[test]
    fn redacts_known_secrets_everywhere() {
        let r = Redactor::new([Secret::new("tok123")]);
        assert_eq!(
            r.redact("auth tok123 failed for https://u:tok123@h/x"),
            "auth *** failed for https://h/x"
        );
    }
}
