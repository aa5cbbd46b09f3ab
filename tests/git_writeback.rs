//! Specification of `tagbump::git`: clone → edit → commit → push against real git
//! servers on 127.0.0.1 (file://, git daemon, smart HTTP), including races,
//! rejections, broken connections and secret hygiene.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};
use tagbump::git::{
    commit_local, write_back, Applied, ApplyResult, Auth, CommitInfo, GitError, Identity,
    RemoteSpec, RetryPolicy, Timeouts, WriteBackOptions,
};
use tagbump::secret::Secret;

/// `len` bytes of hex noise (does not compress below ~50%).
fn incompressible(len: usize) -> String {
    noise(0, len)
}

/// `len` bytes of hex noise, different for each `seed` (so no two files delta well).
fn noise(seed: u64, len: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 64 == 63 {
                '\n'
            } else {
                char::from(b"0123456789abcdef"[(x & 15) as usize])
            }
        })
        .collect()
}

const VALUES: &str = "apps/web/values.yaml";

fn seed() -> BareRepo {
    BareRepo::new_with(
        &[
            (VALUES, "image:\n  tag: v1\n"),
            ("README.md", "config repo\n"),
        ],
        "main",
    )
}

fn info(message: &str) -> CommitInfo {
    CommitInfo {
        message: message.to_string(),
        author: Identity {
            name: "Release Pipeline".into(),
            email: "pipeline@ci.example".into(),
        },
        committer: Identity {
            name: "tagbump[bot]".into(),
            email: "bot@tagbump.example".into(),
        },
    }
}

fn spec(url: String) -> RemoteSpec {
    RemoteSpec {
        url,
        branch: Some("main".into()),
        auth: Auth::Anonymous,
        ca_bundle: None,
    }
}

fn token_spec(url: String, token: &str) -> RemoteSpec {
    RemoteSpec {
        auth: Auth::Token {
            username: "x-access-token".into(),
            token: Secret::new(token),
        },
        ..spec(url)
    }
}

/// Quick retries for the tests that provoke exactly one race; at most `max_attempts`.
fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        retry_for: Duration::from_secs(60),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_attempts: Some(max_attempts),
    }
}

fn opts() -> WriteBackOptions {
    WriteBackOptions {
        retry: fast_retry(5),
        ..WriteBackOptions::default()
    }
}

/// An edit that writes `content` to `file` and reports it.
fn set_file(
    file: &'static str,
    content: String,
    message: &str,
) -> impl FnMut(&Path) -> ApplyResult {
    let message = message.to_string();
    move |root: &Path| {
        let full = root.join(file);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&full, &content)?;
        Ok(Applied {
            files: vec![PathBuf::from(file)],
            commit: info(&message),
        })
    }
}

/// Collects log lines.
fn collect(lines: &Arc<Mutex<Vec<String>>>) -> impl FnMut(&str) + '_ {
    move |line: &str| lines.lock().expect("log lock").push(line.to_string())
}

fn assert_pushed_exactly(repo: &BareRepo, message: &str) {
    assert_eq!(
        repo.log("main", "%an <%ae>|%cn <%ce>|%B")
            .first()
            .map(String::as_str),
        Some(&*format!(
            "Release Pipeline <pipeline@ci.example>|tagbump[bot] <bot@tagbump.example>|{message}"
        ))
    );
}

#[test]
fn file_url_clone_edit_commit_push_lands_exactly_and_clones_shallow() {
    let repo = seed();
    let keep = tempfile::tempdir().expect("tempdir");
    let options = WriteBackOptions {
        keep_clone: Some(keep.path().to_path_buf()),
        ..opts()
    };
    let before = repo.tip("main").expect("tip");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let outcome = write_back(
        &spec(repo.file_url()),
        &options,
        &mut collect(&lines),
        set_file(VALUES, "image:\n  tag: v2\n".into(), "web: v1 -> v2"),
    )
    .expect("write-back succeeds");

    assert!(outcome.changed);
    assert_eq!(outcome.attempts, 1);
    assert_eq!(outcome.branch, "main");
    assert_eq!(outcome.base_branch, "main");
    assert_eq!(outcome.files, vec![PathBuf::from(VALUES)]);
    assert_eq!(
        outcome.commit,
        repo.tip("main"),
        "the reported commit is the new tip"
    );
    assert_eq!(
        repo.read_file("main", VALUES).as_deref(),
        Some("image:\n  tag: v2\n")
    );
    assert_eq!(
        repo.read_file("main", "README.md").as_deref(),
        Some("config repo\n")
    );
    assert_pushed_exactly(&repo, "web: v1 -> v2");
    assert_eq!(repo.commit_count("main"), 2);
    assert_eq!(
        repo.log("main", "%P").first().map(String::as_str),
        Some(before.as_str()),
        "the commit sits directly on the previous tip"
    );
    // Exactly one file changed in the commit.
    let changed = git_server::git(repo.path(), &["show", "--name-only", "--format=", "main"]);
    assert_eq!(changed.trim(), VALUES);

    let clone = keep.path().join("repo");
    assert!(
        clone.join(".git").join("shallow").is_file(),
        "the clone was shallow"
    );
    assert_eq!(
        git_server::git(&clone, &["rev-list", "--count", "--all"]).trim(),
        "2",
        "only the tip and our commit exist locally"
    );
    assert!(lines
        .lock()
        .expect("lock")
        .iter()
        .any(|l| l.contains("shallow")));
}

