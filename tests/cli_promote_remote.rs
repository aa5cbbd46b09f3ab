//! `tagbump promote --repo URL` landed as `image` lands: one commit for the whole
//! promotion over git (git daemon, smart HTTP), nothing when in sync, the promotion
//! recomputed on the new tip after a lost race, and a pull request per (from, to) pair
//! through the fake GitHub's API (`tests/support/fake_github.rs`, GitHub's REST
//! "Pulls" and GraphQL `createCommitOnBranch` pages), updated in place by the next
//! promotion. The expected bytes are written by hand.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::support::cli::{finished, home, run, tagbump, Run};
use crate::support::fake_github::FakeGitHub;
use crate::support::forge_cli::via_github_api;
use crate::support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};
use crate::support::push_hold::Hold;

const CONFIG: &str = "# staging is promoted to prod, through a pull request\n\
environments:\n  staging: { paths: [envs/staging] }\n  prod: { paths: [envs/prod], from: staging, pr: true }\n";

const STAGING_VALUES: &str =
    "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.6.0\"\n\
web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: 2.1.0\n";

const STAGING_KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
images:\n  - name: ghcr.io/acme/api\n    newTag: 1.6.0\n";

const PROD_VALUES: &str = "# prod: pinned by release\napi:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.5.0\"  # last good\n\
web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: 2.0.0\n\
redis:\n  image:\n    repository: bitnami/redis\n    tag: 7.2.4\n";

const PROD_KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
images:\n  - name: ghcr.io/acme/api\n    newTag: 1.5.0\n";

const TOKEN: &str = "ghs_PROMOTE-SECRET-7373";

fn config_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/staging/values.yaml", STAGING_VALUES),
            ("envs/staging/kustomization.yaml", STAGING_KUSTOMIZATION),
            ("envs/prod/values.yaml", PROD_VALUES),
            ("envs/prod/kustomization.yaml", PROD_KUSTOMIZATION),
            ("README.md", "# gitops\n"),
        ],
        "main",
    )
}

/// prod's values after staging → prod with the api at `api`.
fn prod_values(api: &str) -> String {
    format!(
        "# prod: pinned by release\napi:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"{api}\"  # last good\n\
web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: 2.1.0\n\
redis:\n  image:\n    repository: bitnami/redis\n    tag: 7.2.4\n"
    )
}

fn prod_kustomization(api: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
images:\n  - name: ghcr.io/acme/api\n    newTag: {api}\n"
    )
}

fn promote(home: &std::path::Path, url: &str, extra: &[&str]) -> Run {
    let mut cmd = tagbump(home);
    cmd.args(["promote", "--to", "prod", "--repo", url, "--output", "json"])
        .args(extra);
    run(&mut cmd)
}

#[test]
fn over_git_one_commit_names_each_image_and_in_sync_commits_nothing() {
    let repo = config_repo();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url(repo.name());
    let home = home();

    // prod says `pr: true`, and a git:// remote has no forge to open it on: refused
    // before anything is pushed.
    let refused = promote(home.path(), &url, &[]);
    refused.assert_code(2);
    assert_eq!(refused.json()["error"]["kind"], json!("invalid-input"));
    assert_eq!(repo.commit_count("main"), 1, "nothing pushed");

    let out = promote(home.path(), &url, &["--no-pr"]);
    out.assert_code(0);
    let report = out.json();
    assert_eq!(
        (&report["changed"], &report["pushed"], &report["via"]),
        (&json!(true), &json!(true), &json!("git"))
    );
    assert_eq!(report["commit"].as_str(), repo.tip("main").as_deref());
    assert_eq!(
        report["files"],
        json!(["envs/prod/kustomization.yaml", "envs/prod/values.yaml"])
    );
    assert_eq!(
        report["promotion"],
        json!({"from": "staging", "to": "prod", "images": [
            {"image": "ghcr.io/acme/api", "from_tag": "1.6.0", "from_digest": null, "to_old_tag": "1.5.0", "changed": true},
            {"image": "ghcr.io/acme/web", "from_tag": "2.1.0", "from_digest": null, "to_old_tag": "2.0.0", "changed": true},
        ]})
    );
    assert_eq!(
        git_server::git(repo.path(), &["log", "-1", "--format=%B", "main"]),
        "chore(deploy): promote staging to prod\n\n\
         - ghcr.io/acme/api 1.5.0 → 1.6.0\n\
         - ghcr.io/acme/web 2.0.0 → 2.1.0\n\n"
    );
    assert_eq!(repo.commit_count("main"), 2, "one commit");
    assert_eq!(
        repo.read_file("main", "envs/prod/values.yaml"),
        Some(prod_values("1.6.0"))
    );
    assert_eq!(
        repo.read_file("main", "envs/prod/kustomization.yaml"),
        Some(prod_kustomization("1.6.0"))
    );
    assert_eq!(
        repo.read_file("main", "envs/staging/values.yaml")
            .as_deref(),
        Some(STAGING_VALUES)
    );

    // Again: in sync, nothing committed.
    let again = promote(home.path(), &url, &["--no-pr"]);
    again.assert_code(0);
    let report = again.json();
    assert_eq!(
        (&report["changed"], &report["pushed"], &report["commit"]),
        (&json!(false), &json!(false), &json!(null))
    );
    assert_eq!(report["promotion"]["images"][0]["changed"], json!(false));
    assert_eq!(repo.commit_count("main"), 2, "no second commit");
}

