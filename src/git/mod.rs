//! Clone, commit and push a GitOps config repository — race-safe, and without
//! knowing anything about the files it commits.
//!
//! The caller edits the checkout in a closure ([`write_back`], [`commit_local`]) and
//! reports which files it changed ([`Applied`]); this module turns exactly those files
//! into one commit and pushes it.
//!
//! # How a write-back runs
//!
//! 1. **Clone** the remote into a fresh temporary directory: shallow (depth 1), single
//!    branch (the requested one, or the remote's default branch), only tags that point
//!    at the fetched commit. With [`WriteBackOptions::sparse_paths`], a *sparse partial
//!    clone* instead: no file contents, then only those paths checked out (below).
//! 2. **Apply**: run the caller's closure on the checkout.
//! 3. **Commit** exactly the reported files on top of the cloned tip, with the caller's
//!    author, committer and message. No change → no commit, `changed = false`.
//! 4. **Push** the commit. If the remote rejects it because the branch moved in the
//!    meantime (another pipeline pushed first), start over from step 1 on the new tip
//!    and **re-run the closure** — the edit is re-derived from fresh content, never
//!    rebased or force-pushed. Retries are bounded by [`RetryPolicy`] and spaced by
//!    jittered exponential backoff. A push rejected by a hook or branch protection is
//!    *not* retried.
//!
//! Every attempt starts from a fresh shallow clone instead of fetching into the old one
//! and resetting it: for a depth-1 clone the transfer is the same (the new tip's tree),
//! and a fresh directory guarantees the closure never sees leftovers from its previous
//! run.
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
//! | clone over `https://`, `git://`, `file://`, and anonymous `http://` | `gix` | in-process, shallow, credentials via a callback |
//! | clone over `http://` with a token | `git clone --depth 1` | gix refuses to send credentials in clear text (a gix-transport compile-time feature we keep off); git does, and we log a warning |
//! | clone over `ssh://` / `user@host:path` | `git clone --depth 1` | `GIT_SSH_COMMAND`, agents, `~/.ssh/config` and key files behave exactly like git |
//! | clone over HTTPS with a custom CA bundle | `git clone` with `-c http.sslCAInfo` | gix 0.90's reqwest backend ignores `http.sslCAInfo` |
//! | commit (blobs, tree, commit object, ref update) | `gix` | |
//! | sparse partial clone ([`WriteBackOptions::sparse_paths`]), any transport | `git clone --filter=blob:none --no-checkout`, `git read-tree -mu HEAD` | gix 0.90 has no partial clone, no lazy fetch of missing objects |
//! | push | `git push --porcelain` | gix cannot push |
//! | bot-branch lease look-up | `gix` (ls-refs), or `git ls-remote` for the git-binary transports | |
//! | local mode: sync the index after committing | `git reset -q -- <files>` | keeps the user's index (extensions, split index, fsmonitor) consistent the way git does |
//! | local mode: fetch + reset after a rejection | `git fetch`, `git reset --keep` | runs with the checkout's own configuration; gix has no reset |
//!
//! # Credentials
//!
//! Tokens never appear in a URL, in `.git/config`, in a process's arguments, in log
//! lines or in error messages. gix receives them through its credentials callback; the
//! git binary through a credential helper that reads them from environment variables set
//! on that single child process (see `cli.rs`). A `user:password@` part in
//! [`RemoteSpec::url`] is moved into [`Auth::Token`] when no other auth was given, and
//! always removed from the URL. Every message is passed through [`Secret::redact`] and
//! stripped of URL credentials.
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
//! fetches nothing. Each retry after a race starts from a fresh sparse clone.
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
//! from scratch like any other race.
//!
//! # Local mode
//!
//! [`commit_local`] works on a checkout the workflow already has (e.g. from
//! `actions/checkout`): it commits the reported files on the checked-out branch and
//! optionally pushes to the branch's upstream. When the push is rejected because the
//! upstream moved, and only if the worktree has no other uncommitted changes to tracked
//! files, the branch is reset to the fetched upstream tip (`git reset --keep`, which
//! also refuses to overwrite untracked files), the closure re-runs, and the push is
//! tried again. With other changes present, [`GitError::DirtyWorktree`] is returned and
//! nothing is discarded.

