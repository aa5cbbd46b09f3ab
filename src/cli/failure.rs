//! Why a run failed: the message people read and a stable kind for machines, derived from
//! the library's typed errors by walking the error's causes.

use std::error::Error as StdError;

use tagbump::bump::ReportedError;

/// The `error` member of the JSON output: the error and its causes as printed on
/// stderr (without `error: `), and its kind (see [`kind`]).
pub fn error_report(err: &anyhow::Error) -> ReportedError {
    cause_report(&**err)
}

/// [`error_report`] of an error that is not (yet) an [`anyhow::Error`].
pub fn cause_report(err: &(dyn StdError + 'static)) -> ReportedError {
    ReportedError {
        message: cause_text(err),
        kind: anyhow::Chain::new(err).find_map(kind_of).unwrap_or("other"),
    }
}

/// A mistake in the command line that clap cannot see (a flag that needs another, an
/// unset variable named by a flag, …): kind `invalid-input`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// An [`InvalidInput`] error.
pub fn invalid_input(message: impl Into<String>) -> anyhow::Error {
    InvalidInput(message.into()).into()
}

/// The kind of the first cause the library (or the CLI's own checks) classifies
/// ([`tagbump::bump::kind_of`]):
///
/// `invalid-input`, `file-not-found`, `image-not-found`, `skipped-reference`, `yaml`, `key-path`,
/// `safety-net`, `policy`, `git-auth`, `git-unreachable`, `git-not-found`, `git-transport`, `timeout`, `tls`, `rejected`,
/// `retries-exhausted`, `dirty-worktree`, `git`, `forge-auth`, `forge`, `io`,
/// `registry-not-found`, `registry-auth`, `rate-limited`, `digest-mismatch`,
/// `no-match`, `registry`, `verification`, `ambiguous` (a promotion's source disagrees with itself), and
/// `other` for anything unclassified.
pub fn kind(err: &anyhow::Error) -> &'static str {
    err.chain().find_map(kind_of).unwrap_or("other")
}

