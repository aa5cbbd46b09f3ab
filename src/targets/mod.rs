//! Finding the places in a GitOps config repository that refer to an image, and turning
//! them into edits for the [YAML editor](crate::yaml).
//!
//! [`find_in_text`] reads one YAML file and reports every [`Target`]: a scalar that
//! holds the image's tag (or digest, or the whole reference) together with the value it
//! should get. [`to_edits`] turns targets into [`Edit`]s for [`crate::yaml::apply`], and
//! [`yaml_files`] lists the YAML files of a checkout that are worth looking at.
//!
//! What counts as a reference (repository names are compared after normalisation, so
//! `nginx` matches `docker.io/library/nginx`):
//!
//! 1. **Helm values** ([`TargetKind::HelmValues`]), at any depth of any document: a
//!    mapping whose `repository` — or, lacking one, `name` — names the image, optionally
//!    prefixed by a sibling `registry` (the Bitnami convention). Its `tag` is set to the
//!    new tag and, when the new image has a digest, its `digest` to the digest. A map
//!    without a `tag` (or `digest`) key is left alone: keys are never created here.
//! 2. **Kustomizations** ([`TargetKind::Kustomization`], files named
//!    `kustomization.yaml`, `kustomization.yml` or `Kustomization`): entries of the
//!    top-level `images:` list whose `name` or `newName` names the image get `newTag`
//!    and/or `digest`. An entry that has neither key is an error that says what to add.
//! 3. **Image strings** ([`TargetKind::ManifestImage`]): any `image:` key holding a
//!    string such as `ghcr.io/acme/api:v1.4.2` (container specs of Deployments,
//!    CronJobs, Rollouts…, or Helm values with a single image string). Only the tag and
//!    digest parts are replaced; the name stays exactly as written.
//! 4. **Argo CD sources** ([`TargetKind::ArgoCdSource`]): the `helm.parameters` and
//!    `kustomize.images` of Argo CD Image Updater's `.argocd-source-<app>.yaml` files,
//!    and the same fields in the `spec.source` / `spec.sources[*]` of Argo CD
//!    `Application` manifests.
//!
//! Values that use templating (`{{ … }}`) are skipped. When the old reference pins a
//! digest and the new image has none, the digest is dropped (it would keep deploying
//! the old content) and the target carries a [`Target::note`] saying so.

mod files;
mod scan;

use std::fmt;
use std::path::PathBuf;

use crate::image::ImageRef;
use crate::yaml::{Edit, KeyPath};

pub use files::{find_yaml_files, is_yaml_name, yaml_files, YamlFiles};

/// What kind of place matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// A `tag` / `digest` next to a `repository` (or `name`) in Helm values.
    HelmValues,
    /// `newTag` / `digest` of an `images:` entry in a kustomization.
    Kustomization,
    /// A full image string under an `image:` key.
    ManifestImage,
    /// A Helm parameter or Kustomize image of an Argo CD source (`.argocd-source-*.yaml`
    /// or an `Application`).
    ArgoCdSource,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::HelmValues => "Helm values",
            TargetKind::Kustomization => "kustomization image",
            TargetKind::ManifestImage => "image string",
            TargetKind::ArgoCdSource => "Argo CD source",
        })
    }
}

/// One scalar that refers to the image, and the value it should get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// What kind of place matched.
    pub kind: TargetKind,
    /// The document of the file (0-based).
    pub document: usize,
    /// Where the scalar is in its document.
    pub path: KeyPath,
    /// The scalar's current value.
    pub old: String,
    /// The value it should get (may equal `old` when the file is already up to date).
    pub new: String,
    /// 1-based line of the scalar.
    pub line: usize,
    /// Something the user should know about this change, e.g. that an old digest was
    /// dropped.
    pub note: Option<String>,
}

impl Target {
    /// Whether applying the target changes the value.
    pub fn is_change(&self) -> bool {
        self.old != self.new
    }
}

/// Why targets could not be found.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The file is not YAML.
    #[error("{file}: malformed YAML at line {line}, column {column}: {message}")]
    Syntax {
        /// The file name as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's words.
        message: String,
    },
    /// The image carries neither a tag nor a digest.
    #[error("image {image} has neither a tag nor a digest, so there is nothing to write")]
    NothingToWrite {
        /// The image.
        image: String,
    },
    /// A reference to the image was found but cannot be updated.
    #[error("{file}:{line}: {reason}")]
    Unwritable {
        /// The file name as given.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong and what to do about it.
        reason: String,
    },
    /// A path lies outside the repository root.
    #[error("{path} is outside the repository {root}")]
    OutsideRoot {
        /// The path as given.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Every place in one YAML text that refers to `image`, with the image's tag and/or
/// digest as the new values, in source order.
///
/// `file_name` is used for error messages and to recognise the file's role: its last
/// component decides whether it is a kustomization (`kustomization.yaml|yml`,
/// `Kustomization`) or an Argo CD override file (`.argocd-source-<app>.yaml`).
pub fn find_in_text(
    file_name: &str,
    text: &str,
    image: &ImageRef,
) -> Result<Vec<Target>, TargetError> {
    if image.tag().is_none() && image.digest().is_none() {
        return Err(TargetError::NothingToWrite {
            image: image.to_string(),
        });
    }
    scan::scan(file_name, text, image)
}

/// The targets as edits for [`crate::yaml::apply`], each restricted to its document.
pub fn to_edits(targets: &[Target]) -> Vec<Edit> {
    targets
        .iter()
        .map(|t| Edit::new(t.path.clone(), t.new.clone()).in_document(t.document))
        .collect()
}
