//! Local mode (`commit_local`): the edit is committed in the CI's own checkout and
//! pushed to its upstream.

use super::*;

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