mod cli;
mod clone;
mod commit;
mod redact;
mod sparse;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::secret::Secret;

pub use redact::strip_url_credentials;

use clone::{Engine, Remote};

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

/// How often and how patiently to retry when the branch moved under us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (at least 1).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Upper bound for a single delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 200 ms base delay, at most 5 s between attempts.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `next_attempt` (2 for the first retry): exponential, capped,
    /// with "equal jitter" (uniformly between half and all of it) so that concurrent
    /// writers spread out.
    pub fn delay_before(&self, next_attempt: u32) -> Duration {
        let exp = next_attempt.saturating_sub(2).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = fastrand::u64(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_millis(jitter_ms)
    }
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
    /// Retry policy for races.
    pub retry: RetryPolicy,
    /// Clone and run the closure (so the caller can show a diff), but neither commit nor push.
    pub dry_run: bool,
    /// Debugging aid: make each attempt's clone in `<dir>/attempt-<n>/repo` (created if
    /// needed; an existing `attempt-<n>` is replaced) and keep it, instead of a
    /// self-deleting temporary directory.
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

/// Everything that can go wrong. All messages are redacted.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The remote could not be reached or the repository does not exist there.
    #[error("cannot reach the git repository {url}: {detail}")]
    Unreachable {
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
    /// The branch kept moving; we gave up.
    #[error(
        "gave up after {attempts} attempts: branch '{branch}' of {url} kept moving because of concurrent pushes"
    )]
    RetriesExhausted {
        /// Remote URL without credentials.
        url: String,
        /// The branch we pushed to.
        branch: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection failed in the middle of an operation (e.g. dropped during push).
    #[error("the connection to {url} failed during {operation}: {detail}")]
    Transport {
        /// Remote URL without credentials.
        url: String,
        /// `clone`, `push`, `fetch`, ….
        operation: &'static str,
        /// What the transport said.
        detail: String,
    },
    /// Local mode: the branch moved upstream, but the checkout has other uncommitted
    /// changes, so it is not reset.
    #[error(
        "the upstream of {path} moved and the checkout has uncommitted changes besides ours ({files}); not resetting it — commit or stash them and retry"
    )]
    DirtyWorktree {
        /// The checkout.
        path: PathBuf,
        /// The other changed paths, comma-separated.
        files: String,
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

fn format_remote_lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("\nremote: {l}")).collect()
}

/// The edit closure type accepted by [`write_back`] and [`commit_local`].
pub type ApplyResult = Result<Applied, Box<dyn std::error::Error + Send + Sync>>;

fn resolve_remote(spec: &RemoteSpec) -> Remote {
    let (url, from_url) = split_url_credentials(&spec.url);
    let auth = match (&spec.auth, from_url) {
        (Auth::Anonymous, Some((username, password))) => Auth::Token {
            username,
            token: Secret::new(password),
        },
        (auth, _) => auth.clone(),
    };
    let mut secrets = Vec::new();
    if let Auth::Token { token, .. } = &auth {
        secrets.push(token.clone());
    }
    if let Some((_, pw)) = split_url_credentials(&spec.url).1 {
        secrets.push(Secret::new(pw));
    }
    let lower = url.to_ascii_lowercase();
    let is_ssh = lower.starts_with("ssh://")
        || lower.starts_with("git+ssh://")
        || lower.starts_with("ssh+git://")
        || is_scp_like(&url);
    let is_https = lower.starts_with("https://") || lower.starts_with("http://");
    // gix refuses to send credentials over plain http (a compile-time feature of
    // gix-transport we keep off); git does, so a token over http:// goes through git.
    let is_plain_http = lower.starts_with("http://");
    let engine = if is_ssh
        || (is_https && spec.ca_bundle.is_some())
        || (is_plain_http && matches!(auth, Auth::Token { .. }))
        || matches!(auth, Auth::Ssh { .. })
    {
        Engine::GitBinary
    } else {
        Engine::Gix
    };
    Remote {
        url,
        auth,
        // git runs in temporary directories: a relative path must not resolve there.
        ca_bundle: spec
            .ca_bundle
            .as_deref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
        engine,
        redactor: redact::Redactor::new(secrets),
    }
}

