//! Write-back that fails, and how: a hook's rejection, connections dropped while
//! pushing or cloning, a server that never answers, a redirect to another host, refused
//! transports, a closed port, a missing branch. Nothing lands that should not.

use super::*;
use support::forge_server::SilentServer;

#[test]
fn hook_rejection_is_reported_with_the_remote_message_and_not_retried() {
    let repo = seed();
    repo.reject_pushes_with("deploy freeze: main is locked until Monday");
    let before = repo.tip("main");
    let daemon = GitDaemon::start(repo.root());
    let mut runs = 0;
    let err = write_back(
        &spec(daemon.url(repo.name())),
        &opts(),
        &mut |_| {},
        |root: &Path| {
            runs += 1;
            set_file(VALUES, "image:\n  tag: v6\n".into(), "web: v6")(root)
        },
    )
    .expect_err("rejected");
    match &err {
        GitError::Rejected {
            remote_messages,
            branch,
            ..
        } => {
            assert_eq!(branch, "main");
            assert!(
                remote_messages.iter().any(|m| m.contains("deploy freeze")),
                "{remote_messages:?}"
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(err
        .to_string()
        .contains("deploy freeze: main is locked until Monday"));
    assert_eq!(runs, 1, "no retry after a hook rejection");
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn a_connection_dropped_mid_push_is_retried_and_the_bump_lands_once() {
    let repo = seed();
    let server = SmartHttpServer::start(repo.root(), "tok");
    server.drop_next_pushes_after(1, 16);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let outcome = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &WriteBackOptions::default(),
        &mut collect(&lines),
        set_file(VALUES, "image:\n  tag: v7\n".into(), "web: v7"),
    )
    .expect("the second push lands");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(
        repo.log("main", "%s"),
        vec!["web: v7".to_string(), "seed".into()]
    );
    let log = lines.lock().expect("log lock").join("\n");
    assert!(log.contains("the connection failed during push"), "{log}");
    assert!(
        log.contains("attempt 2: fetched"),
        "the clone was reused: {log}"
    );
}

#[test]
fn a_push_whose_answer_was_lost_is_found_landed_and_not_pushed_twice() {
    let repo = seed();
    let server = SmartHttpServer::start(repo.root(), "tok");
    server.lose_next_push_responses(1);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut runs = 0;
    let outcome = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &WriteBackOptions::default(),
        &mut collect(&lines),
        |root: &Path| {
            runs += 1;
            set_file(VALUES, "image:\n  tag: v9\n".into(), "web: v9")(root)
        },
    )
    .expect("landed");
    assert!(outcome.changed);
    assert_eq!(
        outcome.commit,
        repo.tip("main"),
        "reports the commit that landed"
    );
    assert_eq!(runs, 1, "the edit was not re-applied");
    assert_eq!(
        repo.log("main", "%s"),
        vec!["web: v9".to_string(), "seed".into()]
    );
    let log = lines.lock().expect("log lock").join("\n");
    assert!(log.contains("did land"), "{log}");
}

#[test]
fn a_connection_dropped_on_every_push_gives_up_after_the_budget_and_changes_nothing() {
    let repo = seed();
    let before = repo.tip("main");
    let server = SmartHttpServer::start(repo.root(), "tok");
    server.drop_pushes_after(16);
    let err = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v7\n".into(), "web: v7"),
    )
    .expect_err("push cannot complete");
    assert!(
        matches!(err, GitError::RetriesExhausted { attempts: 5, .. }),
        "got {err:?}"
    );
    assert!(err.to_string().contains("failed during push"), "{err}");
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn a_connection_reset_while_cloning_is_retried_and_the_bump_lands() {
    let repo = seed();
    let server = SmartHttpServer::start(repo.root(), "tok");
    server.close_next_connections(1);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let outcome = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &WriteBackOptions::default(),
        &mut collect(&lines),
        set_file(VALUES, "image:\n  tag: v8\n".into(), "web: v8"),
    )
    .expect("the second clone succeeds");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(
        repo.read_file("main", VALUES).as_deref(),
        Some("image:\n  tag: v8\n")
    );
    let log = lines.lock().expect("log lock").join("\n");
    assert!(
        log.contains("the connection failed during clone") && log.contains("trying again"),
        "{log}"
    );
}

#[test]
fn a_clone_that_keeps_failing_gives_up_after_the_retry_budget() {
    let repo = seed();
    let before = repo.tip("main");
    let server = SmartHttpServer::start(repo.root(), "tok");
    server.close_next_connections(1000);
    let err = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "x".into(), "m"),
    )
    .expect_err("every clone fails");
    assert!(
        matches!(err, GitError::RetriesExhausted { .. }),
        "got {err:?}"
    );
    assert!(err.to_string().contains("failed during clone"), "{err}");
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn a_silent_server_is_abandoned_after_the_idle_timeout_with_a_clear_message() {
    git_server::init();
    let silent = SilentServer::start();
    for url in [
        format!("git://{}/config.git", silent.host()),
        format!("{}/config.git", silent.url()),
    ] {
        let options = WriteBackOptions {
            timeouts: Timeouts {
                idle: Duration::from_secs(1),
                ..Timeouts::default()
            },
            ..WriteBackOptions::default()
        };
        let err = write_back(
            &spec(url.clone()),
            &options,
            &mut |_| {},
            set_file(VALUES, "x".into(), "m"),
        )
        .expect_err("nobody answers");
        assert!(
            matches!(err, GitError::Timeout { .. }),
            "{url}: got {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&silent.host())
                && text.contains("clone")
                && text.contains("received nothing for 1 s"),
            "{text}"
        );
    }
}

