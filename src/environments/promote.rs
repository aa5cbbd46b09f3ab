//! Promotion: what one environment runs, written into another.
//!
//! For each image (the repository, normalised as `image` compares them) that both the
//! source's and the target's paths reference — every such image, or only the ones
//! named — every place of it under the target's paths takes the source's tag and
//! digest. The places are found as [`status`](super::status()) finds them; the edits
//! are `image` requests ([`plan::Request::Image`]) restricted to the target's paths,
//! one per image, applied to the same tree in turn ([`plan::plan_all`]), so that the
//! changes are exactly what `image` reports. A source digest is written where the
//! target can hold one; a source without one drops the target's (with a note), as
//! `image` does.
//!
//! A source whose places of one image disagree (different tags or digests) is
//! [`PromoteError::Ambiguous`]. This includes a source that pins a digest in one place
//! and has a place that cannot hold one (an Argo CD tag parameter) elsewhere: the two
//! do not say the same thing, so which digest the target should run is not known.
//! A source place with neither tag nor digest (`image: busybox`) promotes nothing:
//! the image is left out, with a note.

use std::path::Path;

use serde::Serialize;

use crate::image::{ImageRef, ReferenceError};
use crate::plan::{self, Plan, PlanError};

use super::{status, Config, Conflict, Environment, StatusError};

/// Why a promotion could not be computed. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    /// The environments file, or reading an environment's paths.
    #[error(transparent)]
    Status(Box<StatusError>),
    /// `--to` or `--from` names no environment.
    #[error("there is no environment \"{name}\" in {file} (environments: {known})")]
    UnknownEnvironment {
        /// The name given.
        name: String,
        /// The environments file.
        file: String,
        /// The environments there are, comma-separated.
        known: String,
    },
    /// No source: the target has no `from` and none was given.
    #[error("environment \"{to}\" has no `from` in {file}: say which environment to promote from")]
    NoSource {
        /// The target.
        to: String,
        /// The environments file.
        file: String,
    },
    /// The source and the target are the same environment.
    #[error("cannot promote environment \"{0}\" into itself")]
    SameEnvironment(String),
    /// An image name given that is not a repository name.
    #[error("invalid image name {name:?}: {source}")]
    BadImage {
        /// The name as given.
        name: String,
        /// Why.
        #[source]
        source: ReferenceError,
    },
    /// An image name given that is tagged or pinned.
    #[error("image {0:?}: name the repository only; the tag and digest come from the source environment")]
    TaggedImage(String),
    /// A named image that one of the two environments does not reference.
    #[error("image {image} is not referenced under the paths of environment \"{environment}\" ({paths}), so it cannot be promoted from \"{from}\" to \"{to}\"")]
    NotReferenced {
        /// The image.
        image: String,
        /// The environment lacking it.
        environment: String,
        /// Its paths, comma-separated.
        paths: String,
        /// The source.
        from: String,
        /// The target.
        to: String,
    },
    /// The source's places of one image disagree.
    #[error("image {image} is ambiguous in environment \"{environment}\": its places disagree ({}); make them agree before promoting", places.iter().map(place_text).collect::<Vec<_>>().join("; "))]
    Ambiguous {
        /// The image.
        image: String,
        /// The source environment.
        environment: String,
        /// Every place with what it holds.
        places: Vec<Conflict>,
    },
    /// Planning the edits failed.
    #[error("cannot plan the promotion")]
    Plan(#[source] Box<PlanError>),
}

impl From<StatusError> for PromoteError {
    fn from(e: StatusError) -> Self {
        PromoteError::Status(Box::new(e))
    }
}

fn place_text(c: &Conflict) -> String {
    let mut s = format!("{}:{}: ", c.file, c.line);
    match (&c.tag, &c.digest) {
        (Some(t), Some(d)) => s.push_str(&format!("{t}@{d}")),
        (Some(t), None) => s.push_str(t),
        (None, Some(d)) => s.push_str(d),
        (None, None) => s.push_str("no tag"),
    }
    s
}

impl PromoteError {
    /// The stable name of the error's kind: `ambiguous`, `invalid-input` (an unknown
    /// environment, no source, a bad image name), `image-not-found` (a named image one
    /// side lacks), the kinds of [`StatusError::kind`]; `None` for
    /// [`PromoteError::Plan`], whose cause has its own.
    pub fn kind(&self) -> Option<&'static str> {
        Some(match self {
            PromoteError::Status(e) => e.kind(),
            PromoteError::UnknownEnvironment { .. }
            | PromoteError::NoSource { .. }
            | PromoteError::SameEnvironment(_)
            | PromoteError::BadImage { .. }
            | PromoteError::TaggedImage(_) => "invalid-input",
            PromoteError::NotReferenced { .. } => "image-not-found",
            PromoteError::Ambiguous { .. } => "ambiguous",
            PromoteError::Plan(_) => return None,
        })
    }
}

/// What a promotion does, image by image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Promotion {
    /// The source environment.
    pub from: String,
    /// The target environment.
    pub to: String,
    /// Every image both reference (of those named, when some were), sorted by name.
    pub images: Vec<PromotedImage>,
}