/// `user@host:path` (scp-like ssh syntax), as opposed to a local path or a URL.
fn is_scp_like(url: &str) -> bool {
    if url.contains("://") || url.starts_with('/') || url.starts_with('.') {
        return false;
    }
    match (url.find(':'), url.find('/')) {
        (Some(colon), Some(slash)) => colon < slash,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Splits `scheme://user:pass@host/...` into the URL without credentials and the
/// `(user, password)` pair, if both were present. A lone `token@` over http(s) is
/// treated as the password with username `x-access-token`.
fn split_url_credentials(url: &str) -> (String, Option<(String, String)>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &authority[..at];
    let scheme = url[..scheme_end].to_ascii_lowercase();
    let is_http = scheme == "http" || scheme == "https";
    let stripped = format!("{}://{}", &url[..scheme_end], &rest[at + 1..]);
    match userinfo.split_once(':') {
        Some((user, pass)) => (stripped, Some((user.to_string(), pass.to_string()))),
        None if is_http => (
            stripped,
            Some(("x-access-token".to_string(), userinfo.to_string())),
        ),
        // ssh://git@host keeps its (non-secret) user name.
        None => (url.to_string(), None),
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Io { context, source }
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// A working directory for one attempt: a self-deleting temp dir, or a kept one.
enum WorkDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl WorkDir {
    fn new(keep: Option<&Path>, attempt: u32) -> Result<WorkDir, GitError> {
        match keep {
            Some(dir) => {
                let path = dir.join(format!("attempt-{attempt}"));
                if path.exists() {
                    std::fs::remove_dir_all(&path)
                        .map_err(io_err(format!("clearing {}", path.display())))?;
                }
                std::fs::create_dir_all(&path)
                    .map_err(io_err(format!("creating {}", path.display())))?;
                Ok(WorkDir::Kept(path))
            }
            None => tempfile::Builder::new()
                .prefix("tagbump-clone-")
                .tempdir()
                .map(WorkDir::Temp)
                .map_err(io_err("creating a temporary directory for the clone")),
        }
    }

    fn path(&self) -> &Path {
        match self {
            WorkDir::Temp(t) => t.path(),
            WorkDir::Kept(p) => p,
        }
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
/// retrying from a fresh clone (and re-running `apply`) whenever the branch moved under us.
///
/// `log` receives one human-readable, redacted line per step and per retry.
///
/// # Errors
///
/// See [`GitError`]; a hook rejection is returned immediately, a race only after
/// [`RetryPolicy::max_attempts`] attempts ([`GitError::RetriesExhausted`]). A clone
/// that fails on the transport (connection reset) is retried within the same budget.
pub fn write_back<F>(
    spec: &RemoteSpec,
    opts: &WriteBackOptions,
    log: &mut dyn FnMut(&str),
    mut apply: F,
) -> Result<WriteBackOutcome, GitError>
where
    F: FnMut(&Path) -> ApplyResult,
{
    let remote = resolve_remote(spec);
    if remote.url.to_ascii_lowercase().starts_with("http://")
        && matches!(remote.auth, Auth::Token { .. })
    {
        log(&format!(
            "warning: sending credentials to {} over unencrypted http://",
            remote.url
        ));
    }
    let sparse_paths = sparse_paths(&remote, opts, log)?;
    let max_attempts = opts.retry.max_attempts.max(1);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let work = WorkDir::new(opts.keep_clone.as_deref(), attempt)?;
        let dest = work.path().join("repo");
        let cloned = match clone::shallow_clone(
            &remote,
            spec.branch.as_deref(),
            &dest,
            sparse_paths.as_deref(),
        ) {
            Ok(cloned) => cloned,
            // A connection reset while cloning (an overloaded server, a flaky network):
            // nothing was written anywhere yet, so it is retried like a race.
            Err(GitError::Transport { detail, .. }) if attempt < max_attempts => {
                let delay = opts.retry.delay_before(attempt + 1);
                log(&remote.redactor.redact(&format!(
                    "clone of {} failed ({detail}); retrying in {} ms (attempt {}/{max_attempts})",
                    remote.url,
                    delay.as_millis(),
                    attempt + 1
                )));
                drop(work);
                std::thread::sleep(delay);
                continue;
            }
            Err(e) => return Err(e),
        };
        let base_branch = cloned.branch.clone();
        let target_branch = opts
            .push_branch
            .clone()
            .unwrap_or_else(|| base_branch.clone());
        let tip_hex = cloned.tip.to_hex().to_string();
        let how = match &cloned.sparse {
            None => "shallow, depth 1".to_string(),
            Some(sparse::Checkout::Sparse) => format!(
                "shallow, depth 1, blob-less; checked out {} sparse path(s)",
                sparse_paths.as_ref().map_or(0, Vec::len)
            ),
            Some(sparse::Checkout::SparseUnfiltered) => format!(
                "shallow, depth 1; checked out {} sparse path(s); the server does not support partial clone, so every file's content was fetched",
                sparse_paths.as_ref().map_or(0, Vec::len)
            ),
            Some(sparse::Checkout::FullBecauseOfSymlink(link)) => format!(
                "shallow, depth 1, blob-less; checked out everything because the sparse paths involve the symbolic link {link}"
            ),
        };
        log(&remote.redactor.redact(&format!(
            "attempt {attempt}/{max_attempts}: cloned {} branch '{base_branch}' at {} ({how})",
            remote.url,
            short(&tip_hex)
        )));

        let applied = apply(&dest).map_err(GitError::Apply)?;
        let files = applied.files.clone();
        let built = commit::build_tree(&cloned.repo, &dest, cloned.tip, &files)?;
        let outcome = |changed: bool, commit: Option<String>, attempts: u32| WriteBackOutcome {
            changed,
            commit,
            branch: target_branch.clone(),
            base_branch: base_branch.clone(),
            attempts,
            files: files.clone(),
        };
        if !built.changed() {
            log(&format!("no changes to commit on '{base_branch}'"));
            return Ok(outcome(false, None, attempt));
        }
        if opts.dry_run {
            log(&format!(
                "dry run: {} file(s) would be committed to '{target_branch}'; nothing committed or pushed",
                files.len()
            ));
            return Ok(outcome(true, None, attempt));
        }

        let lease = if target_branch != base_branch {
            let observed = clone::remote_branch_tip(&remote, &cloned.repo, &dest, &target_branch)?;
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

        let runner = remote.runner();
        let status = cli::push(
            &runner,
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
        )?;
        match status {
            cli::PushStatus::Pushed => {
                log(&format!(
                    "pushed {} to '{target_branch}'",
                    short(&commit_hex)
                ));
                return Ok(outcome(true, Some(commit_hex), attempt));
            }
            cli::PushStatus::Moved { reason } => {
                if attempt >= max_attempts {
                    log(&format!(
                        "push to '{target_branch}' rejected ({reason}); giving up after {attempt} attempts"
                    ));
                    return Err(GitError::RetriesExhausted {
                        url: remote.url.clone(),
                        branch: target_branch,
                        attempts: attempt,
                    });
                }
                let delay = opts.retry.delay_before(attempt + 1);
                log(&format!(
                    "push to '{target_branch}' rejected ({reason}): the branch moved; re-cloning and re-applying in {} ms (attempt {}/{max_attempts})",
                    delay.as_millis(),
                    attempt + 1
                ));
                drop(work);
                std::thread::sleep(delay);
            }
        }
    }
}

/// Where local mode pushes to.
struct Upstream {
    /// Remote name (so the checkout's own URL rewriting / pushurl apply).
    remote_name: String,
    /// Display URL (credentials stripped).
    url: String,
    /// Full name of the branch on the remote that we fetch from / push to.
    merge_ref: String,
}

fn local_upstream(
    repo: &gix::Repository,
    branch_full: &gix::refs::FullName,
) -> Result<Upstream, GitError> {
    let not_tracking = || GitError::InvalidInput {
        message: format!(
            "branch '{}' has no upstream (set one with `git branch --set-upstream-to`)",
            branch_full.shorten()
        ),
    };
    let remote_name = repo
        .branch_remote_name(branch_full.shorten(), gix::remote::Direction::Push)
        .ok_or_else(not_tracking)?
        .as_bstr()
        .to_string();
    let merge_ref = repo
        .branch_remote_ref_name(branch_full.as_ref(), gix::remote::Direction::Fetch)
        .ok_or_else(not_tracking)?
        .map_err(|e| GitError::InvalidInput {
            message: format!("invalid upstream configuration: {e}"),
        })?
        .as_bstr()
        .to_string();
    let url = repo
        .find_remote(remote_name.as_str())
        .ok()
        .and_then(|r| {
            r.url(gix::remote::Direction::Push)
                .map(|u| u.to_bstring().to_string())
        })
        .map(|u| strip_url_credentials(&u))
        .unwrap_or_else(|| remote_name.clone());
    Ok(Upstream {
        remote_name,
        url,
        merge_ref,
    })
}

/// Local mode: runs `apply` on an existing checkout, commits the reported files on the
/// checked-out branch and, if `push` is given, pushes to the branch's upstream (or to
/// [`WriteBackOptions::push_branch`] on the same remote) with the same retry loop as
/// [`write_back`].
///
/// `push`: `None` = commit only; `Some(Auth::Anonymous)` = push with whatever
/// credentials the checkout is configured with; `Some(Auth::Token { .. })` /
/// `Some(Auth::Ssh { .. })` = push with these credentials only.
///
/// # Errors
///
/// As [`write_back`], plus [`GitError::DirtyWorktree`] when a rejected push would
/// require resetting a checkout that has other uncommitted changes.
pub fn commit_local<F>(
    checkout: &Path,
    push: Option<&Auth>,
    opts: &WriteBackOptions,
    log: &mut dyn FnMut(&str),
    mut apply: F,
) -> Result<WriteBackOutcome, GitError>
where
    F: FnMut(&Path) -> ApplyResult,
{
    let redactor = redact::Redactor::new(match push {
        Some(Auth::Token { token, .. }) => vec![token.clone()],
        _ => Vec::new(),
    });
    let runner = cli::GitRunner {
        auth: match push {
            Some(Auth::Anonymous) | None => None,
            Some(auth) => Some(auth),
        },
        ca_bundle: None,
        redactor: &redactor,
    };
    let max_attempts = if push.is_some() {
        opts.retry.max_attempts.max(1)
    } else {
        1
    };
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let repo = gix::discover(checkout).map_err(|e| GitError::InvalidInput {
            message: format!("{} is not a git checkout: {e}", checkout.display()),
        })?;
        let root = repo
            .workdir()
            .ok_or_else(|| GitError::InvalidInput {
                message: format!(
                    "{} is a bare repository; local mode needs a checkout",
                    checkout.display()
                ),
            })?
            .to_path_buf();
        let head_name = repo
            .head_name()
            .ok()
            .flatten()
            .ok_or_else(|| GitError::InvalidInput {
                message: format!(
                    "{} has a detached HEAD; check out a branch first",
                    root.display()
                ),
            })?;
        let base_branch = head_name.shorten().to_string();
        let head = repo
            .head_id()
            .map_err(|e| GitError::InvalidInput {
                message: format!("branch '{base_branch}' has no commit yet: {e}"),
            })?
            .detach();
        let upstream = match push {
            Some(_) => Some(local_upstream(&repo, &head_name)?),
            None => None,
        };
        let target_ref = match (&opts.push_branch, &upstream) {
            (Some(b), _) => format!("refs/heads/{b}"),
            (None, Some(u)) => u.merge_ref.clone(),
            (None, None) => head_name.as_bstr().to_string(),
        };
        let target_branch = target_ref.trim_start_matches("refs/heads/").to_string();
        log(&format!(
            "attempt {attempt}/{max_attempts}: local checkout {} on '{base_branch}' at {}",
            root.display(),
            short(&head.to_hex().to_string())
        ));

        let applied = apply(&root).map_err(GitError::Apply)?;
        let files = applied.files.clone();
        let built = commit::build_tree(&repo, &root, head, &files)?;
        let outcome = |changed: bool, commit: Option<String>| WriteBackOutcome {
            changed,
            commit,
            branch: target_branch.clone(),
            base_branch: base_branch.clone(),
            attempts: attempt,
            files: files.clone(),
        };
        if !built.changed() {
            log(&format!("no changes to commit on '{base_branch}'"));
            return Ok(outcome(false, None));
        }
        if opts.dry_run {
            log(&format!(
                "dry run: {} file(s) would be committed; nothing committed",
                files.len()
            ));
            return Ok(outcome(true, None));
        }
        let commit_id = commit::create_commit(&repo, "HEAD", built.tree, head, &applied.commit)?;
        let commit_hex = commit_id.to_hex().to_string();
        sync_index(&runner, &root, &files)?;
        log(&format!(
            "committed {} ({} file(s)) on '{base_branch}'",
            short(&commit_hex),
            files.len()
        ));

        let Some(upstream) = upstream else {
            return Ok(outcome(true, Some(commit_hex)));
        };
        let lease = match &opts.push_branch {
            Some(_) => Some(ls_remote(&runner, &root, &upstream, &target_ref)?),
            None => None,
        };
        let status = cli::push(
            &runner,
            &root,
            cli::PushRequest {
                remote: &upstream.remote_name,
                display_url: &upstream.url,
                commit: &commit_hex,
                dst_ref: &target_ref,
                lease: match &lease {
                    Some(observed) => cli::Lease::Expect(observed.as_deref()),
                    None => cli::Lease::FastForwardOnly,
                },
                skip_local_hooks: false,
            },
        )?;
        let reason = match status {
            cli::PushStatus::Pushed => {
                log(&format!(
                    "pushed {} to '{target_branch}' on {}",
                    short(&commit_hex),
                    upstream.url
                ));
                return Ok(outcome(true, Some(commit_hex)));
            }
            cli::PushStatus::Moved { reason } => reason,
        };
        if attempt >= max_attempts {
            return Err(GitError::RetriesExhausted {
                url: upstream.url,
                branch: target_branch,
                attempts: attempt,
            });
        }
        if opts.push_branch.is_some() {
            // Our commit is still valid (based on our own branch); only the lease was stale.
            // Undo it so the next attempt re-applies on the same base.
            reset_keep(&runner, &root, &head.to_hex().to_string())?;
        } else {
            let dirty = other_changes(&runner, &root)?;
            if !dirty.is_empty() {
                return Err(GitError::DirtyWorktree {
                    path: root,
                    files: dirty.join(", "),
                });
            }
            let tip = fetch_upstream(&runner, &root, &upstream)?;
            reset_keep(&runner, &root, &tip)?;
        }
        let delay = opts.retry.delay_before(attempt + 1);
        log(&format!(
            "push to '{target_branch}' rejected ({reason}): the branch moved; reset to the new tip, re-applying in {} ms (attempt {}/{max_attempts})",
            delay.as_millis(),
            attempt + 1
        ));
        std::thread::sleep(delay);
    }
}

/// Makes the index agree with the new `HEAD` for the committed paths (like `git commit
/// --only` does), leaving every other staged change alone.
fn sync_index(runner: &cli::GitRunner<'_>, root: &Path, files: &[PathBuf]) -> Result<(), GitError> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["reset".into(), "-q".into(), "HEAD".into(), "--".into()];
    args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    runner.run(root, &args)?.checked("index update")?;
    Ok(())
}

/// Tracked paths with uncommitted changes (staged or not).
fn other_changes(runner: &cli::GitRunner<'_>, root: &Path) -> Result<Vec<String>, GitError> {
    let out = runner
        .run(root, ["status", "--porcelain=v1", "--untracked-files=no"])?
        .checked("status")?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_string)
        .collect())
}

fn fetch_upstream(
    runner: &cli::GitRunner<'_>,
    root: &Path,
    upstream: &Upstream,
) -> Result<String, GitError> {
    let out = runner.run(
        root,
        [
            "fetch",
            "--quiet",
            "--no-tags",
            upstream.remote_name.as_str(),
            upstream.merge_ref.as_str(),
        ],
    )?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &upstream.url,
            "fetch",
            None,
        ));
    }
    let out = runner
        .run(root, ["rev-parse", "--verify", "FETCH_HEAD^{commit}"])?
        .checked("fetch")?;
    Ok(out.stdout.trim().to_string())
}

