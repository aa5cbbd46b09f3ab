//! Argo CD Image Updater's git write-back file, `.argocd-source-<app>.yaml`, written
//! the way Image Updater writes it, so that moving a team from Image Updater to a CI
//! step produces no diff (argocd-image-updater `pkg/argocd/update.go`:
//! `marshalParamsOverride`, `SetHelmImage`, `SetKustomizeImage`,
//! `parseDefaultTarget`; `pkg/common/constants.go`).
//!
//! - **File name**: `.argocd-source-<app>.yaml` in the application's source path, or
//!   `.argocd-source-<namespace>_<app>.yaml` for an application in another namespace
//!   than Argo CD's own (apps in any namespace).
//! - **Helm** applications get `helm.parameters`: the image name parameter
//!   (`image.name`, the repository with its registry) and the tag parameter
//!   (`image.tag`, `tag` or `tag@digest`), each `forcestring: true`. Parameters
//!   already in the file are kept; one with the same name is replaced; the list is
//!   sorted by name, as Image Updater sorts it.
//! - **Kustomize** applications get `kustomize.images`: `repo:tag` (or
//!   `name=repo:tag` with a Kustomize image name); an entry for the same image is
//!   replaced in place, others kept, a new one appended.
//! - The YAML is yaml.v3's: two-space indent, sequences not indented under their key
//!   (`CompactSeqIndent`), fields in Argo CD's struct order (`name`, `value`,
//!   `forcestring`), scalars quoted only as yaml.v3 quotes them ([`goyaml`]).

pub mod goyaml;

use std::path::{Path, PathBuf};

use crate::image::ImageRef;
use crate::yaml::{KeyPath, Segment};

/// Default Helm parameter for the image's repository (Image Updater's).
pub const DEFAULT_HELM_NAME_PARAM: &str = "image.name";
/// Default Helm parameter for the image's tag (Image Updater's).
pub const DEFAULT_HELM_TAG_PARAM: &str = "image.tag";

/// The kind of Argo CD application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum AppKind {
    /// A Helm chart (`Chart.yaml`).
    #[cfg_attr(feature = "cli", value(help = None))]
    Helm,
    /// A Kustomize application (`kustomization.yaml`).
    #[cfg_attr(feature = "cli", value(help = None))]
    Kustomize,
}

/// Which application's override file to write, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgoApp {
    /// The application's name.
    pub name: String,
    /// The application's namespace, when it is not Argo CD's own.
    pub namespace: Option<String>,
    /// Argo CD's control-plane namespace (default `argocd`).
    pub argocd_namespace: String,
    /// Helm or Kustomize; `None`: from the source directory's files.
    pub kind: Option<AppKind>,
    /// Helm parameter for the repository.
    pub helm_name_param: String,
    /// Helm parameter for the tag.
    pub helm_tag_param: String,
    /// Kustomize image name to override (`name=repo:tag`), if any.
    pub kustomize_image_name: Option<String>,
}

impl ArgoApp {
    /// An application with Image Updater's defaults.
    pub fn new(name: &str) -> ArgoApp {
        ArgoApp {
            name: name.to_string(),
            namespace: None,
            argocd_namespace: "argocd".to_string(),
            kind: None,
            helm_name_param: DEFAULT_HELM_NAME_PARAM.to_string(),
            helm_tag_param: DEFAULT_HELM_TAG_PARAM.to_string(),
            kustomize_image_name: None,
        }
    }

    /// An application given as `NAME`, or `NAMESPACE/NAME` when it is outside Argo CD's
    /// namespace (Image Updater's defaults otherwise); both parts must be resource names
    /// ([`check_name`]), and the error names the whole.
    pub fn qualified(given: &str) -> Result<ArgoApp, ArgoSourceError> {
        let (namespace, name) = match given.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, given),
        };
        let whole = |_| ArgoSourceError::InvalidName(given.to_string());
        check_name(name).map_err(whole)?;
        namespace.map(check_name).transpose().map_err(whole)?;
        let mut app = ArgoApp::new(name);
        app.namespace = namespace.map(str::to_string);
        Ok(app)
    }

    /// The override file's name.
    pub fn file_name(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() && *ns != self.argocd_namespace => {
                format!(".argocd-source-{ns}_{}.yaml", self.name)
            }
            _ => format!(".argocd-source-{}.yaml", self.name),
        }
    }
}

