//! End-to-end specification of the `tagbump` binary: the real executable runs as a
//! subprocess with a controlled environment against real git servers on 127.0.0.1
//! (smart HTTP with a token, `git daemon`, `file://`) and a fake GitHub / GitLab API.

mod support;

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

// ---------------------------------------------------------------- --repo over smart HTTP

#[test]
fn remote_bump_over_smart_http_commits_once_with_trailers_and_reports_it() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    let gh_output = home.path().join("github-output");
    let before = repo.tip("main").expect("seed commit");

    let bump = |extra: &[&str]| {
        run(tagbump(home.path())
            .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &url])
            .args([
                "--author-name",
                "Release Pipeline",
                "--author-email",
                "pipeline@ci.example",
                "--output",
                "json",
            ])
            .args(extra)
            .env("TAGBUMP_TOKEN", TOKEN)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_REPOSITORY", "acme/api")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_OUTPUT", &gh_output))
    };

    // First run: one commit with every reference bumped.
    let first = bump(&[]);
    first.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert_ne!(tip, before);
    assert_eq!(repo.commit_count("main"), 2, "exactly one new commit");
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", "main^"]).trim(),
        before,
        "the commit sits directly on the previous tip"
    );
    assert_demo_bumped(&repo, "main", "1.5.0");
    assert_eq!(
        commit_message(&repo, "main"),
        "chore(deploy): bump ghcr.io/acme/api to 1.5.0\n\n\
         Source-Commit: acme/api@0123456789abcdef0123456789abcdef01234567\n\
         Pipeline: https://github.com/acme/api/actions/runs/4242\n\n"
    );
    assert_eq!(
        repo.log("main", "%an <%ae> / %cn <%ce>")[0],
        "Release Pipeline <pipeline@ci.example> / Release Pipeline <pipeline@ci.example>",
        "author from --author-*, committer defaults to the author"
    );
    let changed_in_commit =
        git_server::git(repo.path(), &["show", "--name-only", "--format=", "main"]);
    assert_eq!(
        changed_in_commit.lines().collect::<Vec<_>>(),
        BUMPED_FILES,
        "the commit touches the four bumped files and nothing else"
    );

    let json = first.json();
    assert_eq!(json["changed"], true);
    assert_eq!(json["commit"].as_str(), Some(tip.as_str()));
    assert_eq!(json["branch"], "main");
    assert_eq!(json["repo"].as_str(), Some(url.as_str()));
    assert_eq!(string_list(&json["files"]), BUMPED_FILES);
    assert_eq!(
        json["changes"].as_array().map(Vec::len),
        Some(5),
        "five values reached (the deployment file holds two references)"
    );

    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "changed").as_deref(), Some("true"));
    assert_eq!(
        last_output(&outputs, "via").as_deref(),
        Some("git"),
        "landed with git"
    );
    assert_eq!(
        last_output(&outputs, "verified").as_deref(),
        Some(""),
        "git commits carry no forge verification"
    );
    assert_eq!(
        last_output(&outputs, "commit-sha").as_deref(),
        Some(tip.as_str())
    );
    assert_eq!(last_output(&outputs, "branch").as_deref(), Some("main"));

    // Second identical run: nothing to do, no commit, still success.
    let second = bump(&[]);
    second.assert_code(0);
    assert_eq!(second.json()["changed"], false);
    assert_eq!(repo.tip("main").as_deref(), Some(tip.as_str()));
    assert_eq!(repo.commit_count("main"), 2);
    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "changed").as_deref(), Some("false"));
    assert_eq!(last_output(&outputs, "commit-sha").as_deref(), Some(""));

    // …and exit code 3 when the caller wants to know.
    let third = bump(&["--fail-if-unchanged"]);
    third.assert_code(3);
    assert_eq!(third.json()["changed"], false);
    assert_eq!(repo.tip("main").as_deref(), Some(tip.as_str()));
}

#[test]
fn text_output_of_a_remote_bump_names_the_commit() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args(["--repo", &server.url(repo.name())])
        .env("GITHUB_TOKEN", TOKEN)
        // The fake stands for the run's GitHub host (see the token-scope tests).
        .env("GITHUB_SERVER_URL", origin(&server.url(""))));
    out.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert!(
        out.stdout
            .contains("apps/web/values.yaml:4  frontend.image.tag  2.0.1 → 2.1.0"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("committed {} to main", &tip[..12])),
        "{}",
        out.stdout
    );
    assert_eq!(
        commit_message(&repo, "main"),
        "chore(deploy): set frontend.image.tag=2.1.0 in apps/web/values.yaml\n\n",
        "no CI environment, no trailers"
    );
    assert_eq!(
        repo.log("main", "%an <%ae>")[0],
        "tagbump <tagbump@localhost>",
        "the default identity"
    );
}

