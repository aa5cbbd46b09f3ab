//! `tagbump status --repo URL [--branch B]`: the remote's default branch (or the one
//! named) read over git (git daemon; smart HTTP with a token, a shallow sparse clone of
//! the environments' paths), through the fake GitHub's REST API
//! (`tests/support/fake_github.rs`: GitHub's "Repositories", "Git trees" and
//! "Repository contents" pages) and the fake GitLab's (`tests/support/fake_gitlab.rs`:
//! GitLab's "Repositories" and "Repository files" API pages). Nothing is ever written:
//! the branches and their tips stay as they were, and the forges see reads only. The
//! expected reports are written by hand from the files below.

use serde_json::{json, Value};

use crate::support::cli::{home, run, tagbump, Run};
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_gitlab::{self, FakeGitLab};
use crate::support::forge_cli::{via_github_api, via_gitlab_api};
use crate::support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};

const CONFIG: &str = "environments:\n  staging: { paths: [envs/staging] }\n  prod: { paths: [envs/prod, clusters/prod/apps.yaml], from: staging, pr: true }\n";

const STAGING_VALUES: &str =
    "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.6.0\"\n\
web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: 2.1.0\n";

const STAGING_KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
images:\n  - name: ghcr.io/acme/api\n    newTag: 1.6.0\n";

const PROD_DEPLOYMENT: &str = concat!(
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n",
    "spec:\n  template:\n    spec:\n      containers:\n",
    "        - name: api\n          image: ghcr.io/acme/api:1.5.0\n",
    "        - name: cache\n          image: bitnami/redis:7.2.4\n",
);

const PROD_APPS: &str = concat!(
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n",
    "spec:\n  source:\n    helm:\n      parameters:\n",
    "        - name: image.repository\n          value: ghcr.io/acme/web\n",
    "        - name: image.tag\n          value: 2.0.0\n",
);

/// Outside every environment: never counted.
const OTHER: &str = "image:\n  repository: ghcr.io/acme/api\n  tag: \"9.9.9\"\n";

const TOKEN: &str = "ghs_STATUS-SECRET-4242";

fn config_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/staging/values.yaml", STAGING_VALUES),
            ("envs/staging/kustomization.yaml", STAGING_KUSTOMIZATION),
            ("envs/prod/deployment.yaml", PROD_DEPLOYMENT),
            ("clusters/prod/apps.yaml", PROD_APPS),
            ("sandbox/values.yaml", OTHER),
            ("README.md", "# gitops\n"),
        ],
        "main",
    )
}

/// The report of `main` as seeded.
fn main_report() -> Value {
    json!({"environments": ["staging", "prod"], "images": [
        {"image": "bitnami/redis", "environments": {
            "staging": null,
            "prod": {"tag": "7.2.4", "digest": null, "places": 1}
        }, "in_sync": true},
        {"image": "ghcr.io/acme/api", "environments": {
            "staging": {"tag": "1.6.0", "digest": null, "places": 2},
            "prod": {"tag": "1.5.0", "digest": null, "places": 1}
        }, "in_sync": false},
        {"image": "ghcr.io/acme/web", "environments": {
            "staging": {"tag": "2.1.0", "digest": null, "places": 1},
            "prod": {"tag": "2.0.0", "digest": null, "places": 1}
        }, "in_sync": false}
    ]})
}

fn status(home: &std::path::Path, url: &str, extra: &[&str]) -> Run {
    let mut cmd = tagbump(home);
    cmd.args(["status", "--repo", url]).args(extra);
    run(&mut cmd)
}

/// Every branch with its tip.
fn tips(repo: &BareRepo) -> Vec<(String, Option<String>)> {
    repo.branches()
        .into_iter()
        .map(|b| {
            let tip = repo.tip(&b);
            (b, tip)
        })
        .collect()
}

