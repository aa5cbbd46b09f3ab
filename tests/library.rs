//! The library: image references, the search for an image's places (fixtures and the
//! real-world corpus), hostile files, the plan, environments; and its write path against
//! real servers: git write-back, the GitHub and GitLab APIs (fakes on real bare
//! repositories), forge rules, GitHub App tokens, the registry client, signature keys and
//! signatures read from the registry. (The editor's own tests are in
//! crates/tagbump-yaml/tests.)
//!
//! One test binary per area (each binary links the whole stack); a module per former
//! test file.

mod support;

#[path = "api_github.rs"]
mod api_github;
#[path = "api_gitlab.rs"]
mod api_gitlab;
#[path = "async_safe.rs"]
mod async_safe;
#[path = "corpus_images.rs"]
mod corpus_images;
#[path = "environments.rs"]
mod environments;
#[path = "environments_promote.rs"]
mod environments_promote;
#[path = "environments_schema.rs"]
mod environments_schema;
#[path = "forge_api.rs"]
mod forge_api;
#[path = "forge_rules.rs"]
mod forge_rules;
#[path = "git_writeback.rs"]
mod git_writeback;
#[path = "github_app.rs"]
mod github_app;
#[path = "hostile_files.rs"]
mod hostile_files;
#[path = "image_reference.rs"]
mod image_reference;
#[path = "plan_not_searched.rs"]
mod plan_not_searched;
#[path = "plan_search.rs"]
mod plan_search;
#[path = "registry_client.rs"]
mod registry_client;
#[path = "targets.rs"]
mod targets;
#[path = "verify_conformance.rs"]
mod verify_conformance;
#[path = "verify_keys.rs"]
mod verify_keys;
#[path = "verify_registry.rs"]
mod verify_registry;
