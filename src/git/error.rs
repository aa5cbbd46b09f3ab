//! What can go wrong while landing a change with git. Every message is redacted.

use std::path::PathBuf;

/// The time limit that ended a git network step ([`GitError::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeLimit {
    /// Nothing was received for this long ([`Timeouts::idle`](crate::retry::Timeouts::idle)).
    Idle(std::time::Duration),
    /// The run's overall deadline passed ([`Timeouts::overall`](crate::retry::Timeouts::overall)).
    Overall,
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeLimit::Idle(d) => write!(
                f,
                "received nothing for {} s (the idle limit)",
                d.as_secs_f32()
            ),
            TimeLimit::Overall => f.write_str("the run's overall deadline passed"),
        }
    }
}

/// Everything that can go wrong. All messages are redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// The remote could not be reached or the repository does not exist there.
    #[error("cannot reach the git repository {url}: {detail}")]
    Unreachable {
        /// Remote URL without credentials.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The server says the repository does not exist, is not exported (git daemon),
    /// or is not visible to us (GitHub answers "not found" for a private repository the
    /// credentials cannot see).
    #[error("repository {url} not found (or not exported / no access): {detail}")]
    RepoNotFound {
        /// Remote URL without credentials.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The server does not accept pushes at all on this transport (a git daemon without
    /// `--enable=receive-pack`). Not retried.
    #[error(
        "pushes not allowed by {url}: {detail} — a git daemon accepts pushes only with --enable=receive-pack (or receive-pack enabled per repository); push over ssh or https instead"
    )]
    PushNotAllowed {
        /// Remote URL without credentials.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The remote refused our credentials.
    #[error(
        "authentication to {url} failed: {detail} — check that the token (or key) is valid and has write permission on the repository"
    )]
    Auth {
        /// Remote URL without credentials.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The requested branch does not exist on the remote.
    #[error("branch '{branch}' not found in {url}")]
    BranchNotFound {
        /// Remote URL without credentials.
        url: String,
        /// The missing branch.
        branch: String,
    },
    /// The remote refused the push (server-side hook, branch protection, …). Not retried.
    #[error(
        "push to branch '{branch}' of {url} was rejected by the remote: {reason}{}",
        format_remote_lines(remote_messages)
    )]
    Rejected {
        /// Remote URL without credentials.
        url: String,
        /// The branch we pushed to.
        branch: String,
        /// git's one-line reason, e.g. `[remote rejected] (pre-receive hook declined)`.
        reason: String,
        /// The remote's `remote:` lines (hook output), redacted.
        remote_messages: Vec<String>,
    },
    /// The branch kept moving (or the connection kept failing) for the whole retry
    /// budget; we gave up.
    #[error(
        "gave up after {attempts} attempts in {seconds} s: branch '{branch}' of {url} kept moving because of concurrent pushes (last: {last}); a longer retry budget (`RetryPolicy::retry_for`) waits longer"
    )]
    RetriesExhausted {
        /// Seconds spent.
        seconds: u64,
        /// The last reason to retry.
        last: String,
        /// Remote URL without credentials.
        url: String,
        /// The branch we pushed to.
        branch: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A network step was abandoned: the server stopped answering (idle timeout) or
    /// the run's overall deadline passed. Not retried.
    #[error("{operation} of {url} timed out: {waited} from {host}{}", last_output.as_ref().map(|o| format!(" (git said: {o})")).unwrap_or_default())]
    Timeout {
        /// Remote URL without credentials.
        url: String,
        /// `host[:port]` that was waited for.
        host: String,
        /// `clone`, `fetch`, `push`, `ls-remote`, ….
        operation: String,
        /// Which limit ended it.
        waited: TimeLimit,
        /// The last lines git printed, if any (redacted).
        last_output: Option<String>,
    },
    /// TLS failed: usually a certificate the system does not trust (a private CA).
    #[error(
        "TLS with {url} failed: {detail} — if the server uses a private CA, give its certificate as the CA bundle"
    )]
    Tls {
        /// Remote URL without credentials.
        url: String,
        /// What the transport said.
        detail: String,
    },
    /// The connection failed in the middle of an operation (e.g. dropped during push).
    /// Retried within the retry budget.
    #[error("the connection to {url} failed during {operation}: {detail}")]
    Transport {
        /// Remote URL without credentials.
        url: String,
        /// `clone`, `push`, `fetch`, ….
        operation: &'static str,
        /// What the transport said.
        detail: String,
    },
    /// Local mode: a file the edit changed already had uncommitted changes (staged or
    /// not) or is not tracked, so the commit would hold more than the edit (the file
    /// gets its bytes back); or the branch moved upstream and the checkout has other
    /// uncommitted changes, so it is not reset.
    #[error("{}", dirty_message(path, files, *upstream_moved))]
    DirtyWorktree {
        /// The checkout.
        path: PathBuf,
        /// The paths with uncommitted changes, comma-separated.
        files: String,
        /// `true`: found while moving to a new upstream tip after a lost race;
        /// `false`: the edit touched these files.
        upstream_moved: bool,
    },
    /// Bad input: a path outside the checkout, a bare repository, no upstream, ….
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// A local file-system problem (temporary directory, disk full, …).
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The caller's edit closure failed; its error is passed through unchanged.
    #[error("applying the edit failed: {0}")]
    Apply(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other git failure.
    #[error("git {operation} failed: {detail}")]
    Git {
        /// What we were doing.
        operation: String,
        /// Details.
        detail: String,
    },
}

fn dirty_message(path: &std::path::Path, files: &str, upstream_moved: bool) -> String {
    let path = path.display();
    if upstream_moved {
        format!("the upstream of {path} moved and the checkout has uncommitted changes besides ours ({files}); not resetting it — commit or stash them and retry")
    } else {
        format!("uncommitted changes in {path} to files the edit changes: {files}; a commit would hold them too, so nothing was committed and the files are as they were — commit or stash them and retry")
    }
}

fn format_remote_lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("\nremote: {l}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_error_lists_remote_lines() {
        let e = GitError::Rejected {
            url: "u".into(),
            branch: "main".into(),
            reason: "[remote rejected] (pre-receive hook declined)".into(),
            remote_messages: vec!["frozen".into()],
        };
        assert!(e.to_string().ends_with("declined)\nremote: frozen"));
    }
}