/// Why the override file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgoSourceError {
    /// The application name or namespace cannot be part of a file name.
    #[error("invalid Argo CD application {0:?}: names are lowercase letters, digits, '-' and '.' (Kubernetes resource names)")]
    InvalidName(String),
    /// The kind could not be told from the directory.
    #[error("{}: cannot tell whether the application is Helm or Kustomize (no Chart.yaml or kustomization.yaml); give the application's kind", .0.display())]
    UnknownKind(PathBuf),
    /// The existing file is not an override file.
    #[error("{}: not an Argo CD Image Updater override file: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The image has neither tag nor digest.
    #[error("image {0} has no tag or digest to write")]
    NoTag(String),
}

/// Checks a Kubernetes resource name (RFC 1123 subdomain), as Argo CD does.
pub fn check_name(name: &str) -> Result<(), ArgoSourceError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ArgoSourceError::InvalidName(name.to_string()))
    }
}

/// The kind of the application whose source is `dir`: `Chart.yaml` → Helm,
/// `kustomization.yaml` (`.yml`, `Kustomization`) → Kustomize.
pub fn detect_kind(dir: &Path) -> Result<AppKind, ArgoSourceError> {
    if dir.join("Chart.yaml").is_file() {
        return Ok(AppKind::Helm);
    }
    if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|f| dir.join(f).is_file())
    {
        return Ok(AppKind::Kustomize);
    }
    Err(ArgoSourceError::UnknownKind(dir.to_path_buf()))
}

/// One value the override file sets, for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Key path in the file (`helm.parameters[1].value`, `kustomize.images[0]`).
    pub path: KeyPath,
    /// The value before, if the entry existed.
    pub old: Option<String>,
    /// The value written.
    pub new: String,
}

#[derive(Clone, Debug, serde::Deserialize)]
struct HelmParam {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    forcestring: bool,
}

#[derive(serde::Deserialize, Default)]
struct HelmSection {
    #[serde(default)]
    parameters: Option<Vec<HelmParam>>,
}

#[derive(serde::Deserialize, Default)]
struct KustomizeSection {
    #[serde(default)]
    images: Option<Vec<String>>,
}

#[derive(serde::Deserialize, Default)]
struct Override {
    #[serde(default)]
    helm: Option<HelmSection>,
    #[serde(default)]
    kustomize: Option<KustomizeSection>,
}

