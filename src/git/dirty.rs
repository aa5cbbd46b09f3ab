//! Local mode: what a checkout holds that is not committed, so that a commit holds
//! exactly the edit and nothing of the user's.
//!
//! Before the edit runs, the paths with uncommitted changes (staged or not, and
//! untracked files) are listed with `git status` and their bytes kept. If the edit then
//! reports one of them, committing it would sweep the user's change into the commit:
//! every file gets its bytes back (the kept ones, and the other edited files from
//! `HEAD`, which they matched) and the run is refused ([`GitError::DirtyWorktree`]). A
//! reported file that `HEAD` does not track (an ignored file) is refused too; its
//! bytes were not kept (git does not list ignored files cheaply).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cli::GitRunner;
use super::{commit, GitError};

/// The uncommitted paths of a checkout and their bytes before the edit.
pub(crate) struct Uncommitted {
    /// Repository-relative `/`-separated path → the worktree's bytes (`None`: deleted
    /// in the worktree, or not a regular file).
    before: BTreeMap<String, Option<Vec<u8>>>,
}

impl Uncommitted {
    /// Lists (and keeps the bytes of) every path `git status` reports: changed in the
    /// index or the worktree, and untracked files.
    pub(crate) fn read(runner: &GitRunner<'_>, root: &Path) -> Result<Uncommitted, GitError> {
        let mut before = BTreeMap::new();
        for path in status_paths(runner, root, true)? {
            let full = root.join(&path);
            let bytes = match std::fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_file() => {
                    Some(std::fs::read(&full).map_err(|source| GitError::Io {
                        context: format!("reading {}", full.display()),
                        source,
                    })?)
                }
                _ => None,
            };
            before.insert(path, bytes);
        }
        Ok(Uncommitted { before })
    }

    /// Refuses an edit that touched a file with uncommitted changes (or one `HEAD` does
    /// not track), after giving every file its bytes back: the kept ones from memory,
    /// the other edited ones (clean before the edit) from `HEAD`.
    pub(crate) fn refuse_overlap(
        &self,
        runner: &GitRunner<'_>,
        repo: &gix::Repository,
        root: &Path,
        head: gix::ObjectId,
        files: &[PathBuf],
    ) -> Result<(), GitError> {
        let tree_err = |e: &dyn std::fmt::Display| GitError::Git {
            operation: "reading HEAD's tree".to_string(),
            detail: e.to_string(),
        };
        let tree = repo
            .find_commit(head)
            .map_err(|e| tree_err(&e))?
            .tree()
            .map_err(|e| tree_err(&e))?;
        let mut overlap = Vec::new();
        let mut clean = Vec::new();
        for file in files {
            let rela = commit::repo_path(file)?;
            if self.before.contains_key(&rela) {
                overlap.push(rela);
                continue;
            }
            let tracked = tree
                .lookup_entry_by_path(&rela)
                .map_err(|e| tree_err(&e))?
                .is_some();
            if tracked {
                clean.push(rela);
            } else {
                overlap.push(format!("{rela} (not tracked)"));
            }
        }
        if overlap.is_empty() {
            return Ok(());
        }
        self.restore(root)?;
        if !clean.is_empty() {
            // Clean before the edit: the worktree held exactly HEAD's content (with the
            // checkout's own filters, which `git restore` applies again).
            let mut args = vec![
                "restore".to_string(),
                "--source=HEAD".to_string(),
                "--worktree".to_string(),
                "--".to_string(),
            ];
            args.extend(clean.into_iter().map(|p| format!(":(literal){p}")));
            runner.run(root, &args)?.checked("restore")?;
        }
        Err(GitError::DirtyWorktree {
            path: root.to_path_buf(),
            files: overlap.join(", "),
            upstream_moved: false,
        })
    }

    /// Puts back the kept bytes of every file whose content changed since [`read`](Self::read).
    fn restore(&self, root: &Path) -> Result<(), GitError> {
        for (path, bytes) in &self.before {
            let Some(bytes) = bytes else { continue };
            let full = root.join(path);
            if std::fs::read(&full).is_ok_and(|now| &now == bytes) {
                continue;
            }
            crate::fsio::write_atomic(&full, bytes).map_err(|source| GitError::Io {
                context: format!("restoring {}", full.display()),
                source,
            })?;
        }
        Ok(())
    }
}

/// The paths `git status` reports, repository-relative (porcelain v1 ignores
/// `status.relativePaths`): both sides of a rename; untracked files if asked.
pub(crate) fn status_paths(
    runner: &GitRunner<'_>,
    root: &Path,
    untracked: bool,
) -> Result<Vec<String>, GitError> {
    let untracked = if untracked {
        "--untracked-files=all"
    } else {
        "--untracked-files=no"
    };
    let out = runner
        .run(
            root,
            ["status", "--porcelain=v1", "-z", "--no-renames", untracked],
        )?
        .checked("status")?;
    Ok(parse_status_z(&out.stdout))
}

/// `XY PATH\0` entries (with `--no-renames` there is no second path).
fn parse_status_z(text: &str) -> Vec<String> {
    text.split('\0')
        .filter_map(|entry| entry.get(3..))
        .filter(|path| !path.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_z_entries_are_split_into_paths() {
        assert_eq!(
            parse_status_z("M  staged.txt\0 M apps/web/values.yaml\0?? new file.yaml\0"),
            vec!["staged.txt", "apps/web/values.yaml", "new file.yaml"]
        );
        assert!(parse_status_z("").is_empty());
    }
}