#[test]
fn a_lost_race_promotes_what_the_source_runs_on_the_new_tip() {
    let repo = config_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    let hold = Arc::new(Hold::new());
    server.hold_next_push_advertisement(&hold);
    let child = tagbump(home.path())
        .args(["promote", "--to", "prod", "--no-pr", "--repo", &url])
        .args(["--via", "git", "--output", "json"])
        .env("TAGBUMP_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tagbump starts");
    // Our first push waits at the receive-pack advertisement (the promotion of the tip
    // it cloned is committed); meanwhile staging moves on to api 1.7.0.
    hold.wait_held(Duration::from_secs(60), || false);
    let moved = STAGING_VALUES.replace("1.6.0", "1.7.0");
    let moved_k = STAGING_KUSTOMIZATION.replace("1.6.0", "1.7.0");
    repo.commit_files(
        "main",
        &[
            ("envs/staging/values.yaml", &moved),
            ("envs/staging/kustomization.yaml", &moved_k),
        ],
        "staging: api 1.7.0",
    );
    hold.release();
    let out = finished(child.wait_with_output().expect("tagbump ends"));
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["attempts"], json!(2), "{}", out.stderr);
    assert_eq!(
        report["promotion"]["images"][0],
        json!({"image": "ghcr.io/acme/api", "from_tag": "1.7.0", "from_digest": null, "to_old_tag": "1.5.0", "changed": true})
    );
    assert_eq!(
        repo.log("main", "%s"),
        [
            "chore(deploy): promote staging to prod",
            "staging: api 1.7.0",
            "seed"
        ]
        .map(str::to_string)
    );
    assert!(repo.is_linear("main"));
    assert_eq!(
        git_server::git(repo.path(), &["log", "-1", "--format=%b", "main"]),
        "- ghcr.io/acme/api 1.5.0 → 1.7.0\n- ghcr.io/acme/web 2.0.0 → 2.1.0\n\n"
    );
    assert_eq!(
        repo.read_file("main", "envs/prod/values.yaml"),
        Some(prod_values("1.7.0"))
    );
    assert_eq!(
        repo.read_file("main", "envs/prod/kustomization.yaml"),
        Some(prod_kustomization("1.7.0"))
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
}

