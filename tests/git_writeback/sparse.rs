//! Sparse partial clones: only the paths the edit needs are fetched and checked out.

use super::*;

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
