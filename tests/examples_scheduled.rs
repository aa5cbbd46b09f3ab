//! The scheduled "Image Updater from CI" examples run for real, like `tests/examples.rs`
//! runs the others: the GitHub step's inputs through action.yml's entrypoint, the
//! GitLab job's `script:` with its variables — against the harness's real registry
//! (`tests/support/registry/`) and a real git smart-HTTP server. The only things a
//! test swaps in an example are where the registry and the config repository live
//! (and the registry's private CA, given as `ca-bundle` / `TAGBUMP_CA_BUNDLE`).

use crate::support;

use std::collections::BTreeMap;
use std::process::Output;

use support::ci_example::{
    self, action_command, entries, expand, image_entrypoint, run_script, s, script,
    serve_as_acme_gitops_config, yaml,
};
use support::git_server::{self, BareRepo, SmartHttpServer};
use support::published;
use support::registry::{Pushed, TestRegistry, PASSWORD, USER};

const TOKEN: &str = "examples-scheduled-token-8d1e";

/// Releases 1.4.0, 1.5.0 (an index over amd64 and arm64), 1.6.0-rc1 and 2.0.0 of
/// `acme/api`; returns the 1.5.0 index.
fn push_releases(reg: &TestRegistry) -> Pushed {
    let old = reg.push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    let amd = reg.push_image("acme/api", "1.5.0-amd64", "2026-02-01T00:00:00Z", "amd64");
    let arm = reg.push_image("acme/api", "1.5.0-arm64", "2026-02-01T00:00:00Z", "arm64");
    let index = reg.push_index("acme/api", "1.5.0", &[(&amd, "amd64"), (&arm, "arm64")]);
    reg.tag("acme/api", "1.6.0-rc1", &old);
    reg.tag("acme/api", "2.0.0", &old);
    index
}

/// A config repository served over smart HTTP as `acme/gitops-config.git`.
fn config_repo(files: &[(&str, &str)]) -> (BareRepo, SmartHttpServer) {
    let bare = BareRepo::new_with(files, "main");
    let http = serve_as_acme_gitops_config(&bare, TOKEN);
    (bare, http)
}

/// The job succeeded and neither the config repository's token nor the registry's
/// password is in its log.
fn assert_ok(out: &Output, what: &str) {
    ci_example::assert_ok(out, what, &[TOKEN, PASSWORD]);
}

#[test]
fn github_scheduled_workflow_keeps_the_newest_1x_pinned_by_digest() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let index = push_releases(&reg);
    let host = reg.token_host();
    let values =
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.4.0\"\n  digest: \"\"\n");
    let (bare, http) = config_repo(&[("apps/api/values.yaml", &values)]);

    let workflow = yaml("github/scheduled-semver.yml");
    let step = workflow["jobs"]["bump-api"]["steps"][0].clone();
    assert_eq!(
        s(&step["uses"]),
        published::action_ref(concat!("v", env!("CARGO_PKG_VERSION_MAJOR")))
    );
    let mut with: BTreeMap<String, String> = entries(&step["with"])
        .into_iter()
        .map(|(k, v)| (k, s(v)))
        .collect();
    // Where the registry and the config repository live, and the registry's CA.
    let ctx = [
        ("github.actor", USER.to_string()),
        ("secrets.GITHUB_TOKEN", PASSWORD.to_string()),
        ("secrets.CONFIG_REPO_TOKEN", TOKEN.to_string()),
    ];
    for value in with.values_mut() {
        for (expr, v) in &ctx {
            *value = value.replace(&format!("${{{{ {expr} }}}}"), v);
        }
        assert!(!value.contains("${{"), "unexpected expression in {value}");
        *value = value
            .replace("ghcr.io/acme/api", &format!("{host}/acme/api"))
            .replace(
                "https://github.com/acme/gitops-config.git",
                &http.url("acme/gitops-config.git"),
            );
    }
    with.insert("ca-bundle".into(), reg.ca_pem.display().to_string());

    // action.yml as the runner runs it.
    let work = tempfile::tempdir().expect("work");
    let home = tempfile::tempdir().expect("home");
    let out = action_command(&with, work.path(), home.path())
        .output()
        .expect("run the action");
    assert_ok(&out, "the scheduled workflow's tagbump step");
    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").as_deref(),
        Some(
            format!(
                "image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{}\"\n",
                index.digest
            )
            .as_str()
        ),
        "1.5.0: the newest 1.x (2.0.0 outside, 1.6.0-rc1 ignored), pinned to its index"
    );
    let message = git_server::git(bare.path(), &["log", "-1", "--format=%s", "main"]);
    assert_eq!(
        message.trim(),
        format!("chore(deploy): {host}/acme/api to 1.5.0 (nightly image-updater run)")
    );
}

#[test]
fn gitlab_scheduled_job_writes_the_argocd_source_file_as_image_updater_does() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    push_releases(&reg);
    let host = reg.token_host();
    let (bare, http) = config_repo(&[
        (
            "apps/api/Chart.yaml",
            "apiVersion: v2\nname: api\nversion: 0.1.0\n",
        ),
        (
            "apps/api/values.yaml",
            "image:\n  repository: example/api\n  tag: latest\n",
        ),
    ]);
    let pipeline = yaml("gitlab/scheduled-semver.gitlab-ci.yml");
    let job = &pipeline["image-updater"];
    assert_eq!(image_entrypoint(job), Some(vec![String::new()]));
    // Predefined and project-level variables of a scheduled pipeline.
    let mut env: BTreeMap<String, String> = [
        ("CI_PIPELINE_SOURCE", "schedule".to_string()),
        ("CI_REGISTRY_IMAGE", format!("{host}/acme")),
        ("CI_REGISTRY_USER", USER.to_string()),
        ("CI_REGISTRY_PASSWORD", PASSWORD.to_string()),
        ("TAGBUMP_TOKEN", TOKEN.to_string()),
        ("TAGBUMP_CA_BUNDLE", reg.ca_pem.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in entries(&job["variables"]) {
        let mut value = expand(&s(v), &env);
        if k == "CONFIG_REPO" {
            value = http.url("acme/gitops-config.git");
        }
        env.insert(k, value);
    }
    let work = tempfile::tempdir().expect("work");
    let home = tempfile::tempdir().expect("home");
    let out = run_script(&script(job), &env, work.path(), home.path());
    assert_ok(&out, "the scheduled GitLab job");
    assert_eq!(
        bare.read_file("main", "apps/api/.argocd-source-api.yaml").as_deref(),
        Some(format!(
            "helm:\n  parameters:\n  - name: image.name\n    value: {host}/acme/api\n    forcestring: true\n  - name: image.tag\n    value: 1.5.0\n    forcestring: true\n"
        ).as_str())
    );
    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").as_deref(),
        Some("image:\n  repository: example/api\n  tag: latest\n"),
        "with --argocd-app only the override file is written"
    );
    let author = bare.log("main", "%an <%ae>")[0].clone();
    assert_eq!(author, "GitLab image updater <image-updater@example.com>");
}
