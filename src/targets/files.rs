//! Listing the YAML (and JSON) files of a checkout, and what a walk does not enter.

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
    /// What the walk did not enter on purpose, with why (directories and files that
    /// are not configuration, links that lead out of the tree): not read, so not
    /// [`skipped`](YamlFiles::skipped). `.git` itself is not listed.
    pub not_searched: Vec<NotSearched>,
}

/// A directory or file a search did not enter on purpose.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NotSearched {
    /// Where (as the walk met it, under the root given).
    pub path: PathBuf,
    /// Why.
    pub reason: NotSearchedReason,
}

/// Why a directory or file was not searched. Serialised (and displayed) in kebab case:
/// `hidden-directory`, `node-modules`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotSearchedReason {
    /// A hidden directory (`.github`, `.vscode`): CI and tool settings, not config.
    HiddenDirectory,
    /// `node_modules`: installed packages.
    NodeModules,
    /// The `templates/` directory beside a `Chart.yaml`: Go templates, not YAML.
    ChartTemplates,
    /// A hidden YAML or JSON file (`.pre-commit-config.yaml`), other than Argo CD's
    /// `.argocd-source-<app>.yaml`.
    HiddenFile,
    /// A symbolic link that leads outside the tree.
    LinkOutside,
    /// A symbolic link that leads nowhere.
    DanglingLink,
    /// A `*.json` file whose top-level value is not a Kubernetes object (an object with
    /// `apiVersion` and `kind` strings): `package.json`, dashboards, `tsconfig.json`.
    NotKubernetesJson,
}

impl NotSearchedReason {
    /// The reason's name: `hidden-directory`, `node-modules`, `chart-templates`,
    /// `hidden-file`, `link-outside`, `dangling-link`, `not-kubernetes-json`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotSearchedReason::HiddenDirectory => "hidden-directory",
            NotSearchedReason::NodeModules => "node-modules",
            NotSearchedReason::ChartTemplates => "chart-templates",
            NotSearchedReason::HiddenFile => "hidden-file",
            NotSearchedReason::LinkOutside => "link-outside",
            NotSearchedReason::DanglingLink => "dangling-link",
            NotSearchedReason::NotKubernetesJson => "not-kubernetes-json",
        }
    }

    /// Whether the reason is about a directory (rather than a file or a link).
    pub fn is_directory(self) -> bool {
        matches!(
            self,
            NotSearchedReason::HiddenDirectory
                | NotSearchedReason::NodeModules
                | NotSearchedReason::ChartTemplates
        )
    }
}

impl std::fmt::Display for NotSearchedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
/// the names [`is_search_name`] accepts (`*.yaml`, `*.yml`, `Kustomization`, `*.json`,
/// Argo CD's hidden `.argocd-source*.yaml`),
/// skipping other hidden files and directories (`.git`, `.github`, …), `node_modules`,
/// the `templates/` directory of Helm charts (Go templates, not YAML), and symbolic
/// links that lead outside `root` or nowhere; each is listed in
/// [`YamlFiles::not_searched`] (whether a JSON file is a Kubernetes object is for the
/// reader to say: [`is_kubernetes_json`]).
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
        not_searched: walk.not_searched,
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

/// Whether a file name is a JSON file the walk picks up: `*.json`, not hidden. Only
/// those holding a Kubernetes object are then searched ([`is_kubernetes_json`]).
pub fn is_json_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json") && !name.starts_with('.')
}

/// Whether a directory search picks up a file of this name: [`is_yaml_name`] or
/// [`is_json_name`]. The forge API path fetches the same names.
pub fn is_search_name(name: &str) -> bool {
    is_yaml_name(name) || is_json_name(name)
}

