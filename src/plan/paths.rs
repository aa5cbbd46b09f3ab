//! Paths under the root: a file resolved inside it (never outside, whatever `..` or
//! a symbolic link says), and paths and file errors shown relative to it.

use std::path::{Component, Path, PathBuf};

use super::PlanError;
use crate::yaml::file::FileError;

/// The same error with its path relative to `root`: the absolute path of a temporary
/// clone means nothing to the user.
pub(super) fn relative_file_error(root: &Path, error: FileError) -> FileError {
    match error {
        FileError::NotFound { path } => FileError::NotFound {
            path: relative(root, &path),
        },
        FileError::NotUtf8 { path, offset } => FileError::NotUtf8 {
            path: relative(root, &path),
            offset,
        },
        FileError::NotAFile { path, kind } => FileError::NotAFile {
            path: relative(root, &path),
            kind,
        },
        FileError::TooLarge { path, size, limit } => FileError::TooLarge {
            path: relative(root, &path),
            size,
            limit,
        },
        FileError::Io { path, error } => FileError::Io {
            path: relative(root, &path),
            error,
        },
        FileError::Edit { path, error } => FileError::Edit {
            path: relative(root, &path),
            error,
        },
    }
}

pub(super) fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Resolves `file` under `root`, refusing anything that leads outside it (`..`, absolute
/// paths elsewhere, symlinks pointing out).
pub fn resolve_inside(root: &Path, file: &Path) -> Result<PathBuf, PlanError> {
    let outside = || PlanError::OutsideRoot {
        path: file.to_path_buf(),
        root: root.to_path_buf(),
    };
    let joined = if file.is_absolute() {
        file.to_path_buf()
    } else {
        root.join(file)
    };
    let canon_root = root.canonicalize().map_err(|error| FileError::Io {
        path: root.to_path_buf(),
        error,
    })?;
    match joined.canonicalize() {
        Ok(canon) if canon.starts_with(&canon_root) => {
            Ok(canon_root.join(canon.strip_prefix(&canon_root).map_err(|_| outside())?))
        }
        Ok(_) => Err(outside()),
        Err(_) => {
            // The file does not exist: judge the path by its components.
            let mut depth: i64 = 0;
            for c in file.components() {
                match c {
                    Component::ParentDir => depth -= 1,
                    Component::Normal(_) => depth += 1,
                    Component::RootDir | Component::Prefix(_) if !joined.starts_with(root) => {
                        return Err(outside())
                    }
                    _ => {}
                }
                if depth < 0 {
                    return Err(outside());
                }
            }
            Err(PlanError::File(FileError::NotFound {
                path: file.to_path_buf(),
            }))
        }
    }
}
