//! Creating a commit from the files the caller's closure reported, with `gix`.
//!
//! The new tree is the parent's tree with exactly the reported paths replaced (or
//! removed, when the file no longer exists). Nothing else in the worktree is looked at,
//! so unrelated untracked or modified files never sneak into the commit.
//!
//! Trees are edited with gix's plumbing tree editor, which (unlike `Repository::edit_tree`)
//! does not require every entry of a written tree to exist locally: a sparse partial
//! clone (`sparse.rs`) has the trees but not the blobs of the files it did not check
//! out, and those entries are carried over unchanged. The only entries this code adds
//! are blobs it has just written; their path components are validated here (git's
//! `core.protectNTFS` rules everywhere, HFS+ rules on macOS, Windows names on Windows).
//!
//! File contents are stored byte for byte: no clean filters (`.gitattributes`
//! `filter=`, Git LFS) or end-of-line conversion are applied. GitOps config
//! repositories hold plain YAML, for which this is exact.

use std::path::{Component, Path, PathBuf};

use gix::objs::tree::EntryKind;
use gix::ObjectId;

use super::{CommitInfo, GitError, Identity};

/// The tree the parent's tree becomes with the reported files, and whether it differs.
pub(crate) struct BuiltTree {
    pub tree: ObjectId,
    pub parent_tree: ObjectId,
}

impl BuiltTree {
    pub(crate) fn changed(&self) -> bool {
        self.tree != self.parent_tree
    }
}

/// Turns a path reported by the closure into a `/`-separated repository path, refusing
/// anything that could escape the worktree or touch `.git`.
pub(crate) fn repo_path(file: &Path) -> Result<String, GitError> {
    let mut parts = Vec::new();
    for component in file.components() {
        match component {
            Component::Normal(part) => {
                let part = part.to_str().ok_or_else(|| GitError::InvalidInput {
                    message: format!("path {} is not valid UTF-8", file.display()),
                })?;
                if part.eq_ignore_ascii_case(".git") {
                    return Err(GitError::InvalidInput {
                        message: format!(
                            "refusing to commit a path inside .git: {}",
                            file.display()
                        ),
                    });
                }
                let options = gix::validate::path::component::Options {
                    protect_windows: cfg!(windows),
                    protect_hfs: cfg!(target_os = "macos"),
                    protect_ntfs: true,
                };
                gix::validate::path::component(part.into(), None, options).map_err(|e| {
                    GitError::InvalidInput {
                        message: format!(
                            "path {} cannot be stored in a git tree: {e}",
                            file.display()
                        ),
                    }
                })?;
                parts.push(part);
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(GitError::InvalidInput {
                    message: format!(
                        "changed file {} must be a relative path inside the checkout",
                        file.display()
                    ),
                });
            }
        }
    }
    if parts.is_empty() {
        return Err(GitError::InvalidInput {
            message: "the edit reported an empty file path".to_string(),
        });
    }
    Ok(parts.join("/"))
}

fn gix_err(operation: &str, err: impl std::fmt::Display) -> GitError {
    GitError::Git {
        operation: operation.to_string(),
        detail: err.to_string(),
    }
}

/// Writes blobs for `files` (relative to `root`) and a tree derived from `parent`'s tree.
pub(crate) fn build_tree(
    repo: &gix::Repository,
    root: &Path,
    parent: ObjectId,
    files: &[PathBuf],
) -> Result<BuiltTree, GitError> {
    let parent_commit = repo
        .find_commit(parent)
        .map_err(|e| gix_err("reading the parent commit", e))?;
    let parent_tree = parent_commit
        .tree_id()
        .map_err(|e| gix_err("reading the parent tree", e))?
        .detach();
    // The plumbing editor: no existence check of unchanged entries (see module docs).
    let mut editor = repo
        .edit_tree(parent_tree)
        .map_err(|e| gix_err("editing the tree", e))?
        .detach();
    for file in files {
        let rela = repo_path(file)?;
        let full = root.join(file);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&full).map_err(|source| GitError::Io {
                    context: format!("reading symlink {}", full.display()),
                    source,
                })?;
                let bytes = gix::path::into_bstr(target)
                    .map_err(|e| gix_err("reading a symlink target", e))?
                    .into_owned();
                let id = repo
                    .write_blob(&bytes)
                    .map_err(|e| gix_err("writing a blob", e))?;
                editor
                    .upsert(rela.split('/'), EntryKind::Link, id.detach())
                    .map_err(|e| gix_err("editing the tree", e))?;
            }
            Ok(meta) if meta.is_file() => {
                let bytes = std::fs::read(&full).map_err(|source| GitError::Io {
                    context: format!("reading {}", full.display()),
                    source,
                })?;
                let kind = if is_executable(&meta) {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                };
                let id = repo
                    .write_blob(&bytes)
                    .map_err(|e| gix_err("writing a blob", e))?;
                editor
                    .upsert(rela.split('/'), kind, id.detach())
                    .map_err(|e| gix_err("editing the tree", e))?;
            }
            Ok(_) => {
                return Err(GitError::InvalidInput {
                    message: format!(
                        "changed path {} is a directory; report files only",
                        file.display()
                    ),
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                editor
                    .remove(rela.split('/'))
                    .map_err(|e| gix_err("editing the tree", e))?;
            }
            Err(source) => {
                return Err(GitError::Io {
                    context: format!("inspecting {}", full.display()),
                    source,
                });
            }
        }
    }
    let tree = editor
        .write(|tree| repo.write_object(tree).map(gix::Id::detach))
        .map_err(|e| gix_err("writing the tree", e))?;
    Ok(BuiltTree { tree, parent_tree })
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

fn signature(who: &Identity, time: gix::date::Time) -> gix::actor::Signature {
    gix::actor::Signature {
        name: who.name.as_str().into(),
        email: who.email.as_str().into(),
        time,
    }
}

/// Creates a commit of `tree` on top of `parent` and points `reference` at it
/// (`HEAD` writes through to the checked-out branch). The reference update is a
/// compare-and-swap against `parent` (or creation when it does not exist yet).
pub(crate) fn create_commit(
    repo: &gix::Repository,
    reference: &str,
    tree: ObjectId,
    parent: ObjectId,
    info: &CommitInfo,
) -> Result<ObjectId, GitError> {
    let now = gix::date::Time::now_local_or_utc();
    let author = signature(&info.author, now);
    let committer = signature(&info.committer, now);
    let mut author_buf = gix::date::parse::TimeBuf::default();
    let mut committer_buf = gix::date::parse::TimeBuf::default();
    let id = repo
        .commit_as(
            committer.to_ref(&mut committer_buf),
            author.to_ref(&mut author_buf),
            reference,
            info.message.as_str(),
            tree,
            [parent],
        )
        .map_err(|e| gix_err("creating the commit", e))?;
    Ok(id.detach())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_normalised_and_confined() {
        assert_eq!(
            repo_path(Path::new("apps/a/values.yaml")).ok().as_deref(),
            Some("apps/a/values.yaml")
        );
        assert_eq!(
            repo_path(Path::new("./x.yaml")).ok().as_deref(),
            Some("x.yaml")
        );
        assert!(matches!(
            repo_path(Path::new("../x")),
            Err(GitError::InvalidInput { .. })
        ));
        assert!(matches!(
            repo_path(Path::new("/etc/passwd")),
            Err(GitError::InvalidInput { .. })
        ));
        assert!(matches!(
            repo_path(Path::new(".git/config")),
            Err(GitError::InvalidInput { .. })
        ));
        assert!(matches!(
            repo_path(Path::new("")),
            Err(GitError::InvalidInput { .. })
        ));
    }
}
