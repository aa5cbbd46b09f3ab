//! `tagbump --repo … --via api` end to end: the real binary against the fake GitHub and
//! GitLab of `tests/support` (each backed by a real bare repository, with real
//! compare-and-swap), checked with git on that repository. No clone is made.

use crate::support;

use std::process::Stdio;

use support::cli::{finished, home, run, tagbump};
use support::fake_github::FakeGitHub;
use support::fake_gitlab::{FakeGitLab, TOKEN as GITLAB_TOKEN};
use support::forge_cli::{bump_web, via_github_api, via_gitlab_api};
use support::git_server::{self, BareRepo};

const GITHUB_TOKEN: &str = "ghs_CLI-SECRET-5151";
const WEB: &str = "apps/web/values.yaml";
const API: &str = "apps/api/values.yaml";

fn seed() -> BareRepo {
    BareRepo::new_with(
        &[
            (
                WEB,
                "image:\n  repository: ghcr.io/acme/web  # the UI\n  tag: \"2.0.0\"\n",
            ),
            (API, "image:\n  tag: v1\n"),
            ("README.md", "# config\n"),
        ],
        "main",
    )
}

#[test]
fn set_through_the_github_api_lands_one_verified_commit_without_a_clone() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let before = repo.tip("main");
    let home = home();
    let gh_output = home.path().join("github_output");
    let out = run(via_github_api(
        home.path(),
        &github,
        ["set", WEB, "image.tag=2.1.0", "--output", "json"],
    )
    .env("TAGBUMP_TOKEN", GITHUB_TOKEN)
    .env("GITHUB_OUTPUT", &gh_output));
    out.assert_code(0);
    let written = std::fs::read_to_string(&gh_output).expect("GITHUB_OUTPUT written");
    for line in ["via=api", "verified=true", "changed=true", "pushed=true"] {
        assert!(
            written.lines().any(|l| l == line),
            "{line} in $GITHUB_OUTPUT:\n{written}"
        );
    }
    let report = out.json();
    assert_eq!(report["via"], "api");
    assert_eq!(report["verified"], true);
    assert_eq!(report["commit"].as_str(), repo.tip("main").as_deref());
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web  # the UI\n  tag: \"2.1.0\"\n")
    );
    assert_eq!(repo.commit_count("main"), 2, "one commit");
    let parent = git_server::git(repo.path(), &["rev-parse", "main^"]);
    assert_eq!(
        Some(parent.trim().to_string()),
        before,
        "on the tip it read"
    );
    assert_eq!(repo.changed_in_tip("main"), vec![WEB.to_string()]);
    assert!(
        !git_server::spawned_git_argv().contains("clone"),
        "no clone in API mode"
    );
    assert!(
        out.stderr.contains("through the forge API"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains(GITHUB_TOKEN) && !out.stderr.contains(GITHUB_TOKEN));
    let reads: Vec<String> = github
        .requests()
        .iter()
        .map(|r| r.url.clone())
        .filter(|p| p.contains("/contents/") || p.contains("/blobs/"))
        .collect();
    assert!(
        reads.iter().all(|p| p.contains("web")),
        "only the edited file was read: {reads:?}"
    );
    let queried: Vec<String> = github
        .requests()
        .iter()
        .filter_map(|r| {
            r.body
                .get("query")
                .and_then(|q| q.as_str())
                .map(str::to_string)
        })
        .filter(|q| q.contains("object(expression"))
        .collect();
    assert_eq!(queried.len(), 1, "one read query: {queried:?}");
    assert_eq!(queried[0].matches("object(expression").count(), 1);
    assert!(queried[0].contains(&format!(":{WEB}\"")), "{queried:?}");
}

#[test]
fn set_through_the_gitlab_api_lands_one_commit() {
    let repo = seed();
    let gitlab = FakeGitLab::start(&repo);
    let home = home();
    let out =
        run(via_gitlab_api(home.path(), &gitlab, bump_web("2.2.0"))
            .env("TAGBUMP_TOKEN", GITLAB_TOKEN));
    out.assert_code(0);
    assert_eq!(out.json()["via"], "api");
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web  # the UI\n  tag: \"2.2.0\"\n")
    );
    assert_eq!(repo.commit_count("main"), 2);
    assert!(repo.is_linear("main"));
}

