//! The scheduled "Image Updater from CI" examples run for real, like `tests/examples.rs`
//! runs the others: the GitHub step's inputs through action.yml's entrypoint, the
//! GitLab job's `script:` with its variables — against the harness's real registry
//! (`tests/support/registry/`) and a real git smart-HTTP server. The only things a
//! test swaps in an example are where the registry and the config repository live
//! (and the registry's private CA, given as `ca-bundle` / `TAGBUMP_CA_BUNDLE`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_norway::Value;
use support::git_server::{self, BareRepo, SmartHttpServer};
use support::published;
use support::registry::{Pushed, TestRegistry, PASSWORD, USER};

const TOKEN: &str = "examples-scheduled-token-8d1e";

fn example(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path);
    let text = std::fs::read_to_string(&full).expect("example");
    serde_norway::from_str(&text).expect("example YAML")
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn entries(v: &Value) -> Vec<(String, &Value)> {
    v.as_mapping()
        .map(|m| m.iter().map(|(k, v)| (s(k), v)).collect())
        .unwrap_or_default()
}

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
    let owner = bare.root().join("acme");
    std::fs::create_dir_all(&owner).expect("mkdir");
    std::os::unix::fs::symlink(bare.path(), owner.join("gitops-config.git")).expect("symlink");
    let http = SmartHttpServer::start(bare.root(), TOKEN);
    (bare, http)
}

fn command(program: &str, cwd: &Path, home: &Path) -> Command {
    git_server::init();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tagbump"))
        .parent()
        .expect("dir")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

fn assert_ok(out: &Output, what: &str) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{all}",
        out.status
    );
    assert!(
        !all.contains(TOKEN) && !all.contains(PASSWORD),
        "{what}: a secret leaked into the job log"
    );
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

    let workflow = example("github/scheduled-semver.yml");
    let step = workflow["jobs"]["bump-api"]["steps"][0].clone();
    assert_eq!(s(&step["uses"]), published::action_ref("v1"));
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
    let action: Value = serde_norway::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
            .expect("action.yml"),
    )
    .expect("action");
    let mut inputs: BTreeMap<String, String> = entries(&action["inputs"])
        .into_iter()
        .map(|(k, spec)| (k, spec.get("default").map(s).unwrap_or_default()))
        .collect();
    for (k, v) in &with {
        assert!(
            inputs.contains_key(k),
            "the example uses undeclared input {k}"
        );
        inputs.insert(k.clone(), v.clone());
    }
    let work = tempfile::tempdir().expect("work");
    let home = tempfile::tempdir().expect("home");
    let mut cmd = command(&s(&action["runs"]["entrypoint"]), work.path(), home.path());
    for arg in action["runs"]["args"].as_sequence().expect("args") {
        cmd.arg(s(arg));
    }
    for (var, value) in entries(&action["runs"]["env"]) {
        let input = s(value)
            .trim()
            .trim_start_matches("${{ inputs.")
            .trim_end_matches(" }}")
            .to_string();
        cmd.env(var, &inputs[&input]);
    }
    let out = cmd.output().expect("run the action");
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
    let pipeline = example("gitlab/scheduled-semver.gitlab-ci.yml");
    let job = &pipeline["image-updater"];
    assert_eq!(
        job["image"]["entrypoint"]
            .as_sequence()
            .map(|e| e.iter().map(s).collect::<Vec<_>>()),
        Some(vec![String::new()])
    );
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
    let re = regex::Regex::new(r"\$\{(\w+)\}|\$(\w+)").expect("regex");
    for (k, v) in entries(&job["variables"]) {
        let mut value = re
            .replace_all(&s(v), |c: &regex::Captures| {
                let name = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
                env.get(name).cloned().unwrap_or_default()
            })
            .into_owned();
        if k == "CONFIG_REPO" {
            value = http.url("acme/gitops-config.git");
        }
        env.insert(k, value);
    }
    let script: Vec<String> = job["script"]
        .as_sequence()
        .expect("script")
        .iter()
        .map(s)
        .collect();
    let work = tempfile::tempdir().expect("work");
    let home = tempfile::tempdir().expect("home");
    let mut cmd = command("sh", work.path(), home.path());
    cmd.arg("-ec").arg(script.join("\n")).envs(&env);
    let out = cmd.output().expect("run the job");
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
