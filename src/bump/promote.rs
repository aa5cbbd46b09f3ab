//! A promotion as a change [`run`](super::run) lands: what one environment runs,
//! written into another ([`crate::environments`]), recomputed on the tree of every
//! attempt — after a lost race on the new tip, where the source may have moved.
//!
//! The environments file is `.tagbump.yaml` of the tree being edited (read at every
//! attempt), or a file of the local disk ([`Promote::config`], read once). For a remote
//! repository with the file in the tree, the file is read once before landing (a
//! blob-less clone of it alone, or one API read), to know the target's `pr` and
//! the environments' paths: only the file and those paths are then read or checked
//! out. A tree whose file then names other paths for the two environments (it changed
//! between the two reads) is refused ([`PromoteLandError::ConfigMoved`]); run again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PullRequest;
use crate::environments::{
    self, pair, Config, ConfigError, PromoteError, PromoteRequest, Promoted, Promotion,
    StatusError, CONFIG_FILE,
};
use crate::plan;
use crate::template;

/// What to promote, and how.
#[derive(Clone, Debug, Default)]
pub struct Promote {
    /// The target, the source, the images.
    pub request: PromoteRequest,
    /// The environments file on the local disk (relative to the current directory, or
    /// absolute), read once; `None`: `.tagbump.yaml` at the root of the tree edited,
    /// read at every attempt. Its paths are relative to the repository root either way.
    pub config: Option<PathBuf>,
    /// Open a pull request (remote destinations): `Some(true)` always (with
    /// [`Options::pull_request`](super::Options::pull_request), or the defaults),
    /// `Some(false)` never, `None` as the target environment's `pr` says. For a
    /// promotion [`Options::pull_request`](super::Options::pull_request) holds only the
    /// settings of the request, whether one is opened is said here.
    pub pr: Option<bool>,
}

/// Why a promotion could not be landed, besides the promotion's own errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteLandError {
    /// The environments file of the tree named other paths for the two environments
    /// than the one read before landing.
    #[error("{file} changed on the branch while promoting (\"{from}\" → \"{to}\" now name other paths); run the promotion again")]
    ConfigMoved {
        /// The environments file.
        file: String,
        /// The source.
        from: String,
        /// The target.
        to: String,
    },
}

/// The two environments once the environments file was read.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub from: String,
    pub to: String,
    /// The paths of both.
    pub paths: Vec<PathBuf>,
    /// The target's `pr`.
    pub pr: Option<bool>,
}

impl Pair {
    pub fn of(config: &Config, request: &PromoteRequest) -> Result<Pair, PromoteError> {
        let (from, to) = pair(config, request)?;
        let mut paths = from.paths.clone();
        paths.extend(to.paths.iter().cloned());
        Ok(Pair {
            from: from.name.clone(),
            to: to.name.clone(),
            paths,
            pr: to.pr,
        })
    }
}

/// A promotion being landed: the request and the environments file read once.
#[derive(Debug)]
pub(super) struct PromoteWork<'a> {
    pub promote: &'a Promote,
    /// The local environments file, read once.
    pub fixed: Option<Config>,
}

impl<'a> PromoteWork<'a> {
    /// Reads the local environments file, if one is given.
    pub fn new(promote: &'a Promote) -> Result<Self, PromoteError> {
        let fixed = match &promote.config {
            Some(file) => Some(
                Config::load(Path::new("."), Some(file))
                    .map_err(|e| PromoteError::from(StatusError::from(e)))?,
            ),
            None => None,
        };
        Ok(PromoteWork { promote, fixed })
    }

    /// The environments file of the tree at `root` (or the local one).
    pub fn config(&self, root: &Path) -> Result<Config, ConfigError> {
        match &self.fixed {
            Some(c) => Ok(c.clone()),
            None => Config::load(root, None),
        }
    }

    /// The two environments, when the environments file is already known.
    pub fn known_pair(&self) -> Option<Result<Pair, PromoteError>> {
        self.fixed
            .as_ref()
            .map(|c| Pair::of(c, &self.promote.request))
    }

    /// Computes the promotion on the tree at `root`; `sparse`: the only paths there
    /// are (they must cover the two environments).
    pub fn compute(
        &self,
        root: &Path,
        options: &plan::Options,
        sparse: Option<&[PathBuf]>,
    ) -> Result<Promoted, super::Cause> {
        let config = self
            .config(root)
            .map_err(|e| PromoteError::from(StatusError::from(e)))?;
        if let Some(sparse) = sparse {
            let now = Pair::of(&config, &self.promote.request)?;
            let covered = now
                .paths
                .iter()
                .all(|p| sparse.iter().any(|s| p.starts_with(s)));
            if !covered {
                return Err(Box::new(PromoteLandError::ConfigMoved {
                    file: config.file.clone(),
                    from: now.from,
                    to: now.to,
                }));
            }
        }
        Ok(environments::promote(
            root,
            &config,
            &self.promote.request,
            options,
        )?)
    }

    /// The paths a remote landing reads: the environments file (when in the tree) and
    /// both environments' paths.
    pub fn sparse(&self, pair: &Pair) -> Vec<PathBuf> {
        let mut paths = pair.paths.clone();
        if self.fixed.is_none() {
            paths.insert(0, PathBuf::from(CONFIG_FILE));
        }
        paths
    }

    /// Whether a pull request is opened, and with what settings.
    pub fn pull_request(
        &self,
        pair: Option<&Pair>,
        settings: Option<&PullRequest>,
    ) -> Option<PullRequest> {
        let wanted = self
            .promote
            .pr
            .or_else(|| pair.and_then(|p| p.pr))
            .unwrap_or(false);
        wanted.then(|| settings.cloned().unwrap_or_default())
    }
}

/// The default commit subject (and pull-request title) of a promotion.
pub(super) const DEFAULT_SUBJECT: &str = "chore(deploy): promote {from} to {to}";

/// The default commit message of a promotion: the subject, then a line per changed
/// image (`{images}`).
pub(super) const DEFAULT_MESSAGE: &str = "chore(deploy): promote {from} to {to}\n\n{images}";

/// The placeholders of a promotion whose environments are known: `{from}`, `{to}`,
/// `{slug}` (`promote-FROM-to-TO`), `{summary}`.
pub(super) fn pair_vars(vars: &mut BTreeMap<String, String>, from: &str, to: &str) {
    let slug = template::slug(&format!("promote-{from}-to-{to}"));
    vars.insert("from".into(), from.to_string());
    vars.insert("to".into(), to.to_string());
    vars.insert("image_slug".into(), slug.clone());
    vars.insert("slug".into(), slug);
    vars.insert("summary".into(), summary(Some(from), to));
}

/// `the promotion staging → prod` (`a promotion to prod` while the source is not known).
pub(super) fn summary(from: Option<&str>, to: &str) -> String {
    match from {
        Some(from) => format!("the promotion {from} → {to}"),
        None => format!("a promotion to {to}"),
    }
}

/// `{images}`: a line per changed image, `- IMAGE OLD → NEW`.
pub(super) fn image_lines(p: &Promotion) -> String {
    p.images
        .iter()
        .filter(|i| i.changed)
        .map(|i| {
            let mut new = i.from_tag.clone().unwrap_or_default();
            if let Some(d) = &i.from_digest {
                if !new.is_empty() {
                    new.push('@');
                }
                new.push_str(d);
            }
            let old = i.to_old_tag.as_deref().unwrap_or("(places disagreed)");
            format!("- {} {old} → {new}", i.image)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
