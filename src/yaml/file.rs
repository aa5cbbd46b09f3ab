//! Editing YAML files on disk: read (regular files only, at most [`MAX_FILE_BYTES`],
//! UTF-8 checked), edit with [`super::apply`], and write back atomically only when a
//! byte changed — an unchanged file keeps its mtime.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{apply_as, Edit, EditError, EditOptions, Outcome, Syntax};

/// The largest file tagbump reads: 16 MiB. Real values files and manifests are well
/// under a megabyte, while the editor and its safety net hold parsed copies of a file
/// (up to about 40 bytes of memory per byte of densely written YAML), so a larger file
/// is refused ([`FileError::TooLarge`]) before it is read, keeping a run under about
/// 1 GB instead of exhausting memory. [`read_text_with_limit`] takes another limit.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

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
#[non_exhaustive]
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
    /// A FIFO, device, socket or directory where a YAML file was expected: reading it
    /// could block forever or never end.
    #[error("{}: not a regular file but {kind}; only regular files (or symbolic links to them) are read", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is: "a FIFO (named pipe)", "a character device", …
        kind: &'static str,
    },
    /// Larger than the limit ([`MAX_FILE_BYTES`] by default).
    #[error("{}: {} is more than the limit of {} for a YAML file; refusing to read it", path.display(), size_text(*size), size_text(*limit))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least; a file that grows while read may be larger).
        size: u64,
        /// The limit in bytes.
        limit: u64,
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

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, FileError> {
    read_text_with_limit(path, MAX_FILE_BYTES)
}

/// Reads a UTF-8 text file of at most `limit` bytes. Only regular files are read
/// (symbolic links are followed): anything else is [`FileError::NotAFile`], checked
/// before the file is opened, since opening a FIFO blocks until a writer comes. A
/// larger file is [`FileError::TooLarge`], checked before it is read.
pub fn read_text_with_limit(path: &Path, limit: u64) -> Result<String, FileError> {
    let io = |error: std::io::Error| {
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
    };
    let check = |meta: &std::fs::Metadata| {
        if !meta.is_file() {
            return Err(FileError::NotAFile {
                path: path.to_path_buf(),
                kind: file_kind(&meta.file_type()),
            });
        }
        if meta.len() > limit {
            return Err(FileError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                limit,
            });
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(io)?)?;
    let file = File::open(path).map_err(io)?;
    // The path may have been replaced since: check what was opened.
    let meta = file.metadata().map_err(io)?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let size = bytes.len() as u64;
    if size > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// What a file that is not a regular file is, for messages: "a directory", "a FIFO
/// (named pipe)", …
pub(crate) fn file_kind(file_type: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// A byte count for messages: "104857600 bytes (100.0 MiB)".
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{bytes} bytes ({:.1} MiB)", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// The syntax a file is edited in, from its name: JSON for `*.json` (any case), YAML
/// otherwise.
pub fn syntax_of(path: &Path) -> Syntax {
    let json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        Syntax::Json
    } else {
        Syntax::Yaml
    }
}

/// Reads `path` and applies `edits` in memory, as JSON when the file is `*.json`
/// ([`syntax_of`], [`super::apply_json`]). Nothing is written; call [`FileEdit::write`].
pub fn edit_file(path: &Path, edits: &[Edit], options: EditOptions) -> Result<FileEdit, FileError> {
    let original = read_text(path)?;
    let outcome =
        apply_as(syntax_of(path), &original, edits, options).map_err(|error| FileError::Edit {
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
    fn a_json_file_is_edited_as_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("values.json");
        std::fs::write(&path, "{\"replicas\": 1, \"image\": {\"tag\": 2}}\n").expect("write");
        let edits = [
            Edit::new(KeyPath::parse("replicas").expect("path"), "3"),
            Edit::new(KeyPath::parse("image.tag").expect("path"), "v2"),
        ];
        let fe = edit_file(&path, &edits, EditOptions::default()).expect("edit");
        assert_eq!(
            fe.outcome.text,
            "{\"replicas\": 3, \"image\": {\"tag\": \"v2\"}}\n"
        );
        std::fs::write(&path, "replicas: 1\n").expect("write");
        let err = edit_file(&path, &edits[..1], EditOptions::default()).expect_err("not JSON");
        assert!(
            err.to_string().contains("values.json: not JSON at line 1"),
            "{err}"
        );
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
