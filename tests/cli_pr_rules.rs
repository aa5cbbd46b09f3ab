//! `tagbump --pr` end to end under the forges' real rules (issue 13): the real binary
//! against the fake GitHub of `tests/support/fake_github` (REST + GraphQL on a real bare
//! repository, pull requests on its real branches) and, for GitLab, a real smart-HTTP git
//! server with the fake GitLab API of `tests/support/forge_server.rs`. Each fake answers
//! as the forge's documentation page named at the rule says.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::cli::{home, run, tagbump, Run};
use support::fake_github::FakeGitHub;
use support::fake_gitlab::{FakeGitLab, JOB_TOKEN, TOKEN as GITLAB_TOKEN};
use support::forge_cli::{bump_web, via_github_api, via_gitlab_api, web_config, WEB};
use support::forge_server::{FakeResponse, ForgeServer};
use support::git_server::{self, BareRepo, SmartHttpServer};

const TOKEN: &str = "ghs_PR-RULES-SECRET-1313";

/// `tagbump image ghcr.io/acme/web:TAG apps --pr --via api` against the fake GitHub,
/// with the token.
fn github_pr_command(github: &FakeGitHub, home: &Path, tag: &str) -> Command {
    let mut cmd = via_github_api(home, github, bump_web(tag));
    cmd.arg("--pr").env("TAGBUMP_TOKEN", TOKEN);
    cmd
}

/// [`github_pr_command`] with `extra` flags, run.
fn github_pr(github: &FakeGitHub, home: &Path, tag: &str, extra: &[&str]) -> Run {
    run(github_pr_command(github, home, tag).args(extra))
}

/// The full `--pr --auto-merge --reviewer … --close-superseded` run on GitHub: the
/// author is not requested as a reviewer (docs.github.com, "Request reviewers for a pull
/// request": 422 for the author), auto-merge is enabled for the pushed commit only
/// (`expectedHeadOid`), the older pull request is closed and its branch, which holds
/// only tagbump's commit, deleted ("Delete a reference").
#[test]
fn github_full_pr_run_requests_the_others_enables_auto_merge_and_deletes_the_superseded_branch() {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let first = github_pr(&github, home.path(), "2.0.9", &[]);
    first.assert_code(0);
    let old_branch = first.json()["branch"].as_str().expect("branch").to_string();
    github.clear_requests();

    let out = github_pr(
        &github,
        home.path(),
        "2.1.0",
        &[
            "--auto-merge",
            "--reviewer",
            "alice",
            "--reviewer",
            "tagbump-bot",
            "--close-superseded",
        ],
    );

    out.assert_code(0);
    let report = out.json();
    let branch = report["branch"].as_str().expect("branch").to_string();
    assert_ne!(branch, old_branch);
    assert_eq!(report["pull_request"]["number"], 2);
    assert_eq!(
        report["pull_request"]["closed_superseded"],
        serde_json::json!([1])
    );
    assert_eq!(
        report["pull_request"]["deleted_branches"],
        serde_json::json!([old_branch])
    );
    assert_eq!(report["pull_request"]["merged"], false);
    assert!(
        out.stderr.contains(
            "warning: not requesting a review from `tagbump-bot` on #2: it is the pull request's author"
        ),
        "{}",
        out.stderr
    );
    let pulls = github.pulls();
    assert_eq!(
        (pulls[0].state.as_str(), pulls[0].comments.as_slice()),
        ("closed", ["Superseded by #2".to_string()].as_slice())
    );
    assert_eq!(pulls[1].reviewers, ["alice"]);
    assert!(pulls[1].auto_merge);
    assert_eq!(pulls[1].merge_method.as_deref(), Some("MERGE"));
    assert!(
        !repo.branches().contains(&old_branch),
        "{:?}",
        repo.branches()
    );
    assert!(repo.branches().contains(&branch));

    let lines = github.lines();
    println!(
        "requests of a full GitHub --pr --auto-merge --reviewer --close-superseded run: {} ({lines:?})",
        lines.len()
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("DELETE ")).count(),
        1,
        "{lines:?}"
    );
}

