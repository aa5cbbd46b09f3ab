//! [`write_back`]: a write-back through a fresh clone (local mode is `local.rs`),
//! attempt by attempt — clone (or fetch the new tip), run the caller's edit, commit
//! exactly the files it reports, push, and start again on the new tip when the branch
//! moved (see the [module documentation](super)).

use std::path::{Path, PathBuf};

use super::clone::{self, Cloned};
use super::remote::{self, Remote};
use super::workdir::WorkDir;
use super::{cli, commit, io_err, short, sparse};
use super::{ApplyResult, Auth, GitError, RemoteSpec, WriteBackOptions, WriteBackOutcome};
use crate::retry::Attempt;
use crate::url::Transport;

/// The normalised sparse paths to use, or `None` for a full checkout (none requested,
/// one of them is the whole repository, or the git binary is too old).
fn sparse_paths(
    remote: &Remote,
    opts: &WriteBackOptions,
    log: &mut dyn FnMut(&str),
) -> Result<Option<Vec<String>>, GitError> {
    let Some(paths) = &opts.sparse_paths else {
        return Ok(None);
    };
    let Some(normalised) = sparse::normalise(paths)? else {
        return Ok(None);
    };
    match cli::git_version(&remote.runner(), &std::env::temp_dir()) {
        Some(version) if version >= sparse::MIN_GIT => Ok(Some(normalised)),
        found => {
            let (major, minor) = sparse::MIN_GIT;
            log(&format!(
                "sparse clone needs git >= {major}.{minor} ({}); cloning the whole tip instead",
                found.map_or("git version unknown".to_string(), |(a, b)| format!(
                    "found {a}.{b}"
                ))
            ));
            Ok(None)
        }
    }
}

/// Clones `spec`, runs `apply` on the checkout, commits the files it reports and pushes,
/// retrying on the new tip (and re-running `apply`) whenever the branch moved under us.
///
/// `log` receives one human-readable, redacted line per step and per retry.
///
/// # Errors
///
/// See [`GitError`]; a hook rejection or a timeout is returned immediately; races and
/// dropped connections are retried until [`RetryPolicy::retry_for`](super::RetryPolicy::retry_for) is spent
/// ([`GitError::RetriesExhausted`]).
pub fn write_back<F>(
    spec: &RemoteSpec,
    opts: &WriteBackOptions,
    log: &mut dyn FnMut(&str),
    apply: F,
) -> Result<WriteBackOutcome, GitError>
where
    F: FnMut(&Path) -> ApplyResult,
{
    let remote = remote::resolve(spec, &opts.timeouts)?;
    if remote.transport == Transport::Http && matches!(remote.auth, Auth::Token { .. }) {
        log(&format!(
            "warning: sending credentials to {} over unencrypted http://",
            remote.url
        ));
    }
    let sparse_paths = sparse_paths(&remote, opts, log)?;
    let work = WorkDir::new(opts.keep_clone.as_deref())?;
    let mut run = Run {
        remote: &remote,
        spec,
        opts,
        dest: work.path().join("repo"),
        sparse_paths: sparse_paths.as_deref(),
        cloned: None,
        in_doubt: None,
        apply,
    };
    let result = crate::retry::with_retries(&mut run, &opts.retry, remote.deadline(), log);
    result.map_err(|e| match e {
        GitError::RetriesExhausted {
            url,
            branch,
            attempts,
            seconds,
            last,
        } => GitError::RetriesExhausted {
            url,
            branch,
            attempts,
            seconds,
            last: remote.redactor.redact(&last),
        },
        other => other,
    })
}

/// The state that carries over from one attempt of a write-back to the next.
struct Run<'a, F> {
    remote: &'a Remote,
    spec: &'a RemoteSpec,
    opts: &'a WriteBackOptions,
    dest: PathBuf,
    sparse_paths: Option<&'a [String]>,
    /// The clone, once made; refreshed after a lost race.
    cloned: Option<Cloned>,
    /// A commit whose push lost its connection, and the files it changed: if the next
    /// fetch finds it at the tip, it landed.
    in_doubt: Option<(String, Vec<PathBuf>)>,
    /// The caller's edit.
    apply: F,
}