#[test]
fn the_default_timeouts_are_a_one_minute_idle_limit_inside_a_longer_overall_one() {
    let defaults = WriteBackOptions::default();
    assert_eq!(defaults.timeouts.idle, Duration::from_secs(60));
    assert!(defaults.timeouts.overall >= Duration::from_secs(90));
}

#[test]
fn the_token_is_not_sent_to_another_host_after_a_redirect() {
    let repo = seed();
    let before = repo.tip("main");
    let elsewhere = SmartHttpServer::start(repo.root(), "s3cret-token");
    let named = SmartHttpServer::start(repo.root(), "s3cret-token");
    named.redirect_everything_to(elsewhere.url("").trim_end_matches('/'));
    let err = write_back(
        &token_spec(named.url(repo.name()), "s3cret-token"),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "x".into(), "m"),
    )
    .expect_err("the other host gets no credentials");
    assert!(matches!(err, GitError::Auth { .. }), "got {err:?}");
    assert!(
        elsewhere.credentials_seen().is_empty(),
        "credentials reached the redirect target: {:?}",
        elsewhere.credentials_seen()
    );
    assert!(elsewhere.requests() > 0, "the redirect was followed");
    assert!(!err.to_string().contains("s3cret-token"));
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn command_running_transports_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("pwned");
    let url = format!("ext::sh -c touch% {}", marker.display());
    let err = write_back(
        &spec(url),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "x".into(), "m"),
    )
    .expect_err("refused");
    assert!(matches!(err, GitError::InvalidInput { .. }), "got {err:?}");
    assert!(
        err.to_string().contains("'ext' transport is not allowed"),
        "{err}"
    );
    assert!(!marker.exists());
}

#[test]
fn a_closed_port_is_unreachable() {
    git_server::init();
    let port = git_server::free_port();
    for url in [
        format!("git://127.0.0.1:{port}/config.git"),
        format!("http://127.0.0.1:{port}/config.git"),
    ] {
        let err = write_back(
            &spec(url.clone()),
            &opts(),
            &mut |_| {},
            set_file(VALUES, "x".into(), "m"),
        )
        .expect_err("nothing listens there");
        assert!(
            matches!(err, GitError::Unreachable { .. }),
            "{url}: got {err:?}"
        );
    }
}

#[test]
fn a_missing_branch_is_reported_as_such() {
    let repo = seed();
    let daemon = GitDaemon::start(repo.root());
    for url in [repo.file_url(), daemon.url(repo.name())] {
        let err = write_back(
            &RemoteSpec {
                branch: Some("release-9".into()),
                ..spec(url.clone())
            },
            &opts(),
            &mut |_| {},
            set_file(VALUES, "x".into(), "m"),
        )
        .expect_err("no such branch");
        match err {
            GitError::BranchNotFound { branch, .. } => assert_eq!(branch, "release-9"),
            other => panic!("{url}: expected BranchNotFound, got {other:?}"),
        }
    }
}

/// git-daemon(1): a repository that is not there is refused with "no such repository"
/// (`--informative-errors`) or "access denied or repository not exported" (the default);
/// git:// has no credentials, so neither is an authentication failure.
#[test]
fn a_missing_repository_on_git_daemon_is_not_found_not_an_auth_failure() {
    let repo = seed();
    for informative in [true, false] {
        let daemon = GitDaemon::start_read_only(repo.root(), informative);
        let url = daemon.url("no-such-repo.git");
        let err = write_back(
            &spec(url.clone()),
            &opts(),
            &mut |_| {},
            set_file(VALUES, "x".into(), "never"),
        )
        .expect_err("no such repository");
        let shown = err.to_string();
        assert!(
            matches!(err, GitError::RepoNotFound { .. }),
            "informative={informative}: {err:?}"
        );
        assert!(
            shown.contains("not found (or not exported / no access)") && shown.contains(&url),
            "{shown}"
        );
        assert!(
            !shown.contains("authentication") && !shown.contains("token"),
            "{shown}"
        );
    }
}

/// git-daemon(1): `receive-pack` is off unless enabled ("service not enabled", or
/// without `--informative-errors` "access denied or repository not exported"): the
/// clone works, the push is refused, and tagbump says that pushes are not allowed.
#[test]
fn a_git_daemon_without_receive_pack_says_pushes_are_not_allowed() {
    let repo = seed();
    let before = repo.tip("main");
    for informative in [true, false] {
        let daemon = GitDaemon::start_read_only(repo.root(), informative);
        let mut runs = 0;
        let err = write_back(
            &spec(daemon.url(repo.name())),
            &opts(),
            &mut |_| {},
            |root: &Path| {
                runs += 1;
                set_file(VALUES, "image:\n  tag: v7\n".into(), "web: v7")(root)
            },
        )
        .expect_err("pushes are off");
        let shown = err.to_string();
        assert!(
            matches!(err, GitError::PushNotAllowed { .. }),
            "informative={informative}: {err:?}"
        );
        assert!(shown.contains("pushes not allowed"), "{shown}");
        assert!(!shown.contains("authentication"), "{shown}");
        assert_eq!(runs, 1, "cloned and edited once, not retried");
        assert_eq!(repo.tip("main"), before);
    }
}
