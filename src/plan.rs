//! Applying a request to the files under one directory — a local checkout or the
//! temporary clone of a config repository. Every file is edited in memory and checked
//! first; only when all of them succeed is anything written (each file atomically).

use std::path::{Component, Path, PathBuf};

use crate::image::{split_image_string, ImageRef};
use crate::policy::{PolicyError, TagPolicy};
use crate::targets::{FindOptions, Target, TargetError, TargetKind};

mod image;
use crate::yaml::file::{edit_file, FileEdit, FileError};
use crate::yaml::{Edit, EditOptions};

/// Key paths to set in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdits {
    /// The file, relative to the root (or absolute inside it).
    pub file: PathBuf,
    /// What to set in it.
    pub edits: Vec<Edit>,
}

/// What to change.
#[derive(Clone, Debug)]
pub enum Request {
    /// Explicit key paths in explicit files (`tagbump set`).
    Set {
        /// Files and their edits.
        files: Vec<FileEdits>,
    },
    /// Every reference to an image under some paths (`tagbump image`).
    Image {
        /// The image with its new tag and/or digest.
        image: ImageRef,
        /// Files or directories to search, relative to the root; empty means the root.
        paths: Vec<PathBuf>,
    },
}

impl Request {
    /// A short description for commit messages: `ghcr.io/acme/api:v2` or
    /// `image.tag=v2 in apps/api/values.yaml`.
    pub fn summary(&self) -> String {
        match self {
            Request::Image { image, .. } => image.to_string(),
            Request::Set { files } => files
                .iter()
                .map(|f| {
                    let edits: Vec<String> = f
                        .edits
                        .iter()
                        .map(|e| format!("{}={}", e.path, e.value))
                        .collect();
                    format!("{} in {}", edits.join(", "), f.file.display())
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// Merges the edits of a file named more than once into one entry, keeping the order of
/// the edits. Files are compared by their lexically normalised path (`./a.yaml`,
/// `b/../a.yaml` and `a.yaml` are one file); [`plan`] also merges files that resolve to
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
fn merge_into(
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

/// How to apply a request.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Create missing keys (`set` only).
    pub create_missing: bool,
    /// Refuse edits that would also change other paths through aliases.
    pub refuse_aliased: bool,
    /// Rollback protection.
    pub policy: TagPolicy,
    /// What `image` requests look for besides the image (Flux policy, `appVersion`,
    /// Argo CD parameter names).
    pub find: FindOptions,
    /// `image` only: write this Argo CD application's `.argocd-source-<app>.yaml` in
    /// the (single) path given, instead of searching for references.
    pub argocd_app: Option<crate::argocd_source::ArgoApp>,
}

/// One value that an edit reached.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChangeRecord {
    /// The file, relative to the root.
    pub file: PathBuf,
    /// Document index in the file (0-based).
    pub document: usize,
    /// The key path.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The value before (`null` when the key was created).
    pub old: Option<String>,
    /// The value after.
    pub new: String,
    /// Whether the value changed.
    pub changed: bool,
    /// Why the place was touched (`image` requests): `helm-map`, `kustomize`,
    /// `image-string`, `flux-marker`, `argocd-parameter` or `app-version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<TargetKind>,
    /// The place named no tag or digest before (`image: busybox`) and now names one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// Other paths of the document that take the new value too, as aliases of the
    /// scalar or of a mapping or sequence holding it.
    pub aliases: Vec<String>,
}

/// The edits of a request, computed and checked but not yet written.
#[derive(Debug)]
pub struct Plan {
    /// The directory the files are relative to.
    pub root: PathBuf,
    /// Each file with its in-memory result.
    pub files: Vec<FileEdit>,
    /// Every place reached, in file order.
    pub records: Vec<ChangeRecord>,
    /// Files skipped while searching directories (not YAML, templated…), with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// Things the user should know (`file:line: …`), e.g. an old digest that was dropped.
    pub notes: Vec<String>,
}

/// Why a request could not be applied. Nothing has been written when this is returned
/// from [`plan`].
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A file path leaves the root.
    #[error("{}: outside the repository root {}", path.display(), root.display())]
    OutsideRoot {
        /// The path as given.
        path: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// Reading, editing or writing a file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// Searching for image references failed.
    #[error(transparent)]
    Targets(#[from] TargetError),
    /// The policy refused a value.
    #[error("{file}:{line}: {error}")]
    Policy {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The rule broken.
        error: PolicyError,
    },
    /// The same key path is given twice for one file with different values.
    #[error("{path} is set twice for {} ({first}, {second}); give each key path once", file.display())]
    SetTwice {
        /// The file, as first named.
        file: PathBuf,
        /// The key path.
        path: String,
        /// The first value.
        first: String,
        /// The other value.
        second: String,
    },
    /// `--argocd-app` with more than one path.
    #[error("--argocd-app writes one application's override file: give its source directory as the only path")]
    ArgoCdSourceDir,
    /// The override file could not be written.
    #[error(transparent)]
    ArgoCdSource(#[from] crate::argocd_source::ArgoSourceError),
    /// No reference to the image exists under the paths searched.
    #[error("no reference to {image} found under {paths} (searched {searched} YAML file(s)); check the image name, or use `tagbump set` with an explicit key path")]
    ImageNotFound {
        /// The image's name.
        image: String,
        /// The paths searched.
        paths: String,
        /// How many files were read.
        searched: usize,
    },
}

impl Plan {
    /// Whether any file changes.
    pub fn changed(&self) -> bool {
        self.files.iter().any(FileEdit::changed)
    }

    /// The files that change, relative to the root.
    pub fn changed_files(&self) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|f| f.changed())
            .map(|f| relative(&self.root, &f.path))
            .collect()
    }

    /// A unified diff of every change.
    pub fn diff(&self) -> String {
        self.files
            .iter()
            .map(|f| f.diff(&relative(&self.root, &f.path).to_string_lossy()))
            .collect()
    }

    /// Writes every changed file (atomically, one by one). Returns the files written,
    /// relative to the root.
    pub fn write(&self) -> Result<Vec<PathBuf>, PlanError> {
        let mut written = Vec::new();
        for f in &self.files {
            if f.write().map_err(|e| relative_file_error(&self.root, e))? {
                written.push(relative(&self.root, &f.path));
            }
        }
        Ok(written)
    }
}

/// The same error with its path relative to `root`: the absolute path of a temporary
/// clone means nothing to the user.
fn relative_file_error(root: &Path, error: FileError) -> FileError {
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

fn relative(root: &Path, path: &Path) -> PathBuf {
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

/// The `.argocd-source-<app>.yaml` of `app` in `dir`, created or updated in memory.
fn argocd_source_file(
    root: &Path,
    dir: &Path,
    app: &crate::argocd_source::ArgoApp,
    image: &ImageRef,
) -> Result<FileEdit, PlanError> {
    use crate::argocd_source as argo;
    if !dir.is_dir() {
        return Err(PlanError::File(FileError::NotFound {
            path: relative(root, dir),
        }));
    }
    let kind = match app.kind {
        Some(k) => k,
        None => argo::detect_kind(dir).map_err(|e| match e {
            argo::ArgoSourceError::UnknownKind(d) => {
                argo::ArgoSourceError::UnknownKind(relative(root, &d))
            }
            other => other,
        })?,
    };
    let path = dir.join(app.file_name());
    let original = if path.exists() {
        Some(crate::yaml::file::read_text(&path).map_err(|e| relative_file_error(root, e))?)
    } else {
        None
    };
    let (text, written) = argo::render(
        original.as_deref(),
        &relative(root, &path),
        app,
        kind,
        image,
    )?;
    let changes = written
        .into_iter()
        .map(|w| crate::yaml::Change {
            document: 0,
            path: w.path,
            line: text
                .lines()
                .position(|l| l.ends_with(&crate::argocd_source::goyaml::scalar(&w.new)))
                .map_or(1, |i| i + 1),
            old: w.old,
            new: w.new,
            aliases: Vec::new(),
        })
        .collect();
    Ok(FileEdit {
        path,
        original: original.unwrap_or_default(),
        outcome: crate::yaml::Outcome { text, changes },
    })
}

/// The tag part of an image string, or the whole value.
fn tag_of(value: &str) -> &str {
    split_image_string(value)
        .and_then(|raw| raw.tag.map(|(t, _)| t))
        .unwrap_or(value)
}

/// Computes every edit of `request` under `root`, checks it with the editor's safety net
/// and the policy, and returns the plan without writing anything.
pub fn plan(root: &Path, request: &Request, options: &Options) -> Result<Plan, PlanError> {
    let root = &root.canonicalize().map_err(|error| FileError::Io {
        path: root.to_path_buf(),
        error,
    })?;
    let edit_options = EditOptions {
        create_missing: options.create_missing,
        refuse_aliased: options.refuse_aliased,
    };
    let mut files = Vec::new();
    // For `image` requests, the targets of each file in `files`.
    let mut found_targets: Vec<Vec<Target>> = Vec::new();
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    match request {
        Request::Set { files: wanted } => {
            let mut merged = Vec::new();
            let mut resolved = Vec::new();
            for fe in wanted {
                let path = resolve_inside(root, &fe.file)?;
                merge_into(&mut merged, &mut resolved, path, fe.clone())?;
            }
            for (fe, path) in merged.iter().zip(&resolved) {
                files.push(
                    edit_file(path, &fe.edits, edit_options)
                        .map_err(|e| relative_file_error(root, e))?,
                );
            }
        }
        Request::Image { image, paths } if options.argocd_app.is_some() => {
            let app = options
                .argocd_app
                .as_ref()
                .ok_or(PlanError::ArgoCdSourceDir)?;
            let dir = match paths.as_slice() {
                [] => root.to_path_buf(),
                [one] => resolve_inside(root, one)?,
                _ => return Err(PlanError::ArgoCdSourceDir),
            };
            files.push(argocd_source_file(root, &dir, app, image)?);
        }
        Request::Image { image, paths } => {
            (files, found_targets) = image::image_files(
                root,
                image,
                paths,
                options,
                edit_options,
                &mut skipped,
                &mut notes,
            )?;
        }
    }
    let mut records = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let file = relative(root, &f.path);
        let targets = found_targets.get(i).map(Vec::as_slice).unwrap_or_default();
        for c in &f.outcome.changes {
            let target = targets
                .iter()
                .find(|t| t.document == c.document && t.path == c.path);
            let record = ChangeRecord {
                file: file.clone(),
                document: c.document,
                path: c.path.to_string(),
                line: c.line,
                old: c.old.clone(),
                new: c.new.clone(),
                changed: c.is_change(),
                aliases: c.aliases.iter().map(ToString::to_string).collect(),
                kind: target.map(|t| t.kind),
                pinned: target.is_some_and(|t| t.pinned),
            };
            // A string holding YAML (Argo CD's `helm.values`) is reported, and checked
            // against the policy, place by place.
            let places = match target {
                Some(t) if !t.within.is_empty() => t
                    .within
                    .iter()
                    .map(|w| ChangeRecord {
                        path: format!("{} > {}", c.path, w.path),
                        line: w.line,
                        old: Some(w.old.clone()),
                        new: w.new.clone(),
                        changed: w.is_change(),
                        kind: Some(w.kind),
                        pinned: w.pinned,
                        ..record.clone()
                    })
                    .collect(),
                _ => vec![record],
            };
            for r in places {
                if r.changed {
                    options
                        .policy
                        .check(r.old.as_deref().map(tag_of), tag_of(&r.new))
                        .map_err(|error| PlanError::Policy {
                            file: file.display().to_string(),
                            line: r.line,
                            error,
                        })?;
                }
                records.push(r);
            }
        }
    }
    Ok(Plan {
        root: root.to_path_buf(),
        files,
        records,
        skipped,
        notes,
    })
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
