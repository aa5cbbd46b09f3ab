//! The files of an `image` request: every YAML file under the given paths searched
//! for the image, edited in memory.

use std::path::{Path, PathBuf};

use super::paths::{relative, relative_file_error, resolve_inside};
use super::{Options, PlanError};
use crate::image::ImageRef;
use crate::targets::{self, NameMention, NotSearched, NotSearchedReason, Target, TargetKind};
use crate::yaml::file::{syntax_of, FileEdit, FileError};
use crate::yaml::EditOptions;
use crate::yaml::Syntax;

/// What a search reports besides its edits.
pub(super) struct Aside<'a> {
    /// Files that could not be read or searched, with why.
    pub(super) skipped: &'a mut Vec<(PathBuf, String)>,
    /// Notes on the targets.
    pub(super) notes: &'a mut Vec<String>,
    /// What the search did not enter on purpose.
    pub(super) not_searched: &'a mut Vec<NotSearched>,
    /// Texts to search instead of the files' contents on disk (canonical path → text):
    /// what earlier requests of one [`super::plan_all`] made of them.
    pub(super) overlay: &'a std::collections::HashMap<PathBuf, String>,
}

/// Searches `paths` under `root` for `image` and edits every file that refers to it;
/// returns the edited files and, for each, its targets. Files that cannot be read or
/// searched while walking directories are added to `skipped`, notes on the targets to
/// `notes`, and what the walk did not enter on purpose to `not_searched`: among them
/// the `*.json` files met while walking that are not Kubernetes objects
/// ([`targets::is_kubernetes_json`]), which are neither searched nor skipped. A JSON
/// file is edited as JSON ([`crate::yaml::apply_json`]).
///
/// A file met while walking that cannot be read (malformed YAML, too large, not UTF-8,
/// a name that is not UTF-8, a reference that cannot be updated) is skipped; but when its text names the image's
/// repository, the search fails with [`PlanError::SkippedReference`] before anything is
/// edited, unless [`Options::skip_unreadable`] allows it. When no file has a place to
/// write, the error says where the image is named without one
/// ([`PlanError::NameOnly`]) or that it is named nowhere ([`PlanError::ImageNotFound`]).
pub(super) fn image_files(
    root: &Path,
    image: &ImageRef,
    paths: &[PathBuf],
    options: &Options,
    edit_options: EditOptions,
    aside: Aside<'_>,
) -> Result<(Vec<FileEdit>, Vec<Vec<Target>>), PlanError> {
    let Aside {
        skipped,
        notes,
        not_searched,
        overlay,
    } = aside;
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
    not_searched.extend(found.not_searched.into_iter().map(|n| NotSearched {
        path: relative(root, &n.path),
        ..n
    }));
    skipped.extend(
        found
            .skipped
            .into_iter()
            .map(|(path, reason)| (relative(root, &path), reason)),
    );
    // Files that could not be read and whose text names the image.
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    // A file the walk could not name is still looked through for the image's name.
    for real in &found.unnamed_files {
        if targets::file_mentions_repository(real, image).unwrap_or(false) {
            let shown = relative(root, Path::new(&*real.to_string_lossy()));
            if let Some(skip) = skipped.iter().find(|(file, _)| *file == shown) {
                unreadable.push(skip.clone());
            }
        }
    }
    let candidates = found.files;
    let mut searched = 0;
    let mut hits: Vec<(PathBuf, String, Vec<Target>, bool)> = Vec::new();
    // Files read without a target whose text names the repository: where to look for
    // a name without a place for its tag, should no file have a place (read again
    // then, rather than held).
    let mut named: Vec<PathBuf> = Vec::new();
    for path in candidates {
        let path = path.canonicalize().unwrap_or(path);
        let is_explicit = explicit.contains(&path);
        let rel = relative(root, &path);
        let read = match overlay.get(&path) {
            Some(text) => Ok(text.clone()),
            None => crate::yaml::file::read_text(&path),
        };
        let text = match read {
            Ok(t) => t,
            Err(e) if !is_explicit => {
                let why = without_file(&rel, relative_file_error(root, e).to_string());
                // What cannot be read as text is still looked through for the name, in
                // pieces; a file that cannot be opened at all cannot be.
                if targets::file_mentions_repository(&path, image).unwrap_or(false) {
                    unreadable.push((rel.clone(), why.clone()));
                }
                skipped.push((rel, why));
                continue;
            }
            Err(e) => return Err(relative_file_error(root, e).into()),
        };
        // package.json, dashboards, tsconfig.json: not manifests, never touched, and not
        // skipped either (their mention of the image is no missed reference).
        if !is_explicit && syntax_of(&path) == Syntax::Json && !targets::is_kubernetes_json(&text) {
            not_searched.push(NotSearched {
                path: rel,
                reason: NotSearchedReason::NotKubernetesJson,
            });
            continue;
        }
        let name = rel.display().to_string();
        let found = match targets::find_in_text_with(&name, &text, image, &options.find) {
            Ok(found) => found,
            Err(e) if !is_explicit => {
                let why = without_file(&rel, e.to_string());
                if targets::mentions_repository(text.as_bytes(), image) {
                    unreadable.push((rel.clone(), why.clone()));
                }
                skipped.push((rel, why));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        searched += 1;
        if !found.is_empty() {
            hits.push((path, text, found, is_explicit));
        } else if targets::mentions_repository(text.as_bytes(), image) {
            named.push(path);
        }
    }
    not_searched.sort_by(|a, b| a.path.cmp(&b.path));
    if !unreadable.is_empty() {
        if !options.skip_unreadable {
            return Err(PlanError::SkippedReference {
                image: image.familiar_name(),
                files: unreadable,
                skipped: skipped.clone(),
                not_searched: not_searched.clone(),
            });
        }
        notes.extend(unreadable.iter().map(|(file, _)| {
            format!(
                "{}: names {} but could not be read, so it was not updated",
                file.display(),
                image.familiar_name()
            )
        }));
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
        let outcome = crate::yaml::apply_as(syntax_of(&path), &text, &edits, edit_options)
            .map_err(|error| FileError::Edit {
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
        // With a Flux policy only its markers are places: other names are not missing one.
        let mentions = if options.find.flux_policy.is_none() {
            name_mentions(root, &named, image)
        } else {
            Vec::new()
        };
        if !mentions.is_empty() {
            return Err(PlanError::NameOnly {
                image: Box::new(image.clone()),
                mentions,
                skipped: skipped.clone(),
                not_searched: not_searched.clone(),
            });
        }
        return Err(PlanError::ImageNotFound {
            image: image.familiar_name(),
            paths: given
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            searched,
            skipped: skipped.clone(),
            not_searched: not_searched.clone(),
        });
    }
    Ok((files, found_targets))
}

/// An error's text without the file name it starts with: the skip is reported under
/// the file's name already.
fn without_file(file: &Path, why: String) -> String {
    match why.strip_prefix(&format!("{}: ", file.display())) {
        Some(rest) => rest.to_string(),
        None => why,
    }
}

/// The places in `files` (read before without a target, their texts naming the
/// repository) that name the image without a place for its tag, with the files
/// relative to `root`. A file that cannot be read again (it changed meanwhile) is left
/// out: the error is about the others.
fn name_mentions(root: &Path, files: &[PathBuf], image: &ImageRef) -> Vec<(PathBuf, NameMention)> {
    let mut mentions = Vec::new();
    for path in files {
        let Ok(text) = crate::yaml::file::read_text(path) else {
            continue;
        };
        let rel = relative(root, path);
        let name = rel.display().to_string();
        if let Ok(found) = targets::name_mentions(&name, &text, image) {
            mentions.extend(found.into_iter().map(|m| (rel.clone(), m)));
        }
    }
    mentions
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