#[test]
fn git_daemon_push_lands() {
    let repo = seed();
    let daemon = GitDaemon::start(repo.root());
    let outcome = write_back(
        &spec(daemon.url(repo.name())),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v3\n".into(), "web: v3"),
    )
    .expect("write-back over git://");
    assert!(outcome.changed);
    assert_eq!(
        repo.read_file("main", VALUES).as_deref(),
        Some("image:\n  tag: v3\n")
    );
    assert_pushed_exactly(&repo, "web: v3");
}

#[test]
fn smart_http_with_the_right_token_pushes_and_fetches_little() {
    let repo = BareRepo::new_with(
        &[
            (VALUES, "image:\n  tag: v1\n"),
            // History the shallow clone must not download.
            ("big/history.txt", &incompressible(200_000)),
        ],
        "main",
    );
    // Replace the big file in a second commit: a full clone would fetch it, a depth-1 clone must not.
    repo.commit_files("main", &[("big/history.txt", "trimmed\n")], "trim history");
    let server = SmartHttpServer::start(repo.root(), "s3cret-http-token");
    let outcome = write_back(
        &token_spec(server.url(repo.name()), "s3cret-http-token"),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v4\n".into(), "web: v4"),
    )
    .expect("write-back over smart HTTP");
    assert!(outcome.changed);
    assert_eq!(
        repo.read_file("main", VALUES).as_deref(),
        Some("image:\n  tag: v4\n")
    );
    assert_pushed_exactly(&repo, "web: v4");
    assert!(
        server.unauthorized() >= 1,
        "the server demanded credentials"
    );
    // The old 200 KB incompressible blob was not transferred.
    assert!(
        server.bytes_sent() < 20_000,
        "shallow clone fetched {} bytes",
        server.bytes_sent()
    );
}

#[test]
fn anonymous_smart_http_clones_in_process_shallowly_and_pushes() {
    let repo = BareRepo::new_with(
        &[
            (VALUES, "image:\n  tag: v1\n"),
            ("big/history.txt", &incompressible(200_000)),
        ],
        "main",
    );
    repo.commit_files("main", &[("big/history.txt", "trimmed\n")], "trim history");
    let server = SmartHttpServer::start_anonymous(repo.root());
    let outcome = write_back(
        &spec(server.url(repo.name())),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v4\n".into(), "web: v4"),
    )
    .expect("write-back over anonymous smart HTTP");
    assert!(outcome.changed);
    assert_pushed_exactly(&repo, "web: v4");
    let shallow_bytes = server.bytes_sent();
    assert!(
        shallow_bytes < 20_000,
        "shallow clone fetched {shallow_bytes} bytes"
    );

    // For comparison, a full clone of the same repository downloads the old history.
    let full = tempfile::tempdir().expect("tempdir");
    git_server::git(
        full.path(),
        &["clone", "--quiet", &server.url(repo.name()), "full"],
    );
    let full_bytes = server.bytes_sent() - shallow_bytes;
    assert!(
        full_bytes > 5 * shallow_bytes && full_bytes > 50_000,
        "full clone: {full_bytes} bytes, ours: {shallow_bytes}"
    );
}

