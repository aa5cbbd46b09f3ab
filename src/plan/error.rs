//! [`PlanError`]: why a request could not be applied.

use std::path::PathBuf;

use crate::policy::PolicyError;
use crate::targets::TargetError;
use crate::yaml::file::FileError;

/// Why a request could not be applied. Nothing has been written when this is returned
/// from [`plan`](super::plan).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A file path leaves the root.
    #[error("{}: outside the repository root {}", path.display(), root.display())]
    OutsideRoot {
        /// The path as given.
        path: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// Reading, editing or writing a file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// Searching for image references failed.
    #[error(transparent)]
    Targets(#[from] TargetError),
    /// The policy refused a value.
    #[error("{file}:{line}: {error}")]
    Policy {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The rule broken.
        error: PolicyError,
    },
    /// The same key path is given twice for one file with different values.
    #[error("{path} is set twice for {} ({first}, {second}); give each key path once", file.display())]
    SetTwice {
        /// The file, as first named.
        file: PathBuf,
        /// The key path.
        path: String,
        /// The first value.
        first: String,
        /// The other value.
        second: String,
    },
    /// `--argocd-app` with more than one path.
    #[error("--argocd-app writes one application's override file: give its source directory as the only path")]
    ArgoCdSourceDir,
    /// The override file could not be written.
    #[error(transparent)]
    ArgoCdSource(#[from] crate::argocd_source::ArgoSourceError),
    /// No reference to the image exists under the paths searched.
    #[error("no reference to {image} found under {paths} (searched {searched} YAML file(s)); check the image name, or use `tagbump set` with an explicit key path")]
    ImageNotFound {
        /// The image's name.
        image: String,
        /// The paths searched.
        paths: String,
        /// How many files were read.
        searched: usize,
    },
}