impl<F> crate::retry::Attempts for Run<'_, F>
where
    F: FnMut(&Path) -> ApplyResult,
{
    type Output = WriteBackOutcome;
    type Error = GitError;

    fn attempt(
        &mut self,
        attempt: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Attempt<WriteBackOutcome>, GitError> {
        match self.try_once(attempt, log) {
            Err(GitError::Transport {
                operation, detail, ..
            }) => Ok(Attempt::Retry(self.remote.redactor.redact(&format!(
                "the connection failed during {operation}: {detail}"
            )))),
            other => other,
        }
    }

    fn gave_up(&self, attempts: u32, elapsed: std::time::Duration, last: String) -> GitError {
        GitError::RetriesExhausted {
            url: self.remote.url.clone(),
            branch: self
                .opts
                .push_branch
                .clone()
                .or_else(|| self.cloned.as_ref().map(|c| c.branch.clone()))
                .or_else(|| self.spec.branch.clone())
                .unwrap_or_else(|| "(default)".to_string()),
            attempts,
            seconds: elapsed.as_secs(),
            last,
        }
    }
}

impl<F> Run<'_, F>
where
    F: FnMut(&Path) -> ApplyResult,
{
    /// Clones (first attempt, or after a failed fetch) or fetches the new tip into the
    /// existing clone.
    fn checkout(&mut self, attempt: u32, log: &mut dyn FnMut(&str)) -> Result<(), GitError> {
        let remote = self.remote;
        let (cloned, verb) = match self.cloned.take() {
            Some(previous) => (
                clone::refresh(remote, &previous, &self.dest, self.sparse_paths)?,
                "fetched",
            ),
            None => {
                if self.dest.exists() {
                    std::fs::remove_dir_all(&self.dest)
                        .map_err(io_err(format!("clearing {}", self.dest.display())))?;
                }
                (
                    clone::shallow_clone(
                        remote,
                        self.spec.branch.as_deref(),
                        &self.dest,
                        self.sparse_paths,
                    )?,
                    "cloned",
                )
            }
        };
        let count = self.sparse_paths.map_or(0, <[String]>::len);
        let how = match &cloned.sparse {
            None => "shallow, depth 1".to_string(),
            Some(sparse::Checkout::Sparse) => format!(
                "shallow, depth 1, blob-less; checked out {count} sparse path(s)"
            ),
            Some(sparse::Checkout::SparseUnfiltered) => format!(
                "shallow, depth 1; checked out {count} sparse path(s); the server does not support partial clone, so every file's content was fetched"
            ),
            Some(sparse::Checkout::FullBecauseOfSymlink(link)) => format!(
                "shallow, depth 1, blob-less; checked out everything because the sparse paths involve the symbolic link {link}"
            ),
        };
        log(&remote.redactor.redact(&format!(
            "attempt {attempt}: {verb} {} branch '{}' at {} ({how})",
            remote.url,
            cloned.branch,
            short(&cloned.tip.to_hex().to_string())
        )));
        self.cloned = Some(cloned);
        Ok(())
    }

    fn try_once(
        &mut self,
        attempt: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Attempt<WriteBackOutcome>, GitError> {
        let remote = self.remote;
        let opts = self.opts;
        let dest = self.dest.clone();
        // A push in doubt stays in doubt until a fetch has shown the new tip.
        self.checkout(attempt, log)?;
        let in_doubt = self.in_doubt.take();
        let Some(cloned) = self.cloned.as_ref() else {
            return Err(GitError::Git {
                operation: "clone".to_string(),
                detail: "the checkout vanished between steps".to_string(),
            });
        };
        let base_branch = cloned.branch.clone();
        let target_branch = opts
            .push_branch
            .clone()
            .unwrap_or_else(|| base_branch.clone());
        let tip_hex = cloned.tip.to_hex().to_string();
        let outcome =
            |changed: bool, commit: Option<String>, files: Vec<PathBuf>| WriteBackOutcome {
                changed,
                commit,
                branch: target_branch.clone(),
                base_branch: base_branch.clone(),
                attempts: attempt,
                files,
            };
        if let Some((commit, files)) = in_doubt {
            if opts.push_branch.is_none() && commit == tip_hex {
                log(&format!(
                    "the earlier push of {} did land: it is the tip of '{target_branch}'",
                    short(&commit)
                ));
                return Ok(Attempt::Done(outcome(true, Some(commit), files)));
            }
        }

        let applied = (self.apply)(&dest).map_err(GitError::Apply)?;
        let files = applied.files.clone();
        let built = commit::build_tree(&cloned.repo, &dest, cloned.tip, &files)?;
        if !built.changed() {
            log(&format!("no changes to commit on '{base_branch}'"));
            return Ok(Attempt::Done(outcome(false, None, files)));
        }
        if opts.dry_run {
            log(&format!(
                "dry run: {} file(s) would be committed to '{target_branch}'; nothing committed or pushed",
                files.len()
            ));
            return Ok(Attempt::Done(outcome(true, None, files)));
        }

        let lease = if target_branch != base_branch {
            let observed = clone::remote_branch_tip(remote, &dest, &target_branch)?;
            log(&match &observed {
                Some(sha) => format!(
                    "bot branch '{target_branch}' exists at {}; replacing it under a lease",
                    short(sha)
                ),
                None => format!("creating branch '{target_branch}' from '{base_branch}'"),
            });
            Some(observed)
        } else {
            None
        };

        let reference = format!("refs/heads/{target_branch}");
        let commit_id = commit::create_commit(
            &cloned.repo,
            &reference,
            built.tree,
            cloned.tip,
            &applied.commit,
        )?;
        let commit_hex = commit_id.to_hex().to_string();
        log(&format!(
            "committed {} ({} file(s)) on top of {}",
            short(&commit_hex),
            files.len(),
            short(&tip_hex)
        ));

        let status = cli::push(
            &remote.runner(),
            &dest,
            cli::PushRequest {
                remote: &remote.url,
                display_url: &remote.url,
                commit: &commit_hex,
                dst_ref: &reference,
                lease: match &lease {
                    Some(observed) => cli::Lease::Expect(observed.as_deref()),
                    None => cli::Lease::FastForwardOnly,
                },
                skip_local_hooks: true,
            },
        );
        match status {
            Ok(cli::PushStatus::Pushed) => {
                log(&format!(
                    "pushed {} to '{target_branch}'",
                    short(&commit_hex)
                ));
                Ok(Attempt::Done(outcome(true, Some(commit_hex), files)))
            }
            Ok(cli::PushStatus::Moved { reason }) => Ok(Attempt::Retry(format!(
                "push to '{target_branch}' rejected ({reason}): the branch moved"
            ))),
            Err(e @ GitError::Transport { .. }) => {
                self.in_doubt = Some((commit_hex, files));
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
