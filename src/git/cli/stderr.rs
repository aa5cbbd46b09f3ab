//! Reading what git printed on stderr: progress meters removed, the lines that
//! explain a failure kept, and a failed run classified into a [`GitError`].

use crate::git::GitError;

/// git's stderr without progress meters (`--progress` output: lines rewritten with
/// `\r`, "Receiving objects: 42% …", "remote: Counting objects: …", "Total 3 …").
pub(crate) fn without_progress(stderr: &str) -> String {
    const METERS: [&str; 16] = [
        "Enumerating objects:",
        "Counting objects:",
        "Compressing objects:",
        "Writing objects:",
        "Receiving objects:",
        "Resolving deltas:",
        "Unpacking objects:",
        "Delta compression using",
        "Total ",
        "Checking objects:",
        "Updating files:",
        "Finding sources:",
        "Filtering content:",
        "Checking connectivity:",
        "Updating index flags:",
        "Unpacking files:",
    ];
    let mut out = String::with_capacity(stderr.len());
    for line in stderr.split('\n') {
        let line = line.trim_end_matches('\r');
        let line = line.rsplit('\r').next().unwrap_or(line);
        let body = line.strip_prefix("remote:").map_or(line, str::trim_start);
        if METERS.iter().any(|m| body.starts_with(m)) {
            continue;
        }
        if line.is_empty() && out.is_empty() {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out == "\n" {
        out.clear();
    }
    out
}

/// The `remote: ...` lines of git's stderr (already redacted), without the prefix.
pub(crate) fn remote_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Maps a failed git invocation (no per-ref status) to a [`GitError`] from its stderr.
pub(crate) fn classify_failure(
    stderr: &str,
    url: &str,
    operation: &'static str,
    branch: Option<&str>,
) -> GitError {
    let lower = stderr.to_ascii_lowercase();
    let detail = last_meaningful_lines(stderr);
    let any = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    // git daemon's refusals (`ERR <reason>: <path>`, printed as `fatal: remote error:
    // …`): "service not enabled" (e.g. receive-pack off), "no such repository",
    // "repository not exported", and, without `--informative-errors`, all of them as
    // "access denied or repository not exported". The latter is not about credentials
    // (git:// has none); for a push it is most often receive-pack being off.
    let daemon_refusal = any(&["access denied or repository not exported"]);
    if operation == "push" && (daemon_refusal || any(&["service not enabled"])) {
        return GitError::PushNotAllowed {
            url: url.to_string(),
            detail,
        };
    }
    if daemon_refusal
        || any(&[
            "no such repository",
            "repository not exported",
            "repository not found",
            "does not appear to be a git repository",
            "the requested url returned error: 404",
        ])
        || (lower.contains("repository '") && lower.contains("' not found"))
    {
        return GitError::RepoNotFound {
            url: url.to_string(),
            detail,
        };
    }
    if any(&[
        "authentication failed",
        "could not read username",
        "could not read password",
        "terminal prompts disabled",
        "access denied",
        "permission denied (publickey",
        "invalid username or password",
        "the requested url returned error: 401",
        "the requested url returned error: 403",
        "http basic: access denied",
    ]) {
        return GitError::Auth {
            url: url.to_string(),
            detail,
        };
    }
    if let Some(branch) = branch {
        if any(&[
            "not found in upstream",
            "couldn't find remote ref",
            "could not find remote branch",
        ]) {
            return GitError::BranchNotFound {
                url: url.to_string(),
                branch: branch.to_string(),
            };
        }
    }
    if any(&[
        "could not resolve host",
        "connection refused",
        "unable to connect",
        "failed to connect",
        "could not connect",
        "no route to host",
        "network is unreachable",
        "connection timed out",
        "not found",
        "name or service not known",
        "temporary failure in name resolution",
    ]) {
        return GitError::Unreachable {
            url: url.to_string(),
            detail,
        };
    }
    if any(&[
        "ssl certificate problem",
        "certificate verify failed",
        "server certificate verification failed",
        "unable to get local issuer certificate",
        "self signed certificate",
        "self-signed certificate",
        "ssl routines",
        "gnutls",
        "tls handshake",
    ]) {
        return GitError::Tls {
            url: url.to_string(),
            detail,
        };
    }
    // Only a connection that failed on the way is worth another attempt; anything else
    // (a protocol error, a corrupt pack, an unknown failure) would fail the same way.
    if any(&[
        "connection reset",
        "reset by peer",
        "hung up unexpectedly",
        "early eof",
        "unexpected disconnect",
        "rpc failed",
        "empty reply",
        "recv failure",
        "send failure",
        "broken pipe",
        "connection closed",
        "transfer closed",
        "unexpected eof",
        "the remote end hung up",
        "http/2 stream",
        "returned error: 502",
        "returned error: 503",
        "returned error: 504",
    ]) {
        return GitError::Transport {
            url: url.to_string(),
            operation,
            detail,
        };
    }
    GitError::Git {
        operation: operation.to_string(),
        detail,
    }
}

/// The last few non-empty lines of stderr, enough to explain a failure.
pub(crate) fn last_meaningful_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(4);
    let joined = lines[start..].join("; ");
    if joined.is_empty() {
        "git exited with an error and printed nothing".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_from_stderr() {
        assert!(matches!(
            classify_failure(
                "fatal: Authentication failed for 'https://h/r'",
                "u",
                "push",
                None
            ),
            GitError::Auth { .. }
        ));
        assert!(matches!(
            classify_failure(
                "fatal: unable to connect to 127.0.0.1:\nConnection refused",
                "u",
                "push",
                None
            ),
            GitError::Unreachable { .. }
        ));
        assert!(matches!(
            classify_failure(
                "warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin",
                "u",
                "clone",
                Some("nope")
            ),
            GitError::BranchNotFound { .. }
        ));
        assert!(matches!(
            classify_failure(
                "fatal: remote error: access denied or repository not exported: /nope.git",
                "u",
                "clone",
                Some("main")
            ),
            GitError::RepoNotFound { .. }
        ));
        assert!(matches!(
            classify_failure(
                "fatal: remote error: service not enabled: /r.git",
                "u",
                "push",
                None
            ),
            GitError::PushNotAllowed { .. }
        ));
        assert!(matches!(
            classify_failure(
                "remote: Repository not found.\nfatal: repository 'https://h/o/r.git/' not found",
                "u",
                "clone",
                None
            ),
            GitError::RepoNotFound { .. }
        ));
        assert!(matches!(
            classify_failure(
                "fatal: the remote end hung up unexpectedly",
                "u",
                "push",
                None
            ),
            GitError::Transport { .. }
        ));
    }
}
