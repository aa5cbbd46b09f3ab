//! Listing the YAML files of a checkout.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::TargetError;

/// What a search for YAML files found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YamlFiles {
    /// The YAML files, canonical, sorted and without duplicates.
    pub files: Vec<PathBuf>,
    /// Entries met while walking directories that look like YAML (or are directories)
    /// but cannot be read as such, with why: FIFOs, devices and sockets named `*.yaml`,
    /// and names that are not UTF-8 (shown with U+FFFD for the bytes that are not).
    pub skipped: Vec<(PathBuf, String)>,
    /// The regular files among [`skipped`](YamlFiles::skipped) whose names are not
    /// UTF-8, as they are on disk: they can still be looked through for a name.
    pub unnamed_files: Vec<PathBuf>,
}

/// The YAML files under `paths`: [`find_yaml_files`] without what it skipped.
pub fn yaml_files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, TargetError> {
    find_yaml_files(root, paths).map(|found| found.files)
}

/// The YAML files under `paths`, canonical, sorted and without duplicates, and what was
/// skipped on the way.
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
///
/// While walking, only regular files are taken: a FIFO or device named `*.yaml` could
/// block a reader forever, so it is skipped and reported in [`YamlFiles::skipped`], as
/// are YAML files and directories whose names are not UTF-8.
pub fn find_yaml_files(root: &Path, paths: &[PathBuf]) -> Result<YamlFiles, TargetError> {
    let root = canonical(root)?;
    let whole = [root.clone()];
    let paths = if paths.is_empty() { &whole[..] } else { paths };
    let mut walk = Walk::default();
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
            walk.dir(&root, &real)?;
        } else {
            walk.found.insert(real);
        }
    }
    Ok(YamlFiles {
        files: walk.found.into_iter().collect(),
        skipped: walk.skipped,
        unnamed_files: walk.unnamed_files,
    })
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

/// Whether a file name is one the walk picks up: `*.yaml` / `*.yml`, not hidden, except
/// Argo CD Image Updater's `.argocd-source-<app>.yaml`; and the extensionless
/// `Kustomization`, the third name kustomize accepts (case-sensitive, as kustomize
/// reads it; Flux's own fixtures use it).
pub fn is_yaml_name(name: &str) -> bool {
    if name == "Kustomization" {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    yaml && (!name.starts_with('.') || name.starts_with(".argocd-source"))
}

/// A directory walk in progress.
#[derive(Default)]
struct Walk {
    found: BTreeSet<PathBuf>,
    skipped: Vec<(PathBuf, String)>,
    unnamed_files: Vec<PathBuf>,
    visited: HashSet<PathBuf>,
}

impl Walk {
    /// Walks the canonical directory `dir` (inside `root`).
    fn dir(&mut self, root: &Path, dir: &Path) -> Result<(), TargetError> {
        if !self.visited.insert(dir.to_path_buf()) {
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
            let Some(os_name) = path.file_name() else {
                continue;
            };
            let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
            let (real, meta) = if meta.file_type().is_symlink() {
                // A dangling link or one that leads outside the checkout is not ours.
                let Ok(real) = fs::canonicalize(&path) else {
                    continue;
                };
                if !real.starts_with(root) {
                    continue;
                }
                let Ok(meta) = fs::metadata(&real) else {
                    continue;
                };
                (real, meta)
            } else {
                (path.clone(), meta)
            };
            let lossy = os_name.to_string_lossy();
            let wanted = if meta.is_dir() {
                !(lossy.starts_with('.')
                    || lossy == "node_modules"
                    || (is_chart && lossy == "templates"))
            } else {
                is_yaml_name(&lossy)
            };
            if !wanted {
                continue;
            }
            if os_name.to_str().is_none() {
                let what = if meta.is_dir() { "directory" } else { "file" };
                self.skip(
                    &path,
                    format!("the {what} name is not UTF-8, so it was not searched; rename it"),
                );
                if meta.is_file() {
                    self.unnamed_files.push(real);
                }
            } else if meta.is_dir() {
                self.dir(root, &real)?;
            } else if meta.is_file() {
                self.found.insert(real);
            } else {
                let kind = crate::yaml::file::file_kind(&meta.file_type());
                self.skip(
                    &path,
                    format!("not a regular file but {kind}, so it was not read"),
                );
            }
        }
        Ok(())
    }

    /// Records a skipped entry under a name that can be printed (and serialised).
    fn skip(&mut self, path: &Path, reason: String) {
        let shown = PathBuf::from(path.to_string_lossy().into_owned());
        self.skipped.push((shown, reason));
    }
}
