//! `FILE KEY=VALUE… FILE KEY=VALUE…`: a list of files, each followed by the assignments
//! for it, as [`FileEdits`] (what `tagbump set` takes).

use std::path::PathBuf;

use crate::plan::FileEdits;
use crate::yaml::{Edit, KeyPath, PathError, ValueType};

/// How the assignments are read.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Assignments {
    /// Accept `KEY=` (an empty value); refused by default as a likely mistake (an
    /// unset variable).
    pub allow_empty: bool,
    /// The type of every new value.
    pub value_type: ValueType,
    /// Only this document of multi-document files (0-based).
    pub document: Option<usize>,
}

/// Why a list of assignments cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssignmentError {
    /// `KEY=` without [`Assignments::allow_empty`].
    #[error("{item:?}: the value is empty")]
    EmptyValue {
        /// The assignment.
        item: String,
    },
    /// An assignment before any file.
    #[error("{item:?}: name the file before its KEY=VALUE assignments")]
    BeforeAnyFile {
        /// The assignment.
        item: String,
    },
    /// A key path that does not parse.
    #[error("in {} ", file.display())]
    KeyPath {
        /// The file it is for.
        file: PathBuf,
        /// Why.
        #[source]
        error: PathError,
    },
    /// A value that cannot be written as [`Assignments::value_type`].
    #[error("{item} (as {}): {why}", type_name(*value_type))]
    ValueType {
        /// The assignment.
        item: String,
        /// The type asked for.
        value_type: ValueType,
        /// Why not.
        why: String,
    },
    /// `key:value` (a colon for `=`), read as the name of a file that does not exist.
    #[error(
        "{name} was read as a file name, since it has no `=`; to set {key} write {key}={value}"
    )]
    ColonForEquals {
        /// The item.
        name: String,
        /// What precedes the colon.
        key: String,
        /// What follows it.
        value: String,
    },
    /// A file without assignments.
    #[error("{file}: no KEY=VALUE given for this file (e.g. {file} image.tag=v1.2.3)", file = file.display())]
    NoAssignment {
        /// The file.
        file: PathBuf,
    },
}

impl AssignmentError {
    /// `invalid-input`, except for a key path, whose own error tells (`None`).
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            AssignmentError::KeyPath { .. } => None,
            _ => Some("invalid-input"),
        }
    }
}

/// `auto`, `string`, `int`, `float` or `bool`.
pub fn type_name(value_type: ValueType) -> String {
    format!("{value_type:?}").to_lowercase()
}

impl Assignments {
    /// Reads `items`: an item with `=` outside quotes is an assignment for the file
    /// before it, any other item a file. A file named twice is still listed twice (see
    /// [`plan::merge_same_files`](crate::plan::merge_same_files)). A file item with a
    /// colon that names no existing file (relative to the current directory) is taken
    /// for `key:value`.
    pub fn parse(&self, items: &[String]) -> Result<Vec<FileEdits>, AssignmentError> {
        let mut files: Vec<FileEdits> = Vec::new();
        for item in items {
            let Some((key, value)) = split_assignment(item) else {
                files.push(FileEdits {
                    file: PathBuf::from(item),
                    edits: Vec::new(),
                });
                continue;
            };
            let item = item.clone();
            if value.is_empty() && !self.allow_empty {
                return Err(AssignmentError::EmptyValue { item });
            }
            let Some(current) = files.last_mut() else {
                return Err(AssignmentError::BeforeAnyFile { item });
            };
            let path = KeyPath::parse(key).map_err(|error| AssignmentError::KeyPath {
                file: current.file.clone(),
                error,
            })?;
            let value_type = self.value_type;
            if let Err(why) = value_type.check(value) {
                return Err(AssignmentError::ValueType {
                    item,
                    value_type,
                    why,
                });
            }
            current.edits.push(Edit {
                path,
                value: value.to_string(),
                document: self.document,
                value_type,
            });
        }
        // `image.tag:v1` (a colon for `=`) is read as a file name: say so first.
        for f in files
            .iter()
            .filter(|f| f.edits.is_empty() && !f.file.exists())
        {
            let name = f.file.display().to_string();
            if let Some((key, value)) = name.split_once(':') {
                return Err(AssignmentError::ColonForEquals {
                    key: key.to_string(),
                    value: value.to_string(),
                    name,
                });
            }
        }
        if let Some(empty) = files.iter().find(|f| f.edits.is_empty()) {
            return Err(AssignmentError::NoAssignment {
                file: empty.file.clone(),
            });
        }
        Ok(files)
    }
}