#[test]
fn wrong_token_is_an_auth_error_without_the_token_and_changes_nothing() {
    let repo = seed();
    let before = repo.tip("main");
    let server = SmartHttpServer::start(repo.root(), "the-right-token");
    let wrong = "wr0ng-t0ken-ABCDEF123456";
    let err = write_back(
        &token_spec(server.url(repo.name()), wrong),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "x".into(), "never"),
    )
    .expect_err("must fail");
    assert!(matches!(err, GitError::Auth { .. }), "got {err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong), "token leaked: {shown}");
    assert!(shown.contains("write permission"), "hint missing: {shown}");
    assert!(
        shown.contains(&server.url(repo.name())),
        "URL missing: {shown}"
    );
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn no_change_means_no_commit_and_an_untouched_remote() {
    let repo = seed();
    let before = repo.tip("main");
    let outcome = write_back(
        &spec(repo.file_url()),
        &opts(),
        &mut |_| {},
        // Rewrites the same content and reports it: not a change.
        set_file(VALUES, "image:\n  tag: v1\n".into(), "noop"),
    )
    .expect("succeeds");
    assert!(!outcome.changed);
    assert_eq!(outcome.commit, None);
    assert_eq!(repo.tip("main"), before);

    let outcome = write_back(&spec(repo.file_url()), &opts(), &mut |_| {}, |_: &Path| {
        Ok(Applied {
            files: vec![],
            commit: info("nothing"),
        })
    })
    .expect("succeeds");
    assert!(!outcome.changed);
    assert_eq!(repo.tip("main"), before);
}

#[test]
fn a_race_is_resolved_by_re_applying_on_the_new_tip() {
    let repo = seed();
    let daemon = GitDaemon::start(repo.root());
    let mut runs = 0;
    let mut saw_competitor_on_rerun = false;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let outcome = write_back(
        &spec(daemon.url(repo.name())),
        &opts(),
        &mut collect(&lines),
        |root: &Path| {
            runs += 1;
            if runs == 1 {
                // Another pipeline pushes while we are editing.
                repo.commit_files("main", &[("apps/api/values.yaml", "tag: a7\n")], "api: a7");
            } else {
                saw_competitor_on_rerun = root.join("apps/api/values.yaml").is_file();
            }
            std::fs::write(root.join(VALUES), "image:\n  tag: v5\n")?;
            Ok(Applied {
                files: vec![PathBuf::from(VALUES)],
                commit: info("web: v5"),
            })
        },
    )
    .expect("converges");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(runs, 2, "the edit closure re-ran on the fresh tree");
    assert!(
        saw_competitor_on_rerun,
        "the re-run saw the competing commit's file"
    );
    assert_eq!(
        repo.log("main", "%s"),
        vec!["web: v5".to_string(), "api: a7".into(), "seed".into()],
        "both commits landed, ours on top"
    );
    assert!(repo.is_linear("main"));
    assert_eq!(
        repo.read_file("main", "apps/api/values.yaml").as_deref(),
        Some("tag: a7\n")
    );
    assert_eq!(
        repo.read_file("main", VALUES).as_deref(),
        Some("image:\n  tag: v5\n")
    );
    assert!(
        lines
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.starts_with("attempt 1: push to") && l.contains("rejected")),
        "the retry was logged: {:?}",
        lines.lock().expect("lock")
    );
}

#[test]
fn twenty_concurrent_writers_all_land_in_a_linear_history() {
    let repo = seed();
    let daemon = GitDaemon::start(repo.root());
    let url = daemon.url(repo.name());
    let handles: Vec<_> = (0..20)
        .map(|n| {
            let url = url.clone();
            std::thread::spawn(move || {
                // The defaults users get: no tuning for the test.
                let options = WriteBackOptions::default();
                let file = format!("apps/app{n}/values.txt");
                write_back(&spec(url), &options, &mut |_| {}, move |root: &Path| {
                    let full = root.join(&file);
                    std::fs::create_dir_all(full.parent().expect("parent"))?;
                    std::fs::write(&full, format!("tag: {n}\n"))?;
                    Ok(Applied {
                        files: vec![PathBuf::from(&file)],
                        commit: info(&format!("app{n}: bump")),
                    })
                })
            })
        })
        .collect();
    for handle in handles {
        let outcome = handle
            .join()
            .expect("thread")
            .expect("write-back converges");
        assert!(outcome.changed);
    }
    assert_eq!(repo.commit_count("main"), 21, "seed + 20 bumps");
    assert!(repo.is_linear("main"), "every commit has one parent");
    for n in 0..20 {
        assert_eq!(
            repo.read_file("main", &format!("apps/app{n}/values.txt")),
            Some(format!("tag: {n}\n"))
        );
    }
}

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

/// A server that accepts connections and never says a word.
struct SilentServer {
    port: u16,
    _accepted: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().expect("lock").push(stream);
            }
        });
        SilentServer {
            port,
            _accepted: accepted,
        }
    }
}

#[test]
fn a_silent_server_is_abandoned_after_the_idle_timeout_with_a_clear_message() {
    git_server::init();
    let silent = SilentServer::start();
    for url in [
        format!("git://127.0.0.1:{}/config.git", silent.port),
        format!("http://127.0.0.1:{}/config.git", silent.port),
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
            text.contains(&format!("127.0.0.1:{}", silent.port))
                && text.contains("clone")
                && text.contains("received nothing for 1 s"),
            "{text}"
        );
    }
}

