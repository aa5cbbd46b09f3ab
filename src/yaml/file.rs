//! Editing YAML files on disk: read (UTF-8 checked), edit with [`super::apply`], and
//! write back atomically only when a byte changed — an unchanged file keeps its mtime.

use std::path::{Path, PathBuf};

use super::{apply, Edit, EditError, EditOptions, Outcome};

/// A file that was read and edited in memory.
#[derive(Clone, Debug)]
pub struct FileEdit {
    /// The file.
    pub path: PathBuf,
    /// Its content before.
    pub original: String,
    /// The edit's result.
    pub outcome: Outcome,
}

impl FileEdit {
    /// Whether the file's content changes.
    pub fn changed(&self) -> bool {
        self.outcome.text != self.original
    }

    /// A unified diff of the change (empty when nothing changed), with `label` as the
    /// file name in the `---`/`+++` lines.
    pub fn diff(&self, label: &str) -> String {
        if !self.changed() {
            return String::new();
        }
        similar::TextDiff::from_lines(&self.original, &self.outcome.text)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{label}"), &format!("b/{label}"))
            .to_string()
    }

    /// Writes the new content atomically if it differs. Returns whether it wrote.
    pub fn write(&self) -> Result<bool, FileError> {
        if !self.changed() {
            return Ok(false);
        }
        crate::fsio::write_atomic(&self.path, self.outcome.text.as_bytes()).map_err(|error| {
            FileError::Io {
                path: self.path.clone(),
                error,
            }
        })?;
        Ok(true)
    }
}

/// Why a file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// No such file.
    #[error("{}: file not found", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// Not UTF-8 text.
    #[error("{}: not UTF-8 text (invalid byte at offset {offset}); YAML files must be UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Offset of the first bad byte.
        offset: usize,
    },
    /// Reading or writing failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The edit was refused.
    #[error("{}: {error}", path.display())]
    Edit {
        /// The file.
        path: PathBuf,
        /// Why.
        error: EditError,
    },
}

/// Reads a UTF-8 text file.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    let bytes = std::fs::read(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            FileError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            FileError::Io {
                path: path.to_path_buf(),
                error,
            }
        }
    })?;
    String::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads `path` and applies `edits` in memory. Nothing is written; call
/// [`FileEdit::write`].
pub fn edit_file(path: &Path, edits: &[Edit], options: EditOptions) -> Result<FileEdit, FileError> {
    let original = read_text(path)?;
    let outcome = apply(&original, edits, options).map_err(|error| FileError::Edit {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(FileEdit {
        path: path.to_path_buf(),
        original,
        outcome,
    })
}
