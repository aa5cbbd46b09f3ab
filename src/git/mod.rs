//! Clone, commit and push a GitOps config repository — race-safe, time-bounded, and
//! without knowing anything about the files it commits.
//!
//! The caller edits the checkout in a closure ([`write_back`], [`commit_local`]) and
//! reports which files it changed ([`Applied`]); this module turns exactly those files
//! into one commit and pushes it.
//!
//! # How a write-back runs
//!
//! 1. **Clone** the remote into a fresh temporary directory: shallow (depth 1), single
//!    branch (the requested one, or the remote's default branch), no tags. With
//!    [`WriteBackOptions::sparse_paths`], a *sparse partial clone* instead: no file
//!    contents, then only those paths checked out (below).
//! 2. **Apply**: run the caller's closure on the checkout.
//! 3. **Commit** exactly the reported files on top of the cloned tip, with the caller's
//!    author, committer and message. No change → no commit, `changed = false`.
//! 4. **Push** the commit. If the remote rejects it because the branch moved in the
//!    meantime (another pipeline pushed first), **fetch the new tip into the same
//!    clone** (depth 1, same filter and sparse paths), reset the worktree to it, and
//!    **re-run the closure** — the edit is re-derived from fresh content, never rebased
//!    or force-pushed. A push rejected by a hook or branch protection is *not* retried.
//!
//! # Retries and time limits
//!
//! Concurrent pipelines pushing to one branch are the normal case, so retries are
//! bounded by *time* ([`RetryPolicy::retry_for`], default 3 minutes) with jittered
//! exponential backoff (see [`crate::retry`]), not by a small count. A connection that
//! fails during clone, fetch or push (reset by peer, the server's connection limit) is
//! retried within the same budget; after a push whose connection dropped, the next
//! fetch tells whether it landed (the new tip is our commit: done).
//!
//! Every git child runs under a watchdog ([`Timeouts`]): a server that goes silent for
//! [`Timeouts::idle`] (default 60 s) ends the step with [`GitError::Timeout`], naming
//! the host and the step, and is not retried; nothing runs past [`Timeouts::overall`]
//! (default 10 minutes). A timed-out child is killed with its whole process group.
//!
//! A push updates exactly one ref, which git applies atomically (so `--atomic`, which
//! matters only for multi-ref pushes, is not needed): a failed run leaves the remote
//! exactly as it was. Pushes from the temporary clone use `--no-verify` (the clone has no
//! hooks; server-side hooks still run); local mode runs the checkout's own hooks.
//!
//! # Which tool does what
//!
//! | step | tool | why |
//! | --- | --- | --- |
//! | everything that talks to a remote: clone, fetch, push, ls-remote, a sparse checkout's lazy blob fetch | the `git` binary | one transport stack that behaves exactly like git for users (SSH config and agents, CA bundles, proxies), and a child process the watchdog can kill: an in-process transfer cannot be interrupted while it waits on a silent socket |
//! | commit (blobs, tree, commit object, ref update) | `gix` | in-process, no index needed, works in blob-less clones |
//! | local mode: sync the index after committing | `git reset -q -- <files>` | keeps the user's index (extensions, split index, fsmonitor) consistent the way git does |
//! | local mode: fetch + reset after a rejection | `git fetch`, `git reset --keep` | runs with the checkout's own configuration; gix has no reset |
//!
//! # Credentials
//!
//! Tokens never appear in a URL, in `.git/config`, in a process's arguments, in log
//! lines or in error messages. git receives them through a credential helper that reads
//! them from environment variables set on that single child process, and that answers
//! only for the protocol and host of [`RemoteSpec::url`]: a redirect to another host
//! gets nothing (see `cli.rs`). A `user:password@` part in [`RemoteSpec::url`] is moved
//! into [`Auth::Token`] when no other auth was given, and always removed from the URL.
//! Every message is passed through [`Secret::redact`](crate::secret::Secret::redact) and
//! stripped of URL credentials. Only the https, http, ssh, git and file transports are
//! allowed (`ext::` and other command-running transports are refused).
//!
//! # Sparse partial clones
//!
//! A depth-1 clone still fetches the content of every file at the tip, so its cost
//! grows with the size of the repository. When the caller knows which files its edit
//! reads and writes ([`WriteBackOptions::sparse_paths`]), the clone is instead:
//!
//! 1. `git clone --depth=1 --single-branch --no-tags --filter=blob:none --no-checkout`:
//!    the tip commit and its trees, no blobs (a local path gets `--no-local` so the
//!    filter applies);
//! 2. a non-cone sparse checkout of exactly those paths (anchored, escaped patterns in
//!    `.git/info/sparse-checkout`), populated by `git read-tree -mu HEAD`, which fetches
//!    the missing blobs from the remote in one batch. That lazy fetch is a child of the
//!    same git process and inherits its credential helper and environment, so it
//!    authenticates exactly like the clone (see "Credentials").
//!
//! The closure sees only those paths; every other file is absent from the worktree but
//! kept, unchanged, in the commit: the commit is built from the parent's trees (all
//! fetched) plus the reported files, and never reads a blob it does not have. `git push`
//! from the partial clone sends the commit, the changed trees and the new blobs, and
//! fetches nothing.
//!
//! The trees are still fetched in full, so the transfer still grows with the number of
//! *directory entries*, only far more slowly than with the number of files' bytes (see
//! `benches/README.md`). `--filter=tree:0` does not help: git fetches a missing tree
//! together with all trees below it, starting with the root tree.
//!
//! Falls back to correct but larger transfers: a server without filter support sends
//! every blob (logged); a sparse path that is, is under, or contains a symbolic link
//! checks out the whole tip (the link's target may be elsewhere); a path `.` means the
//! whole tip; git older than 2.27 (the minimum for this mode; tested with 2.39 and
//! 2.47) makes an ordinary full clone.
//!
//! # Bot branches (`push_branch`)
//!
//! With [`WriteBackOptions::push_branch`], the commit is made on top of the *base*
//! branch's tip and pushed to the bot branch, which is created if missing. An existing
//! bot branch is overwritten with `--force-with-lease=<branch>:<tip we observed>`: it
//! is our own branch, so replacing it with "base + fresh edit" is intended, but if
//! somebody pushed to it after we looked, the lease fails and the attempt is retried
//! like any other race.
//!
//! # Local mode
//!
//! [`commit_local`] works on a checkout the workflow already has (e.g. from
//! `actions/checkout`): it commits the reported files on the checked-out branch and
//! optionally pushes to the branch's upstream. When the push is rejected because the
//! upstream moved, and only if the worktree has no other uncommitted changes to tracked
//! files, the branch is reset to the fetched upstream tip (`git reset --keep`, which
//! also refuses to overwrite untracked files), the closure re-runs, and the push is
//! tried again, within the same time budget. With other changes present,
//! [`GitError::DirtyWorktree`] is returned and nothing is discarded.