#[test]
fn nothing_to_change_through_the_api_is_success_without_a_commit() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let out = run(via_github_api(
        home.path(),
        &github,
        ["set", API, "image.tag=v1", "--output", "json"],
    )
    .env("TAGBUMP_TOKEN", GITHUB_TOKEN));
    out.assert_code(0);
    assert_eq!(out.json()["changed"], false);
    assert_eq!(repo.commit_count("main"), 1);
}

#[test]
fn a_wrong_token_through_the_api_is_a_clear_error_and_changes_nothing() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let out = run(via_github_api(
        home.path(),
        &github,
        ["set", WEB, "image.tag=9.9.9", "--output", "json"],
    )
    .env("TAGBUMP_TOKEN", "ghs_WRONG-SECRET-0000"));
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "forge-auth");
    assert!(!out.stderr.contains("WRONG-SECRET") && !out.stdout.contains("WRONG-SECRET"));
    assert_eq!(repo.commit_count("main"), 1);
}

#[test]
fn via_api_over_ssh_is_refused_with_the_reason() {
    let home = home();
    let out = run(tagbump(home.path())
        .args([
            "set",
            WEB,
            "image.tag=1",
            "--repo",
            "git@github.com:acme/gitops.git",
        ])
        .args(["--via", "api"])
        .env("TAGBUMP_TOKEN", GITHUB_TOKEN));
    out.assert_code(2);
    assert!(out.stderr.contains("not an https:// URL"), "{}", out.stderr);
}

