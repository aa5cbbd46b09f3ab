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

/// An unrelated staged file and an unstaged edit in the file the edit changes: the edit
/// is refused (the user's edit and ours cannot be told apart in one commit), naming the
/// file, and the checkout is exactly as it was: nothing committed, the file's bytes
/// back, the staged file still staged.
#[test]
fn local_mode_refuses_an_edit_of_a_file_with_uncommitted_changes() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    std::fs::write(checkout.join("notes.txt"), "staged, unrelated\n").expect("write");
    git_server::git(&checkout, &["add", "notes.txt"]);
    let users = "image:\n  tag: v1\n  pullPolicy: Always # the user's own edit\n";
    std::fs::write(checkout.join(VALUES), users).expect("write");
    let head = git_server::git(&checkout, &["rev-parse", "HEAD"]);
    let status = git_server::git(&checkout, &["status", "--porcelain"]);

    let err = commit_local(
        &checkout,
        None,
        &opts(),
        &mut |_| {},
        set_file(
            VALUES,
            "image:\n  tag: v17\n  pullPolicy: Always # the user's own edit\n".into(),
            "web: v17",
        ),
    )
    .expect_err("must refuse");
    assert!(matches!(err, GitError::DirtyWorktree { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(VALUES) && !shown.contains("notes.txt"),
        "{shown}"
    );
    assert_eq!(git_server::git(&checkout, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        std::fs::read_to_string(checkout.join(VALUES)).expect("read"),
        users,
        "the user's bytes are back"
    );
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]),
        status,
        "index and worktree as before"
    );
}

/// A staged change (nothing unstaged) to the file the edit changes is refused too.
#[test]
fn local_mode_refuses_an_edit_of_a_file_with_staged_changes() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    std::fs::write(checkout.join(VALUES), "image:\n  tag: v1-rc\n").expect("write");
    git_server::git(&checkout, &["add", VALUES]);
    let err = commit_local(
        &checkout,
        None,
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v18\n".into(), "web: v18"),
    )
    .expect_err("must refuse");
    assert!(matches!(err, GitError::DirtyWorktree { .. }), "{err:?}");
    assert!(err.to_string().contains(VALUES), "{err}");
    assert_eq!(
        std::fs::read_to_string(checkout.join(VALUES)).expect("read"),
        "image:\n  tag: v1-rc\n"
    );
    assert_eq!(
        git_server::git(&checkout, &["diff", "--cached", "--name-only"]).trim(),
        VALUES,
        "still staged"
    );
}

/// Other staged changes are neither committed nor unstaged: the commit holds exactly
/// the edited path, and the staged file (and its staged content) is still in the index.
#[test]
fn local_mode_commits_only_the_edit_and_leaves_other_staged_changes_staged() {
    let repo = seed();
    let dir = local_checkout(&repo);
    let checkout = dir.path().join("checkout");
    std::fs::write(checkout.join("README.md"), "staged README edit\n").expect("write");
    std::fs::write(checkout.join("notes.txt"), "staged new file\n").expect("write");
    git_server::git(&checkout, &["add", "README.md", "notes.txt"]);
    std::fs::write(
        checkout.join("README.md"),
        "staged README edit\nand more, unstaged\n",
    )
    .expect("write");

    let outcome = commit_local(
        &checkout,
        Some(&Auth::Anonymous),
        &opts(),
        &mut |_| {},
        set_file(VALUES, "image:\n  tag: v19\n".into(), "web: v19"),
    )
    .expect("commit + push");
    assert_eq!(repo.tip("main"), outcome.commit);
    assert_eq!(
        git_server::git(&checkout, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        VALUES,
        "only the edited path is in the commit"
    );
    assert_eq!(
        repo.read_file("main", "README.md").as_deref(),
        Some("config repo\n")
    );
    assert_eq!(repo.read_file("main", "notes.txt"), None);
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]),
        "MM README.md\nA  notes.txt\n",
        "the other staged changes are still staged, the unstaged one unstaged"
    );
    assert_eq!(
        git_server::git(&checkout, &["show", ":README.md"]),
        "staged README edit\n"
    );
}