#[test]
fn through_the_github_api_the_pair_has_one_pr_updated_in_place() {
    let repo = config_repo();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let promote_api = || {
        let mut cmd = via_github_api(
            home.path(),
            &github,
            ["promote", "--to", "prod", "--output", "json"],
        );
        cmd.env("TAGBUMP_TOKEN", TOKEN);
        run(&mut cmd)
    };
    // No --pr: prod's `pr: true` opens it.
    let first = promote_api();
    first.assert_code(0);
    let report = first.json();
    let branch = "tagbump/promote-staging-to-prod";
    assert_eq!(
        (&report["via"], &report["branch"], &report["base_branch"]),
        (&json!("api"), &json!(branch), &json!("main"))
    );
    assert_eq!(report["pull_request"]["created"], json!(true));
    assert_eq!(repo.commit_count("main"), 1, "main untouched");
    assert_eq!(
        repo.read_file(branch, "envs/prod/values.yaml"),
        Some(prod_values("1.6.0"))
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(
        (pulls[0].title.as_str(), pulls[0].head.as_str()),
        ("chore(deploy): promote staging to prod", branch)
    );
    let number = pulls[0].number;

    // Staging moves on; the next promotion updates the same request.
    let moved = STAGING_VALUES.replace("1.6.0", "1.7.0");
    let moved_k = STAGING_KUSTOMIZATION.replace("1.6.0", "1.7.0");
    repo.commit_files(
        "main",
        &[
            ("envs/staging/values.yaml", &moved),
            ("envs/staging/kustomization.yaml", &moved_k),
        ],
        "staging: api 1.7.0",
    );
    let second = promote_api();
    second.assert_code(0);
    let report = second.json();
    assert_eq!(report["branch"], json!(branch));
    assert_eq!(
        (
            &report["pull_request"]["number"],
            &report["pull_request"]["created"]
        ),
        (&json!(number), &json!(false))
    );
    let open: Vec<_> = github
        .pulls()
        .into_iter()
        .filter(|p| p.state == "open")
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].number, number);
    assert_eq!(
        repo.read_file(branch, "envs/prod/values.yaml"),
        Some(prod_values("1.7.0"))
    );
    assert_eq!(
        repo.read_file(branch, "envs/prod/kustomization.yaml"),
        Some(prod_kustomization("1.7.0"))
    );
    assert_eq!(
        git_server::git(repo.path(), &["log", "-1", "--format=%B", branch]),
        "chore(deploy): promote staging to prod\n\n\
         - ghcr.io/acme/api 1.5.0 → 1.7.0\n- ghcr.io/acme/web 2.0.0 → 2.1.0\n\n"
    );
}

#[test]
fn several_repositories_each_land_on_their_own_with_exit_5_when_one_fails() {
    let moved = config_repo();
    let in_sync = BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/staging/values.yaml", STAGING_VALUES),
            ("envs/prod/values.yaml", STAGING_VALUES),
        ],
        "main",
    );
    let (a, b) = (
        GitDaemon::start(moved.root()),
        GitDaemon::start(in_sync.root()),
    );
    let urls = [
        a.url(moved.name()),
        b.url(in_sync.name()),
        "file:///nonexistent/three.git".to_string(),
    ];
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.args(["promote", "--to", "prod", "--no-pr", "--output", "json"]);
    for url in &urls {
        cmd.args(["--repo", url]);
    }
    let out = run(&mut cmd);
    out.assert_code(5);
    let report = out.json();
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 3);
    for (t, url) in targets.iter().zip(&urls) {
        assert_eq!(t["repo"], json!(url), "in the order given");
    }
    assert_eq!(
        (
            &targets[0]["changed"],
            &targets[0]["pushed"],
            &targets[0]["error"]
        ),
        (&json!(true), &json!(true), &json!(null))
    );
    assert_eq!(targets[0]["commit"].as_str(), moved.tip("main").as_deref());
    assert_eq!(
        targets[0]["promotion"]["images"][1],
        json!({"image": "ghcr.io/acme/web", "from_tag": "2.1.0", "from_digest": null, "to_old_tag": "2.0.0", "changed": true})
    );
    assert_eq!(
        moved.read_file("main", "envs/prod/values.yaml"),
        Some(prod_values("1.6.0"))
    );
    assert_eq!(
        (
            &targets[1]["changed"],
            &targets[1]["pushed"],
            &targets[1]["commit"]
        ),
        (&json!(false), &json!(false), &json!(null))
    );
    assert_eq!(in_sync.commit_count("main"), 1);
    assert_eq!(targets[2]["pushed"], json!(false));
    assert!(targets[2]["error"]["kind"].is_string(), "{}", targets[2]);

    // Again, the two that exist: both in sync now, exit 0.
    let mut cmd = tagbump(home.path());
    cmd.args(["promote", "--to", "prod", "--no-pr", "--output", "json"])
        .args(["--repo", &urls[0], "--repo", &urls[1]]);
    let out = run(&mut cmd);
    out.assert_code(0);
    let again = out.json();
    let changed: Vec<&serde_json::Value> = (again["targets"].as_array().unwrap().iter())
        .map(|t| &t["changed"])
        .collect();
    assert_eq!(changed, [&json!(false), &json!(false)]);
    assert_eq!(moved.commit_count("main"), 2, "one commit in all");
}

