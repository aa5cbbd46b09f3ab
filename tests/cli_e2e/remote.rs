//! `--repo`: a bump committed once to a remote repository and reported; the policy
//! (`--no-downgrade`) and the faults (unusable temp dir, unreachable repository,
//! missing key) that end in a clear error and leave the remote alone.

use super::*;

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
