//! The file of an `image` request with `--argocd-app`: the application's
//! `.argocd-source-<app>.yaml`, created or updated in memory.

use std::path::Path;

use super::paths::{relative, relative_file_error};
use super::PlanError;
use crate::image::ImageRef;
use crate::yaml::file::{FileEdit, FileError};

/// The `.argocd-source-<app>.yaml` of `app` in `dir`, created or updated in memory.
pub(super) fn argocd_source_file(
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
            type_change: None,
        })
        .collect();
    Ok(FileEdit {
        path,
        original: original.unwrap_or_default(),
        outcome: crate::yaml::Outcome { text, changes },
    })
}