/// Splits `key=value` at the first `=` outside quotes.
fn split_assignment(item: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in item.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '=') => return Some((&item[..i], &item[i + 1..])),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn assignments_split_outside_quotes() {
        assert_eq!(split_assignment("image.tag=v1"), Some(("image.tag", "v1")));
        assert_eq!(split_assignment("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_assignment("x.\"k=v\"=1"), Some(("x.\"k=v\"", "1")));
        assert_eq!(split_assignment("apps/api/values.yaml"), None);
    }

    #[test]
    fn each_file_takes_the_assignments_after_it() {
        let read = Assignments {
            document: Some(1),
            ..Assignments::default()
        };
        let files = read
            .parse(&items(&["a.yaml", "image.tag=v1", "b=c", "b.yaml", "x=1"]))
            .expect("parsed");
        let got: Vec<(String, Vec<(String, String)>)> = files
            .iter()
            .map(|f| {
                let edits = f
                    .edits
                    .iter()
                    .map(|e| (e.path.to_string(), e.value.clone()))
                    .collect();
                (f.file.display().to_string(), edits)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "a.yaml".to_string(),
                    vec![
                        ("image.tag".to_string(), "v1".to_string()),
                        ("b".to_string(), "c".to_string())
                    ]
                ),
                (
                    "b.yaml".to_string(),
                    vec![("x".to_string(), "1".to_string())]
                ),
            ]
        );
        assert!(files[0].edits.iter().all(|e| e.document == Some(1)));
    }

    #[test]
    fn mistakes_are_named_in_the_order_they_are_met() {
        let message = |read: Assignments, list: &[&str]| {
            read.parse(&items(list)).expect_err("refused").to_string()
        };
        let plain = Assignments::default();
        assert_eq!(
            message(plain, &["a.yaml", "x="]),
            "\"x=\": the value is empty"
        );
        let empty_ok = Assignments {
            allow_empty: true,
            ..plain
        };
        assert!(empty_ok.parse(&items(&["a.yaml", "x="])).is_ok());
        assert_eq!(
            message(plain, &["x=1", "a.yaml"]),
            "\"x=1\": name the file before its KEY=VALUE assignments"
        );
        let int = Assignments {
            value_type: ValueType::Int,
            ..plain
        };
        let err = int.parse(&items(&["a.yaml", "n=010"])).expect_err("010");
        assert!(err.to_string().starts_with("n=010 (as int): "), "{err}");
        assert_eq!(err.kind(), Some("invalid-input"));
        assert_eq!(
            message(plain, &["a.yaml", "x=1", "image.tag:v1"]),
            "image.tag:v1 was read as a file name, since it has no `=`; to set image.tag write image.tag=v1"
        );
        assert_eq!(
            message(plain, &["a.yaml", "x=1", "b.yaml"]),
            "b.yaml: no KEY=VALUE given for this file (e.g. b.yaml image.tag=v1.2.3)"
        );
        let bad_path = plain
            .parse(&items(&["a.yaml", "a..b=1"]))
            .expect_err("a..b");
        assert_eq!(bad_path.to_string(), "in a.yaml ");
        assert_eq!(bad_path.kind(), None, "the key path error's own kind");
    }
}