/// `--no-pr` (issue 22: "accepted everywhere, also locally") wins over `--pr`,
/// `TAGBUMP_PR` and an environment's `pr: true`.
#[test]
fn no_pr_wins_over_the_environment_and_tagbump_pr_and_every_command_accepts_it() {
    let repo = config_repo();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url(repo.name());
    let home = home();

    // TAGBUMP_PR=true in the job's environment, --no-pr on the command line.
    let mut cmd = tagbump(home.path());
    cmd.args([
        "promote", "--to", "prod", "--repo", &url, "--output", "json",
    ])
    .args(["--pr", "--no-pr"])
    .env("TAGBUMP_PR", "true");
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json()["pushed"], json!(true), "{}", out.stderr);
    assert_eq!(out.json()["pull_request"], json!(null));
    assert_eq!(repo.commit_count("main"), 2, "pushed to main itself");

    // TAGBUMP_NO_PR (the Tekton task's `no-pr`) does the same for `image`.
    let mut cmd = tagbump(home.path());
    cmd.args([
        "image",
        "ghcr.io/acme/web:2.2.0",
        "--repo",
        &url,
        "--output",
        "json",
    ])
    .env("TAGBUMP_PR", "true")
    .env("TAGBUMP_NO_PR", "true");
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json()["pushed"], json!(true), "{}", out.stderr);
    assert_eq!(repo.commit_count("main"), 3);
    assert_eq!(
        repo.read_file("main", "envs/prod/values.yaml"),
        Some(prod_values("1.6.0").replace("2.1.0", "2.2.0"))
    );

    // status reads only; it takes the flag all the same.
    let mut cmd = tagbump(home.path());
    cmd.args(["status", "--no-pr", "--repo", &url, "--output", "json"]);
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json()["environments"], json!(["staging", "prod"]));

    // Locally, without --repo: image and set.
    let work = tempfile::tempdir().expect("checkout");
    let values = |tag: &str| format!("image:\n  repository: ghcr.io/acme/api\n  tag: {tag}\n");
    std::fs::write(work.path().join("values.yaml"), values("1.0.0")).expect("write");
    let dir = work.path().to_str().expect("utf-8 path");
    let mut cmd = tagbump(home.path());
    cmd.args(["image", "ghcr.io/acme/api:1.1.0", "-C", dir, "--no-pr"]);
    run(&mut cmd).assert_code(0);
    let mut cmd = tagbump(home.path());
    cmd.args([
        "set",
        "-C",
        dir,
        "--no-pr",
        "values.yaml",
        "image.tag=1.2.0",
    ]);
    run(&mut cmd).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(work.path().join("values.yaml")).expect("read"),
        values("1.2.0")
    );
}

/// `--pr` opens a pull request for an environment that does not say `pr: true`, and
/// `--message`, `--pr-title` and `--pr-branch` take the promotion's placeholders
/// (`{from}`, `{to}`, `{images}`, `{slug}`), through the fake GitHub's API.
#[test]
fn pr_for_an_environment_without_pr_uses_the_given_message_title_and_branch() {
    let repo = BareRepo::new_with(
        &[
            (".tagbump.yaml", &CONFIG.replace(", pr: true", "")),
            ("envs/staging/values.yaml", STAGING_VALUES),
            ("envs/prod/values.yaml", PROD_VALUES),
        ],
        "main",
    );
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let mut cmd = via_github_api(
        home.path(),
        &github,
        ["promote", "--to", "prod", "--output", "json", "--pr"],
    );
    cmd.args(["--message", "release({to}): from {from}\n\n{images}"])
        .args(["--pr-title", "Release to {to} ({from})"])
        .args(["--pr-branch", "release/{slug}"])
        .env("TAGBUMP_TOKEN", TOKEN);
    let out = run(&mut cmd);
    out.assert_code(0);
    let report = out.json();
    let branch = "release/promote-staging-to-prod";
    assert_eq!(report["branch"], json!(branch), "{}", out.stderr);
    assert_eq!(report["pull_request"]["created"], json!(true));
    assert_eq!(repo.commit_count("main"), 1, "main untouched");
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(
        (pulls[0].title.as_str(), pulls[0].head.as_str()),
        ("Release to prod (staging)", branch)
    );
    assert_eq!(
        git_server::git(repo.path(), &["log", "-1", "--format=%B", branch]),
        "release(prod): from staging\n\n\
         - ghcr.io/acme/api 1.5.0 → 1.6.0\n- ghcr.io/acme/web 2.0.0 → 2.1.0\n\n"
    );
    assert_eq!(
        repo.read_file(branch, "envs/prod/values.yaml"),
        Some(prod_values("1.6.0"))
    );
}