// ---------------------------------------------------------------- secrets

#[test]
fn the_token_appears_nowhere_on_success_or_on_a_wrong_token() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();

    let ok = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &url])
        .env("TAGBUMP_TOKEN", TOKEN));
    ok.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert_eq!(repo.commit_count("main"), 2);

    let wrong = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.6.0", "--repo", &url])
        .env("TAGBUMP_TOKEN", WRONG_TOKEN));
    wrong.assert_code(1);
    let message = wrong.stderr.to_lowercase();
    assert!(
        message.contains("authentication"),
        "the error says what failed: {}",
        wrong.stderr
    );
    assert!(
        wrong.stderr.contains(&url),
        "the error names the URL: {}",
        wrong.stderr
    );
    assert!(
        !wrong.stderr.contains("@127.0.0.1"),
        "the URL is shown without credentials: {}",
        wrong.stderr
    );
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(tip.as_str()),
        "remote unchanged"
    );
    assert!(server.unauthorized() > 0, "the server refused the token");

    // Credentials written into the URL are accepted, and just as invisible.
    let in_url = url.replacen("http://", &format!("http://bot:{TOKEN}@"), 1);
    let embedded = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.2.0"])
        .args(["--repo", &in_url, "--output", "json"]));
    embedded.assert_code(0);
    assert_eq!(embedded.json()["repo"].as_str(), Some(url.as_str()));
    assert_eq!(repo.commit_count("main"), 3);

    let argv = git_server::spawned_git_argv();
    assert!(
        argv.contains("push"),
        "git was spawned through the recording wrapper: {argv}"
    );
    let history = git_server::git(repo.path(), &["log", "--all", "--format=%B%an%ae%cn%ce"]);
    let config = std::fs::read_to_string(repo.path().join("config")).unwrap_or_default();
    for (what, text) in [
        ("stdout of the successful run", ok.stdout.as_str()),
        ("stderr of the successful run", ok.stderr.as_str()),
        ("stdout of the wrong-token run", wrong.stdout.as_str()),
        ("stderr of the wrong-token run", wrong.stderr.as_str()),
        (
            "stdout of the URL-credentials run",
            embedded.stdout.as_str(),
        ),
        (
            "stderr of the URL-credentials run",
            embedded.stderr.as_str(),
        ),
        ("argv of spawned git processes", argv.as_str()),
        ("commit messages and identities", history.as_str()),
        ("the remote's config", config.as_str()),
    ] {
        assert!(
            !text.contains(SECRET_MARK),
            "a token leaked into {what}:\n{text}"
        );
    }
}

// ---------------------------------------------------------------- token scope

/// `http://127.0.0.1:PORT` of a URL on that server.
fn origin(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    format!("http://{}", rest.split('/').next().unwrap_or(rest))
}

/// GitHub Actions' `GITHUB_TOKEN` belongs to the run's GitHub host (GitHub docs,
/// "Variables reference": GITHUB_SERVER_URL, GITHUB_API_URL). The case: only
/// it set and `--repo` naming another host with `--forge gitlab`; the server used to
/// receive `oauth2:<the GitHub token>`. The server below requires exactly that token,
/// so a push that lands would prove the token was sent.
#[test]
fn github_token_is_not_sent_to_a_host_that_is_not_the_runs_github() {
    let repo = demo_bare_repo();
    let (server, url) = serve_as_acme_gitops(&repo);
    let tip = repo.tip("main");
    let home = home();

    let out = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args(["--repo", &url, "--forge", "gitlab"])
        .env("GITHUB_TOKEN", TOKEN));

    assert_ne!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert_eq!(
        repo.tip("main"),
        tip,
        "nothing landed: the token was not sent"
    );
    assert!(
        server.unauthorized() > 0,
        "the server saw only requests without its token"
    );
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("");
    assert!(
        out.stderr.contains(
            "tagbump: not using GITHUB_TOKEN: it belongs to github.com, api.github.com (the GitHub host of this run:"
        ),
        "names the skipped variable: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("not {host}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--token-env GITHUB_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET_MARK) && !out.stdout.contains(SECRET_MARK));

    // Named explicitly, the same variable goes there.
    let explicit = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args([
            "--repo",
            &url,
            "--forge",
            "gitlab",
            "--token-env",
            "GITHUB_TOKEN",
        ])
        .env("GITHUB_TOKEN", TOKEN));
    explicit.assert_code(0);
    assert!(
        explicit.stderr.contains(&format!(
            "tagbump: using the token from GITHUB_TOKEN (--token-env) for {host}"
        )),
        "{}",
        explicit.stderr
    );
    assert_ne!(repo.tip("main"), tip);
}