/// The override file's new text for `image`, given its current text (`None`: the
/// file does not exist), and what was set.
pub fn render(
    existing: Option<&str>,
    path: &Path,
    app: &ArgoApp,
    kind: AppKind,
    image: &ImageRef,
) -> Result<(String, Vec<Written>), ArgoSourceError> {
    let parsed: Override = match existing.filter(|t| !t.trim().is_empty()) {
        None => Override::default(),
        Some(text) => serde_norway::from_str(text).map_err(|e| ArgoSourceError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?,
    };
    let tag = match (image.tag(), image.digest()) {
        (Some(t), Some(d)) => format!("{t}@{d}"),
        (Some(t), None) => t.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => return Err(ArgoSourceError::NoTag(image.to_string())),
    };
    match kind {
        AppKind::Helm => {
            let mut params = parsed.helm.and_then(|h| h.parameters).unwrap_or_default();
            let ours = [
                (app.helm_name_param.as_str(), image.familiar_name()),
                (app.helm_tag_param.as_str(), tag),
            ];
            let mut written = Vec::new();
            for (name, value) in ours {
                let old = match params.iter_mut().find(|p| p.name == name) {
                    Some(p) => {
                        let old = std::mem::replace(&mut p.value, value.clone());
                        p.forcestring = true;
                        Some(old)
                    }
                    None => {
                        params.push(HelmParam {
                            name: name.to_string(),
                            value: value.clone(),
                            forcestring: true,
                        });
                        None
                    }
                };
                written.push((name.to_string(), old, value));
            }
            params.sort_by(|a, b| a.name.cmp(&b.name));
            let mut text = String::from("helm:\n  parameters:\n");
            for p in &params {
                text.push_str(&format!(
                    "  - name: {}\n    value: {}\n    forcestring: {}\n",
                    goyaml::scalar(&p.name),
                    goyaml::scalar(&p.value),
                    p.forcestring
                ));
            }
            let written = written
                .into_iter()
                .map(|(name, old, new)| Written {
                    path: KeyPath::new(vec![
                        Segment::Key("helm".into()),
                        Segment::Key("parameters".into()),
                        Segment::Index(
                            params
                                .iter()
                                .position(|p| p.name == name)
                                .unwrap_or_default(),
                        ),
                        Segment::Key("value".into()),
                    ]),
                    old,
                    new,
                })
                .collect();
            Ok((text, written))
        }
        AppKind::Kustomize => {
            let mut images = parsed.kustomize.and_then(|k| k.images).unwrap_or_default();
            let reference = match (image.tag(), image.digest()) {
                (None, Some(d)) => format!("{}@{d}", image.familiar_name()),
                _ => format!("{}:{tag}", image.familiar_name()),
            };
            let entry = match &app.kustomize_image_name {
                Some(name) => format!("{name}={reference}"),
                None => reference,
            };
            let key = app
                .kustomize_image_name
                .clone()
                .unwrap_or_else(|| image.familiar_name());
            let at = images.iter().position(|i| same_image(i, &key));
            let old = at.map(|i| std::mem::replace(&mut images[i], entry.clone()));
            let index = match at {
                Some(i) => i,
                None => {
                    images.push(entry.clone());
                    images.len() - 1
                }
            };
            let mut text = String::from("kustomize:\n  images:\n");
            for i in &images {
                text.push_str(&format!("  - {}\n", goyaml::scalar(i)));
            }
            Ok((
                text,
                vec![Written {
                    path: KeyPath::new(vec![
                        Segment::Key("kustomize".into()),
                        Segment::Key("images".into()),
                        Segment::Index(index),
                    ]),
                    old,
                    new: entry,
                }],
            ))
        }
    }
}

/// Whether a `kustomize.images` entry (`name=new:tag`, `repo:tag`, `repo@digest`)
/// is for `key` (a Kustomize image name or a repository), comparing normalised names.
fn same_image(entry: &str, key: &str) -> bool {
    let name = entry.split_once('=').map_or(entry, |(n, _)| n);
    let bare = |s: &str| {
        crate::image::split_image_string(s)
            .map(|raw| raw.name.to_string())
            .unwrap_or_else(|| s.to_string())
    };
    let (a, b) = (bare(name), bare(key));
    if a == b {
        return true;
    }
    match (ImageRef::parse(&a), ImageRef::parse(&b)) {
        (Ok(x), Ok(y)) => x.same_repository(&y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qualified_name_is_namespace_slash_name_and_each_part_is_checked() {
        let app = ArgoApp::qualified("team-a/api").expect("qualified");
        assert_eq!(
            (app.namespace.as_deref(), app.name.as_str()),
            (Some("team-a"), "api")
        );
        assert_eq!(app.file_name(), ".argocd-source-team-a_api.yaml");
        assert_eq!(ArgoApp::qualified("api").expect("plain").namespace, None);
        for bad in ["Team/api", "team/", "a/b/c", ""] {
            let err = ArgoApp::qualified(bad).expect_err(bad);
            assert_eq!(
                err.to_string(),
                ArgoSourceError::InvalidName(bad.into()).to_string()
            );
        }
    }

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).expect("image")
    }

    #[test]
    fn file_names_with_and_without_the_namespace() {
        let mut app = ArgoApp::new("shop");
        assert_eq!(app.file_name(), ".argocd-source-shop.yaml");
        app.namespace = Some("argocd".into());
        assert_eq!(app.file_name(), ".argocd-source-shop.yaml");
        app.namespace = Some("team-a".into());
        assert_eq!(app.file_name(), ".argocd-source-team-a_shop.yaml");
        assert!(check_name("team-a").is_ok());
        assert!(check_name("../etc").is_err());
        assert!(check_name("Shop").is_err());
    }

    #[test]
    fn a_new_helm_file_is_image_updaters() {
        let (text, written) = render(
            None,
            Path::new("x"),
            &ArgoApp::new("api"),
            AppKind::Helm,
            &image("ghcr.io/acme/api:1.10"),
        )
        .expect("render");
        assert_eq!(
            text,
            "helm:\n  parameters:\n  - name: image.name\n    value: ghcr.io/acme/api\n    forcestring: true\n  - name: image.tag\n    value: \"1.10\"\n    forcestring: true\n"
        );
        assert_eq!(
            written[1],
            Written {
                path: KeyPath::parse("helm.parameters[1].value").expect("path"),
                old: None,
                new: "1.10".into()
            }
        );
    }

    #[test]
    fn a_new_kustomize_file_is_image_updaters() {
        let (text, _) = render(
            None,
            Path::new("x"),
            &ArgoApp::new("api"),
            AppKind::Kustomize,
            &image("ghcr.io/acme/api:v2"),
        )
        .expect("render");
        assert_eq!(text, "kustomize:\n  images:\n  - ghcr.io/acme/api:v2\n");
    }
}