/// `--close-superseded` with 230 older bumps open: GitHub's "List pull requests" answers
/// at most 100 a page (<https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>)
/// and names the next page in `Link` ("Using pagination in the REST API",
/// <https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api>):
/// every one of them is closed and its branch deleted, the ones past page 1 too.
#[test]
fn github_close_superseded_closes_all_230_older_bumps_past_the_first_page() {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let home = home();
    let first = github_pr(&github, home.path(), "2.0.9", &[]);
    first.assert_code(0);
    let old_branch = first.json()["branch"].as_str().expect("branch").to_string();
    let prefix = old_branch.trim_end_matches("2.0.9").to_string();
    let older: Vec<String> = (0..230).map(|n| format!("{prefix}1.{n}.0")).collect();
    let mut expected = vec![1];
    expected.extend(github.seed_open_pulls(&older, "main"));
    github.clear_requests();

    let out = github_pr(&github, home.path(), "2.1.0", &["--close-superseded"]);

    out.assert_code(0);
    let report = out.json();
    let number = report["pull_request"]["number"].as_u64().expect("number");
    let mut closed: Vec<u64> = report["pull_request"]["closed_superseded"]
        .as_array()
        .expect("closed")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    closed.sort_unstable();
    assert_eq!(closed, expected, "all 231 older bumps");
    assert_eq!(
        report["pull_request"]["deleted_branches"]
            .as_array()
            .map(Vec::len),
        Some(231)
    );
    for pull in github.pulls() {
        let want = if pull.number == number {
            "open"
        } else {
            "closed"
        };
        assert_eq!(pull.state, want, "#{}", pull.number);
    }
    let branch = report["branch"].as_str().expect("branch").to_string();
    assert_eq!(repo.branches(), ["main".to_string(), branch]);
    let pages: Vec<String> = github
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.url.contains("/pulls?") && !r.url.contains("head="))
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[1].starts_with("/repositories/4242/pulls?") && pages[1].ends_with("page=2"));
    assert!(pages[2].ends_with("page=3"), "{pages:?}");
}

/// `enablePullRequestAutoMerge` refuses a pull request with nothing left to wait for
/// ("Pull request is in clean status"); `--auto-merge` then merges it at once with
/// "Merge a pull request" (`merge_method`, `sha` = the pushed commit) and says so.
#[test]
fn github_auto_merge_of_an_already_mergeable_pr_merges_it_now_and_reports_merged() {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    github.set_mergeable_now(true);
    let main_before = repo.tip("main").expect("main");
    let home = home();
    let gh_output = home.path().join("github-output");

    let out = run(github_pr_command(&github, home.path(), "2.1.0")
        .args(["--auto-merge", "--merge-method", "squash"])
        .env("GITHUB_OUTPUT", &gh_output));

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["pull_request"]["merged"], true, "{}", out.stderr);
    let pull = &github.pulls()[0];
    assert!(pull.merged && pull.state == "closed");
    assert_eq!(pull.merge_method.as_deref(), Some("squash"));
    let main = repo.tip("main").expect("main");
    assert_ne!(main, main_before, "main moved");
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", "main^"]).trim(),
        main_before,
        "one squashed commit on main"
    );
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web\n  tag: \"2.1.0\"\n")
    );
    let outputs = std::fs::read_to_string(&gh_output).expect("GITHUB_OUTPUT");
    assert!(outputs.lines().any(|l| l == "pr-merged=true"), "{outputs}");
}

/// Auto-merge under contention (akuity/kargo#5761): the base branch moved just before
/// (another bump landed), so GitHub is still recomputing mergeability when tagbump
/// merges the already-clean pull request. docs.github.com, "Merge a pull request"
/// (https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request): 405 `Base branch
/// was modified. Review and try the merge again.` meanwhile, and "Get a pull request"
/// (https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request): `mergeable: null`
/// while the background job runs. With the default settings tagbump re-reads the pull
/// request and merges again, always with `sha` = the commit it pushed, and the merge lands.
#[test]
fn github_auto_merge_retries_while_github_recomputes_mergeability_after_the_base_moved() {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    github.set_mergeable_now(true);
    github.recompute_mergeability_after_base_moves("main", 3);
    repo.commit_files(
        "main",
        &[("apps/api/values.yaml", "image:\n  tag: a9\n")],
        "api: a9 (a concurrent bump)",
    );
    let home = home();

    let out = github_pr(&github, home.path(), "2.2.0", &["--auto-merge"]);

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["pull_request"]["merged"], true, "{}", out.stderr);
    assert!(!out.stderr.contains("not merged"), "{}", out.stderr);
    assert!(out.stderr.contains("recomputing"), "{}", out.stderr);
    let pushed = report["commit"].as_str().expect("commit").to_string();
    let merges: Vec<_> = github
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.url.ends_with("/pulls/1/merge"))
        .collect();
    assert_eq!(merges.len(), 3, "two 405s, then the merge");
    for merge in &merges {
        assert_eq!(
            merge.body["sha"].as_str(),
            Some(pushed.as_str()),
            "only the pushed commit"
        );
    }
    let pull = &github.pulls()[0];
    assert!(pull.merged && pull.state == "closed", "{pull:?}");
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web\n  tag: \"2.2.0\"\n")
    );
    assert_eq!(
        repo.read_file("main", "apps/api/values.yaml").as_deref(),
        Some("image:\n  tag: a9\n"),
        "the concurrent bump is kept"
    );
}