/// GitLab's predefined CI variables ("Predefined CI/CD variables reference":
/// CI_JOB_TOKEN, CI_SERVER_HOST): the job token belongs to the instance that runs the job.
#[test]
fn ci_job_token_goes_only_to_the_ci_server_host() {
    let repo = demo_bare_repo();
    let (_server, url) = serve_as_acme_gitops(&repo);
    let tip = repo.tip("main");
    let home = home();
    let bump = |ci_server_host: &str| {
        run(tagbump(home.path())
            .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
            .args([
                "--repo",
                &url,
                "--forge",
                "gitlab",
                "--username",
                "gitlab-ci-token",
            ])
            .env("CI_JOB_TOKEN", TOKEN)
            .env("CI_SERVER_HOST", ci_server_host))
    };

    let elsewhere = bump("gitlab.example.com");
    assert_ne!(elsewhere.code, Some(0));
    assert!(
        elsewhere.stderr.contains("not using CI_JOB_TOKEN"),
        "{}",
        elsewhere.stderr
    );
    assert_eq!(repo.tip("main"), tip);

    let here = bump("127.0.0.1");
    here.assert_code(0);
    assert!(
        here.stderr
            .contains("using the token from CI_JOB_TOKEN for 127.0.0.1:"),
        "{}",
        here.stderr
    );
    assert_ne!(repo.tip("main"), tip);
    for text in [
        &elsewhere.stderr,
        &elsewhere.stdout,
        &here.stderr,
        &here.stdout,
    ] {
        assert!(!text.contains(SECRET_MARK), "{text}");
    }
}

/// --pr: the API token is scoped the same way. The git server here is public (the push
/// needs no token); the fake GitLab API must then receive nothing at all.
#[test]
fn pr_does_not_send_a_foreign_token_to_the_forge_api() {
    let repo = demo_bare_repo();
    repo.also_as("acme/gitops.git");
    let server = SmartHttpServer::start_anonymous(repo.root());
    let url = server.url("acme/gitops.git");
    let forge = ForgeServer::gitlab();
    let home = home();

    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &url])
        .args(["--pr", "--forge", "gitlab", "--api-url", &forge.api_base()])
        .env("GITHUB_TOKEN", TOKEN));

    assert_ne!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert!(
        forge.requests().is_empty(),
        "the API got no request, so no token"
    );
    assert!(
        out.stderr
            .contains(&format!("--pr needs an API token for {}", forge.api_base())),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not using GITHUB_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET_MARK) && !out.stdout.contains(SECRET_MARK));
}