#[test]
fn the_default_idle_timeout_fails_a_silent_server_well_within_90_seconds() {
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

#[test]
fn the_default_branch_is_the_remotes_head() {
    let repo = BareRepo::new_with(&[(VALUES, "tag: v1\n")], "trunk");
    let outcome = write_back(
        &RemoteSpec {
            branch: None,
            ..spec(repo.file_url())
        },
        &opts(),
        &mut |_| {},
        set_file(VALUES, "tag: v2\n".into(), "bump"),
    )
    .expect("succeeds");
    assert_eq!(outcome.base_branch, "trunk");
    assert_eq!(outcome.branch, "trunk");
    assert_eq!(
        repo.read_file("trunk", VALUES).as_deref(),
        Some("tag: v2\n")
    );
}

#[test]
fn the_token_appears_nowhere() {
    let token = "ghp_Distinct1veT0kenValue9876543210";
    let repo = seed();
    let server = SmartHttpServer::start(repo.root(), token);
    let keep = tempfile::tempdir().expect("tempdir");
    let lines = Arc::new(Mutex::new(Vec::new()));

    // Success path: logs, kept clone.
    let outcome = write_back(
        &token_spec(server.url(repo.name()), token),
        &WriteBackOptions {
            keep_clone: Some(keep.path().to_path_buf()),
            push_branch: Some("tagbump/web".into()),
            ..opts()
        },
        &mut collect(&lines),
        set_file(VALUES, "image:\n  tag: v8\n".into(), "web: v8"),
    )
    .expect("succeeds");
    assert!(outcome.changed);

    // Failure paths: hook rejection (pushes over HTTP with the token) and a URL with
    // the token embedded, against a server expecting another token.
    repo.reject_pushes_with("nope");
    let rejected = write_back(
        &token_spec(server.url(repo.name()), token),
        &opts(),
        &mut collect(&lines),
        set_file(VALUES, "image:\n  tag: v9\n".into(), "web: v9"),
    )
    .expect_err("rejected");
    let other_server = SmartHttpServer::start(repo.root(), "another-token");
    let embedded = other_server
        .url(repo.name())
        .replace("http://", &format!("http://bot:{token}@"));
    let auth_failed = write_back(
        &spec(embedded),
        &opts(),
        &mut collect(&lines),
        set_file(VALUES, "x".into(), "m"),
    )
    .expect_err("wrong token for that server");
    assert!(
        matches!(auth_failed, GitError::Auth { .. }),
        "{auth_failed:?}"
    );

    let mut everything = lines.lock().expect("lock").join("\n");
    everything.push_str(&format!(
        "\n{rejected}\n{rejected:?}\n{auth_failed}\n{auth_failed:?}\n"
    ));
    let config =
        std::fs::read_to_string(keep.path().join("repo/.git/config")).expect("kept clone config");
    everything.push_str(&config);
    everything.push_str(&git_server::spawned_git_argv());
    assert!(
        !everything.contains(token),
        "token leaked somewhere:\n{everything}"
    );
    assert!(
        config.contains(&server.url(repo.name())),
        "the clone's remote URL is credential-free: {config}"
    );
    assert!(
        git_server::spawned_git_argv().contains("push"),
        "git push was spawned through PATH, so its argv was recorded"
    );
}

#[test]
fn push_branch_is_created_from_the_base_tip_and_updated_on_rerun() {
    let repo = seed();
    let server = SmartHttpServer::start(repo.root(), "tok");
    let base = repo.tip("main").expect("tip");
    let options = WriteBackOptions {
        push_branch: Some("tagbump/web".into()),
        ..opts()
    };
    let first = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &options,
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v10\n".into(), "web: v10"),
    )
    .expect("creates the bot branch");
    assert_eq!(first.branch, "tagbump/web");
    assert_eq!(first.base_branch, "main");
    assert_eq!(
        repo.tip("main").as_deref(),
        Some(base.as_str()),
        "base untouched"
    );
    assert_eq!(repo.tip("tagbump/web"), first.commit);
    assert_eq!(
        repo.log("tagbump/web", "%s"),
        vec!["web: v10".to_string(), "seed".into()]
    );

    let second = write_back(
        &token_spec(server.url(repo.name()), "tok"),
        &options,
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v11\n".into(), "web: v11"),
    )
    .expect("updates the bot branch");
    assert_eq!(
        second.attempts, 1,
        "the observed lease matched on the first try"
    );
    assert_eq!(repo.tip("tagbump/web"), second.commit);
    assert_ne!(first.commit, second.commit);
    assert_eq!(
        repo.log("tagbump/web", "%s"),
        vec!["web: v11".to_string(), "seed".into()],
        "rebuilt from the base tip, not stacked"
    );
    assert_eq!(
        repo.read_file("tagbump/web", VALUES).as_deref(),
        Some("image:\n  tag: v11\n")
    );
    assert_eq!(repo.tip("main").as_deref(), Some(base.as_str()));

    // Same again over git:// (the in-process gix transport observes the lease).
    let daemon = GitDaemon::start(repo.root());
    let third = write_back(
        &spec(daemon.url(repo.name())),
        &options,
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v12\n".into(), "web: v12"),
    )
    .expect("updates the bot branch over git://");
    assert_eq!(
        third.attempts, 1,
        "the observed lease matched on the first try"
    );
    assert_eq!(repo.tip("tagbump/web"), third.commit);
    assert_eq!(
        repo.log("tagbump/web", "%s"),
        vec!["web: v12".to_string(), "seed".into()]
    );
    assert_eq!(repo.tip("main").as_deref(), Some(base.as_str()));
}