/// docs.github.com, "Rate limits for the REST API": a 403 whose message is a secondary
/// rate limit, without `retry-after`, is waited out (at least a minute; here shortened by
/// the test-only TAGBUMP_TEST_SECONDARY_RATE_LIMIT_WAIT_MS) and said as such, not reported
/// as a permission problem.
#[test]
fn github_secondary_rate_limit_is_waited_out_and_named_in_the_log() {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    github.inject(
        "POST",
        "/repos/acme/gitops/pulls",
        FakeResponse::github_secondary_limit(403, None),
    );
    let home = home();

    let out = run(github_pr_command(&github, home.path(), "2.1.0")
        .env("TAGBUMP_TEST_SECONDARY_RATE_LIMIT_WAIT_MS", "20"));

    out.assert_code(0);
    assert!(
        out.stderr.contains(&format!(
            "tagbump: secondary rate limit at {}: waiting 0.02s before attempt 2",
            github.url()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("forbidden"), "{}", out.stderr);
    assert_eq!(github.pulls().len(), 1);
}

/// Serves `repo` over smart HTTP (token `token`) as `acme/gitops.git`.
fn serve_as_acme_gitops(repo: &BareRepo, token: &str) -> (SmartHttpServer, String) {
    repo.also_as("acme/gitops.git");
    let server = SmartHttpServer::start(repo.root(), token);
    let url = server.url("acme/gitops.git");
    (server, url)
}

/// `tagbump image ghcr.io/acme/web:TAG apps --output json --pr` landing with git on
/// `url`, the merge request through the fake GitLab API `forge`.
fn gitlab_git_pr_command(home: &Path, url: &str, forge: &ForgeServer, tag: &str) -> Command {
    let mut cmd = tagbump(home);
    cmd.args(bump_web(tag))
        .args(["--repo", url, "--pr", "--forge", "gitlab"])
        .args(["--api-url", &forge.api_base()]);
    cmd
}

/// docs.gitlab.com, "GitLab CI/CD job token": a job token cannot create, edit or merge
/// merge requests. With only CI_JOB_TOKEN, `--pr` says so plainly before anything is
/// pushed or asked of the API.
#[test]
fn gitlab_pr_with_only_the_job_token_is_refused_before_anything_is_pushed() {
    let job_token = "job-PR-RULES-SECRET-1313";
    let repo = web_config();
    let (_git, url) = serve_as_acme_gitops(&repo, job_token);
    let forge = ForgeServer::gitlab("glpat-unused-1313");
    forge.set_gitlab_tokens("glpat-unused-1313", job_token);
    let home = home();

    let out = run(gitlab_git_pr_command(home.path(), &url, &forge, "2.1.0")
        .env("CI_JOB_TOKEN", job_token)
        .env("CI_SERVER_HOST", "127.0.0.1"));

    out.assert_code(2);
    let report = out.json();
    assert_eq!(report["error"]["kind"], "invalid-input");
    let message = report["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("--pr cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot create, edit or merge merge requests. Set TAGBUMP_TOKEN"),
        "{message}"
    );
    assert_eq!(report["pushed"], false);
    assert_eq!(repo.branches(), ["main"], "no bot branch");
    assert!(forge.requests().is_empty(), "no API call");
    assert!(!out.stdout.contains(job_token) && !out.stderr.contains(job_token));
}

/// The full `--pr --auto-merge --reviewer … --close-superseded` run on GitLab (landing
/// with git, the merge request through the API): `auto_merge` with `sha` on 17.11+, the
/// older merge request closed and its branch deleted.
#[test]
fn gitlab_full_pr_run_sets_auto_merge_for_the_pushed_sha_and_deletes_the_superseded_branch() {
    let token = "glpat-PR-RULES-SECRET-1313";
    let repo = web_config();
    let (_git, url) = serve_as_acme_gitops(&repo, token);
    let forge = ForgeServer::gitlab(token);
    forge.add_user("alice", 42);
    let old_branch = "tagbump/ghcr.io-acme-web/2.0.9";
    let old = forge.add_change("acme/gitops", old_branch, "main", "bump web to 2.0.9");
    let home = home();

    let out = run(gitlab_git_pr_command(home.path(), &url, &forge, "2.1.0")
        .args(["--auto-merge", "--reviewer", "alice", "--close-superseded"])
        .env("TAGBUMP_TOKEN", token));

    out.assert_code(0);
    let report = out.json();
    let commit = report["commit"].as_str().expect("commit").to_string();
    let number = report["pull_request"]["number"].as_u64().expect("number");
    let merge = forge.requests_to("PUT", &format!("/merge_requests/{number}/merge"));
    assert_eq!(merge.len(), 1);
    assert_eq!(
        merge[0].body,
        serde_json::json!({ "auto_merge": "true", "sha": commit }),
        "the fake's HEAD_SHA is not the pushed commit, so the fake refuses (409) any other sha"
    );
    assert_eq!(
        forge.change(old).map(|c| c.state),
        Some("closed".to_string())
    );
    assert_eq!(forge.deleted_branches(), [old_branch]);
    assert_eq!(
        forge.change(number).map(|c| c.reviewers),
        Some(vec!["42".to_string()])
    );
    let lines: Vec<String> = forge.requests().iter().map(|r| r.line()).collect();
    println!(
        "API requests of a full GitLab --pr --auto-merge --reviewer --close-superseded run: {} ({lines:?})",
        lines.len()
    );
}

/// `tagbump image ghcr.io/acme/web:TAG apps --pr --via api` against the fake GitLab
/// (its merge requests live on the real branches of the served repository).
fn gitlab_pr(gitlab: &FakeGitLab, home: &Path, tag: &str, extra: &[&str]) -> Run {
    run(via_gitlab_api(home, gitlab, bump_web(tag))
        .arg("--pr")
        .args(extra)
        .env("TAGBUMP_TOKEN", GITLAB_TOKEN))
}

/// GitLab `--pr --via api` end to end on one server: the commit on a bot branch, the
/// merge request, `auto_merge` for exactly that commit ("Merge a merge request", retried
/// past the 405 GitLab answers right after creation), the older merge request closed
/// and its branch, which holds only tagbump's commit, really deleted.
#[test]
fn gitlab_full_pr_run_through_the_api_on_one_server() {
    let repo = web_config();
    let gitlab = FakeGitLab::start(&repo);
    let home = home();
    let first = gitlab_pr(&gitlab, home.path(), "2.0.9", &[]);
    first.assert_code(0);
    let old_branch = first.json()["branch"].as_str().expect("branch").to_string();
    assert!(repo.branches().contains(&old_branch));
    gitlab.set_not_mergeable_for(1);
    let before = gitlab.requests().len();

    let out = gitlab_pr(
        &gitlab,
        home.path(),
        "2.1.0",
        &["--auto-merge", "--reviewer", "alice", "--close-superseded"],
    );

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["via"], "api");
    let commit = report["commit"].as_str().expect("commit").to_string();
    let branch = report["branch"].as_str().expect("branch").to_string();
    assert_eq!(repo.tip(&branch).as_deref(), Some(commit.as_str()));
    assert_eq!(report["pull_request"]["number"], 2);
    assert_eq!(
        report["pull_request"]["closed_superseded"],
        serde_json::json!([1])
    );
    assert_eq!(
        report["pull_request"]["deleted_branches"],
        serde_json::json!([old_branch])
    );
    let mrs = gitlab.merge_requests();
    assert_eq!(mrs[0].state, "closed");
    assert_eq!(mrs[0].notes, ["Superseded by !2"]);
    assert_eq!(mrs[1].reviewer_ids, ["42"]);
    assert_eq!(mrs[1].auto_merge.as_deref(), Some("auto_merge"));
    assert_eq!(mrs[1].merge_sha.as_deref(), Some(commit.as_str()));
    assert!(
        !repo.branches().contains(&old_branch),
        "{:?}",
        repo.branches()
    );
    assert_eq!(
        gitlab.requests_to("PUT", "/merge_requests/2/merge").len(),
        2,
        "one 405, then set"
    );

    let lines: Vec<String> = gitlab.requests()[before..]
        .iter()
        .map(|r| r.line())
        .collect();
    println!(
        "requests of a full GitLab --pr --via api --auto-merge --reviewer --close-superseded run: {} ({lines:?})",
        lines.len()
    );
}

/// docs.gitlab.com, "Merge requests API" › "Merge a merge request": with no pipeline to
/// wait for, auto-merge merges at once; tagbump reports it as merged.
#[test]
fn gitlab_auto_merge_without_a_pipeline_merges_at_once_through_the_api() {
    let repo = web_config();
    let gitlab = FakeGitLab::start(&repo);
    gitlab.set_pipeline(false);
    let main_before = repo.tip("main").expect("main");
    let home = home();

    let out = gitlab_pr(&gitlab, home.path(), "2.1.0", &["--auto-merge"]);

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["pull_request"]["merged"], true, "{}", out.stderr);
    assert_eq!(gitlab.merge_requests()[0].state, "merged");
    assert_eq!(
        git_server::git(repo.path(), &["rev-parse", "main^1"]).trim(),
        main_before,
        "a merge commit on main"
    );
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web\n  tag: \"2.1.0\"\n")
    );
}