/// A token inside the URL's path or query never shows in tagbump's messages.
#[test]
fn a_token_in_the_repo_url_path_or_query_is_redacted() {
    // Its own token: this one is handed to git inside the URL (the user's choice), so
    // it must not be the one other tests look for in the argv of every spawned git.
    const PATH_TOKEN: &str = "pathtok-HIDDEN-91c2";
    let port = git_server::free_port();
    let url = format!(
        "http://127.0.0.1:{port}/{PATH_TOKEN}/config.git?private_token=pathtok-HIDDEN-query-77"
    );
    let home = home();
    for output in ["text", "json"] {
        let out = run(tagbump(home.path())
            .args([
                "image",
                "ghcr.io/acme/api:1.5.0",
                "--repo",
                &url,
                "--output",
                output,
            ])
            .env("GITHUB_TOKEN", PATH_TOKEN));
        out.assert_code(1);
        assert!(
            out.stderr
                .contains(&format!("127.0.0.1:{port}/***/config.git")),
            "the URL is still recognisable: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("pathtok-HIDDEN") && !out.stdout.contains("pathtok-HIDDEN"),
            "stdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }
}

// ---------------------------------------------------------------- concurrency

/// Fifty pipelines bump fifty different apps on one branch at the same moment, with
/// tagbump's default settings: every bump lands, one commit each, linear history.
fn fifty_concurrent_processes_land(transport: &str) {
    const APPS: usize = 50;
    let seeded: Vec<(String, String)> = (0..APPS)
        .map(|n| {
            (
                format!("apps/app{n}/values.yaml"),
                format!("image:\n  repository: ghcr.io/acme/app{n}\n  tag: v0\n"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = seeded
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let repo = BareRepo::new_with(&pairs, "main");
    let (_http, _daemon, url) = match transport {
        "http" => {
            let server = SmartHttpServer::start(repo.root(), TOKEN);
            let url = server.url(repo.name());
            (Some(server), None, url)
        }
        "daemon" => {
            let daemon = GitDaemon::start(repo.root());
            let url = daemon.url(repo.name());
            (None, Some(daemon), url)
        }
        _ => (None, None, repo.file_url()),
    };
    let home = home();

    let children: Vec<_> = (0..APPS)
        .map(|n| {
            tagbump(home.path())
                .args([
                    "image",
                    &format!("ghcr.io/acme/app{n}:v{}", n + 1),
                    &format!("apps/app{n}"),
                    "--repo",
                    &url,
                ])
                .env("TAGBUMP_TOKEN", TOKEN)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tagbump")
        })
        .collect();
    for (n, child) in children.into_iter().enumerate() {
        let out = finished(child.wait_with_output().expect("wait for tagbump"));
        assert_eq!(
            out.code,
            Some(0),
            "{transport}: process {n} failed\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }

    assert_eq!(
        repo.commit_count("main"),
        APPS + 1,
        "{transport}: one commit per process"
    );
    assert!(repo.is_linear("main"), "{transport}: no merge commits");
    for n in 0..APPS {
        assert_eq!(
            repo.read_file("main", &format!("apps/app{n}/values.yaml"))
                .as_deref(),
            Some(&*format!(
                "image:\n  repository: ghcr.io/acme/app{n}\n  tag: v{}\n",
                n + 1
            )),
            "{transport}: app{n} holds its own tag"
        );
    }
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_smart_http() {
    fifty_concurrent_processes_land("http");
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_git_daemon() {
    fifty_concurrent_processes_land("daemon");
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_file_urls() {
    fifty_concurrent_processes_land("file");
}

// ---------------------------------------------------------------- --pr

/// `tagbump image ghcr.io/acme/api:TAG --repo URL --pr` onto the reused bot branch
/// `tagbump/{image_slug}`, labelled `deploy`, reviewer `alice`, as a draft, the pull
/// request through the fake `forge` API at `api_url`; JSON report, `GITHUB_OUTPUT` to
/// `gh_output`.
fn open_pr(home: &Path, gh_output: &Path, url: &str, forge: &str, api_url: &str, tag: &str) -> Run {
    run(tagbump(home)
        .args(["image", &format!("ghcr.io/acme/api:{tag}"), "--repo", url])
        .args(["--pr", "--pr-branch", "tagbump/{image_slug}"])
        .args(["--forge", forge, "--api-url", api_url])
        .args(["--label", "deploy", "--reviewer", "alice", "--draft"])
        .args(["--output", "json"])
        .env("TAGBUMP_TOKEN", TOKEN)
        .env("GITHUB_OUTPUT", gh_output))
}

#[test]
fn pr_on_github_pushes_a_bot_branch_opens_a_draft_pr_and_updates_it_on_rerun() {
    let repo = demo_bare_repo();
    let (_server, url) = serve_as_acme_gitops(&repo);
    let forge = ForgeServer::github();
    let home = home();
    let gh_output = home.path().join("github-output");
    let base_tip = repo.tip("main").expect("tip");

    let open = |tag: &str| open_pr(home.path(), &gh_output, &url, "github", forge.url(), tag);

    let first = open("1.5.0");
    first.assert_code(0);
    let json = first.json();
    let branch = json["branch"].as_str().expect("branch").to_string();
    assert!(branch.starts_with("tagbump/"), "bot branch {branch}");
    assert_eq!(json["base_branch"], "main");
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(base_tip.as_str()),
        "the base branch is untouched"
    );
    assert_eq!(
        repo.tip(&branch),
        json["commit"].as_str().map(str::to_string)
    );
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", &format!("{branch}^")]).trim(),
        base_tip,
        "the bot branch is the base tip plus one commit"
    );
    assert_demo_bumped(&repo, &branch, "1.5.0");

    let creates: Vec<_> = forge
        .requests_to("POST", "/repos/acme/gitops/pulls")
        .into_iter()
        .filter(|r| r.path == "/repos/acme/gitops/pulls")
        .collect();
    assert_eq!(creates.len(), 1, "one pull request created");
    let create = &creates[0];
    assert_eq!(create.body["head"], branch.as_str());
    assert_eq!(create.body["base"], "main");
    assert_eq!(
        create.body["title"],
        "chore(deploy): bump ghcr.io/acme/api to 1.5.0"
    );
    assert_eq!(create.body["draft"], true);
    let body = create.body["body"].as_str().unwrap_or_default();
    for file in BUMPED_FILES {
        assert!(body.contains(file), "the body lists {file}:\n{body}");
    }
    assert!(body.contains("1.5.0"), "{body}");
    assert!(
        create.header("authorization").unwrap_or("").contains(TOKEN),
        "the API call carries the token"
    );
    let labels = forge.requests_to("POST", "/repos/acme/gitops/issues/1/labels");
    assert_eq!(labels.len(), 1);
    assert_eq!(string_list(&labels[0].body["labels"]), ["deploy"]);
    let reviewers = forge.requests_to("POST", "/repos/acme/gitops/pulls/1/requested_reviewers");
    assert_eq!(reviewers.len(), 1);
    assert_eq!(string_list(&reviewers[0].body["reviewers"]), ["alice"]);

    let pr = forge.change(1).expect("the fake holds PR #1");
    assert!(pr.draft);
    assert_eq!(pr.head, branch);
    assert_eq!(pr.labels, ["deploy"]);
    assert_eq!(pr.reviewers, ["alice"]);
    assert_eq!(json["pull_request"]["number"], 1);
    let pr_url = json["pull_request"]["url"].as_str().expect("PR url");
    assert!(pr_url.ends_with("/acme/gitops/pull/1"), "{pr_url}");
    assert_eq!(json["pull_request"]["created"], true);
    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "pr-number").as_deref(), Some("1"));
    assert_eq!(last_output(&outputs, "pr-url").as_deref(), Some(pr_url));
    assert_eq!(
        last_output(&outputs, "branch").as_deref(),
        Some(branch.as_str())
    );

    // A newer tag: the same branch is rewritten and the same PR updated.
    forge.clear_requests();
    let second = open("1.6.0");
    second.assert_code(0);
    let json = second.json();
    assert_eq!(json["branch"].as_str(), Some(branch.as_str()));
    assert_eq!(json["pull_request"]["number"], 1);
    assert_eq!(json["pull_request"]["created"], false);
    assert_demo_bumped(&repo, &branch, "1.6.0");
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(base_tip.as_str()),
        "the base branch is still untouched"
    );
    assert!(
        forge
            .requests_to("POST", "/repos/acme/gitops/pulls")
            .iter()
            .all(|r| r.path != "/repos/acme/gitops/pulls"),
        "no second pull request"
    );
    let patches = forge.requests_to("PATCH", "/repos/acme/gitops/pulls/1");
    assert_eq!(patches.len(), 1, "the PR is updated");
    assert_eq!(
        patches[0].body["title"],
        "chore(deploy): bump ghcr.io/acme/api to 1.6.0"
    );
    assert_eq!(forge.changes().len(), 1);
    assert_eq!(
        forge.change(1).map(|c| c.title),
        Some("chore(deploy): bump ghcr.io/acme/api to 1.6.0".to_string())
    );
    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "pr-number").as_deref(), Some("1"));
}

/// The bot branch was pushed, but the forge refused to open the pull request: exit 4
/// (not 1, which promises that nothing was pushed), and the pushed branch and commit are
/// reported in JSON, in text and in the step outputs.
#[test]
fn pr_that_pushed_the_branch_but_could_not_open_the_pr_exits_4_and_reports_the_branch() {
    let repo = demo_bare_repo();
    let (_server, url) = serve_as_acme_gitops(&repo);
    let forge = ForgeServer::github();
    let home = home();
    let gh_output = home.path().join("github-output");
    let refuse_the_pr = || {
        forge.inject(
            "POST",
            "/repos/acme/gitops/pulls",
            FakeResponse::message(
                403,
                "GitHub Actions is not permitted to create or approve pull requests.",
            ),
        )
    };
    let open = |tag: &str, output: &str| {
        run(tagbump(home.path())
            .args(["image", &format!("ghcr.io/acme/api:{tag}"), "--repo", &url])
            .args(["--pr", "--pr-branch", "tagbump/{image_slug}"])
            .args(["--forge", "github", "--api-url", forge.url()])
            .args(["--output", output])
            .env("TAGBUMP_TOKEN", TOKEN)
            .env("GITHUB_OUTPUT", &gh_output))
    };

    refuse_the_pr();
    let out = open("1.5.0", "json");
    out.assert_code(4);
    let json = out.json();
    let branch = json["branch"]
        .as_str()
        .expect("the pushed branch")
        .to_string();
    assert!(branch.starts_with("tagbump/"), "{branch}");
    let commit = json["commit"]
        .as_str()
        .expect("the pushed commit")
        .to_string();
    assert_eq!(
        repo.tip(&branch).as_deref(),
        Some(commit.as_str()),
        "pushed"
    );
    assert_demo_bumped(&repo, &branch, "1.5.0");
    assert_eq!(json["pushed"], true);
    assert_eq!(json["changed"], true);
    assert_eq!(json["pull_request"], Value::Null);
    assert_eq!(json["error"]["kind"], "forge-auth");
    let message = json["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("pushed {} to branch {branch}", &commit[..12]))
            && message.contains("not permitted to create or approve pull requests"),
        "{message}"
    );
    assert!(
        out.stderr.contains(&format!("error: {message}")),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains(SECRET_MARK) && !out.stderr.contains(SECRET_MARK));
    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "pushed").as_deref(), Some("true"));
    assert_eq!(last_output(&outputs, "branch"), Some(branch.clone()));
    assert_eq!(last_output(&outputs, "commit-sha"), Some(commit.clone()));
    assert_eq!(last_output(&outputs, "changed").as_deref(), Some("true"));
    assert_eq!(last_output(&outputs, "pr-number").as_deref(), Some(""));
    assert!(forge.changes().is_empty(), "no pull request exists");

    // The same in text: what was pushed on stdout, the error on stderr.
    refuse_the_pr();
    let out = open("1.6.0", "text");
    out.assert_code(4);
    let tip = repo.tip(&branch).expect("the branch");
    assert!(
        out.stdout
            .contains(&format!("committed {} to {branch}", &tip[..12])),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!(
            "error: pushed {} to branch {branch}, but cannot open the pull request",
            &tip[..12]
        )),
        "{}",
        out.stderr
    );
    assert_eq!(forge.pending_injections(), 0);

    // Once the forge accepts, a rerun opens the pull request for the pushed branch.
    open("1.6.0", "json").assert_code(0);
    assert_eq!(forge.changes().len(), 1);
}

/// Nothing is pushed when the pull request could not be opened anyway: a missing API
/// token is found before the push.
#[test]
fn pr_without_an_api_token_fails_before_pushing() {
    let repo = demo_bare_repo();
    let forge = ForgeServer::github();
    let home = home();
    let out = run(tagbump(home.path())
        .args([
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--repo",
            &repo.file_url(),
        ])
        .args(["--pr", "--forge", "github", "--api-url", forge.url()])
        .args(["--output", "json"]));
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "invalid-input");
    assert_eq!(json["pushed"], false);
    assert_eq!(repo.branches(), ["main"], "no bot branch");
}

