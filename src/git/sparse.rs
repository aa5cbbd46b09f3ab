//! Sparse partial clones: fetch the tip's commit and trees, but only the blobs of the
//! paths the caller's edit needs ([`super::WriteBackOptions::sparse_paths`]).
//!
//! # How
//!
//! 1. `git clone --depth=1 --single-branch --no-tags --filter=blob:none --no-checkout`:
//!    the tip commit and all its trees, no file contents. The clone records `origin` as
//!    a *promisor remote*, from which git fetches missing objects on demand.
//! 2. Non-cone sparse checkout, configured by hand: one anchored, escaped pattern per
//!    path in `.git/info/sparse-checkout` (`/apps/web/values.yaml`; a directory pattern
//!    includes everything below it), `core.sparseCheckout=true`,
//!    `core.sparseCheckoutCone=false`.
//! 3. `git read-tree -mu HEAD`: populates the index with every path (from the trees we
//!    have) and the worktree with the matching ones only, fetching their blobs from the
//!    promisor remote in **one** batch. That lazy fetch is a child of this git process:
//!    it inherits the `-c credential.helper=…` settings (through `GIT_CONFIG_PARAMETERS`,
//!    which holds variable *names* only) and the credential variables of the environment,
//!    so it authenticates exactly like the clone.
//!
//! The commit is then built with gix as in a full clone: the tree editor reads only the
//! trees along the changed paths (all present) and writes new blobs; it never reads a
//! blob. `git push` from the partial clone sends the new commit, its changed trees and
//! blobs; the uninteresting side is walked through trees only, so it fetches nothing.
//!
//! # Choices, measured (see `benches/README.md`)
//!
//! - **Non-cone patterns written to the file, not `git sparse-checkout set`**: cone mode
//!   takes directories only and always adds every file at the top level and in each
//!   parent directory; `set --no-cone` needs git ≥ 2.35 and prints deprecation hints.
//!   The pattern file and `core.sparseCheckout` are understood by every git.
//! - **`--filter=blob:none`, not `--filter=tree:0`**: when git lazily fetches a missing
//!   *tree* it asks for it with `--filter=blob:none`, i.e. together with every tree below
//!   it. The first tree the checkout needs is the root tree, so a `tree:0` clone ends up
//!   with exactly the same trees (and bytes) as a `blob:none` one, plus a round trip.
//! - **What still grows with the repository**: the trees. A directory with N entries is
//!   one tree object with N entries, and the new commit must contain a new version of
//!   every tree on the changed path, so git cannot avoid fetching at least those; with
//!   `blob:none` it also gets the trees of every other directory.
//!
//! # Fallbacks
//!
//! - A server without filter support (`uploadpack.allowFilter` off) answers with a full
//!   shallow pack (git warns "filtering not recognized by server"); the sparse checkout
//!   then simply has every blob available. Same result, more bytes; logged.
//! - A sparse path that is, or lies under, or contains a symbolic link: the link's
//!   target may be outside the sparse paths, so the whole tip is checked out instead.
//! - A path that cannot be written as a pattern (a line break in it) or that names the
//!   whole repository (`.`): full checkout.
//! - git older than [`MIN_GIT`]: full checkout, as before.

use std::path::{Component, Path, PathBuf};

use gix::ObjectId;

use super::cli;
use super::commit::repo_path;
use super::remote::Remote;
use super::GitError;

/// Oldest git used for sparse partial clones. Partial clone with batched blob prefetch
/// on checkout exists since 2.20; 2.27 stopped failing a sparse checkout that matches
/// no file ("Sparse checkout leaves no entry"), which happens when the edit creates a
/// new file. Tested with 2.39 and 2.47.
pub(crate) const MIN_GIT: (u32, u32) = (2, 27);

/// The sparse paths as `/`-separated repository paths, or `None` when a full checkout
/// is needed anyway (a path names the whole repository, or cannot be expressed as a
/// sparse-checkout pattern).
///
/// # Errors
///
/// [`GitError::InvalidInput`] for a path outside the repository (`..`, absolute) or
/// inside `.git`.
pub(crate) fn normalise(paths: &[PathBuf]) -> Result<Option<Vec<String>>, GitError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        if path.components().all(|c| matches!(c, Component::CurDir)) {
            return Ok(None);
        }
        let rela = repo_path(path)?;
        if rela.contains(['\n', '\r']) {
            return Ok(None);
        }
        out.push(rela);
    }
    out.sort();
    out.dedup();
    Ok(Some(out))
}

/// The sparse-checkout pattern matching exactly `path` (a file, or a directory and
/// everything below it): anchored at the root, with every character that is special in
/// gitignore syntax escaped.
pub(crate) fn pattern(path: &str) -> String {
    let mut p = String::with_capacity(path.len() + 2);
    p.push('/');
    for c in path.chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ']' | '!' | '#' | ' ') {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

/// How the clone's worktree was populated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Checkout {
    /// Only the sparse paths; their blobs were fetched on demand.
    Sparse,
    /// Only the sparse paths, but the server ignored the filter and sent every blob.
    SparseUnfiltered,
    /// Everything: a sparse path involves a symbolic link.
    FullBecauseOfSymlink(String),
}

