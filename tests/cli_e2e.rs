//! End-to-end specification of the `tagbump` binary: the real executable runs as a
//! subprocess with a controlled environment against real git servers on 127.0.0.1
//! (smart HTTP with a token, `git daemon`, `file://`) and a fake GitHub / GitLab API.

use crate::support;

// Along its seams, in submodules of this one test binary; the harness stays here.
#[path = "cli_e2e/concurrency.rs"]
mod concurrency;
#[path = "cli_e2e/local.rs"]
mod local;
#[path = "cli_e2e/output.rs"]
mod output;
#[path = "cli_e2e/pr.rs"]
mod pr;
#[path = "cli_e2e/remote.rs"]
mod remote;
#[path = "cli_e2e/secrets.rs"]
mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use support::cli::{finished, home, run, tagbump, Run};
use support::forge_server::{FakeResponse, ForgeServer};
use support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};
use tempfile::TempDir;

/// The token the smart HTTP server accepts; distinctive so that leaks are easy to find.
const TOKEN: &str = "tok-SECRET-7f3a";
/// A token the server refuses.
const WRONG_TOKEN: &str = "tok-SECRET-wrong-9c1d";
/// What both tokens share: it must never show up anywhere.
const SECRET_MARK: &str = "tok-SECRET";

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-config-repo");

// ---------------------------------------------------------------- harness

/// Every file of the bundled demo config repository, relative path → content.
fn demo_files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read demo dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("under the demo root")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read_to_string(&path).expect("demo file"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(Path::new(DEMO), Path::new(DEMO), &mut files);
    files
}

/// A bare repository (`main`) seeded with the demo config repository.
fn demo_bare_repo() -> BareRepo {
    let files = demo_files();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    BareRepo::new_with(&pairs, "main")
}

/// A copy of the demo config repository in a temporary directory (returned as
/// `(guard, path of the copy)`).
fn demo_copy() -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("tagbump-e2e-demo-")
        .tempdir()
        .expect("tempdir");
    let root = dir.path().join("demo");
    for (rel, content) in demo_files() {
        let full = root.join(rel);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write demo file");
    }
    (dir, root)
}

/// The demo files as they must look after bumping `ghcr.io/acme/api` from 1.4.2 to
/// `tag`: every reference to that image changes, nothing else does (the worker image
/// `ghcr.io/acme/api-worker`, the web app, the version annotation are left alone).
fn demo_after_bump(tag: &str) -> BTreeMap<&'static str, String> {
    let files = demo_files();
    let get = |p: &str| files.get(p).cloned().expect("demo file exists");
    let mut want = BTreeMap::new();
    want.insert(
        "apps/api/values.yaml",
        get("apps/api/values.yaml").replace("tag: \"1.4.2\"", &format!("tag: \"{tag}\"")),
    );
    want.insert(
        "apps/api/kustomization.yaml",
        get("apps/api/kustomization.yaml").replace("newTag: 1.4.2", &format!("newTag: {tag}")),
    );
    want.insert(
        "apps/worker/deployment.yaml",
        get("apps/worker/deployment.yaml")
            .replace("ghcr.io/acme/api:1.4.2", &format!("ghcr.io/acme/api:{tag}")),
    );
    want.insert(
        "apps/api/.argocd-source-api.yaml",
        get("apps/api/.argocd-source-api.yaml").replace("value: 1.4.2", &format!("value: {tag}")),
    );
    want.insert("apps/web/values.yaml", get("apps/web/values.yaml"));
    want
}

const BUMPED_FILES: [&str; 4] = [
    "apps/api/.argocd-source-api.yaml",
    "apps/api/kustomization.yaml",
    "apps/api/values.yaml",
    "apps/worker/deployment.yaml",
];

fn assert_demo_bumped(repo: &BareRepo, branch: &str, tag: &str) {
    for (file, want) in demo_after_bump(tag) {
        assert_eq!(
            repo.read_file(branch, file).as_deref(),
            Some(want.as_str()),
            "{file} on {branch} after bumping to {tag}"
        );
    }
}

fn commit_message(repo: &BareRepo, rev: &str) -> String {
    git_server::git(repo.path(), &["log", "-1", "--format=%B", rev])
}

/// `key=value` lines of a `$GITHUB_OUTPUT` file, in order.
fn github_outputs(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn last_output(outputs: &[(String, String)], key: &str) -> Option<String> {
    outputs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Serves `repo` over smart HTTP (token required) as `acme/gitops.git`, so that the
/// repository id derived from the URL is `acme/gitops`.
fn serve_as_acme_gitops(repo: &BareRepo) -> (SmartHttpServer, String) {
    repo.also_as("acme/gitops.git");
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url("acme/gitops.git");
    (server, url)
}

/// `http://127.0.0.1:PORT` of a URL on that server.
fn origin(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    format!("http://{}", rest.split('/').next().unwrap_or(rest))
}
