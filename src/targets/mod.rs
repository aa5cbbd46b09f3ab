//! Finding the places in a GitOps config repository that refer to an image, and turning
//! them into edits for the [YAML editor](crate::yaml).
//!
//! [`find_in_text`] reads one YAML file and reports every [`Target`]: a scalar that
//! holds the image's tag (or digest, or the whole reference) together with the value it
//! should get. [`to_edits`] turns targets into [`Edit`]s for [`crate::yaml::apply`], and
//! [`yaml_files`] lists the YAML files of a checkout that are worth looking at (and the
//! `*.json` ones, searched when [`is_kubernetes_json`]; [`find_yaml_files`] also says
//! what it did not enter, [`NotSearched`]).
//!
//! What counts as a reference (repository names are compared after normalisation, so
//! `nginx` matches `docker.io/library/nginx`), with the [`TargetKind`] each reports:
//!
//! 1. **Helm maps** (`helm-map`), at any depth of any document: a mapping whose
//!    `repository` — or, lacking one, `name` — names the image, optionally prefixed by
//!    a sibling `registry` (the Bitnami convention). A `registry` that is null (`null`,
//!    `~`, nothing) or empty means "no registry". Its `tag` is set to the new tag and,
//!    when the new image has a digest, its `digest` to the digest; a null or empty
//!    `tag` is a place to write like any other. A map without a `tag` (or `digest`) key
//!    is left alone: keys are never created here. A map whose `image` is a repository
//!    without tag or digest (`image: oliver006/redis_exporter`) next to a `tag:` or
//!    `imageTag:` is the same layout: the sibling is written and the `image` string is
//!    left as it is (appending the tag to it would render `repo:new:old`).
//! 2. **Kustomizations** (`kustomize`, files named `kustomization.yaml`,
//!    `kustomization.yml` or `Kustomization`): entries of the top-level `images:` list
//!    whose effective image names the image — `newName` where there is one, else
//!    `name` — get `newTag` and/or `digest`. An entry that has neither key is an error
//!    that says what to add.
//! 3. **Image strings** (`image-string`): any `image:` key holding a string such as
//!    `ghcr.io/acme/api:v1.4.2` (containers, init and ephemeral containers of Pods,
//!    Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Argo Rollouts, Knative
//!    Services, `kind: List` items…). Only the tag and digest parts are replaced; the
//!    name stays exactly as written. A string without tag or digest (`image: busybox`,
//!    which Kubernetes pulls as `:latest`) gets the new tag and is reported as
//!    [`Target::pinned`].
//! 4. **Argo CD sources**: the `helm.parameters` (`argocd-parameter`: `image.repository`
//!    / `image.name` + `image.tag` pairs, full references in `image` / `*.image`, and
//!    the pairs named in [`FindOptions::argocd_parameters`]), `helm.valuesObject`
//!    (Helm maps and image strings as above) and `helm.values` (a YAML string: edited
//!    inside, byte for byte, see [`Target::within`]) and `kustomize.images`
//!    (`kustomize`; matched on the image after `=`, an untagged item is pinned) of Argo CD Image Updater's `.argocd-source-<app>.yaml` files, and of
//!    the `spec.source` / `spec.sources[*]` of Argo CD `Application` manifests.
//! 5. **Flux image automation markers** (`flux-marker`): a field followed on its line
//!    by `# {"$imagepolicy": "NS:POLICY"}` (the whole reference) or
//!    `"NS:POLICY:tag"`, `:name`, `:digest`. The fields of a policy are written when
//!    one of its whole-reference or `:name` fields in the file names the image, or,
//!    with [`FindOptions::flux_policy`], exactly the fields of that policy (and nothing
//!    else).
//! 6. **Chart `appVersion`** (`app-version`), only with [`FindOptions::app_version`]:
//!    the top-level `appVersion` of a file named `Chart.yaml` gets the new tag. (The
//!    plan keeps it only for charts whose own values refer to the image.)
//!
//! When no file has a place to write, [`name_mentions`] says where a file names the
//! image without one (`image.name: quay.io/acme/app` and no `tag`), and
//! [`file_mentions_repository`] looks for the image's name in a file that could not be
//! read as YAML.
//!
//! Values that use templating (`{{ … }}`) are skipped. When the old reference pins a
//! digest and the new image has none, the digest is dropped (it would keep deploying
//! the old content) and the target carries a [`Target::note`] saying so.

mod argocd;
mod chart;
mod files;
mod flux;
mod kustomize;
mod mention;
mod rules;
mod scan;
mod walk;

use std::fmt;
use std::path::PathBuf;