#[test]
fn over_git_the_default_branch_or_the_one_named_is_read_and_nothing_written() {
    let repo = config_repo();
    // A release branch where prod already runs api 1.6.0 (HEAD stays main).
    git_server::git(repo.path(), &["branch", "release", "main"]);
    repo.commit_files(
        "release",
        &[(
            "envs/prod/deployment.yaml",
            &PROD_DEPLOYMENT.replace("api:1.5.0", "api:1.6.0"),
        )],
        "prod: api 1.6.0",
    );
    let before = tips(&repo);
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url(repo.name());
    let home = home();

    let out = status(home.path(), &url, &["--output", "json"]);
    out.assert_code(0);
    assert_eq!(out.json(), main_report(), "{}", out.stderr);

    let out = status(
        home.path(),
        &url,
        &["--branch", "release", "--output", "markdown"],
    );
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "| Image | staging | prod | In sync |\n\
         |---|---|---|---|\n\
         | `bitnami/redis` | — | `7.2.4` | yes |\n\
         | `ghcr.io/acme/api` | `1.6.0` | `1.6.0` | yes |\n\
         | `ghcr.io/acme/web` | `2.1.0` | `2.0.0` | **no** |\n"
    );
    assert_eq!(tips(&repo), before, "no branch moved or created");
}

#[test]
fn over_smart_http_with_a_token_it_reads_and_never_shows_the_token() {
    let repo = config_repo();
    let before = tips(&repo);
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.args(["status", "--repo", &url, "--via", "git", "--output", "json"])
        .env("TAGBUMP_TOKEN", TOKEN);
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json(), main_report(), "{}", out.stderr);
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    assert_eq!(tips(&repo), before);

    // Without the token: the server's 401, as a git-auth error, nothing else.
    let out = status(home.path(), &url, &["--via", "git", "--output", "json"]);
    out.assert_code(1);
    assert_eq!(
        out.json()["error"]["kind"],
        json!("git-auth"),
        "{}",
        out.stderr
    );
    assert!(out.json().get("images").is_none());
}

#[test]
fn a_missing_environments_file_or_path_is_an_error_naming_it() {
    let repo = BareRepo::new_with(&[("README.md", "# nothing here\n")], "main");
    let daemon = GitDaemon::start(repo.root());
    let home = home();
    let out = status(home.path(), &daemon.url(repo.name()), &["--output", "json"]);
    out.assert_code(1);
    let error = &out.json()["error"];
    assert_eq!(error["kind"], json!("io"), "{}", out.stderr);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot read the status of the environments in git://")
            && message.contains(".tagbump.yaml"),
        "{message}"
    );

    let repo = BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/staging/values.yaml", STAGING_VALUES),
        ],
        "main",
    );
    let daemon = GitDaemon::start(repo.root());
    let out = status(home.path(), &daemon.url(repo.name()), &["--output", "json"]);
    out.assert_code(1);
    assert_eq!(
        out.json()["error"]["kind"],
        json!("file-not-found"),
        "{}",
        out.stderr
    );
}

#[test]
fn through_the_github_api_only_reads_are_sent() {
    let repo = config_repo();
    let before = tips(&repo);
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let mut cmd = via_github_api(home.path(), &github, ["status", "--output", "json"]);
    cmd.env("TAGBUMP_TOKEN", TOKEN);
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json(), main_report(), "{}", out.stderr);
    let lines = github.lines();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            line.starts_with("GET ") || line.starts_with("POST /graphql"),
            "a read only: {line}"
        );
    }
    for request in github.requests() {
        if request.method == "POST" {
            let query = request.body["query"].as_str().unwrap_or_default();
            assert!(!query.contains("mutation"), "{query}");
        }
    }
    assert_eq!(tips(&repo), before);
}