/// `--output json` prints one JSON object on error too: the error's message and kind,
/// the planned changes, and that nothing was pushed.
#[test]
fn json_output_of_a_rejected_push_has_the_error_and_the_planned_changes() {
    let repo = demo_bare_repo();
    repo.reject_pushes_with("deploys are frozen");
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args(["--repo", &repo.file_url(), "--output", "json"]));
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "rejected");
    let message = json["error"]["message"].as_str().expect("message");
    assert!(message.contains("deploys are frozen"), "{message}");
    assert!(
        out.stderr.contains(&format!("error: {message}")),
        "{}",
        out.stderr
    );
    assert_eq!(json["changed"], false, "nothing was changed");
    assert_eq!(json["pushed"], false);
    assert_eq!(json["commit"], Value::Null);
    assert_eq!(json["files"], serde_json::json!([]));
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "the planned change: {changes:?}");
    assert_eq!(changes[0]["path"], "frontend.image.tag");
    assert_eq!(changes[0]["old"], "2.0.1");
    assert_eq!(changes[0]["new"], "2.1.0");
    assert_eq!(repo.commit_count("main"), 1);
}

#[test]
fn pr_on_gitlab_opens_a_merge_request_and_updates_it_on_rerun() {
    let repo = demo_bare_repo();
    let (_server, url) = serve_as_acme_gitops(&repo);
    let forge = ForgeServer::gitlab();
    forge.add_user("alice", 42);
    let home = home();
    let gh_output = home.path().join("github-output");
    let base_tip = repo.tip("main").expect("tip");

    let open = |tag: &str| {
        open_pr(
            home.path(),
            &gh_output,
            &url,
            "gitlab",
            &forge.api_base(),
            tag,
        )
    };

    let first = open("1.5.0");
    first.assert_code(0);
    let json = first.json();
    let branch = json["branch"].as_str().expect("branch").to_string();
    assert!(branch.starts_with("tagbump/"), "bot branch {branch}");
    assert_eq!(repo.tip("main").as_deref(), Some(base_tip.as_str()));
    assert_demo_bumped(&repo, &branch, "1.5.0");

    let creates: Vec<_> = forge
        .requests_to("POST", "/merge_requests")
        .into_iter()
        .filter(|r| r.path.ends_with("/merge_requests"))
        .collect();
    assert_eq!(creates.len(), 1, "one merge request created");
    let create = &creates[0];
    assert!(
        create.path.contains("acme%2Fgitops"),
        "the project is acme/gitops: {}",
        create.path
    );
    assert!(
        create.headers.iter().any(|(_, v)| v.contains(TOKEN)),
        "the API call carries the token"
    );
    let mr = forge.change(1).expect("the fake holds MR !1");
    assert_eq!(mr.head, branch);
    assert_eq!(mr.base, "main");
    assert!(mr.title.starts_with("Draft:"), "a draft: {}", mr.title);
    assert!(mr.title.contains("bump ghcr.io/acme/api to 1.5.0"));
    for file in BUMPED_FILES {
        assert!(mr.body.contains(file), "the description lists {file}");
    }
    assert_eq!(mr.labels, ["deploy"]);
    assert_eq!(mr.reviewers, ["42"], "alice's user id");
    assert_eq!(json["pull_request"]["number"], 1);
    let mr_url = json["pull_request"]["url"].as_str().expect("MR url");
    assert!(
        mr_url.ends_with("/acme/gitops/-/merge_requests/1"),
        "{mr_url}"
    );
    let outputs = github_outputs(&gh_output);
    assert_eq!(last_output(&outputs, "pr-number").as_deref(), Some("1"));
    assert_eq!(last_output(&outputs, "pr-url").as_deref(), Some(mr_url));

    forge.clear_requests();
    let second = open("1.6.0");
    second.assert_code(0);
    assert_eq!(second.json()["pull_request"]["number"], 1);
    assert_demo_bumped(&repo, &branch, "1.6.0");
    assert!(
        forge
            .requests_to("POST", "/merge_requests")
            .iter()
            .all(|r| !r.path.ends_with("/merge_requests")),
        "no second merge request"
    );
    assert_eq!(forge.requests_to("PUT", "/merge_requests/1").len(), 1);
    assert_eq!(forge.changes().len(), 1);
    assert!(forge
        .change(1)
        .is_some_and(|c| c.title.contains("to 1.6.0")));
    assert_eq!(repo.tip("main").as_deref(), Some(base_tip.as_str()));
}