/// docs.gitlab.com, "GitLab CI/CD job token": the job token cannot commit through the
/// API, so `--via api` with only CI_JOB_TOKEN is refused plainly, before any call.
#[test]
fn gitlab_via_api_with_only_the_job_token_is_refused_before_any_call() {
    let repo = web_config();
    let gitlab = FakeGitLab::start(&repo);
    let main_before = repo.tip("main");
    let home = home();

    let out = run(via_gitlab_api(home.path(), &gitlab, bump_web("2.1.0"))
        .env("CI_JOB_TOKEN", JOB_TOKEN)
        .env("CI_SERVER_HOST", "127.0.0.1"));

    out.assert_code(2);
    let message = out.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("--via api cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot commit through the API"),
        "{message}"
    );
    assert!(gitlab.requests().is_empty());
    assert_eq!(repo.tip("main"), main_before);
    assert!(!out.stdout.contains(JOB_TOKEN) && !out.stderr.contains(JOB_TOKEN));
}

/// docs.gitlab.com, "GitLab CI/CD job token": without `--pr` the job token can land the
/// change only over git (as user `gitlab-ci-token`, where the project allows job-token
/// pushes); `--via auto` says so and never tries the API with it.
#[test]
fn gitlab_direct_push_with_the_job_token_lands_with_git_as_gitlab_ci_token() {
    let job_token = "job-PR-RULES-SECRET-2626";
    let repo = web_config();
    let (git, url) = serve_as_acme_gitops(&repo, job_token);
    // Never asked: the job token cannot use the merge request API.
    let forge = ForgeServer::gitlab("glpat-unused-2626");
    let main_before = repo.tip("main");
    let home = home();

    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/web:2.1.0", "apps"])
        .args(["--repo", &url, "--forge", "gitlab"])
        .args(["--api-url", &forge.api_base()])
        .env("CI_JOB_TOKEN", job_token)
        .env("CI_SERVER_HOST", "127.0.0.1"));

    out.assert_code(0);
    assert!(
        out.stderr.contains(
            "tagbump: landing with git: a GitLab CI/CD job token (CI_JOB_TOKEN) cannot commit through the API"
        ),
        "{}",
        out.stderr
    );
    assert_ne!(repo.tip("main"), main_before, "pushed");
    assert!(forge.requests().is_empty(), "the API is not used");
    assert!(
        git.credentials_seen()
            .iter()
            .all(|c| c == &format!("gitlab-ci-token:{job_token}")),
        "{:?}",
        git.credentials_seen().len()
    );
    assert!(!git.credentials_seen().is_empty());
}