mod child;
mod cli;
mod clone;
mod commit;
mod error;
mod local;
mod redact;
mod remote;
mod sparse;

use std::path::{Path, PathBuf};

pub use crate::retry::{RetryPolicy, Timeouts};
pub use child::terminate_all;
pub(crate) use commit::repo_path;
pub use error::GitError;
pub use local::commit_local;
pub use redact::strip_url_credentials;

use crate::land::Attempt;
use crate::secret::Secret;
use clone::Cloned;
use remote::Remote;

/// Where the config repository lives and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct RemoteSpec {
    /// `https://…`, `http://…`, `ssh://…`, `user@host:path`, `git://…`, `file://…` or a
    /// local path. A `user:token@` part is accepted and moved into [`Auth::Token`].
    pub url: String,
    /// Branch to update; `None` = the remote's default branch (its `HEAD`).
    pub branch: Option<String>,
    /// Credentials.
    pub auth: Auth,
    /// PEM bundle of extra CA certificates for HTTPS (`http.sslCAInfo`).
    pub ca_bundle: Option<PathBuf>,
}

/// How to authenticate to the remote.
#[derive(Clone, Debug)]
pub enum Auth {
    /// No credentials; also never prompts.
    Anonymous,
    /// HTTP(S) basic auth with a token as password (GitHub: any username, e.g.
    /// `x-access-token`; GitLab: `oauth2`).
    Token {
        /// The username sent with the token.
        username: String,
        /// The token; only ever handed to the transport.
        token: Secret,
    },
    /// SSH: the agent and `~/.ssh/config`, plus an optional key file. A
    /// `GIT_SSH_COMMAND` in the environment is respected (the key is appended to it).
    Ssh {
        /// Private key to use (`ssh -i`).
        key_file: Option<PathBuf>,
    },
}

/// A person or bot in a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Message and identities of the commit to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// The full commit message.
    pub message: String,
    /// Author of the change.
    pub author: Identity,
    /// Committer (usually the bot).
    pub committer: Identity,
}