/// Twenty pipelines bump twenty apps at once through the GitHub API, with defaults.
#[test]
fn twenty_concurrent_api_runs_with_defaults_all_land_in_a_linear_history() {
    const APPS: usize = 20;
    let files: Vec<(String, String)> = (0..APPS)
        .map(|n| {
            (
                format!("apps/app{n}/values.yaml"),
                "image:\n  tag: v0\n".to_string(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let repo = BareRepo::new_with(&pairs, "main");
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let children: Vec<_> = (0..APPS)
        .map(|n| {
            let set = [
                "set".to_string(),
                format!("apps/app{n}/values.yaml"),
                format!("image.tag=v{}", n + 1),
            ];
            via_github_api(home.path(), &github, set)
                .env("TAGBUMP_TOKEN", GITHUB_TOKEN)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("tagbump starts")
        })
        .collect();
    for (n, child) in children.into_iter().enumerate() {
        let out = finished(child.wait_with_output().expect("tagbump finishes"));
        assert_eq!(out.code, Some(0), "run {n} failed:\n{}", out.stderr);
    }
    assert_eq!(repo.commit_count("main"), APPS + 1, "one commit each");
    assert!(repo.is_linear("main"));
    for n in 0..APPS {
        assert_eq!(
            repo.read_file("main", &format!("apps/app{n}/values.yaml")),
            Some(format!("image:\n  tag: v{}\n", n + 1))
        );
    }
}

// ---------------------------------------------------------------- --pr through the API

/// `apps/web/values.yaml` of [`seed`] with `tag`.
fn web_at(tag: &str) -> String {
    format!("image:\n  repository: ghcr.io/acme/web  # the UI\n  tag: \"{tag}\"\n")
}

/// `tagbump image ghcr.io/acme/web:TAG apps --pr --via api` against `github`, with any
/// `extra` flags; JSON output.
fn pr_through_the_api(
    github: &FakeGitHub,
    home: &std::path::Path,
    tag: &str,
    extra: &[&str],
) -> support::cli::Run {
    run(via_github_api(home, github, bump_web(tag))
        .arg("--pr")
        .args(extra)
        .env("TAGBUMP_TOKEN", GITHUB_TOKEN))
}

/// `--pr-branch` with a branch name without the tag: every bump reuses one bot branch.
const REUSED_BRANCH: [&str; 2] = ["--pr-branch", "tagbump/{image_slug}"];

/// A first `--pr` run (2.1.0) on the [`REUSED_BRANCH`]: that bot branch's name.
fn open_pr_on_the_reused_branch(github: &FakeGitHub, home: &std::path::Path) -> String {
    let opened = pr_through_the_api(github, home, "2.1.0", &REUSED_BRANCH);
    opened.assert_code(0);
    opened.json()["branch"]
        .as_str()
        .expect("branch")
        .to_string()
}

/// The commits `branch` has that `main` does not, newest first.
fn ahead_of_main(repo: &BareRepo, branch: &str) -> Vec<String> {
    git_server::git(repo.path(), &["rev-list", &format!("main..{branch}")])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn pr_through_the_github_api_commits_on_a_bot_branch_and_opens_the_pr_on_one_server() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let main_before = repo.tip("main").expect("main");
    let home = home();

    let out = pr_through_the_api(&github, home.path(), "2.1.0", &[]);

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["via"], "api");
    assert_eq!(report["pushed"], true);
    assert_eq!(report["base_branch"], "main");
    let branch = report["branch"].as_str().expect("branch").to_string();
    assert!(branch.starts_with("tagbump/"), "default template: {branch}");
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(main_before.as_str()),
        "main untouched"
    );
    let ours = ahead_of_main(&repo, &branch);
    assert_eq!(ours.len(), 1, "exactly one commit on top of main");
    assert_eq!(report["commit"].as_str(), Some(ours[0].as_str()));
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", &format!("{branch}^")]).trim(),
        main_before,
        "on main's tip"
    );
    assert_eq!(repo.read_file(&branch, WEB), Some(web_at("2.1.0")));
    assert_eq!(repo.changed_in_tip(&branch), vec![WEB.to_string()]);

    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let pr = &pulls[0];
    assert_eq!(
        (pr.state.as_str(), pr.head.as_str(), pr.base.as_str()),
        ("open", branch.as_str(), "main")
    );
    assert_eq!(pr.title, "chore(deploy): bump ghcr.io/acme/web to 2.1.0");
    assert_eq!(report["pull_request"]["number"], pr.number);
    assert_eq!(report["pull_request"]["created"], true);
    assert!(!out.stdout.contains(GITHUB_TOKEN) && !out.stderr.contains(GITHUB_TOKEN));
    let lines = github.lines();
    let moved = lines
        .iter()
        .position(|l| l == "POST /graphql")
        .expect("API calls");
    let opened = lines
        .iter()
        .position(|l| l == "POST /repos/acme/gitops/pulls")
        .expect("the PR is opened on the same server");
    assert!(
        moved < opened,
        "the branch exists before the PR is opened: {lines:?}"
    );
}

#[test]
fn a_newer_tag_through_the_api_moves_the_bot_branch_under_a_lease_and_updates_the_same_pr() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let branch = open_pr_on_the_reused_branch(&github, home.path());
    let branch = branch.as_str();
    let first = repo.tip(branch).expect("the bot branch exists");
    // Meanwhile main moves on.
    let main_now = repo.commit_files("main", &[("README.md", "# config v2\n")], "docs");
    github.clear_requests();

    let out = pr_through_the_api(&github, home.path(), "2.2.0", &REUSED_BRANCH);

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["branch"], branch);
    let ours = ahead_of_main(&repo, branch);
    assert_eq!(ours.len(), 1, "still one commit on top of main");
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", &format!("{branch}^")]).trim(),
        main_now,
        "moved to main's new tip"
    );
    assert_eq!(repo.read_file(branch, WEB), Some(web_at("2.2.0")));
    assert_eq!(
        repo.read_file(branch, "README.md").as_deref(),
        Some("# config v2\n")
    );
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(main_now.as_str()),
        "main untouched"
    );
    let leases: Vec<_> = github
        .requests()
        .into_iter()
        .filter(|r| r.line() == "POST /graphql")
        .filter_map(|r| r.body.pointer("/variables/input/refUpdates/0").cloned())
        .filter(|u| u["name"] == format!("refs/heads/{branch}"))
        .collect();
    assert!(
        !leases.is_empty(),
        "the bot branch is moved through updateRefs"
    );
    assert_eq!(
        leases[0]["beforeOid"],
        first.as_str(),
        "under a lease on the tip we saw"
    );

    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "updated, not duplicated: {pulls:?}");
    assert_eq!(pulls[0].state, "open", "{pulls:?}");
    assert_eq!(
        pulls[0].title,
        "chore(deploy): bump ghcr.io/acme/web to 2.2.0"
    );
    assert_eq!(report["pull_request"]["number"], pulls[0].number);
    assert_eq!(report["pull_request"]["created"], false);
    assert_eq!(report["pushed"], true);
}