#[test]
fn dry_run_runs_the_edit_on_a_real_clone_and_pushes_nothing() {
    let repo = seed();
    let before = repo.tip("main");
    let mut seen = String::new();
    let outcome = write_back(
        &spec(repo.file_url()),
        &WriteBackOptions {
            dry_run: true,
            ..opts()
        },
        &mut |_| {},
        |root: &Path| {
            seen = std::fs::read_to_string(root.join(VALUES))?;
            set_file(VALUES, "image:\n  tag: v12\n".into(), "web: v12")(root)
        },
    )
    .expect("dry run");
    assert_eq!(seen, "image:\n  tag: v1\n");
    assert!(outcome.changed);
    assert_eq!(outcome.commit, None);
    assert_eq!(repo.tip("main"), before);
    assert_eq!(repo.branches(), vec!["main".to_string()]);
}

#[test]
fn an_edit_error_is_passed_through() {
    let repo = seed();
    let err = write_back(&spec(repo.file_url()), &opts(), &mut |_| {}, |_: &Path| {
        Err("values file is not valid YAML".into())
    })
    .expect_err("edit fails");
    match err {
        GitError::Apply(inner) => assert_eq!(inner.to_string(), "values file is not valid YAML"),
        other => panic!("expected Apply, got {other:?}"),
    }
}

/// A working clone of `repo` made by the test, as a CI checkout would be.
fn local_checkout(repo: &BareRepo) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git_server::git(
        dir.path(),
        &["clone", "--quiet", &repo.file_url(), "checkout"],
    );
    dir
}

#[test]
fn local_mode_commits_and_pushes_to_the_upstream() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    let outcome = commit_local(
        &checkout,
        Some(&Auth::Anonymous),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v13\n".into(), "web: v13"),
    )
    .expect("local commit + push");
    assert!(outcome.changed);
    assert_eq!(outcome.attempts, 1);
    assert_eq!(repo.tip("main"), outcome.commit);
    assert_pushed_exactly(&repo, "web: v13");
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]).trim(),
        "",
        "index and worktree agree with the new commit"
    );
}

#[test]
fn local_mode_without_push_only_commits() {
    let repo = seed();
    let before = repo.tip("main");
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    std::fs::write(checkout.join("README.md"), "unrelated local edit\n").expect("write");
    let outcome = commit_local(
        &checkout,
        None,
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v14\n".into(), "web: v14"),
    )
    .expect("local commit");
    assert_eq!(repo.tip("main"), before, "nothing pushed");
    let head = git_server::git(&checkout, &["rev-parse", "HEAD"]);
    assert_eq!(Some(head.trim().to_string()), outcome.commit);
    assert_eq!(
        git_server::git(&checkout, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        VALUES,
        "only the reported file is in the commit"
    );
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]).trim(),
        "M README.md",
        "the unrelated edit is left alone"
    );
}

#[test]
fn local_mode_re_applies_after_a_rejected_push() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    let mut runs = 0;
    let outcome = commit_local(
        &checkout,
        Some(&Auth::Anonymous),
        &opts(),
        &mut |_| {},
        |root: &Path| {
            runs += 1;
            if runs == 1 {
                repo.commit_files("main", &[("apps/api/values.yaml", "tag: a8\n")], "api: a8");
            }
            set_file(VALUES, "image:\n  tag: v15\n".into(), "web: v15")(root)
        },
    )
    .expect("converges");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(runs, 2);
    assert_eq!(
        repo.log("main", "%s"),
        vec!["web: v15".to_string(), "api: a8".into(), "seed".into()]
    );
    assert!(repo.is_linear("main"));
    assert!(
        checkout.join("apps/api/values.yaml").is_file(),
        "the checkout moved to the new tip"
    );
    assert_eq!(repo.tip("main"), outcome.commit);
}

