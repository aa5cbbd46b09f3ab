//! [`PlanError`]: why a request could not be applied.

use std::path::PathBuf;

use crate::image::ImageRef;
use crate::policy::PolicyError;
use crate::targets::{NameMention, NamePlace, NotSearched, TargetError};
use crate::yaml::file::FileError;

/// Why a request could not be applied. Nothing has been written when this is returned
/// from [`plan`](super::plan).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// An Argo CD application's override file ([`Options::argocd_app`](super::Options::argocd_app))
    /// with other than exactly one path.
    #[error("an Argo CD application's override file is written for one source directory: give that directory as the only path")]
    ArgoCdSourceDir,
    /// The override file could not be written.
    #[error(transparent)]
    ArgoCdSource(#[from] crate::argocd_source::ArgoSourceError),
    /// No reference to the image exists under the paths searched.
    #[error("no reference to {image} found under {paths} (searched {searched} file(s){}); check the image name, or use `tagbump set` with an explicit key path", not_read(skipped))]
    ImageNotFound {
        /// The image's name.
        image: String,
        /// The paths searched.
        paths: String,
        /// How many files were read.
        searched: usize,
        /// Files met while searching that could not be read, with why (relative to
        /// the root).
        skipped: Vec<(PathBuf, String)>,
        /// What the search did not enter on purpose, with why.
        not_searched: Vec<NotSearched>,
    },
    /// Files met while searching that could not be read (malformed YAML, too large, not
    /// UTF-8, a reference that cannot be updated) name the image: updating only the
    /// others would leave them behind. Nothing was written. Allowed with
    /// [`Options::skip_unreadable`](super::Options::skip_unreadable).
    #[error("{}", skipped_reference(image, files))]
    SkippedReference {
        /// The image's name.
        image: String,
        /// The unreadable files that name it, with why they could not be read
        /// (relative to the root).
        files: Vec<(PathBuf, String)>,
        /// Every file skipped, with why.
        skipped: Vec<(PathBuf, String)>,
        /// What the search did not enter on purpose, with why.
        not_searched: Vec<NotSearched>,
    },
    /// No file has a place to write, but some name the image without a tag beside it
    /// (`image.name: quay.io/acme/app`, a `repository` with no `tag`, an Argo CD
    /// parameter without a tag parameter).
    #[error("{}", name_only(image, mentions))]
    NameOnly {
        /// The image, with its new tag and/or digest.
        image: Box<ImageRef>,
        /// Where it is named: the file (relative to the root) and the place.
        mentions: Vec<(PathBuf, NameMention)>,
        /// Files met while searching that could not be read, with why.
        skipped: Vec<(PathBuf, String)>,
        /// What the search did not enter on purpose, with why.
        not_searched: Vec<NotSearched>,
    },
}

impl PlanError {
    /// The files a search skipped, for the errors that end a search
    /// ([`ImageNotFound`](PlanError::ImageNotFound),
    /// [`SkippedReference`](PlanError::SkippedReference),
    /// [`NameOnly`](PlanError::NameOnly)); empty for the others. A report shows them
    /// on failure too.
    pub fn skipped(&self) -> &[(PathBuf, String)] {
        match self {
            PlanError::ImageNotFound { skipped, .. }
            | PlanError::SkippedReference { skipped, .. }
            | PlanError::NameOnly { skipped, .. } => skipped,
            _ => &[],
        }
    }

    /// What a search did not enter on purpose, for the same errors as
    /// [`skipped`](PlanError::skipped); empty for the others.
    pub fn not_searched(&self) -> &[NotSearched] {
        match self {
            PlanError::ImageNotFound { not_searched, .. }
            | PlanError::SkippedReference { not_searched, .. }
            | PlanError::NameOnly { not_searched, .. } => not_searched,
            _ => &[],
        }
    }
}

fn not_read(skipped: &[(PathBuf, String)]) -> String {
    match skipped.len() {
        0 => String::new(),
        n => format!("; {n} more could not be read"),
    }
}

fn skipped_reference(image: &str, files: &[(PathBuf, String)]) -> String {
    let list: Vec<String> = files
        .iter()
        .map(|(file, why)| format!("{} ({why})", file.display()))
        .collect();
    let (what, them) = if files.len() == 1 {
        ("a file that could not be read names", "it")
    } else {
        ("files that could not be read name", "them")
    };
    format!(
        "{what} {image}, so updating only the others would leave {them} behind: {}; \
         nothing was written",
        list.join("; ")
    )
}

fn name_only(image: &ImageRef, mentions: &[(PathBuf, NameMention)]) -> String {
    let places: Vec<String> = mentions
        .iter()
        .map(|(file, m)| {
            let document = if m.document > 0 {
                format!(" (document {})", m.document)
            } else {
                String::new()
            };
            let why = match &m.place {
                NamePlace::ArgoCdParameter { parameter } => {
                    format!("Argo CD parameter {parameter}, with no parameter for the tag")
                }
                NamePlace::MapWithoutTag { tag_path } => format!("no {tag_path} beside it"),
                NamePlace::TemplatedTag { tag_path } => format!("{tag_path} is templated"),
                NamePlace::Value => "not a key tagbump writes".to_string(),
            };
            format!(
                "{}:{} {}{document} = {} ({why})",
                file.display(),
                m.line,
                m.path,
                m.value
            )
        })
        .collect();
    format!(
        "{} is named, but nowhere with a place for its tag: {}",
        image.familiar_name(),
        places.join(", ")
    )
}
