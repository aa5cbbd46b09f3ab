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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::KeyPath;

    fn edit(path: &str, value: &str) -> Vec<Edit> {
        vec![Edit::new(KeyPath::parse(path).expect("path"), value)]
    }

    #[test]
    fn non_utf8_input_is_refused_with_its_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("values.yaml");
        std::fs::write(&path, b"image:\n  tag: v1 # caf\xe9\n").expect("write");
        let err = edit_file(&path, &edit("image.tag", "v2"), EditOptions::default())
            .expect_err("not UTF-8");
        assert!(
            matches!(err, FileError::NotUtf8 { offset: 22, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("values.yaml: not UTF-8 text"));
    }

    #[test]
    fn missing_file_is_named() {
        let err = edit_file(
            Path::new("/nonexistent/values.yaml"),
            &edit("a", "b"),
            EditOptions::default(),
        )
        .expect_err("missing");
        assert_eq!(err.to_string(), "/nonexistent/values.yaml: file not found");
    }

    #[test]
    fn unchanged_file_is_not_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("values.yaml");
        std::fs::write(&path, "image:\n  tag: v1\n").expect("write");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        let fe = edit_file(&path, &edit("image.tag", "v1"), EditOptions::default()).expect("edit");
        assert!(!fe.changed());
        assert!(!fe.write().expect("write"));
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(mtime, old);
        assert_eq!(fe.diff("values.yaml"), "");
    }

    #[test]
    fn changed_file_gets_a_diff_and_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("values.yaml");
        std::fs::write(&path, "image:\n  tag: v1 # keep\n").expect("write");
        let fe = edit_file(&path, &edit("image.tag", "v2"), EditOptions::default()).expect("edit");
        assert_eq!(
            fe.diff("values.yaml"),
            "--- a/values.yaml\n+++ b/values.yaml\n@@ -1,2 +1,2 @@\n image:\n-  tag: v1 # keep\n+  tag: v2 # keep\n"
        );
        assert!(fe.write().expect("write"));
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "image:\n  tag: v2 # keep\n"
        );
    }
}
