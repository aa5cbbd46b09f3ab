//! # tagbump
//!
//! Write a freshly pushed container image tag into a GitOps config repository.
//!
//! The crate is split into small modules with one job each:
//!
//! - [`yaml`]: a format-preserving YAML editor. It changes only the bytes of the
//!   scalars it is asked to change and proves it by re-parsing the result.
//! - [`image`]: container image references (`registry/path:tag@digest`).
//! - [`targets`]: finds the places in Helm values, kustomizations, manifests and
//!   Argo CD Image Updater override files that hold a given image.
//! - [`plan`]: applies a request to the files under one directory, all or nothing.
//! - [`policy`]: opt-in rollback protection (no downgrade, allowed tags).
//! - [`fsio`]: atomic file writes.
//! - [`ci`]: the pipeline that runs tagbump (commit trailers, links back).
//! - [`template`]: `{placeholder}` templates for messages and branch names.
//! - [`git`]: clone, commit and push a config repository (knows nothing of YAML).
//! - [`forge`]: GitHub / GitLab pull and merge requests behind one trait.
//! - [`secret`]: a string that never prints itself.

pub mod ci;
pub mod forge;
pub mod fsio;
pub mod git;
pub mod image;
pub mod plan;
pub mod policy;
pub mod secret;
#[doc(hidden)]
pub mod synth;
pub mod targets;
pub mod template;
pub mod yaml;
