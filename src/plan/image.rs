//! The files of an `image` request: every YAML file under the given paths searched
//! for the image, edited in memory.

use std::path::{Path, PathBuf};

use super::paths::{relative, relative_file_error, resolve_inside};
use super::{Options, PlanError};
use crate::image::ImageRef;
use crate::targets::{self, Target, TargetKind};
use crate::yaml::file::{FileEdit, FileError};
use crate::yaml::EditOptions;

/// Searches `paths` under `root` for `image` and edits every file that refers to it;
/// returns the edited files and, for each, its targets. Files that cannot be read or
/// searched while walking directories are added to `skipped`, notes on the targets to
/// `notes`.
pub(super) fn image_files(
    root: &Path,
    image: &ImageRef,
    paths: &[PathBuf],
    options: &Options,
    edit_options: EditOptions,
    skipped: &mut Vec<(PathBuf, String)>,
    notes: &mut Vec<String>,
) -> Result<(Vec<FileEdit>, Vec<Vec<Target>>), PlanError> {
    let mut files = Vec::new();
    let mut found_targets = Vec::new();
    let given: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    // A path given that is not a directory is read as a file, whatever it is:
    // a FIFO or device named on the command line is an error, not a skip.
    let mut explicit = Vec::new();
    for p in &given {
        let resolved = resolve_inside(root, p)?;
        if !resolved.is_dir() {
            explicit.push(resolved);
        }
    }
    let found = targets::find_yaml_files(root, &given)?;
    skipped.extend(
        found
            .skipped
            .into_iter()
            .map(|(path, reason)| (relative(root, &path), reason)),
    );
    let candidates = found.files;
    let searched = candidates.len();
    let mut hits: Vec<(PathBuf, String, Vec<Target>, bool)> = Vec::new();
    for path in candidates {
        let path = path.canonicalize().unwrap_or(path);
        let is_explicit = explicit.contains(&path);
        let text = match crate::yaml::file::read_text(&path) {
            Ok(t) => t,
            Err(e) if !is_explicit => {
                skipped.push((relative(root, &path), e.to_string()));
                continue;
            }
            Err(e) => return Err(relative_file_error(root, e).into()),
        };
        let name = relative(root, &path).display().to_string();
        let found = match targets::find_in_text_with(&name, &text, image, &options.find) {
            Ok(found) => found,
            Err(e) if !is_explicit => {
                skipped.push((relative(root, &path), e.to_string()));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if !found.is_empty() {
            hits.push((path, text, found, is_explicit));
        }
    }
    keep_app_versions_of_matching_charts(&mut hits);
    for (path, text, found, _) in hits {
        let name = relative(root, &path).display().to_string();
        notes.extend(
            found
                .iter()
                .filter_map(|t| t.note.as_ref().map(|n| format!("{name}:{}: {n}", t.line))),
        );
        let edits = targets::to_edits(&found);
        let outcome =
            crate::yaml::apply(&text, &edits, edit_options).map_err(|error| FileError::Edit {
                path: relative(root, &path),
                error,
            })?;
        files.push(FileEdit {
            path,
            original: text,
            outcome,
        });
        found_targets.push(found);
    }
    if files.is_empty() {
        return Err(PlanError::ImageNotFound {
            image: image.familiar_name(),
            paths: given
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            searched,
        });
    }
    Ok((files, found_targets))
}

/// `appVersion` places count only for a chart whose own files refer to the image: a
/// `Chart.yaml` keeps its `app-version` target when it was named on the command line
/// or another file in its directory (its `values.yaml`) has a target.
fn keep_app_versions_of_matching_charts(hits: &mut Vec<(PathBuf, String, Vec<Target>, bool)>) {
    let referring: Vec<PathBuf> = hits
        .iter()
        .filter(|(_, _, found, _)| found.iter().any(|t| t.kind != TargetKind::AppVersion))
        .filter_map(|(path, _, _, _)| path.parent().map(Path::to_path_buf))
        .collect();
    for (path, _, found, explicit) in hits.iter_mut() {
        let chart_dir = path.parent().map(Path::to_path_buf);
        if !*explicit && !chart_dir.is_some_and(|d| referring.contains(&d)) {
            found.retain(|t| t.kind != TargetKind::AppVersion);
        }
    }
    hits.retain(|(_, _, found, _)| !found.is_empty());
}
