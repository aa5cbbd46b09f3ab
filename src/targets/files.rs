//! Listing the YAML files of a checkout.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::TargetError;

/// The YAML files under `paths`, canonical, sorted and without duplicates.
///
/// Relative paths are taken relative to `root`; an empty `paths` means the whole of
/// `root`. Files are taken as given, whatever their names. Directories are walked for
/// `*.yaml` and `*.yml` files and Argo CD's hidden `.argocd-source*.yaml` files,
/// skipping other hidden files and directories (`.git`, `.github`, …), `node_modules`,
/// the `templates/` directory of Helm charts (Go templates, not YAML), and symbolic
/// links that lead outside `root`.
///
/// Every given path must lie inside `root` once symbolic links and `..` are resolved,
/// else [`TargetError::OutsideRoot`]. The returned paths are canonical, so writing to
/// them replaces the real file rather than a symbolic link.
pub fn yaml_files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, TargetError> {
    let root = canonical(root)?;
    let whole = [root.clone()];
    let paths = if paths.is_empty() { &whole[..] } else { paths };
    let mut found = BTreeSet::new();
    let mut visited = HashSet::new();
    for path in paths {
        let joined = if path.is_absolute() {
            path.clone()
        } else {
            root.join(path)
        };
        let real = canonical(&joined)?;
        if !real.starts_with(&root) {
            return Err(TargetError::OutsideRoot {
                path: path.clone(),
                root: root.clone(),
            });
        }
        if real.is_dir() {
            walk(&root, &real, &mut found, &mut visited)?;
        } else {
            found.insert(real);
        }
    }
    Ok(found.into_iter().collect())
}

fn canonical(path: &Path) -> Result<PathBuf, TargetError> {
    fs::canonicalize(path).map_err(|source| TargetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TargetError + '_ {
    move |source| TargetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether a file name is one the walk picks up.
fn is_yaml_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    yaml && (!name.starts_with('.') || name.starts_with(".argocd-source"))
}

/// Walks the canonical directory `dir` (inside `root`).
fn walk(
    root: &Path,
    dir: &Path,
    found: &mut BTreeSet<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), TargetError> {
    if !visited.insert(dir.to_path_buf()) {
        return Ok(());
    }
    let is_chart = dir.join("Chart.yaml").is_file();
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        entries.push(entry.path());
    }
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
        let (real, is_dir) = if meta.file_type().is_symlink() {
            // A dangling link or one that leads outside the checkout is not ours.
            let Ok(real) = fs::canonicalize(&path) else {
                continue;
            };
            if !real.starts_with(root) {
                continue;
            }
            let is_dir = real.is_dir();
            (real, is_dir)
        } else {
            (path.clone(), meta.is_dir())
        };
        if is_dir {
            let skip = name.starts_with('.')
                || name == "node_modules"
                || (is_chart && name == "templates");
            if !skip {
                walk(root, &real, found, visited)?;
            }
        } else if is_yaml_name(name) && real.is_file() {
            found.insert(real);
        }
    }
    Ok(())
}