fn kind_of(cause: &(dyn StdError + 'static)) -> Option<&'static str> {
    if cause.is::<InvalidInput>() {
        return Some("invalid-input");
    }
    tagbump::bump::kind_of(cause)
}

/// Every token this run may read or made (see [`hide_secrets`]).
static SECRETS: std::sync::Mutex<Vec<tagbump::secret::Secret>> = std::sync::Mutex::new(Vec::new());

/// Registers tokens that [`error_chain`] must never print, wherever in the chain a URL
/// or a library message put one: the token variables before the command runs, a GitHub
/// App installation token once it is minted.
pub fn hide_secrets(secrets: Vec<tagbump::secret::Secret>) {
    SECRETS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(secrets);
}

/// The error and its causes ([`tagbump::bump::error_text`], in the command line's words),
/// then the flag or command that would help, if one would (see
/// [`advice`](super::advice::advice)), with every known token redacted.
pub fn error_chain(err: &anyhow::Error) -> String {
    cause_text(&**err)
}

/// [`error_chain`] of an error that is not (yet) an [`anyhow::Error`].
pub fn cause_text(err: &(dyn StdError + 'static)) -> String {
    let mut text = tagbump::bump::error_text(err, &|_| None);
    // The library names no flag: its words for an option become the flag's.
    for cause in anyhow::Chain::new(err) {
        for (library, flags) in super::advice::flag_words(cause) {
            text = text.replace(&library, &flags);
        }
    }
    if let Some(advice) = super::advice::advice(err) {
        text.push_str("; ");
        text.push_str(&advice);
    }
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    tagbump::credentials::redact(&text, &secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use tagbump::forge::ForgeError;
    use tagbump::git::GitError;
    use tagbump::plan::PlanError;
    use tagbump::policy::PolicyError;

    #[test]
    fn the_edit_closure_error_inside_a_git_error_gives_the_kind() {
        let plan = PlanError::Policy {
            file: "a.yaml".into(),
            line: 3,
            error: PolicyError::NotAllowed {
                new: "x".into(),
                pattern: "^v".into(),
            },
        };
        let err = anyhow::Error::new(GitError::Apply(Box::new(plan))).context("cannot apply");
        assert_eq!(kind(&err), "policy");
    }

    #[test]
    fn git_forge_and_cli_errors_have_their_own_kinds() {
        let rejected = GitError::Rejected {
            url: "u".into(),
            branch: "main".into(),
            reason: "r".into(),
            remote_messages: Vec::new(),
        };
        assert_eq!(kind(&anyhow::Error::new(rejected).context("c")), "rejected");
        let forge = ForgeError::Auth {
            api_base: "https://api".into(),
        };
        assert_eq!(kind(&anyhow::Error::new(forge)), "forge-auth");
        assert_eq!(kind(&invalid_input("--pr needs --repo")), "invalid-input");
        let io: anyhow::Result<()> = Err(std::io::Error::other("disk full")).context("writing");
        assert_eq!(kind(&io.expect_err("error")), "io");
        assert_eq!(kind(&anyhow::anyhow!("something else")), "other");
    }

    /// The library names no flag; the command line's message names it, in the words it
    /// always had (the CLI tests and snapshots assert several of these).
    #[test]
    fn library_errors_read_with_the_flags_that_help() {
        use std::time::Duration;
        use tagbump::credentials::CredentialsError;
        use tagbump::land::api_lander::ApiLandError;
        use tagbump::land::via::{ApiUnavailable, Unusable};
        use tagbump::registry::RegistryError;

        let cases: Vec<(anyhow::Error, &str, &str)> = vec![
            (
                CredentialsError::ExplicitUnset("MINE".into()).into(),
                "the token variable MINE, named explicitly, is not set or empty",
                "--token-env MINE: the variable MINE is not set or empty",
            ),
            (
                tagbump::bump::BumpError::from(CredentialsError::ExplicitUnset("MINE".into())).into(),
                "the token variable MINE, named explicitly, is not set or empty",
                "--token-env MINE: the variable MINE is not set or empty",
            ),
            (
                tagbump::bump::BumpError::from(ApiUnavailable(Unusable::UnknownForge)).into(),
                "cannot use the forge API: the remote's host is not a known GitHub or GitLab host (name the forge: GitHub or GitLab)",
                "--via api: cannot use the forge API: the remote's host is not a known GitHub or GitLab host (pass --forge github|gitlab)",
            ),
            (
                PlanError::ArgoCdSourceDir.into(),
                "an Argo CD application's override file is written for one source directory: give that directory as the only path",
                "--argocd-app writes one application's override file: give its source directory as the only path",
            ),
            (
                PlanError::Policy {
                    file: "a.yaml".into(),
                    line: 3,
                    error: PolicyError::Downgrade { old: "2.0.0".into(), new: "1.5.0".into() },
                }
                .into(),
                "a.yaml:3: refusing to move 2.0.0 back to 1.5.0 (no downgrades): the config already holds a newer version",
                "a.yaml:3: refusing to move 2.0.0 back to 1.5.0 (--no-downgrade): the config already holds a newer version",
            ),
            (
                PolicyError::NotAllowed { new: "1.5.0".into(), pattern: "^v".into() }.into(),
                "refusing 1.5.0: it does not match the allowed tags ^v",
                "refusing 1.5.0: it does not match --allow-tags ^v",
            ),
            (
                GitError::Timeout {
                    url: "https://h/r.git".into(),
                    host: "h".into(),
                    operation: "clone".into(),
                    waited: tagbump::git::TimeLimit::Idle(Duration::from_secs(1)),
                    last_output: None,
                }
                .into(),
                "clone of https://h/r.git timed out: received nothing for 1 s (the idle limit) from h",
                "clone of https://h/r.git timed out: received nothing for 1 s (--io-timeout) from h",
            ),
            (
                GitError::RetriesExhausted {
                    seconds: 5,
                    last: "x".into(),
                    url: "u".into(),
                    branch: "main".into(),
                    attempts: 3,
                }
                .into(),
                "gave up after 3 attempts in 5 s: branch 'main' of u kept moving because of concurrent pushes (last: x); a longer retry budget (`RetryPolicy::retry_for`) waits longer",
                "gave up after 3 attempts in 5 s: branch 'main' of u kept moving because of concurrent pushes (last: x); raise --retry-for to wait longer",
            ),
            (
                GitError::Tls { url: "u".into(), detail: "bad cert".into() }.into(),
                "TLS with u failed: bad cert — if the server uses a private CA, give its certificate as the CA bundle",
                "TLS with u failed: bad cert — if the server uses a private CA, pass its certificate with --ca-bundle",
            ),
            (
                ApiLandError::Incomplete { repo: "GitHub repository a/b".into() }.into(),
                "GitHub repository a/b lists the tree only in part (too large for one API listing); name the files or directories to edit, or land with git",
                "GitHub repository a/b lists the tree only in part (too large for one API listing); name the files or directories to edit, or use --via git",
            ),
            (
                RegistryError::Auth { host: "r".into(), repository: "a/b".into(), status: 401, user: None }.into(),
                "r: access to repository a/b denied (401) without credentials; give a registry user name and password, or docker login to this registry",
                "r: access to repository a/b denied (401) without credentials; give --registry-username with TAGBUMP_REGISTRY_PASSWORD, or docker login to this registry",
            ),
            (
                RegistryError::Auth { host: "r".into(), repository: "a/b".into(), status: 403, user: Some("bot".into()) }.into(),
                "r: access to repository a/b denied (403) as user \"bot\"; check the registry user name and password, or the docker login for this registry",
                "r: access to repository a/b denied (403) as user \"bot\"; check --registry-username / TAGBUMP_REGISTRY_PASSWORD or the docker login for this registry",
            ),
            (
                RegistryError::InsecureRefused { url: "http://r".into() }.into(),
                "http://r: plain HTTP is only used for localhost, 127.0.0.0/8 and the hosts named as insecure registries",
                "http://r: plain HTTP is only used for localhost, 127.0.0.0/8 and hosts named with --insecure-registry",
            ),
        ];
        for (err, library, cli) in cases {
            assert_eq!(err.to_string(), library);
            assert!(!library.contains("--"), "{library}");
            assert_eq!(error_chain(&err), cli);
        }
    }
}