/// Whether a search of the directory `start` (`/`-separated, relative to the root;
/// empty for the root) reads the file at `path` under it (`/`-separated, relative to
/// `start`), by the walk's rules, for a tree known only as a listing (a forge API): a
/// name [`is_search_name`] accepts, under no hidden directory, `node_modules`, or
/// `templates/` beside a `Chart.yaml` (`has_chart(dir)`: whether `dir`, relative to the
/// root, holds one). Symbolic links are not seen in a listing.
pub fn is_search_path(start: &str, path: &str, has_chart: impl Fn(&str) -> bool) -> bool {
    let mut dirs: Vec<&str> = path.split('/').collect();
    let Some(name) = dirs.pop() else {
        return false;
    };
    if !is_search_name(name) {
        return false;
    }
    let mut at = start.trim_end_matches('/').to_string();
    for dir in dirs {
        if dir.starts_with('.') || dir == "node_modules" || (dir == "templates" && has_chart(&at)) {
            return false;
        }
        if !at.is_empty() {
            at.push('/');
        }
        at.push_str(dir);
    }
    true
}

/// Whether a hidden file name would be searched but for being hidden.
fn is_hidden_config(name: &str) -> bool {
    name.starts_with('.') && !is_search_name(name) && {
        let lower = name.to_ascii_lowercase();
        lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
    }
}

/// Whether JSON text is a Kubernetes object, as kubectl and Argo CD read a `*.json`
/// manifest: its top-level value is an object with `apiVersion` and `kind` strings (a
/// `kind: List` too, whose `items` are the objects). A byte order mark is allowed.
pub fn is_kubernetes_json(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => {
            map.get("apiVersion")
                .is_some_and(serde_json::Value::is_string)
                && map.get("kind").is_some_and(serde_json::Value::is_string)
        }
        _ => false,
    }
}

/// A directory walk in progress.
#[derive(Default)]
struct Walk {
    found: BTreeSet<PathBuf>,
    skipped: Vec<(PathBuf, String)>,
    unnamed_files: Vec<PathBuf>,
    not_searched: Vec<NotSearched>,
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
            let lossy = os_name.to_string_lossy();
            let (real, meta) = if meta.file_type().is_symlink() {
                // A dangling link or one that leads outside the checkout is not ours.
                let real = fs::canonicalize(&path).ok();
                let meta = real.as_ref().and_then(|real| fs::metadata(real).ok());
                match (real, meta) {
                    (Some(real), Some(meta)) if real.starts_with(root) => (real, meta),
                    (Some(_), Some(meta)) => {
                        if meta.is_dir() || is_search_name(&lossy) {
                            self.not_searched(&path, NotSearchedReason::LinkOutside);
                        }
                        continue;
                    }
                    _ => {
                        if is_search_name(&lossy) {
                            self.not_searched(&path, NotSearchedReason::DanglingLink);
                        }
                        continue;
                    }
                }
            } else {
                (path.clone(), meta)
            };
            let not_wanted = if meta.is_dir() {
                if lossy == ".git" {
                    continue;
                } else if lossy.starts_with('.') {
                    Some(NotSearchedReason::HiddenDirectory)
                } else if lossy == "node_modules" {
                    Some(NotSearchedReason::NodeModules)
                } else if is_chart && lossy == "templates" {
                    Some(NotSearchedReason::ChartTemplates)
                } else {
                    None
                }
            } else if is_search_name(&lossy) {
                None
            } else if is_hidden_config(&lossy) {
                Some(NotSearchedReason::HiddenFile)
            } else {
                continue;
            };
            if let Some(reason) = not_wanted {
                self.not_searched(&path, reason);
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

    /// Records an entry not searched, under a name that can be printed.
    fn not_searched(&mut self, path: &Path, reason: NotSearchedReason) {
        let path = PathBuf::from(path.to_string_lossy().into_owned());
        self.not_searched.push(NotSearched { path, reason });
    }

    /// Records a skipped entry under a name that can be printed (and serialised).
    fn skip(&mut self, path: &Path, reason: String) {
        let shown = PathBuf::from(path.to_string_lossy().into_owned());
        self.skipped.push((shown, reason));
    }
}