#[test]
fn through_the_gitlab_api_a_named_branch_is_read() {
    let repo = config_repo();
    git_server::git(repo.path(), &["branch", "release", "main"]);
    repo.commit_files(
        "release",
        &[(
            "envs/staging/values.yaml",
            &STAGING_VALUES.replace("2.1.0", "2.0.0"),
        )],
        "staging: web back to 2.0.0",
    );
    let before = tips(&repo);
    let gitlab = FakeGitLab::start(&repo);
    let home = home();
    let mut cmd = via_gitlab_api(
        home.path(),
        &gitlab,
        ["status", "--branch", "release", "--output", "json"],
    );
    cmd.env("TAGBUMP_TOKEN", fake_gitlab::TOKEN);
    let out = run(&mut cmd);
    out.assert_code(0);
    let report = out.json();
    assert_eq!(
        report["images"][2],
        json!({"image": "ghcr.io/acme/web", "environments": {
            "staging": {"tag": "2.0.0", "digest": null, "places": 1},
            "prod": {"tag": "2.0.0", "digest": null, "places": 1}
        }, "in_sync": true}),
        "{}",
        out.stderr
    );
    let methods: Vec<String> = gitlab.requests().into_iter().map(|r| r.method).collect();
    assert!(methods.iter().all(|m| m == "GET"), "{methods:?}");
    assert_eq!(tips(&repo), before);
}

/// Several `--repo` (or one URL per line, as a CI input passes a list): each read in
/// turn, its status under its URL as given; one that cannot be read is reported and the
/// others are still read (exit 5); none read: exit 1.
#[test]
fn several_repositories_are_each_read_in_turn_under_their_url() {
    let (one, two) = (config_repo(), config_repo());
    two.commit_files(
        "main",
        &[(
            "envs/prod/deployment.yaml",
            &PROD_DEPLOYMENT.replace("api:1.5.0", "api:1.6.0"),
        )],
        "prod: api 1.6.0",
    );
    let (d1, d2) = (GitDaemon::start(one.root()), GitDaemon::start(two.root()));
    let (u1, u2) = (d1.url(one.name()), d2.url(two.name()));
    let gone = tempfile::tempdir().expect("tempdir");
    let missing = format!("file://{}", gone.path().join("gone.git").display());
    let home = home();

    let mut cmd = tagbump(home.path());
    cmd.args(["status", "--output", "markdown"])
        .env("TAGBUMP_REPO", format!("{u1}\n  {u2}  \n\n"));
    let out = run(&mut cmd);
    out.assert_code(0);
    let table = |api_prod: &str, in_sync: &str| {
        format!(
            "| Image | staging | prod | In sync |\n\
             |---|---|---|---|\n\
             | `bitnami/redis` | — | `7.2.4` | yes |\n\
             | `ghcr.io/acme/api` | `1.6.0` | `{api_prod}` | {in_sync} |\n\
             | `ghcr.io/acme/web` | `2.1.0` | `2.0.0` | **no** |\n"
        )
    };
    assert_eq!(
        out.stdout,
        format!(
            "### {u1}\n\n{}\n### {u2}\n\n{}",
            table("1.5.0", "**no**"),
            table("1.6.0", "yes")
        ),
        "{}",
        out.stderr
    );

    let mut cmd = tagbump(home.path());
    cmd.args(["status", "--output", "json", "--repo", &u1])
        .args(["--repo", &missing]);
    let out = run(&mut cmd);
    out.assert_code(5);
    let report = out.json();
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 2);
    assert_eq!(
        targets[0],
        json!({"repo": u1, "status": main_report(), "error": null})
    );
    assert_eq!(targets[1]["repo"], json!(missing));
    assert_eq!(targets[1]["status"], Value::Null);
    assert_eq!(
        targets[1]["error"]["kind"],
        json!("git-not-found"),
        "{report}"
    );
    assert!(
        out.stderr.contains(&format!("error: [{missing}] ")),
        "{}",
        out.stderr
    );

    let mut cmd = tagbump(home.path());
    cmd.args(["status", "--repo", &missing, "--repo", &missing]);
    let out = run(&mut cmd);
    out.assert_code(1);
    assert_eq!(
        out.stdout, "",
        "text output: nothing for a repository not read"
    );
}