#[test]
fn local_mode_refuses_to_reset_a_dirty_checkout() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    std::fs::write(checkout.join("README.md"), "precious uncommitted work\n").expect("write");
    let mut runs = 0;
    let err = commit_local(
        &checkout,
        Some(&Auth::Anonymous),
        &opts(),
        &mut |_| {},
        |root: &Path| {
            runs += 1;
            if runs == 1 {
                repo.commit_files("main", &[("other.txt", "x\n")], "other");
            }
            set_file(VALUES, "image:\n  tag: v16\n".into(), "web: v16")(root)
        },
    )
    .expect_err("must not reset");
    assert!(matches!(err, GitError::DirtyWorktree { .. }), "{err:?}");
    assert!(err.to_string().contains("README.md"));
    assert_eq!(
        std::fs::read_to_string(checkout.join("README.md")).expect("read"),
        "precious uncommitted work\n"
    );
    assert_eq!(runs, 1);
}

// ---------------------------------------------------------------- sparse partial clones

/// Write-back options that check out only `paths`.
fn sparse_opts(paths: &[&str]) -> WriteBackOptions {
    WriteBackOptions {
        sparse_paths: Some(paths.iter().map(PathBuf::from).collect()),
        ..opts()
    }
}

/// Every file of a checkout (relative, `/`-separated, sorted), `.git` excluded.
fn files_in(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

fn apps_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            ("apps/app1/values.yaml", "image:\n  tag: v1\n"),
            ("apps/app2/values.yaml", "image:\n  tag: v1\n"),
            ("apps/app2/extra.yaml", "replicas: 2\n"),
            ("README.md", "config repo\n"),
        ],
        "main",
    )
}

#[test]
fn sparse_write_back_over_smart_http_sees_only_the_requested_file_and_lands_exactly() {
    let repo = apps_repo();
    let server = SmartHttpServer::start(repo.root(), "sparse-http-token");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut seen = Vec::new();
    let outcome = write_back(
        &token_spec(server.url(repo.name()), "sparse-http-token"),
        &sparse_opts(&["apps/app1/values.yaml"]),
        &mut collect(&lines),
        |root: &Path| {
            seen = files_in(root);
            // The content was fetched lazily, with the token, from the promisor remote.
            let before = std::fs::read_to_string(root.join("apps/app1/values.yaml"))?;
            std::fs::write(
                root.join("apps/app1/values.yaml"),
                before.replace("v1", "v2"),
            )?;
            Ok(Applied {
                files: vec![PathBuf::from("apps/app1/values.yaml")],
                commit: info("app1: v2"),
            })
        },
    )
    .expect("sparse write-back over smart HTTP");

    assert_eq!(seen, vec!["apps/app1/values.yaml".to_string()]);
    assert!(outcome.changed);
    assert_eq!(outcome.attempts, 1);
    assert_pushed_exactly(&repo, "app1: v2");
    assert_eq!(repo.commit_count("main"), 2);
    assert_eq!(
        repo.changed_in_tip("main"),
        vec!["apps/app1/values.yaml".to_string()],
        "files outside the sparse paths are neither deleted nor changed by the commit"
    );
    assert_eq!(
        repo.read_file("main", "apps/app1/values.yaml").as_deref(),
        Some("image:\n  tag: v2\n")
    );
    assert_eq!(
        repo.read_file("main", "apps/app2/values.yaml").as_deref(),
        Some("image:\n  tag: v1\n")
    );
    assert_eq!(
        repo.read_file("main", "README.md").as_deref(),
        Some("config repo\n")
    );
    let lines = lines.lock().expect("lock");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("blob-less") && l.contains("1 sparse path")),
        "the sparse clone was logged: {lines:?}"
    );
}