// ---------------------------------------------------------------- policy and faults

#[test]
fn no_downgrade_refuses_an_older_tag_and_leaves_the_remote_alone() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &url])
        .env("TAGBUMP_TOKEN", TOKEN))
    .assert_code(0);
    let tip = repo.tip("main").expect("tip");

    let refused = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.4.9", "--repo", &url])
        .arg("--no-downgrade")
        .env("TAGBUMP_TOKEN", TOKEN));
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("refusing to move 1.5.0 back to 1.4.9"),
        "{}",
        refused.stderr
    );
    assert_eq!(repo.tip("main").as_deref(), Some(tip.as_str()));
    assert_demo_bumped(&repo, "main", "1.5.0");

    // Without the flag the same request is applied: the refusal was the policy's.
    run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.4.9", "--repo", &url])
        .env("TAGBUMP_TOKEN", TOKEN))
    .assert_code(0);
    assert_demo_bumped(&repo, "main", "1.4.9");
}

#[test]
fn an_unusable_temp_dir_is_a_clear_error_and_changes_nothing() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let home = home();
    let tip = repo.tip("main");
    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0"])
        .args(["--repo", &server.url(repo.name())])
        .env("TAGBUMP_TOKEN", TOKEN)
        .env("TMPDIR", "/nonexistent"));
    out.assert_code(1);
    assert!(
        out.stderr.contains("temporary directory") && out.stderr.contains("/nonexistent"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.starts_with("error: ") || out.stderr.contains("\nerror: "));
    assert_eq!(repo.tip("main"), tip);
}

