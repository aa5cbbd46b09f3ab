//! One `git push` of one ref, and what its `--porcelain` output says: pushed, lost a
//! race (the ref moved: fetch and try again), or refused (a hook, branch protection).

use std::path::Path;

use super::stderr::{classify_failure, remote_lines};
use super::{GitOutput, GitRunner};
use crate::git::GitError;

/// The result of a push that git carried out (successfully or not at the ref level).
#[derive(Debug)]
pub(crate) enum PushStatus {
    /// The ref was updated.
    Pushed,
    /// The ref moved under us (non-fast-forward, fetch first, stale lease, lock
    /// contention on the server): fetch, re-apply and try again.
    Moved { reason: String },
}

/// What we expect the destination ref to be, for `--force-with-lease`.
pub(crate) enum Lease<'a> {
    /// Plain fast-forward push: git itself refuses anything else.
    FastForwardOnly,
    /// Overwrite the ref only if it still has this value (`None`: it must not exist).
    Expect(Option<&'a str>),
}

/// One push: `commit` to `dst_ref` (a full `refs/heads/...` name) on `remote`.
pub(crate) struct PushRequest<'a> {
    /// URL or remote name, as passed to `git push`.
    pub remote: &'a str,
    /// Credential-free URL for messages.
    pub display_url: &'a str,
    /// Hex id of the commit to push.
    pub commit: &'a str,
    /// Full destination ref.
    pub dst_ref: &'a str,
    /// Fast-forward only, or a lease.
    pub lease: Lease<'a>,
    /// Pass `--no-verify` (temporary clones only).
    pub skip_local_hooks: bool,
}

/// Runs the push described by `req` in `dir` and classifies the outcome.
pub(crate) fn push(
    runner: &GitRunner<'_>,
    dir: &Path,
    req: PushRequest<'_>,
) -> Result<PushStatus, GitError> {
    let PushRequest {
        remote,
        display_url,
        commit,
        dst_ref,
        lease,
        skip_local_hooks,
    } = req;
    let mut args: Vec<String> = vec!["push".into(), "--porcelain".into(), "--progress".into()];
    if skip_local_hooks {
        // A temporary clone has no hooks of its own; `--no-verify` only skips *local*
        // pre-push hooks. Server-side hooks and branch protection still apply.
        args.push("--no-verify".into());
    }
    if let Lease::Expect(expected) = lease {
        args.push(format!(
            "--force-with-lease={dst_ref}:{}",
            expected.unwrap_or("")
        ));
    }
    args.push(remote.to_string());
    args.push(format!("{commit}:{dst_ref}"));
    let out = runner.run(dir, &args)?;
    classify_push(&out, display_url, dst_ref)
}

fn classify_push(out: &GitOutput, url: &str, dst_ref: &str) -> Result<PushStatus, GitError> {
    // Porcelain ref lines: "<flag>\t<from>:<to>\t<summary>".
    let ref_line = out.stdout.lines().find_map(|line| {
        let mut parts = line.splitn(3, '\t');
        let flag = parts.next()?;
        let refs = parts.next()?;
        let summary = parts.next().unwrap_or("");
        (flag.len() == 1 && refs.ends_with(dst_ref))
            .then(|| (flag.to_string(), summary.to_string()))
    });
    let branch = dst_ref.trim_start_matches("refs/heads/").to_string();
    match ref_line {
        Some((flag, _)) if out.success && flag != "!" => Ok(PushStatus::Pushed),
        Some((flag, summary)) if flag == "!" => {
            let lower = summary.to_ascii_lowercase();
            let moved = lower.starts_with("[rejected]")
                || lower.contains("cannot lock ref")
                || lower.contains("failed to update ref")
                || lower.contains("failed to lock")
                || lower.contains("incorrect old value");
            if moved {
                Ok(PushStatus::Moved {
                    reason: summary.trim().to_string(),
                })
            } else {
                Err(GitError::Rejected {
                    url: url.to_string(),
                    branch,
                    reason: summary.trim().to_string(),
                    remote_messages: remote_lines(&out.stderr),
                })
            }
        }
        Some(_) => Ok(PushStatus::Pushed),
        None if out.success => Ok(PushStatus::Pushed),
        None => Err(classify_failure(&out.stderr, url, "push", None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(success: bool, stdout: &str, stderr: &str) -> GitOutput {
        GitOutput {
            success,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn fetch_first_is_a_race_not_an_error() {
        let o = out(
            false,
            "To x\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n",
            "error: failed to push some refs",
        );
        assert!(matches!(
            classify_push(&o, "u", "refs/heads/main"),
            Ok(PushStatus::Moved { .. })
        ));
    }

    #[test]
    fn hook_rejection_carries_remote_lines() {
        let o = out(
            false,
            "To x\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n",
            "remote: frozen: deploys are paused\nerror: failed to push some refs",
        );
        match classify_push(&o, "u", "refs/heads/main") {
            Err(GitError::Rejected {
                remote_messages, ..
            }) => assert_eq!(
                remote_messages,
                vec!["frozen: deploys are paused".to_string()]
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn server_side_lock_contention_is_a_race() {
        let o = out(
            false,
            "!\tabc:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 1 but expected 2)\n",
            "",
        );
        assert!(matches!(
            classify_push(&o, "u", "refs/heads/main"),
            Ok(PushStatus::Moved { .. })
        ));
    }
}
