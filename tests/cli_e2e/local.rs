//! Local mode (`-C DIR`): files edited in place, `--dry-run`, and `--push` from a
//! local clone to its upstream.

use super::*;

#[test]
fn local_mode_edits_files_in_the_given_directory() {
    let (_guard, dir) = demo_copy();
    let home = home();
    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "-C"])
        .arg(&dir));
    out.assert_code(0);
    assert!(out.stdout.contains("updated 4 file(s)"), "{}", out.stdout);
    for (file, want) in demo_after_bump("1.5.0") {
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).expect("read"),
            want,
            "{file}"
        );
    }

    let set = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "backend.tag=1.5.0", "-C"])
        .arg(&dir));
    set.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(dir.join("apps/web/values.yaml")).expect("read"),
        demo_files()["apps/web/values.yaml"].replace("tag: \"1.4.2\"", "tag: \"1.5.0\"")
    );
}

#[test]
fn dry_run_prints_a_diff_and_touches_no_file() {
    let (_guard, dir) = demo_copy();
    let home = home();
    let files: Vec<PathBuf> = demo_files().keys().map(|k| dir.join(k)).collect();
    let stamp = |p: &PathBuf| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let before: Vec<_> = files.iter().map(stamp).collect();

    let out = run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--dry-run", "-C"])
        .arg(&dir));
    out.assert_code(0);
    assert!(out
        .stdout
        .contains("--- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml"));
    assert!(out
        .stdout
        .contains("-  tag: \"1.4.2\"                # tagbump writes here\n+  tag: \"1.5.0\"                # tagbump writes here"));
    assert!(out
        .stdout
        .contains("dry run: changes shown above were not written"));

    let after: Vec<_> = files.iter().map(stamp).collect();
    assert_eq!(before, after, "no file was rewritten");
    for (rel, content) in demo_files() {
        assert_eq!(
            std::fs::read_to_string(dir.join(&rel)).expect("read"),
            content
        );
    }
}

#[test]
fn push_in_a_local_clone_commits_and_pushes_to_the_upstream() {
    let repo = demo_bare_repo();
    let work = tempfile::tempdir().expect("tempdir");
    git_server::git(
        work.path(),
        &["clone", "--quiet", &repo.file_url(), "checkout"],
    );
    let checkout = work.path().join("checkout");
    let before = repo.tip("main").expect("tip");
    let home = home();

    let out = run(tagbump(home.path())
        .args([
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--push",
            "--output",
            "json",
        ])
        .args(["--author-name", "Release Pipeline"])
        .args(["--author-email", "pipeline@ci.example"])
        .arg("-C")
        .arg(&checkout));
    out.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert_ne!(tip, before);
    assert_eq!(out.json()["commit"].as_str(), Some(tip.as_str()));
    assert_eq!(repo.commit_count("main"), 2);
    assert_demo_bumped(&repo, "main", "1.5.0");
    assert_eq!(
        repo.log("main", "%an <%ae>")[0],
        "Release Pipeline <pipeline@ci.example>"
    );
    assert_eq!(
        git_server::git(&checkout, &["rev-parse", "HEAD"]).trim(),
        tip,
        "the checkout is on the pushed commit"
    );
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]),
        "",
        "and clean"
    );
}

/// `--commit` in a checkout with an unrelated staged file and an unstaged edit in a file
/// the bump changes: refused with kind `dirty-worktree` naming that file, nothing
/// committed, every byte and the index as they were.
#[test]
fn commit_refuses_to_sweep_uncommitted_changes_into_the_commit() {
    let repo = demo_bare_repo();
    let work = tempfile::tempdir().expect("tempdir");
    git_server::git(
        work.path(),
        &["clone", "--quiet", &repo.file_url(), "checkout"],
    );
    let checkout = work.path().join("checkout");
    std::fs::write(checkout.join("NOTES.md"), "staged, unrelated\n").expect("write");
    git_server::git(&checkout, &["add", "NOTES.md"]);
    let values = checkout.join("apps/api/values.yaml");
    let users = format!(
        "{}# the user's own unfinished edit\n",
        std::fs::read_to_string(&values).expect("read")
    );
    std::fs::write(&values, &users).expect("write");
    let head = git_server::git(&checkout, &["rev-parse", "HEAD"]);
    let status = git_server::git(&checkout, &["status", "--porcelain"]);
    let home = home();

    let out = run(tagbump(home.path())
        .args([
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--commit",
            "--output",
            "json",
        ])
        .arg("-C")
        .arg(&checkout));
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["error"]["kind"], "dirty-worktree", "{report}");
    let message = report["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("apps/api/values.yaml"), "{message}");
    assert!(!message.contains("NOTES.md"), "{message}");
    assert_eq!(report["commit"], serde_json::Value::Null);
    assert_eq!(git_server::git(&checkout, &["rev-parse", "HEAD"]), head);
    assert_eq!(std::fs::read_to_string(&values).expect("read"), users);
    assert_eq!(
        git_server::git(&checkout, &["status", "--porcelain"]),
        status
    );
}