/// `--close-superseded` on a promotion. With a branch per release
/// (`--pr-branch 'release/{from}-to-{to}/{source_commit}'`) the next release's promotion
/// closes the pair's older request and deletes its branch (it holds only tagbump's
/// commit). With the pair's default branch, updated in place by every promotion, there
/// is never an older request of the pair to close, and the run says so.
#[test]
fn close_superseded_closes_the_pairs_older_promotion_requests() {
    let repo = config_repo();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let promote_api = |sha: &str, extra: &[&str]| {
        let mut cmd = via_github_api(
            home.path(),
            &github,
            ["promote", "--to", "prod", "--output", "json"],
        );
        cmd.arg("--close-superseded")
            .args(extra)
            .env("TAGBUMP_TOKEN", TOKEN)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_SHA", sha);
        run(&mut cmd)
    };
    let per_release = ["--pr-branch", "release/{from}-to-{to}/{source_commit}"];
    let first = promote_api("aaaa1111", &per_release);
    first.assert_code(0);
    let older = first.json()["pull_request"]["number"].clone();
    assert_eq!(
        first.json()["branch"],
        json!("release/staging-to-prod/aaaa1111")
    );

    let moved = STAGING_VALUES.replace("1.6.0", "1.7.0");
    let moved_k = STAGING_KUSTOMIZATION.replace("1.6.0", "1.7.0");
    repo.commit_files(
        "main",
        &[
            ("envs/staging/values.yaml", &moved),
            ("envs/staging/kustomization.yaml", &moved_k),
        ],
        "staging: api 1.7.0",
    );
    let second = promote_api("bbbb2222", &per_release);
    second.assert_code(0);
    let report = second.json();
    assert_eq!(report["branch"], json!("release/staging-to-prod/bbbb2222"));
    let pr = &report["pull_request"];
    assert_eq!(
        (
            &pr["created"],
            &pr["closed_superseded"],
            &pr["deleted_branches"]
        ),
        (
            &json!(true),
            &json!([older]),
            &json!(["release/staging-to-prod/aaaa1111"])
        ),
        "{}",
        second.stderr
    );
    let state = |number: &serde_json::Value| {
        (github.pulls().into_iter())
            .find(|p| json!(p.number) == *number)
            .map(|p| p.state)
    };
    assert_eq!(state(&older).as_deref(), Some("closed"));
    assert_eq!(state(&pr["number"]).as_deref(), Some("open"));
    assert!(
        !repo
            .branches()
            .contains(&"release/staging-to-prod/aaaa1111".to_string()),
        "{:?}",
        repo.branches()
    );

    // The default branch of the pair: one request, updated in place; nothing superseded.
    let third = promote_api("cccc3333", &[]);
    third.assert_code(0);
    let report = third.json();
    assert_eq!(report["branch"], json!("tagbump/promote-staging-to-prod"));
    assert_eq!(report["pull_request"]["closed_superseded"], json!([]));
    assert!(
        third.stderr.contains(
            "no superseded pull request closed: every run of this change uses the same branch, updated in place (tagbump/promote-staging-to-prod)"
        ),
        "{}",
        third.stderr
    );
    assert_eq!(
        state(&pr["number"]).as_deref(),
        Some("open"),
        "another family"
    );
}