#[test]
fn a_sparse_clone_fetches_far_less_than_a_full_shallow_clone_of_a_large_repository() {
    let contents: Vec<(String, String)> = (0..2_000)
        .map(|n| {
            (
                format!("apps/app-{n}/values.yaml"),
                format!("image:\n  tag: v1\nnotes: |\n{}\n", noise(n + 1, 1_500)),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = contents
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let repo = BareRepo::new_with(&files, "main");
    let server = SmartHttpServer::start(repo.root(), "bytes-token");
    let url = server.url(repo.name());
    let bump = |tag: &'static str| {
        move |root: &Path| -> ApplyResult {
            let file = root.join("apps/app-1234/values.yaml");
            let text = std::fs::read_to_string(&file)?;
            let (_, rest) = text.split_once("notes:").ok_or("no notes")?;
            std::fs::write(&file, format!("image:\n  tag: {tag}\nnotes:{rest}"))?;
            Ok(Applied {
                files: vec![PathBuf::from("apps/app-1234/values.yaml")],
                commit: info(tag),
            })
        }
    };

    let start = server.bytes_sent();
    write_back(
        &token_spec(url.clone(), "bytes-token"),
        &opts(),
        &mut |_| {},
        bump("v2"),
    )
    .expect("full shallow write-back");
    let full = server.bytes_sent() - start;

    let start = server.bytes_sent();
    write_back(
        &token_spec(url, "bytes-token"),
        &sparse_opts(&["apps/app-1234/values.yaml"]),
        &mut |_| {},
        bump("v3"),
    )
    .expect("sparse write-back");
    let sparse = server.bytes_sent() - start;

    assert!(
        sparse * 3 < full,
        "sparse clone fetched {sparse} bytes, full shallow clone {full}"
    );
    assert!(repo
        .read_file("main", "apps/app-1234/values.yaml")
        .is_some_and(|t| t.starts_with("image:\n  tag: v3\nnotes: |\n")));
    assert_eq!(repo.log("main", "%s")[..2], ["v3".to_string(), "v2".into()]);
}

#[test]
fn a_sparse_race_re_clones_sparsely_and_re_applies_on_the_new_tip() {
    let repo = apps_repo();
    let daemon = GitDaemon::start(repo.root());
    let mut runs = 0;
    let mut seen = Vec::new();
    let outcome = write_back(
        &spec(daemon.url(repo.name())),
        &sparse_opts(&["apps/app2"]),
        &mut |_| {},
        |root: &Path| {
            runs += 1;
            seen.push(files_in(root));
            if runs == 1 {
                // Another pipeline pushes, inside and outside our paths, while we edit.
                repo.commit_files(
                    "main",
                    &[
                        ("apps/app2/extra.yaml", "replicas: 3\n"),
                        ("apps/app1/values.yaml", "image:\n  tag: a7\n"),
                    ],
                    "other: a7",
                );
            }
            // Derived from what this attempt's checkout holds.
            let extra = std::fs::read_to_string(root.join("apps/app2/extra.yaml"))?;
            let tag = if extra.contains('3') { "v3" } else { "v2" };
            std::fs::write(
                root.join("apps/app2/values.yaml"),
                format!("image:\n  tag: {tag}\n"),
            )?;
            Ok(Applied {
                files: vec![PathBuf::from("apps/app2/values.yaml")],
                commit: info(&format!("app2: {tag}")),
            })
        },
    )
    .expect("converges");

    assert_eq!(outcome.attempts, 2);
    let expected = vec![
        "apps/app2/extra.yaml".to_string(),
        "apps/app2/values.yaml".to_string(),
    ];
    assert_eq!(
        seen,
        vec![expected.clone(), expected],
        "both attempts were sparse"
    );
    assert_eq!(
        repo.log("main", "%s"),
        vec!["app2: v3".to_string(), "other: a7".into(), "seed".into()],
        "the re-run saw the competitor's content; both commits landed, ours on top"
    );
    assert!(repo.is_linear("main"));
    assert_eq!(
        repo.read_file("main", "apps/app1/values.yaml").as_deref(),
        Some("image:\n  tag: a7\n")
    );
    assert_eq!(
        repo.read_file("main", "apps/app2/values.yaml").as_deref(),
        Some("image:\n  tag: v3\n")
    );
}

#[test]
fn a_server_without_filter_support_still_gets_a_correct_sparse_write_back() {
    let repo = apps_repo();
    repo.set_config("uploadpack.allowFilter", "false");
    let daemon = GitDaemon::start(repo.root());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut seen = Vec::new();
    let outcome = write_back(
        &spec(daemon.url(repo.name())),
        &sparse_opts(&["apps/app1/values.yaml"]),
        &mut collect(&lines),
        |root: &Path| {
            seen = files_in(root);
            std::fs::write(root.join("apps/app1/values.yaml"), "image:\n  tag: v9\n")?;
            Ok(Applied {
                files: vec![PathBuf::from("apps/app1/values.yaml")],
                commit: info("app1: v9"),
            })
        },
    )
    .expect("falls back to an unfiltered clone");

    assert!(outcome.changed);
    assert_eq!(seen, vec!["apps/app1/values.yaml".to_string()]);
    assert_pushed_exactly(&repo, "app1: v9");
    assert_eq!(
        repo.changed_in_tip("main"),
        vec!["apps/app1/values.yaml".to_string()]
    );
    let lines = lines.lock().expect("lock");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("does not support partial clone")),
        "the fallback was logged: {lines:?}"
    );
}

