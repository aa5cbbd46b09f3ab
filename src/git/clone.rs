//! Shallow, single-branch clones with the git binary (sparse partial clones in
//! `sparse.rs`), bringing an existing clone up to a moved tip, and remote ref look-ups.

use std::path::Path;

use gix::ObjectId;

use super::cli;
use super::clone_cmd::run_git_clone;
use super::remote::Remote;
use super::sparse;
use super::GitError;

/// A clone, at the tip it was cloned or refreshed at.
pub(crate) struct Cloned {
    pub repo: gix::Repository,
    /// Short name of the checked-out branch.
    pub branch: String,
    /// Its tip.
    pub tip: ObjectId,
    /// How a sparse clone was checked out; `None` for a full clone.
    pub sparse: Option<sparse::Checkout>,
}

/// Clones `remote` at `branch` (or its default branch) into the empty/non-existent `dest`:
/// depth 1, single branch, no tags.
///
/// With `sparse_paths` (normalised repository paths), the clone is a blob-less partial
/// clone and only those paths are checked out (see `sparse.rs`).
pub(crate) fn shallow_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
    sparse_paths: Option<&[String]>,
) -> Result<Cloned, GitError> {
    let repo = match sparse_paths {
        Some(paths) => {
            let filtered = sparse::clone(remote, branch, dest)?;
            let repo = open(dest)?;
            let (_, tip) = tip_of(&repo, remote)?;
            let kind = sparse::checkout(remote, &repo, dest, tip, paths, filtered)?;
            return finish(open(dest)?, remote, Some(kind));
        }
        None => {
            let mut extra = Vec::new();
            if remote.plain_path {
                // A plain path would make git copy the object store (ignoring --depth);
                // --no-local uses the transport, like file://.
                extra.push("--no-local");
            }
            run_git_clone(remote, branch, dest, &extra)?;
            open(dest)?
        }
    };
    finish(repo, remote, None)
}

fn finish(
    repo: gix::Repository,
    remote: &Remote,
    sparse: Option<sparse::Checkout>,
) -> Result<Cloned, GitError> {
    let (branch, tip) = tip_of(&repo, remote)?;
    Ok(Cloned {
        repo,
        branch,
        tip,
        sparse,
    })
}

fn tip_of(repo: &gix::Repository, remote: &Remote) -> Result<(String, ObjectId), GitError> {
    head_branch(repo).ok_or_else(|| GitError::Git {
        operation: "clone".to_string(),
        detail: format!(
            "{} has no commit on the requested branch (empty repository or detached default HEAD)",
            remote.url
        ),
    })
}

/// Brings an existing clone to the branch's current tip on the remote, after a push
/// lost a race: one shallow fetch of the new tip into the same repository (a partial
/// clone keeps its filter), then the worktree is reset to it and cleaned, so the
/// caller's edit runs on exactly the new tip, as in a fresh clone.
pub(crate) fn refresh(
    remote: &Remote,
    cloned: &Cloned,
    dest: &Path,
    sparse_paths: Option<&[String]>,
) -> Result<Cloned, GitError> {
    let runner = remote.runner();
    // Discard the previous attempt's edit first: the index and worktree are back at
    // the old tip, so nothing below can trip over a modified file.
    runner
        .run(dest, ["reset", "--quiet", "--hard"])?
        .checked("reset")?;
    let branch = cloned.branch.as_str();
    let tracking = format!("refs/remotes/origin/{branch}");
    let out = runner.run(
        dest,
        [
            "fetch",
            "--progress",
            "--depth=1",
            "--no-tags",
            "origin",
            &format!("+refs/heads/{branch}:{tracking}"),
        ],
    )?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &remote.url,
            "fetch",
            Some(branch),
        ));
    }
    let out = runner
        .run(
            dest,
            ["rev-parse", "--verify", &format!("{tracking}^{{commit}}")],
        )?
        .checked("fetch")?;
    let new_tip = out.stdout.trim().to_string();
    let tip = ObjectId::from_hex(new_tip.as_bytes()).map_err(|e| GitError::Git {
        operation: "fetch".to_string(),
        detail: format!("unexpected commit id {new_tip:?}: {e}"),
    })?;
    let kind = match (&cloned.sparse, sparse_paths) {
        (Some(previous), Some(paths)) => {
            // Move the branch, then check out the sparse paths of the new tip (a
            // symbolic link may have appeared there).
            runner
                .run(dest, ["reset", "--quiet", "--soft", &new_tip])?
                .checked("reset")?;
            let repo = open(dest)?;
            let filtered = *previous != sparse::Checkout::SparseUnfiltered;
            Some(sparse::checkout(remote, &repo, dest, tip, paths, filtered)?)
        }
        _ => {
            let out = runner.run(dest, ["reset", "--quiet", "--hard", &new_tip])?;
            if !out.success {
                return Err(cli::classify_failure(
                    &out.stderr,
                    &remote.url,
                    "checkout",
                    None,
                ));
            }
            None
        }
    };
    runner
        .run(dest, ["clean", "-ffdxq"])?
        .checked("cleaning the worktree")?;
    finish(open(dest)?, remote, kind)
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

/// The current tip of `refs/heads/<branch>` on the remote, `None` if it does not exist.
/// Used as the expected value of `--force-with-lease` for bot branches.
pub(crate) fn remote_branch_tip(
    remote: &Remote,
    workdir: &Path,
    branch: &str,
) -> Result<Option<String>, GitError> {
    let full = format!("refs/heads/{branch}");
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
