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
//! - [`registry`]: the container registry's view (digests, tags, build times) for
//!   `--pin-digest` and Image Updater's update strategies.
//! - [`verify`]: cosign public keys and simple-signing payloads, checked offline, and
//!   key-based verification of a digest against cosign's `.sig` signatures in the
//!   registry (read through [`registry`]'s client).
//! - [`environments`]: the environments of `.tagbump.yaml` and what each runs
//!   (`tagbump status`).
//! - [`argocd_source`]: Argo CD Image Updater's `.argocd-source-<app>.yaml`, written
//!   as Image Updater writes it.
//! - [`fsio`]: atomic file writes.
//! - [`change`]: what a change is to every way of landing it: the changed files, the
//!   commit message, author and committer.
//! - [`ci`]: the pipeline that runs tagbump (commit trailers, links back).
//! - [`template`]: `{placeholder}` templates for messages and branch names.
//! - [`retry`]: the time-based retry budget and network time limits every way of
//!   landing a change shares.
//! - [`url`]: a git remote URL parsed once: transport, host, port, credentials.
//! - [`git`]: clone, commit and push a config repository (knows nothing of YAML).
//! - [`forge`]: GitHub / GitLab pull and merge requests behind one trait.
//! - [`land`]: the ways of landing a change (git, a forge API) behind one seam.
//! - [`credentials`]: which token variable may go to which host.
//! - [`bump`]: the whole job in one call: plan a change, land it in a directory, a
//!   checkout or a remote repository (git or the forge's API), open the pull request.
//! - [`outputs`]: a run's report as each CI system shows it (GitHub job summary,
//!   annotations and step outputs, GitLab log sections and dotenv, Tekton results).
//! - [`secret`]: a string that never prints itself.
//!
//! # Features
//!
//! Without default features the crate is the editor, the search and the plan:
//! [`yaml`], [`image`], [`targets`], [`plan`], [`policy`], [`argocd_source`] and the
//! leaves they use, with no network client, git or async runtime in the build. The
//! features add the rest (all are on by default):
//!
//! | feature | adds |
//! | --- | --- |
//! | `git` | `git`, `url` |
//! | `forge` | `forge` (GitHub, GitLab, the GitHub App token), `url` |
//! | `registry` | `registry`, `verify`, `url` |
//! | `git` + `forge` | `land`, `credentials` |
//! | `git` + `forge` + `registry` | `bump`, `outputs` |
//! | `cli` | the `tagbump` binary (all of the above, clap, signal handling) |
//!
//! # Example: bump an image in a checkout
//!
//! ```
//! use tagbump::image::ImageRef;
//! use tagbump::plan::{plan, Options, Request};
//!
//! let repo = tempfile::tempdir()?;
//! std::fs::create_dir_all(repo.path().join("apps/api"))?;
//! std::fs::write(
//!     repo.path().join("apps/api/values.yaml"),
//!     "image:\n  repository: ghcr.io/acme/api  # built by CI\n  tag: \"1.4.2\"\n",
//! )?;
//!
//! let request = Request::Image {
//!     image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?,
//!     paths: vec![], // the whole tree
//! };
//! let planned = plan(repo.path(), &request, &Options::default())?; // edited and checked in memory
//! assert!(planned.changed());
//! print!("{}", planned.diff());
//! planned.write()?; // each file atomically; every edit was checked before any write
//!
//! assert_eq!(
//!     std::fs::read_to_string(repo.path().join("apps/api/values.yaml"))?,
//!     "image:\n  repository: ghcr.io/acme/api  # built by CI\n  tag: \"1.5.0\"\n",
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`git::write_back`] runs the same kind of edit inside a fresh clone of a config
//! repository and commits and pushes it; [`forge::Forge`] then opens a pull request.
//!
//! # Async code
//!
//! The network clients (GitHub, GitLab, the GitHub App token exchange, the registry)
//! are blocking, and safe to call from inside a tokio runtime: there each exchange runs
//! on a short-lived thread of its own, so no runtime is ever started, blocked on or
//! dropped inside another one (no "Cannot start a runtime from within a runtime"
//! panic). They still block the calling worker while they wait: from async code, wrap
//! them in `tokio::task::spawn_blocking`. `examples/in_async_runtime.rs` shows it.

#![warn(missing_docs)]

pub mod argocd_source;
#[cfg(any(feature = "forge", feature = "registry"))]
mod blocking;
#[cfg(all(feature = "git", feature = "forge", feature = "registry"))]
pub mod bump;
pub mod change;
pub mod ci;
#[cfg(all(feature = "git", feature = "forge"))]
pub mod credentials;
pub mod environments;
#[cfg(feature = "forge")]
pub mod forge;
pub mod fsio;
#[cfg(feature = "git")]
pub mod git;
pub mod image;
#[cfg(all(feature = "git", feature = "forge"))]
pub mod land;
#[cfg(all(feature = "git", feature = "forge", feature = "registry"))]
pub mod outputs;
pub mod plan;
pub mod policy;
#[cfg(feature = "registry")]
pub mod registry;
pub mod retry;
pub mod secret;
pub mod targets;
pub mod template;
#[cfg(any(feature = "git", feature = "forge", feature = "registry"))]
pub mod url;
#[cfg(feature = "registry")]
pub mod verify;
pub mod yaml;
