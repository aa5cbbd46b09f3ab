//! Why a run failed: the message people read and a stable kind for machines, derived from
//! the library's typed errors by walking the error's causes.

use std::error::Error as StdError;

use tagbump::bump::ReportedError;

/// The `error` member of the JSON output: the error and its causes as printed on
/// stderr (without `error: `), and its kind (see [`kind`]).
pub fn error_report(err: &anyhow::Error) -> ReportedError {
    ReportedError {
        message: error_chain(err),
        kind: kind(err),
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
    if let Some(kind) = cause
        .downcast_ref::<tagbump::environments::PromoteError>()
        .and_then(tagbump::environments::PromoteError::kind)
    {
        return Some(kind);
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

/// The error and its causes joined by `: ` (like `{err:#}`), leaving out a cause whose
/// text is already part of an outer message (library errors often repeat their source
/// in their own message), then the flag or command that would help, if one would (see
/// [`advice`](super::advice::advice)), with every known token redacted.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut text = chain_text(err);
    if let Some(advice) = super::advice::advice(err) {
        text.push_str("; ");
        text.push_str(&advice);
    }
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    tagbump::credentials::redact(&text, &secrets)
}

fn chain_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let mut part = super::advice::flag_text(cause).unwrap_or_else(|| cause.to_string());
        if text.contains(&part) {
            continue;
        }
        // `FILE: why` under a context that already says `in FILE`: the file once.
        if let Some((file, why)) = part.split_once(": ") {
            if text.contains(&format!(" in {file}")) {
                part = why.to_string();
            }
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
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
    fn a_cause_repeated_by_its_parent_is_printed_once() {
        let inner = std::io::Error::other("disk full");
        let outer = anyhow::Error::new(inner)
            .context("writing failed: disk full")
            .context("cannot apply x");
        assert_eq!(
            error_chain(&outer),
            "cannot apply x: writing failed: disk full"
        );
        let plain = anyhow::anyhow!("root cause").context("outer");
        assert_eq!(error_chain(&plain), "outer: root cause");
        let file = anyhow::anyhow!("a.yaml: malformed YAML at line 9")
            .context("cannot apply x=1 in a.yaml");
        assert_eq!(
            error_chain(&file),
            "cannot apply x=1 in a.yaml: malformed YAML at line 9"
        );
    }

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
}
