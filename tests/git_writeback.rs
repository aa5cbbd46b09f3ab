//! Specification of `tagbump::git`: clone → edit → commit → push against real git
//! servers on 127.0.0.1 (file://, git daemon, smart HTTP), including races,
//! rejections, broken connections and secret hygiene.

use crate::support;

// Along its seams, in submodules of this one test binary.
#[path = "git_writeback/failures.rs"]
mod failures;
#[path = "git_writeback/local.rs"]
mod local;
#[path = "git_writeback/sparse.rs"]
mod sparse;

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
