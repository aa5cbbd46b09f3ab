//! Secrets: the token shows up nowhere, goes only to the host it belongs to (the
//! git server and the forge API), and is redacted from the repository URL.

use super::*;

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
    let forge = ForgeServer::gitlab(TOKEN);
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
