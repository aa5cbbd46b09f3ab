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
//!
//! The commit holds exactly the edit: only the reported paths, on top of `HEAD` (other
//! staged changes stay staged, unstaged ones stay in the worktree). An edit that
//! changes a file which already had uncommitted changes (staged or not), or a file
//! `HEAD` does not track, is refused with [`GitError::DirtyWorktree`] naming the
//! files, and those files get their bytes back: the user's change and tagbump's could
//! not be told apart in one commit.

mod child;
mod cli;
mod clone;
mod clone_cmd;
mod clone_mode;
mod commit;
mod dirty;
mod error;
mod local;
mod redact;
mod remote;
mod sparse;
mod workdir;

use std::path::PathBuf;

pub use crate::change::{Applied, ApplyResult, CommitInfo, Identity};
pub use crate::retry::{RetryPolicy, Timeouts};
pub(crate) use child::terminate_all;
pub use clone_mode::write_back;
// The API lander (`land`, git + forge) checks its paths as a commit does.
#[cfg(feature = "forge")]
pub(crate) use commit::repo_path;
pub use error::{GitError, TimeLimit};
pub use local::commit_local;
pub use redact::strip_url_credentials;
pub use workdir::cleanup;

use crate::secret::Secret;

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

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Io { context, source }
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}