/// What the caller's closure returns after editing the checkout at the given root.
#[derive(Clone, Debug)]
pub struct Applied {
    /// Changed files, relative to the checkout root; empty = nothing changed. A listed
    /// file that no longer exists is deleted in the commit.
    pub files: Vec<PathBuf>,
    /// Message and identities for the commit.
    pub commit: CommitInfo,
}

/// Options of a write-back.
#[derive(Clone, Debug, Default)]
pub struct WriteBackOptions {
    /// Push to this branch instead of the base branch (pull-request mode). It is created
    /// from the base tip; an existing one is replaced under a lease (see module docs).
    pub push_branch: Option<String>,
    /// How long to keep retrying races and dropped connections.
    pub retry: RetryPolicy,
    /// Idle timeout of every network step and the run's overall deadline.
    pub timeouts: Timeouts,
    /// Clone and run the closure (so the caller can show a diff), but neither commit nor push.
    pub dry_run: bool,
    /// Debugging aid: make the clone in `<dir>/repo` (created if needed; an existing
    /// `repo` is replaced) and keep it, instead of a self-deleting temporary directory.
    /// Ignored by [`commit_local`].
    pub keep_clone: Option<PathBuf>,
    /// `None`: check out the whole tip. `Some(paths)`: the caller promises that its
    /// closure only reads and writes files under these repository-relative paths (files
    /// or directories), so the clone is a blob-less partial clone with only these paths
    /// checked out: the transfer no longer includes the contents of every other file.
    /// Files outside them do not exist in the checkout. See "Sparse partial clones" in
    /// the module docs for the fallbacks (old git, servers without filter support,
    /// symbolic links). Ignored by [`commit_local`].
    pub sparse_paths: Option<Vec<PathBuf>>,
}

/// The result of a successful write-back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteBackOutcome {
    /// Whether the closure's edit changed anything (in dry-run: would have committed).
    pub changed: bool,
    /// The pushed (or, without push, created) commit, as hex.
    pub commit: Option<String>,
    /// The branch pushed to (the bot branch in pull-request mode).
    pub branch: String,
    /// The branch the commit is based on.
    pub base_branch: String,
    /// How many attempts it took (1 = no race).
    pub attempts: u32,
    /// Files the final attempt's closure reported.
    pub files: Vec<PathBuf>,
}

/// The edit closure type accepted by [`write_back`] and [`commit_local`].
pub type ApplyResult = Result<Applied, Box<dyn std::error::Error + Send + Sync>>;

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Io { context, source }
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// The directory of the clone: a self-deleting temp dir, or a kept one. Temporary
/// clones are registered so that a signal handler can remove them ([`cleanup`]).
enum WorkDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

/// Temporary clone directories that exist right now.
static LIVE_CLONES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl WorkDir {
    fn new(keep: Option<&Path>) -> Result<WorkDir, GitError> {
        match keep {
            Some(dir) => {
                let path = dir.to_path_buf();
                let repo = path.join("repo");
                if repo.exists() {
                    std::fs::remove_dir_all(&repo)
                        .map_err(io_err(format!("clearing {}", repo.display())))?;
                }
                std::fs::create_dir_all(&path)
                    .map_err(io_err(format!("creating {}", path.display())))?;
                Ok(WorkDir::Kept(path))
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("tagbump-clone-")
                    .tempdir()
                    .map_err(io_err("creating a temporary directory for the clone"))?;
                if let Ok(mut live) = LIVE_CLONES.lock() {
                    live.push(dir.path().to_path_buf());
                }
                Ok(WorkDir::Temp(dir))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            WorkDir::Temp(t) => t.path(),
            WorkDir::Kept(p) => p,
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let WorkDir::Temp(t) = self {
            if let Ok(mut live) = LIVE_CLONES.lock() {
                live.retain(|p| p != t.path());
            }
        }
    }
}

/// For signal handlers: kills every running git child ([`terminate_all`]) and removes
/// every temporary clone, so that a stopped run leaves neither a push that lands later
/// nor a clone on disk. The process should exit right after.
pub fn cleanup() {
    terminate_all();
    let dirs = LIVE_CLONES
        .lock()
        .map(|live| live.clone())
        .unwrap_or_default();
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

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
/// dropped connections are retried until [`RetryPolicy::retry_for`] is spent
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
    if remote.url.to_ascii_lowercase().starts_with("http://")
        && matches!(remote.auth, Auth::Token { .. })
    {
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
    let result = crate::land::with_retries(&mut run, &opts.retry, remote.deadline(), log);
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

impl<F> crate::land::Attempts for Run<'_, F>
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
