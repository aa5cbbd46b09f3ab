//! Shallow, single-branch clones (gix, or the git binary where gix cannot; sparse
//! partial clones always with git) and remote ref look-ups.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::ObjectId;

use super::cli::{self, GitRunner};
use super::redact::Redactor;
use super::sparse;
use super::{Auth, GitError};

/// Which implementation talks to the remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    /// `gix` in-process: `http(s)://`, `git://`, `file://` and local paths.
    Gix,
    /// The `git` binary: `ssh` (so `GIT_SSH_COMMAND`, agents and key files behave
    /// exactly as users expect) and HTTPS with a custom CA bundle (gix's reqwest
    /// backend does not honour `http.sslCAInfo`).
    GitBinary,
}

/// A remote with its credentials stripped from the URL and everything needed to talk to it.
pub(crate) struct Remote {
    /// The URL without any `user:password@` part; safe to print and to store.
    pub url: String,
    pub auth: Auth,
    pub ca_bundle: Option<std::path::PathBuf>,
    pub engine: Engine,
    pub redactor: Redactor,
}

impl Remote {
    pub(crate) fn runner(&self) -> GitRunner<'_> {
        GitRunner {
            auth: Some(&self.auth),
            ca_bundle: self.ca_bundle.as_deref(),
            redactor: &self.redactor,
        }
    }
}

/// A fresh clone.
pub(crate) struct Cloned {
    pub repo: gix::Repository,
    /// Short name of the checked-out branch.
    pub branch: String,
    /// Its tip.
    pub tip: ObjectId,
    /// How a sparse clone was checked out; `None` for a full clone.
    pub sparse: Option<sparse::Checkout>,
}

/// Credentials callback for gix: hands out the token on `get`, nothing otherwise,
/// and never falls back to prompts or configured helpers.
fn credentials_fn(
    auth: Auth,
) -> impl FnMut(
    gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
       + 'static {
    move |action| match (action, &auth) {
        (gix::credentials::helper::Action::Get(ctx), Auth::Token { username, token }) => {
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: username.clone(),
                    password: token.expose().to_string(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            }))
        }
        _ => Ok(None),
    }
}

/// Turns a gix error into a [`GitError`], using gix's error classes first and the
/// (redacted) message as a fallback.
pub(crate) fn classify_gix(
    err: &gix::Error,
    remote: &Remote,
    operation: &'static str,
    branch: Option<&str>,
) -> GitError {
    let message = remote.redactor.redact(&chain(err));
    let url = remote.url.clone();
    if err.is_unauthenticated() || err.is_permission_denied() {
        return GitError::Auth {
            url,
            detail: message,
        };
    }
    let lower = message.to_ascii_lowercase();
    if let Some(branch) = branch {
        if lower.contains("didn't have any ref that matched") {
            return GitError::BranchNotFound {
                url,
                branch: branch.to_string(),
            };
        }
    }
    let io_unreachable = err.classify().any(|c| {
        matches!(
            c.io_kind(),
            Some(
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::NotConnected
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            )
        )
    });
    if io_unreachable
        || err.is_not_found()
        || [
            "connection refused",
            "error trying to connect",
            "failed to connect",
            "dns error",
            "could not resolve",
            "does not appear to be a git repository",
            "not found",
            "no such file or directory",
        ]
        .iter()
        .any(|n| lower.contains(n))
    {
        return GitError::Unreachable {
            url,
            detail: message,
        };
    }
    if ["401", "unauthorized", "authentication", "credentials"]
        .iter()
        .any(|n| lower.contains(n))
    {
        return GitError::Auth {
            url,
            detail: message,
        };
    }
    GitError::Transport {
        url,
        operation,
        detail: message,
    }
}