/// One image of a promotion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromotedImage {
    /// The repository, as [`status`](super::status()) names it.
    pub image: String,
    /// The source's tag.
    pub from_tag: Option<String>,
    /// The source's digest (`None`: none).
    pub from_digest: Option<String>,
    /// The tag the target had (`None`: its places disagreed, or held none).
    pub to_old_tag: Option<String>,
    /// Whether a value under the target's paths changes.
    pub changed: bool,
}

/// A computed promotion: what it does, and the plan that does it (not yet written).
#[derive(Debug)]
pub struct Promoted {
    /// Image by image.
    pub promotion: Promotion,
    /// The edits, for [`Plan::write`] or a commit.
    pub plan: Plan,
}

/// What to promote.
#[derive(Clone, Debug, Default)]
pub struct PromoteRequest {
    /// The target environment.
    pub to: String,
    /// The source; `None`: the target's `from`.
    pub from: Option<String>,
    /// The images to promote (repository names); empty: every image both reference.
    pub images: Vec<String>,
}

/// The source and the target environments of `request` in `config`: the target's
/// `from` when the request names no source.
pub fn pair<'c>(
    config: &'c Config,
    request: &PromoteRequest,
) -> Result<(&'c Environment, &'c Environment), PromoteError> {
    let env = |name: &str| {
        config
            .get(name)
            .ok_or_else(|| PromoteError::UnknownEnvironment {
                name: name.to_string(),
                file: config.file.clone(),
                known: config.names().join(", "),
            })
    };
    let to = env(&request.to)?;
    let from_name = match (&request.from, &to.from) {
        (Some(f), _) | (None, Some(f)) => f.clone(),
        (None, None) => {
            return Err(PromoteError::NoSource {
                to: to.name.clone(),
                file: config.file.clone(),
            })
        }
    };
    let from = env(&from_name)?;
    if from.name == to.name {
        return Err(PromoteError::SameEnvironment(to.name.clone()));
    }
    Ok((from, to))
}

/// Computes the promotion `request` asks for in the repository at `root`. Nothing is
/// written: the returned plan holds the edits.
pub fn promote(
    root: &Path,
    config: &Config,
    request: &PromoteRequest,
    options: &plan::Options,
) -> Result<Promoted, PromoteError> {
    let (from, to) = pair(config, request)?;
    let mut wanted = Vec::new();
    for name in &request.images {
        let image = ImageRef::parse(name).map_err(|source| PromoteError::BadImage {
            name: name.clone(),
            source,
        })?;
        if image.tag().is_some() || image.digest().is_some() {
            return Err(PromoteError::TaggedImage(name.clone()));
        }
        wanted.push(image.familiar_name());
    }
    // Only the two environments are read.
    let mut pair = config.clone();
    pair.environments = vec![from.clone(), to.clone()];
    let found = status(root, &pair)?;
    let paths_of = |e: &super::Environment| {
        e.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for name in &wanted {
        let states = found.images.iter().find(|i| &i.image == name);
        for (index, side) in [from, to].iter().enumerate() {
            if states.is_none_or(|s| s.environments[index].1.is_none()) {
                return Err(PromoteError::NotReferenced {
                    image: name.clone(),
                    environment: side.name.clone(),
                    paths: paths_of(side),
                    from: from.name.clone(),
                    to: to.name.clone(),
                });
            }
        }
    }
    let mut images = Vec::new();
    let mut requests = Vec::new();
    let mut notes = Vec::new();
    for image in &found.images {
        if !wanted.is_empty() && !wanted.contains(&image.image) {
            continue;
        }
        let (Some(source), Some(target)) = (&image.environments[0].1, &image.environments[1].1)
        else {
            continue;
        };
        if !source.conflicts.is_empty() {
            return Err(PromoteError::Ambiguous {
                image: image.image.clone(),
                environment: from.name.clone(),
                places: source.conflicts.clone(),
            });
        }
        let mut reference = image.image.clone();
        if let Some(tag) = &source.tag {
            reference.push(':');
            reference.push_str(tag);
        }
        if let Some(digest) = &source.digest {
            reference.push('@');
            reference.push_str(digest);
        }
        if source.tag.is_none() && source.digest.is_none() {
            notes.push(format!(
                "{}: environment \"{}\" names it with neither tag nor digest, so it was not promoted",
                image.image, from.name
            ));
            continue;
        }
        let reference = ImageRef::parse(&reference).map_err(|source| PromoteError::BadImage {
            name: reference.clone(),
            source,
        })?;
        requests.push(plan::Request::Image {
            image: reference,
            paths: to.paths.clone(),
        });
        images.push(PromotedImage {
            image: image.image.clone(),
            from_tag: source.tag.clone(),
            from_digest: source.digest.clone(),
            to_old_tag: target.tag.clone(),
            changed: false,
        });
    }
    let (mut plan, changed) =
        plan::plan_all(root, &requests, options).map_err(|e| PromoteError::Plan(Box::new(e)))?;
    for (image, changed) in images.iter_mut().zip(changed) {
        image.changed = changed;
    }
    plan.notes.extend(notes);
    Ok(Promoted {
        promotion: Promotion {
            from: from.name.clone(),
            to: to.name.clone(),
            images,
        },
        plan,
    })
}