fn reset_keep(runner: &cli::GitRunner<'_>, root: &Path, commit: &str) -> Result<(), GitError> {
    runner
        .run(root, ["reset", "--quiet", "--keep", commit])?
        .checked("reset")?;
    Ok(())
}

fn ls_remote(
    runner: &cli::GitRunner<'_>,
    root: &Path,
    upstream: &Upstream,
    full_ref: &str,
) -> Result<Option<String>, GitError> {
    let out = runner.run(
        root,
        ["ls-remote", "--", upstream.remote_name.as_str(), full_ref],
    )?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &upstream.url,
            "ls-remote",
            None,
        ));
    }
    Ok(out.stdout.lines().find_map(|line| {
        let (sha, name) = line.split_once('\t')?;
        (name.trim() == full_ref).then(|| sha.trim().to_string())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_move_into_auth_and_out_of_the_url() {
        let spec = RemoteSpec {
            url: "https://bot:s3cret@git.example/org/cfg.git".into(),
            branch: None,
            auth: Auth::Anonymous,
            ca_bundle: None,
        };
        let r = resolve_remote(&spec);
        assert_eq!(r.url, "https://git.example/org/cfg.git");
        match &r.auth {
            Auth::Token { username, token } => {
                assert_eq!(username, "bot");
                assert_eq!(token.expose(), "s3cret");
            }
            other => panic!("expected token auth, got {other:?}"),
        }
        assert_eq!(r.redactor.redact("x s3cret y"), "x *** y");
        assert_eq!(r.engine, Engine::Gix);
    }

    #[test]
    fn ssh_and_custom_ca_use_the_git_binary() {
        let mk = |url: &str, ca: Option<&str>| {
            resolve_remote(&RemoteSpec {
                url: url.into(),
                branch: None,
                auth: Auth::Anonymous,
                ca_bundle: ca.map(PathBuf::from),
            })
            .engine
        };
        assert_eq!(mk("git@github.com:o/r.git", None), Engine::GitBinary);
        assert_eq!(mk("ssh://git@host/o/r.git", None), Engine::GitBinary);
        assert_eq!(mk("https://h/o/r.git", Some("/ca.pem")), Engine::GitBinary);
        assert_eq!(mk("https://h/o/r.git", None), Engine::Gix);
        assert_eq!(mk("/srv/git/r.git", None), Engine::Gix);
        assert_eq!(mk("file:///srv/git/r.git", None), Engine::Gix);
    }

    #[test]
    fn relative_ca_bundle_is_made_absolute_because_git_runs_elsewhere() {
        let r = resolve_remote(&RemoteSpec {
            url: "https://h/o/r.git".into(),
            branch: None,
            auth: Auth::Anonymous,
            ca_bundle: Some(PathBuf::from("certs/ca.pem")),
        });
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(r.ca_bundle, Some(cwd.join("certs/ca.pem")));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
        };
        for _ in 0..50 {
            let d2 = p.delay_before(2);
            assert!(d2 >= Duration::from_millis(50) && d2 <= Duration::from_millis(100));
            let d9 = p.delay_before(9);
            assert!(d9 >= Duration::from_millis(200) && d9 <= Duration::from_millis(400));
        }
    }

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
