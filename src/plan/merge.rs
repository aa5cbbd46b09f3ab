//! Files named more than once in one request merged into one entry, each key path
//! set once.

use std::path::{Component, Path, PathBuf};

use super::{FileEdits, PlanError};
use crate::yaml::Edit;

/// Merges the edits of a file named more than once into one entry, keeping the order of
/// the edits. Files are compared by their lexically normalised path (`./a.yaml`,
/// `b/../a.yaml` and `a.yaml` are one file); [`plan`](super::plan) also merges files that resolve to
/// the same file on disk. A key path given twice for a file (in the same document
/// selection) counts once if the values agree, and is a [`PlanError::SetTwice`] if they
/// differ.
pub fn merge_same_files(files: Vec<FileEdits>) -> Result<Vec<FileEdits>, PlanError> {
    let mut merged: Vec<FileEdits> = Vec::new();
    let mut keys: Vec<PathBuf> = Vec::new();
    for fe in files {
        let key = normalise(&fe.file);
        merge_into(&mut merged, &mut keys, key, fe)?;
    }
    Ok(merged)
}

/// Adds `fe` to `merged` (whose entries are identified by `keys`), or its edits to the
/// entry with the same key.
pub(super) fn merge_into(
    merged: &mut Vec<FileEdits>,
    keys: &mut Vec<PathBuf>,
    key: PathBuf,
    fe: FileEdits,
) -> Result<(), PlanError> {
    let Some(at) = keys.iter().position(|k| *k == key) else {
        keys.push(key);
        let mut first = FileEdits {
            file: fe.file,
            edits: Vec::new(),
        };
        for edit in fe.edits {
            add_edit(&mut first, edit)?;
        }
        merged.push(first);
        return Ok(());
    };
    for edit in fe.edits {
        add_edit(&mut merged[at], edit)?;
    }
    Ok(())
}

/// Appends `edit` unless the same key path is already set (to the same value: dropped;
/// to another: an error).
fn add_edit(target: &mut FileEdits, edit: Edit) -> Result<(), PlanError> {
    let earlier = target
        .edits
        .iter()
        .find(|e| e.path == edit.path && e.document == edit.document);
    match earlier {
        None => target.edits.push(edit),
        Some(e) if e.value == edit.value => {}
        Some(e) => {
            return Err(PlanError::SetTwice {
                file: target.file.clone(),
                path: edit.path.to_string(),
                first: e.value.clone(),
                second: edit.value,
            })
        }
    }
    Ok(())
}

/// `path` without `.` components and with `dir/..` pairs removed (lexically; a leading
/// `..` stays).
fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::KeyPath;

    fn set(file: &str, assignments: &[(&str, &str)]) -> FileEdits {
        FileEdits {
            file: PathBuf::from(file),
            edits: assignments
                .iter()
                .map(|(k, v)| Edit::new(KeyPath::parse(k).expect("key path"), *v))
                .collect(),
        }
    }

    #[test]
    fn a_file_named_twice_becomes_one_file_with_the_edits_in_order() {
        let merged = merge_same_files(vec![
            set("a.yaml", &[("image.tag", "v3")]),
            set("b.yaml", &[("image.tag", "v1")]),
            set("./x/../a.yaml", &[("replicas", "2")]),
        ])
        .expect("no conflict");
        assert_eq!(
            merged,
            vec![
                set("a.yaml", &[("image.tag", "v3"), ("replicas", "2")]),
                set("b.yaml", &[("image.tag", "v1")]),
            ]
        );
    }

    #[test]
    fn the_same_key_path_with_the_same_value_counts_once() {
        let merged = merge_same_files(vec![
            set("a.yaml", &[("image.tag", "v3")]),
            set("a.yaml", &[("\"image\".tag", "v3")]),
        ])
        .expect("no conflict");
        assert_eq!(merged, vec![set("a.yaml", &[("image.tag", "v3")])]);
    }

    #[test]
    fn the_same_key_path_with_two_values_is_an_error() {
        let err = merge_same_files(vec![
            set("a.yaml", &[("image.tag", "v3")]),
            set("a.yaml", &[("image.tag", "v4")]),
        ])
        .expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "image.tag is set twice for a.yaml (v3, v4); give each key path once"
        );
        let err = merge_same_files(vec![set(
            "a.yaml",
            &[("image.tag", "v3"), ("image.tag", "v4")],
        )])
        .expect_err("conflict within one naming");
        assert!(matches!(err, PlanError::SetTwice { .. }), "{err}");
    }
}