#[test]
fn an_unreachable_repository_is_a_clear_error() {
    let port = git_server::free_port();
    let url = format!("http://127.0.0.1:{port}/config.git");
    let home = home();
    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &url])
        .env("TAGBUMP_TOKEN", TOKEN));
    out.assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("cannot reach the git repository {url}")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET_MARK));
}

#[test]
fn a_missing_key_in_the_remote_repo_names_the_file_relative_to_the_repo() {
    let repo = demo_bare_repo();
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", "apps/api/values.yaml", "image.digest=sha256:0"])
        .args(["--repo", &repo.file_url()]));
    out.assert_code(1);
    assert!(
        out.stderr.contains(
            "apps/api/values.yaml: key path image.digest not found: the deepest existing prefix is image (line 5)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("tagbump-clone"),
        "no path of the temporary clone: {}",
        out.stderr
    );
    assert_eq!(
        out.stderr
            .matches("key path image.digest not found")
            .count(),
        1,
        "the cause is said once: {}",
        out.stderr
    );
    assert_eq!(repo.commit_count("main"), 1);
}

// ---------------------------------------------------------------- local mode

#[test]
fn local_mode_edits_files_in_the_given_directory() {
    let (_guard, dir) = demo_copy();
    let home = home();
    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "-C"])
        .arg(&dir));
    out.assert_code(0);
    assert!(out.stdout.contains("updated 4 file(s)"), "{}", out.stdout);
    for (file, want) in demo_after_bump("1.5.0") {
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).expect("read"),
            want,
            "{file}"
        );
    }

    let set = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "backend.tag=1.5.0", "-C"])
        .arg(&dir));
    set.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(dir.join("apps/web/values.yaml")).expect("read"),
        demo_files()["apps/web/values.yaml"].replace("tag: \"1.4.2\"", "tag: \"1.5.0\"")
    );
}

