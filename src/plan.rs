//! Applying a request to the files under one directory — a local checkout or the
//! temporary clone of a config repository. Every file is edited in memory and checked
//! first; only when all of them succeed is anything written (each file atomically).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::image::{split_image_string, ImageRef};
use crate::policy::TagPolicy;
use crate::targets::{FindOptions, Target, TargetKind};

mod argocd_file;
mod error;
mod image;
mod many;
mod merge;
mod paths;
use self::argocd_file::argocd_source_file;
pub use self::error::PlanError;
pub use self::many::plan_all;
use self::merge::merge_into;
pub use self::merge::merge_same_files;
pub use self::paths::resolve_inside;
use self::paths::{relative, relative_file_error};
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
    /// `image` only: let a search that skipped a file naming the image (malformed
    /// YAML, too large, not UTF-8, a reference that cannot be updated) update the other
    /// files, instead of failing with [`PlanError::SkippedReference`].
    pub skip_unreadable: bool,
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
    /// The value's YAML type before and after, when it changed (`tag: 1.9` → `"1.10"`:
    /// float → string; `set --type`). Absent when the type stays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_changed: Option<TypeChanged>,
}

/// A change of a value's YAML type: `int`, `float`, `bool`, `string`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TypeChanged {
    /// The old type.
    pub from: String,
    /// The new type.
    pub to: String,
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
    /// What a search did not enter on purpose, relative to the root, with why: hidden
    /// directories and files, `node_modules`, charts' `templates/`, symbolic links out
    /// of the tree or nowhere, JSON files that are not Kubernetes objects.
    pub not_searched: Vec<crate::targets::NotSearched>,
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

/// The tag part of an image string, or the whole value.
fn tag_of(value: &str) -> &str {
    split_image_string(value)
        .and_then(|raw| raw.tag.map(|(t, _)| t))
        .unwrap_or(value)
}

/// Computes every edit of `request` under `root`, checks it with the editor's safety net
/// and the policy, and returns the plan without writing anything.
pub fn plan(root: &Path, request: &Request, options: &Options) -> Result<Plan, PlanError> {
    plan_over(root, request, options, &HashMap::new())
}

/// [`plan`], with `overlay` (canonical path → text) read instead of those files on disk.
fn plan_over(
    root: &Path,
    request: &Request,
    options: &Options,
    overlay: &HashMap<PathBuf, String>,
) -> Result<Plan, PlanError> {
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
    let mut not_searched = Vec::new();
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
                image::Aside {
                    skipped: &mut skipped,
                    notes: &mut notes,
                    not_searched: &mut not_searched,
                    overlay,
                },
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
                type_changed: c.type_change.map(|t| TypeChanged {
                    from: t.from.to_string(),
                    to: t.to.to_string(),
                }),
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
        not_searched,
    })
}
