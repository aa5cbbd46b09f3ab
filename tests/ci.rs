//! What ships: the GitHub Action, the CI-native integrations (GitLab, Tekton, Jenkins), the
//! runnable examples and the release workflows.
//!
//! One test binary per area (each binary links the whole stack); a module per former
//! test file.

mod support;

#[path = "action_yml.rs"]
mod action_yml;
#[path = "ci_native.rs"]
mod ci_native;
#[path = "examples.rs"]
mod examples;
#[path = "examples_promote.rs"]
mod examples_promote;
#[path = "examples_scheduled.rs"]
mod examples_scheduled;
#[path = "features.rs"]
mod features;
#[path = "layers.rs"]
mod layers;
#[path = "library_examples.rs"]
mod library_examples;
#[path = "shipping.rs"]
mod shipping;
#[path = "shipping_supply_chain.rs"]
mod shipping_supply_chain;
