//! Shared test harness for integration tests.
//!
//! Use it from a test file with `mod support;` and then e.g.
//! `use support::git_server::{BareRepo, GitDaemon, SmartHttpServer};`.
//!
//! - [`git_server`]: real git servers on 127.0.0.1 (git daemon, smart HTTP via
//!   `git http-backend`, plain `file://`), bare repositories seeded with files, and
//!   helpers to inspect what landed on the remote.
//! - [`cli`]: runs the real `tagbump` binary with a clean environment.
//! - [`forge_server`]: a fake GitHub / GitLab REST API (owned by the forge module's
//!   tests; declared here so every test crate can use it).
//! - [`fake_gitlab`] (+ [`fake_gitlab_commit`]): GitLab's repository API backed by a
//!   real bare repository (files, tree, commits with per-file compare-and-swap), and
//!   its merge requests ([`fake_gitlab_mr`]).
//! - [`fake_github`]: a fake GitHub whose REST + GraphQL API sits on a real bare
//!   repository (reads with git, commits with git plumbing, compare-and-swap with
//!   `git update-ref`).
//!
//! - [`forge_cli`]: the `tagbump` runs of the forge tests (`--via api` against the fakes,
//!   the web-app bump and its config repository).
//! - [`published`]: where tagbump is published (owner, action, image), from Cargo.toml's
//!   `repository`.
//! - [`attest`]: DSSE attestations signed by Python's `cryptography`, stored as cosign's
//!   `.att` manifests.
//! - [`cosign`]: key pairs and signatures made by OpenSSL, cosign's signature objects
//!   pushed to the test registry (the verification tests).
//! - [`referrers`]: Sigstore bundles pushed as OCI referrers (cosign's `BUNDLE_SPEC.md`),
//!   with the referrers tag schema's index.
//! - [`tools`]: what a test does when a tool it needs is missing (fails under
//!   `TAGBUMP_REQUIRE_TOOLS=1`, as in CI; elsewhere a reported skip).
//!
//! Every `git_server` helper calls [`git_server::init`] first, which isolates the test process from
//! the machine's git configuration (no system/global config, a throw-away `HOME`), so
//! tests never depend on a user identity or credential helper configured on the host.

#![allow(dead_code)]

pub mod attest;
pub mod ci_example;
pub mod cli;
pub mod cosign;
pub mod fake_github;
pub mod fake_gitlab;
pub mod fake_gitlab_commit;
pub mod fake_gitlab_mr;
pub mod forge_cli;
pub mod forge_server;
pub mod git_server;
pub mod published;
pub mod push_hold;
pub mod referrers;
pub mod registry;
pub mod test_ca;
pub mod tools;