/// The error and all its causes, `: `-separated.
fn chain(err: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in err.iter_errors() {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

/// Clones `remote` at `branch` (or its default branch) into the empty/non-existent `dest`:
/// depth 1, single branch, only tags pointing at the fetched commit.
///
/// With `sparse_paths` (normalised repository paths), the clone is a blob-less partial
/// clone made with the git binary whatever the engine, and only those paths are checked
/// out (see `sparse.rs`).
pub(crate) fn shallow_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
    sparse_paths: Option<&[String]>,
) -> Result<Cloned, GitError> {
    let mut filtered = true;
    let repo = match (sparse_paths, remote.engine) {
        (Some(_), _) => {
            filtered = sparse::clone(remote, branch, dest)?;
            open(dest)?
        }
        (None, Engine::Gix) => gix_clone(remote, branch, dest)?,
        (None, Engine::GitBinary) => git_clone(remote, branch, dest)?,
    };
    let (branch, tip) = head_branch(&repo).ok_or_else(|| GitError::Git {
        operation: "clone".to_string(),
        detail: format!(
            "{} has no commit on the requested branch (empty repository or detached default HEAD)",
            remote.url
        ),
    })?;
    let sparse = match sparse_paths {
        Some(paths) => Some(sparse::checkout(remote, &repo, dest, tip, paths, filtered)?),
        None => None,
    };
    Ok(Cloned {
        repo,
        branch,
        tip,
        sparse,
    })
}

fn open(dest: &Path) -> Result<gix::Repository, GitError> {
    gix::open(dest).map_err(|e| GitError::Git {
        operation: "opening the clone".to_string(),
        detail: e.to_string(),
    })
}

/// Short name and tip of the branch `HEAD` points to, if any.
pub(crate) fn head_branch(repo: &gix::Repository) -> Option<(String, ObjectId)> {
    let name = repo.head_name().ok()??;
    let short = name.shorten().to_string();
    let tip = repo.head_id().ok()?.detach();
    Some((short, tip))
}

fn gix_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
) -> Result<gix::Repository, GitError> {
    let interrupt = AtomicBool::new(false);
    let auth = remote.auth.clone();
    let prepare = gix::prepare_clone(remote.url.as_str(), dest)
        .map_err(|e| classify_gix(&e, remote, "clone", branch))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(NonZeroU32::MIN))
        .configure_connection(move |connection| {
            connection.set_credentials(credentials_fn(auth.clone()));
            Ok(())
        });
    let mut prepare = match branch {
        Some(b) => prepare
            .with_ref_name(Some(b))
            .map_err(|e| GitError::InvalidInput {
                message: format!("invalid branch name '{b}': {e}"),
            })?,
        None => prepare,
    };
    let (mut checkout, _fetched) = prepare
        .fetch_then_checkout(gix::progress::Discard, &interrupt)
        .map_err(|e| classify_gix(&e, remote, "clone", branch))?;
    let (repo, outcome) = checkout
        .main_worktree(gix::progress::Discard, &interrupt)
        .map_err(|e| GitError::Git {
            operation: "checkout".to_string(),
            detail: remote.redactor.redact(&chain(&e)),
        })?;
    if !outcome.errors.is_empty() || !outcome.collisions.is_empty() {
        return Err(GitError::Git {
            operation: "checkout".to_string(),
            detail: format!(
                "{} files could not be checked out, {} path collisions",
                outcome.errors.len(),
                outcome.collisions.len()
            ),
        });
    }
    Ok(repo)
}

fn git_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
) -> Result<gix::Repository, GitError> {
    run_git_clone(remote, branch, dest, &[])?;
    open(dest)
}

/// `git clone --depth=1 --single-branch --no-tags [extra…] [--branch B] -- URL DEST`, with
/// the remote's credentials; a failure is classified (auth, unreachable, branch…).
pub(crate) fn run_git_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
    extra: &[&str],
) -> Result<cli::GitOutput, GitError> {
    let parent = dest.parent().unwrap_or(dest);
    let mut args: Vec<std::ffi::OsString> = vec![
        "clone".into(),
        "--quiet".into(),
        "--depth=1".into(),
        "--single-branch".into(),
        "--no-tags".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    if let Some(b) = branch {
        args.push("--branch".into());
        args.push(b.into());
    }
    args.push("--".into());
    args.push(remote.url.as_str().into());
    args.push(dest.as_os_str().to_owned());
    let out = remote.runner().run(parent, &args)?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &remote.url,
            "clone",
            branch,
        ));
    }
    Ok(out)
}

/// The current tip of `refs/heads/<branch>` on the remote, `None` if it does not exist.
/// Used as the expected value of `--force-with-lease` for bot branches.
pub(crate) fn remote_branch_tip(
    remote: &Remote,
    local: &gix::Repository,
    workdir: &Path,
    branch: &str,
) -> Result<Option<String>, GitError> {
    let full = format!("refs/heads/{branch}");
    match remote.engine {
        Engine::Gix => {
            let gix_remote = local
                .remote_at(remote.url.as_str())
                .and_then(|r| r.with_refspecs(Some(full.as_str()), gix::remote::Direction::Fetch))
                .map_err(|e| classify_gix(&e, remote, "ls-remote", None))?;
            let mut connection = gix_remote
                .connect(gix::remote::Direction::Fetch)
                .map_err(|e| classify_gix(&e, remote, "ls-remote", None))?;
            connection.set_credentials(credentials_fn(remote.auth.clone()));
            let (ref_map, _handshake) = connection
                .ref_map(gix::progress::Discard, Default::default())
                .map_err(|e| classify_gix(&e, remote, "ls-remote", None))?;
            Ok(ref_map.remote_refs.iter().find_map(|r| {
                let (name, target, _peeled) = r.unpack();
                (name == full.as_str()).then(|| target.map(|t| t.to_hex().to_string()))?
            }))
        }
        Engine::GitBinary => {
            let out = remote.runner().run(
                workdir,
                ["ls-remote", "--", remote.url.as_str(), full.as_str()],
            )?;
            if !out.success {
                return Err(cli::classify_failure(
                    &out.stderr,
                    &remote.url,
                    "ls-remote",
                    None,
                ));
            }
            Ok(out.stdout.lines().find_map(|line| {
                let (sha, name) = line.split_once('\t')?;
                (name.trim() == full).then(|| sha.trim().to_string())
            }))
        }
    }
}