/// Step 1: the blob-less, checkout-less shallow clone. Returns whether the server
/// honoured the filter.
pub(crate) fn clone(remote: &Remote, branch: Option<&str>, dest: &Path) -> Result<bool, GitError> {
    let mut extra = vec!["--filter=blob:none", "--no-checkout"];
    if remote.plain_path {
        // A plain path would make git copy the object store (ignoring --depth and
        // --filter); --no-local uses the transport, like file://.
        extra.push("--no-local");
    }
    let out = super::clone_cmd::run_git_clone(remote, branch, dest, &extra)?;
    Ok(!out
        .stderr
        .to_ascii_lowercase()
        .contains("filtering not recognized"))
}

/// Steps 2 and 3: configure the sparse checkout for `paths` and populate the worktree
/// from `tip`, fetching the missing blobs with the remote's credentials.
pub(crate) fn checkout(
    remote: &Remote,
    repo: &gix::Repository,
    dest: &Path,
    tip: ObjectId,
    paths: &[String],
    filtered: bool,
) -> Result<Checkout, GitError> {
    let runner = remote.runner();
    let kind = match symlink_among(repo, tip, paths)? {
        Some(link) => {
            // A refresh may find a link that the first checkout did not have.
            runner
                .run(dest, ["config", "core.sparseCheckout", "false"])?
                .checked("configuring the checkout")?;
            Checkout::FullBecauseOfSymlink(link)
        }
        None => {
            let info = repo.git_dir().join("info");
            std::fs::create_dir_all(&info)
                .map_err(super::io_err(format!("creating {}", info.display())))?;
            let mut patterns: String = paths.iter().map(|p| pattern(p) + "\n").collect();
            if patterns.is_empty() {
                patterns.push('\n');
            }
            let file = info.join("sparse-checkout");
            std::fs::write(&file, patterns)
                .map_err(super::io_err(format!("writing {}", file.display())))?;
            for (key, value) in [
                ("core.sparseCheckout", "true"),
                ("core.sparseCheckoutCone", "false"),
            ] {
                runner
                    .run(dest, ["config", key, value])?
                    .checked("configuring the sparse checkout")?;
            }
            if filtered {
                Checkout::Sparse
            } else {
                Checkout::SparseUnfiltered
            }
        }
    };
    let out = runner.run(dest, ["read-tree", "-mu", "HEAD"])?;
    if !out.success {
        // A failure here is almost always the lazy fetch (auth, connection).
        return Err(cli::classify_failure(
            &out.stderr,
            &remote.url,
            "checkout",
            None,
        ));
    }
    Ok(kind)
}

/// The first symbolic link that a sparse path is, lies under, or contains at `tip`.
fn symlink_among(
    repo: &gix::Repository,
    tip: ObjectId,
    paths: &[String],
) -> Result<Option<String>, GitError> {
    let err = |e: &dyn std::fmt::Display| GitError::Git {
        operation: "reading the tip's trees".to_string(),
        detail: e.to_string(),
    };
    let root = repo
        .find_commit(tip)
        .map_err(|e| err(&e))?
        .tree()
        .map_err(|e| err(&e))?;
    for path in paths {
        let mut prefix = String::new();
        let mut dir = None;
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            let Some(entry) = root.lookup_entry_by_path(&prefix).map_err(|e| err(&e))? else {
                dir = None;
                break;
            };
            let mode = entry.mode();
            if mode.is_link() {
                return Ok(Some(prefix));
            }
            if !mode.is_tree() {
                dir = None;
                break;
            }
            dir = Some(entry.object_id());
        }
        // The path is a directory: look for links anywhere below it.
        let mut stack: Vec<(ObjectId, String)> = dir.map(|id| (id, prefix)).into_iter().collect();
        while let Some((id, at)) = stack.pop() {
            let tree = repo.find_tree(id).map_err(|e| err(&e))?;
            for entry in tree.iter() {
                let entry = entry.map_err(|e| err(&e))?;
                let name = format!("{at}/{}", entry.filename());
                if entry.mode().is_link() {
                    return Ok(Some(name));
                }
                if entry.mode().is_tree() {
                    stack.push((entry.object_id(), name));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_anchored_escaped_patterns() {
        assert_eq!(pattern("apps/web/values.yaml"), "/apps/web/values.yaml");
        assert_eq!(pattern("apps/web"), "/apps/web");
        assert_eq!(pattern("a b/[x]*?.yaml"), "/a\\ b/\\[x\\]\\*\\?.yaml");
        assert_eq!(pattern("#x/!y\\z"), "/\\#x/\\!y\\\\z");
    }

    #[test]
    fn normalising_confines_paths_and_falls_back_for_the_root() {
        let p = |v: &[&str]| normalise(&v.iter().map(PathBuf::from).collect::<Vec<_>>());
        assert_eq!(
            p(&["./apps/b.yaml", "apps/a", "apps/a/"]).ok().flatten(),
            Some(vec!["apps/a".to_string(), "apps/b.yaml".to_string()])
        );
        assert!(matches!(p(&["apps", "."]), Ok(None)));
        assert!(matches!(p(&["a\nb"]), Ok(None)));
        assert!(matches!(p(&["../x"]), Err(GitError::InvalidInput { .. })));
        assert!(matches!(p(&["/etc"]), Err(GitError::InvalidInput { .. })));
        assert!(matches!(
            p(&[".git/config"]),
            Err(GitError::InvalidInput { .. })
        ));
        assert_eq!(p(&[]).ok().flatten(), Some(Vec::new()));
    }
}
