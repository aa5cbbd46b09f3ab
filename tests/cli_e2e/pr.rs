//! `--pr`: a bot branch pushed and a pull request (GitHub) or merge request (GitLab)
//! opened through the fake forge API and updated on rerun; the failures before and
//! after the push.

use super::*;

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
    let forge = ForgeServer::github(TOKEN);
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
    let forge = ForgeServer::github(TOKEN);
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
    let forge = ForgeServer::github(TOKEN);
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
    out.assert_code(2);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "invalid-input");
    assert_eq!(json["pushed"], false);
    assert_eq!(repo.branches(), ["main"], "no bot branch");
}

#[test]
fn pr_on_gitlab_opens_a_merge_request_and_updates_it_on_rerun() {
    let repo = demo_bare_repo();
    let (_server, url) = serve_as_acme_gitops(&repo);
    let forge = ForgeServer::gitlab(TOKEN);
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