#[test]
fn a_symbolic_link_in_the_sparse_paths_widens_the_checkout_to_the_whole_tip() {
    let repo = apps_repo();
    // apps/app3 is a link to apps/app2: its target lies outside the sparse path.
    let work = tempfile::tempdir().expect("tempdir");
    git_server::git(work.path(), &["clone", "--quiet", &repo.file_url(), "w"]);
    let w = work.path().join("w");
    std::os::unix::fs::symlink("app2", w.join("apps/app3")).expect("symlink");
    git_server::git(&w, &["add", "--all"]);
    git_server::git(&w, &["commit", "--quiet", "-m", "app3 -> app2"]);
    git_server::git(&w, &["push", "--quiet", "origin", "main"]);

    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut read = String::new();
    write_back(
        &spec(repo.file_url()),
        &sparse_opts(&["apps/app3/values.yaml"]),
        &mut collect(&lines),
        |root: &Path| {
            read = std::fs::read_to_string(root.join("apps/app3/values.yaml"))?;
            std::fs::write(root.join("apps/app2/values.yaml"), "image:\n  tag: v4\n")?;
            Ok(Applied {
                files: vec![PathBuf::from("apps/app2/values.yaml")],
                commit: info("app2 via app3: v4"),
            })
        },
    )
    .expect("write-back through the link");

    assert_eq!(
        read, "image:\n  tag: v1\n",
        "the link's target was checked out"
    );
    assert_eq!(
        repo.read_file("main", "apps/app2/values.yaml").as_deref(),
        Some("image:\n  tag: v4\n")
    );
    let lines = lines.lock().expect("lock");
    assert!(
        lines.iter().any(|l| l.contains("symbolic link apps/app3")),
        "the widening was logged: {lines:?}"
    );
}

#[test]
fn the_token_appears_nowhere_in_sparse_mode_either() {
    let token = "ghp_Sparse0nlyT0kenValue1234567890";
    let repo = apps_repo();
    let server = SmartHttpServer::start(repo.root(), token);
    let keep = tempfile::tempdir().expect("tempdir");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let argv_before = git_server::spawned_git_argv().len();

    let outcome = write_back(
        &token_spec(server.url(repo.name()), token),
        &WriteBackOptions {
            keep_clone: Some(keep.path().to_path_buf()),
            push_branch: Some("tagbump/app1".into()),
            ..sparse_opts(&["apps/app1/values.yaml"])
        },
        &mut collect(&lines),
        set_file(
            "apps/app1/values.yaml",
            "image:\n  tag: v8\n".into(),
            "app1: v8",
        ),
    )
    .expect("succeeds");
    assert!(outcome.changed);
    assert_eq!(
        repo.read_file("tagbump/app1", "apps/app1/values.yaml")
            .as_deref(),
        Some("image:\n  tag: v8\n")
    );

    // A wrong token fails the clone cleanly, without echoing the token.
    let failed = write_back(
        &token_spec(server.url(repo.name()), "ghp_Wr0ngSparseToken"),
        &sparse_opts(&["apps/app1/values.yaml"]),
        &mut collect(&lines),
        set_file("apps/app1/values.yaml", "x".into(), "m"),
    )
    .expect_err("wrong token");
    assert!(matches!(failed, GitError::Auth { .. }), "{failed:?}");

    let clone = keep.path().join("repo/.git");
    let config = std::fs::read_to_string(clone.join("config")).expect("kept clone config");
    assert!(
        config.contains("promisor = true"),
        "the kept clone is a partial clone: {config}"
    );
    let argv = git_server::spawned_git_argv()[argv_before..].to_string();
    assert!(argv.contains("--filter=blob:none") && argv.contains("read-tree"));
    let mut everything = lines.lock().expect("lock").join("\n");
    everything.push_str(&format!("\n{failed}\n{failed:?}\n"));
    everything.push_str(&config);
    everything.push_str(
        &std::fs::read_to_string(clone.join("info/sparse-checkout")).expect("sparse patterns"),
    );
    everything.push_str(&argv);
    for secret in [token, "ghp_Wr0ngSparseToken"] {
        assert!(
            !everything.contains(secret),
            "token leaked somewhere:\n{everything}"
        );
    }
}