#[test]
fn dry_run_prints_a_diff_and_touches_no_file() {
    let (_guard, dir) = demo_copy();
    let home = home();
    let files: Vec<PathBuf> = demo_files().keys().map(|k| dir.join(k)).collect();
    let stamp = |p: &PathBuf| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let before: Vec<_> = files.iter().map(stamp).collect();

    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--dry-run", "-C"])
        .arg(&dir));
    out.assert_code(0);
    assert!(out
        .stdout
        .contains("--- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml"));
    assert!(out
        .stdout
        .contains("-  tag: \"1.4.2\"                # tagbump writes here\n+  tag: \"1.5.0\"                # tagbump writes here"));
    assert!(out
        .stdout
        .contains("dry run: changes shown above were not written"));

    let after: Vec<_> = files.iter().map(stamp).collect();
    assert_eq!(before, after, "no file was rewritten");
    for (rel, content) in demo_files() {
        assert_eq!(
            std::fs::read_to_string(dir.join(&rel)).expect("read"),
            content
        );
    }
}

#[test]
fn push_in_a_local_clone_commits_and_pushes_to_the_upstream() {
    let repo = demo_bare_repo();
    let work = tempfile::tempdir().expect("tempdir");
    git_server::git(
        work.path(),
        &["clone", "--quiet", &repo.file_url(), "checkout"],
    );
    let checkout = work.path().join("checkout");
    let before = repo.tip("main").expect("tip");
    let home = home();

    let out = run(tagbump(home.path())
        .args([
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--push",
            "--output",
            "json",
        ])
        .args(["--author-name", "Release Pipeline"])
        .args(["--author-email", "pipeline@ci.example"])
        .arg("-C")
        .arg(&checkout));
    out.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert_ne!(tip, before);
    assert_eq!(out.json()["commit"].as_str(), Some(tip.as_str()));
    assert_eq!(repo.commit_count("main"), 2);
    assert_demo_bumped(&repo, "main", "1.5.0");
    assert_eq!(
        repo.log("main", "%an <%ae>")[0],
        "Release Pipeline <pipeline@ci.example>"
    );
    assert_eq!(
        git_server::git(&checkout, &["rev-parse", "HEAD"]).trim(),
        tip,
        "the checkout is on the pushed commit"
    );
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]),
        "",
        "and clean"
    );
}
