//! The `tagbump` binary end to end: remote and local bumps over real git servers (smart
//! HTTP, git daemon, SSH, file URLs) and the fake forges, output formats, snapshots, signals,
//! signature verification against a real registry.
//!
//! One test binary per area (each binary links the whole stack); a module per former
//! test file.

mod support;

#[path = "argocd_writeback.rs"]
mod argocd_writeback;
#[path = "cli_api.rs"]
mod cli_api;
#[path = "cli_attest.rs"]
mod cli_attest;
#[path = "cli_e2e.rs"]
mod cli_e2e;
#[path = "cli_fanout.rs"]
mod cli_fanout;
#[path = "cli_image_places.rs"]
mod cli_image_places;
#[path = "cli_keyless.rs"]
mod cli_keyless;
#[path = "cli_pr_rules.rs"]
mod cli_pr_rules;
#[path = "cli_promote.rs"]
mod cli_promote;
#[path = "cli_promote_remote.rs"]
mod cli_promote_remote;
#[path = "cli_referrers.rs"]
mod cli_referrers;
#[path = "cli_registry.rs"]
mod cli_registry;
#[path = "cli_registry_limits.rs"]
mod cli_registry_limits;
#[path = "cli_signals.rs"]
mod cli_signals;
#[path = "cli_snapshots.rs"]
mod cli_snapshots;
#[path = "cli_status.rs"]
mod cli_status;
#[path = "cli_status_remote.rs"]
mod cli_status_remote;
#[path = "cli_verify.rs"]
mod cli_verify;
#[path = "git_https.rs"]
mod git_https;
#[path = "git_ssh.rs"]
mod git_ssh;
#[path = "real_repos.rs"]
mod real_repos;