use crate::image::ImageRef;
use crate::yaml::{Edit, KeyPath};

pub use files::{
    find_yaml_files, is_json_name, is_kubernetes_json, is_search_name, is_search_path,
    is_yaml_name, yaml_files, NotSearched, NotSearchedReason, YamlFiles,
};
pub use flux::FluxPolicy;
pub use mention::{
    file_mentions_repository, mentions_repository, name_mentions, repository_text, NameMention,
    NamePlace,
};
pub use rules::ParsedFile;

/// What kind of place matched. Serialised (and displayed) as the names in the
/// [module documentation](self): `helm-map`, `kustomize`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TargetKind {
    /// A `tag` / `digest` next to a `repository` (or `name`, or untagged `image`) in a
    /// Helm-style map.
    #[serde(rename = "helm-map")]
    HelmMap,
    /// `newTag` / `digest` of a kustomization `images:` entry, or an Argo CD
    /// `kustomize.images` item.
    #[serde(rename = "kustomize")]
    Kustomize,
    /// A full image string under an `image:` key.
    #[serde(rename = "image-string")]
    ImageString,
    /// A field marked with a Flux `$imagepolicy` comment.
    #[serde(rename = "flux-marker")]
    FluxMarker,
    /// The value of an Argo CD Helm parameter.
    #[serde(rename = "argocd-parameter")]
    ArgoCdParameter,
    /// A chart's `appVersion`.
    #[serde(rename = "app-version")]
    AppVersion,
}

impl TargetKind {
    /// The kind's name in reports: `helm-map`, `kustomize`, `image-string`,
    /// `flux-marker`, `argocd-parameter` or `app-version`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::HelmMap => "helm-map",
            TargetKind::Kustomize => "kustomize",
            TargetKind::ImageString => "image-string",
            TargetKind::FluxMarker => "flux-marker",
            TargetKind::ArgoCdParameter => "argocd-parameter",
            TargetKind::AppVersion => "app-version",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to look for besides the image itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindOptions {
    /// Write exactly the fields marked with this Flux image policy, and nothing else.
    pub flux_policy: Option<FluxPolicy>,
    /// Also write the `appVersion` of `Chart.yaml` files.
    pub app_version: bool,
    /// Argo CD Helm parameter names that hold the image: `(repository, Some(tag))` for
    /// a pair (`backend.img.name` + `backend.img.version`), `(name, None)` for one
    /// parameter holding a whole reference.
    pub argocd_parameters: Vec<(String, Option<String>)>,
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
    /// The place had no tag or digest at all (`image: busybox`) and now names one.
    pub pinned: bool,
    /// For a string that holds YAML (Argo CD's `helm.values`): the places inside it,
    /// with paths and lines relative to the string's own text. `new` is then the whole
    /// string with exactly those places edited.
    pub within: Vec<Target>,
}

impl Target {
    /// Whether applying the target changes the value.
    pub fn is_change(&self) -> bool {
        self.old != self.new
    }
}

/// Why targets could not be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
/// digest as the new values, in source order: [`find_in_text_with`] and default
/// [`FindOptions`].
pub fn find_in_text(
    file_name: &str,
    text: &str,
    image: &ImageRef,
) -> Result<Vec<Target>, TargetError> {
    find_in_text_with(file_name, text, image, &FindOptions::default())
}

/// Every place in one YAML text that refers to `image` (see the
/// [module documentation](self)), in source order.
///
/// `file_name` is used for error messages and to recognise the file's role: its last
/// component decides whether it is a kustomization (`kustomization.yaml|yml`,
/// `Kustomization`), an Argo CD override file (`.argocd-source-<app>.yaml`) or a
/// chart's `Chart.yaml`.
pub fn find_in_text_with(
    file_name: &str,
    text: &str,
    image: &ImageRef,
    options: &FindOptions,
) -> Result<Vec<Target>, TargetError> {
    // Checked before parsing: a reference without tag or digest is refused whatever
    // the text holds.
    has_something_to_write(image)?;
    ParsedFile::parse(file_name, text)?.find(image, options)
}

/// An image with neither tag nor digest has nothing to write.
fn has_something_to_write(image: &ImageRef) -> Result<(), TargetError> {
    if image.tag().is_none() && image.digest().is_none() {
        return Err(TargetError::NothingToWrite {
            image: image.to_string(),
        });
    }
    Ok(())
}

/// The targets as edits for [`crate::yaml::apply`], each restricted to its document.
pub fn to_edits(targets: &[Target]) -> Vec<Edit> {
    targets
        .iter()
        .map(|t| Edit::new(t.path.clone(), t.new.clone()).in_document(t.document))
        .collect()
}
