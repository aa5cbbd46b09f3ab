//! Puts the git commit into `tagbump --version` ("tagbump 1.2.3 (commit 0123456789ab)").
//!
//! The commit comes from `TAGBUMP_GIT_COMMIT` (the release workflow and the Dockerfile
//! pass it: a container build context and a packaged crate have no `.git`), else from
//! `git rev-parse` when building inside a git checkout; without either the version is
//! shown alone.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TAGBUMP_GIT_COMMIT");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = std::env::var("TAGBUMP_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_string())
        .or_else(git_head);
    let long = match commit {
        Some(c) => format!("{version} (commit {})", &c[..c.len().min(12)]),
        None => version,
    };
    println!("cargo:rustc-env=TAGBUMP_LONG_VERSION={long}");
}

/// The checkout's HEAD, and rerun triggers so that a new commit refreshes it.
fn git_head() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let git = Path::new(&dir).join(".git");
    if !git.exists() {
        // A path that does not exist makes cargo run this script again on the next build
        // (cheap). Without it, the packaged crate's verification build
        // (`cargo publish --dry-run`), which shares the checkout's target directory and
        // build-script hash, would leave its "no commit" result for the checkout's builds.
        println!("cargo:rerun-if-changed={}", git.display());
        return None;
    }
    let location = rev_parse(
        &dir,
        &[
            "--git-dir",
            "--git-common-dir",
            "--symbolic-full-name",
            "HEAD",
        ],
    )?;
    let head = rev_parse(&dir, &["HEAD"])?;
    let rooted = |p: &str| Path::new(&dir).join(p);
    let mut watch = Vec::new();
    if let [git_dir, common_dir, head_ref] = &location[..] {
        watch.push(rooted(git_dir).join("HEAD"));
        if head_ref.starts_with("refs/") {
            watch.push(rooted(common_dir).join(head_ref));
            watch.push(rooted(common_dir).join("packed-refs"));
        }
    }
    // A path that does not exist would make cargo rerun this script on every build.
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    head.into_iter().next()
}

fn rev_parse(dir: &str, args: &[&str]) -> Option<Vec<String>> {
    let out = Command::new("git")
        .arg("rev-parse")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.lines().map(str::to_string).collect())
}