#[test]
fn a_bot_branch_moved_by_someone_else_between_our_look_and_our_move_is_not_overwritten_unseen() {
    let repo = seed();
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let branch = open_pr_on_the_reused_branch(&github, home.path());
    let ours = repo.tip(&branch).expect("the bot branch exists");
    // Someone pushes to the bot branch just before our run moves it.
    let (bare, theirs_on) = (repo.path().to_path_buf(), branch.clone());
    let theirs = std::sync::Arc::new(std::sync::Mutex::new(None));
    let noted = theirs.clone();
    github.meanwhile("POST", "/graphql", "updateRefs", move || {
        let work = tempfile::tempdir().expect("tempdir");
        let url = format!("file://{}", bare.display());
        git_server::git(work.path(), &["clone", "-q", "-b", &theirs_on, &url, "w"]);
        let w = work.path().join("w");
        std::fs::write(w.join("NOTES.md"), "theirs\n").expect("write");
        git_server::git(&w, &["add", "NOTES.md"]);
        git_server::git(&w, &["commit", "-q", "-m", "their change"]);
        git_server::git(&w, &["push", "-q", "origin", &theirs_on]);
        let tip = git_server::git(&w, &["rev-parse", "HEAD"])
            .trim()
            .to_string();
        *noted.lock().unwrap_or_else(|e| e.into_inner()) = Some(tip);
    });
    github.clear_requests();

    let out = pr_through_the_api(&github, home.path(), "2.2.0", &REUSED_BRANCH);

    out.assert_code(0);
    let theirs = theirs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .expect("the other writer pushed");
    assert!(
        out.stderr.contains("moved while we looked"),
        "the lease refused: {}",
        out.stderr
    );
    assert_eq!(out.json()["attempts"], 2, "and the attempt was retried");
    // The moves of the bot branch (the staging branches the commits are made on are
    // created from nothing, beforeOid all zeros).
    let leases: Vec<String> = github
        .requests()
        .iter()
        .filter(|r| {
            r.body
                .pointer("/variables/input/refUpdates/0/name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| n.ends_with(&branch))
        })
        .filter_map(|r| r.body.pointer("/variables/input/refUpdates/0/beforeOid"))
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        leases,
        [ours, theirs],
        "the first move expected our old tip and was refused; the retry looked again"
    );
    assert_eq!(ahead_of_main(&repo, &branch).len(), 1);
    assert_eq!(repo.read_file(&branch, WEB), Some(web_at("2.2.0")));
}

/// `image` without paths searches the whole tree: 300 YAML files are read 50 a GraphQL
/// query, not one request each (nor a fallback to git).
#[test]
fn image_without_paths_reads_a_large_tree_in_a_few_graphql_queries() {
    const APPS: usize = 300;
    let files: Vec<(String, String)> = (0..APPS)
        .map(|n| {
            (
                format!("apps/app{n}/values.yaml"),
                format!("image:\n  repository: ghcr.io/acme/app{n}\n  tag: v1\n"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let repo = BareRepo::new_with(&pairs, "main");
    let github = FakeGitHub::start(&repo, "acme/gitops", GITHUB_TOKEN);
    let home = home();
    let out = run(via_github_api(
        home.path(),
        &github,
        ["image", "ghcr.io/acme/app7:v2", "--output", "json"],
    )
    .env("TAGBUMP_TOKEN", GITHUB_TOKEN));
    out.assert_code(0);
    assert_eq!(out.json()["via"], "api");
    assert_eq!(repo.commit_count("main"), 2, "one commit");
    assert_eq!(
        repo.changed_in_tip("main"),
        vec!["apps/app7/values.yaml".to_string()]
    );
    assert_eq!(
        repo.read_file("main", "apps/app7/values.yaml").as_deref(),
        Some("image:\n  repository: ghcr.io/acme/app7\n  tag: v2\n")
    );
    let lines = github.lines();
    let reads = lines
        .iter()
        .filter(|l| l.contains("/contents/") || l.contains("/git/blobs/"))
        .count();
    assert_eq!(reads, 0, "no file read one by one: {lines:?}");
    // Repository, ref, commit, tree; 300 / 50 = 6 queries; the commit.
    assert!(lines.len() <= 15, "{} requests: {lines:?}", lines.len());
    eprintln!("{} requests: {lines:?}", lines.len());
}
