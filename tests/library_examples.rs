//! The Rust examples under `examples/` (the library's documentation) are built and
//! run with `cargo run --example`, as a reader would run them, and must succeed.

use std::process::Command;

use crate::support::fake_github::FakeGitHub;
use crate::support::git_server::BareRepo;

/// `cargo run --example NAME`: its stdout; panics with its output when it fails.
fn run_example(name: &str) -> String {
    run_example_with(name, &[], &[])
}

/// `cargo run --example NAME -- ARGS…` with `envs` set.
fn run_example_with(name: &str, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--locked", "--quiet", "--example", name, "--"])
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn in_async_runtime_gets_errors_not_panics_from_both_clients() {
    let stdout = run_example("in_async_runtime");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    // Both calls reached the refused port and said so.
    assert!(lines[0].starts_with("GitHub client: "), "{stdout}");
    assert!(lines[0].contains("127.0.0.1"), "{stdout}");
    assert!(
        lines[1].starts_with("registry client: 127.0.0.1:"),
        "{stdout}"
    );
    assert!(lines[1].contains("listing tags"), "{stdout}");
}

#[test]
fn bump_local_prints_the_diff_of_the_one_changed_line() {
    assert_eq!(
        run_example("bump_local"),
        "--- a/values.yaml\n+++ b/values.yaml\n@@ -1,3 +1,3 @@\n image:\n   repository: \
         ghcr.io/acme/api  # built by CI\n-  tag: \"1.4.2\"\n+  tag: \"1.5.0\"\n"
    );
}

const API_VALUES: &str = "apps/api/values.yaml";

#[test]
fn bump_git_url_pushes_one_commit_to_a_file_url() {
    let repo = BareRepo::new_with(
        &[
            (
                API_VALUES,
                "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.4.2\"\n",
            ),
            ("README.md", "# config\n"),
        ],
        "main",
    );
    let stdout = run_example_with("bump_git_url", &[&repo.file_url()], &[]);
    let tip = repo.tip("main").expect("main");
    assert_eq!(stdout, format!("pushed {tip} to main after 1 attempt(s)\n"));
    assert_eq!(
        repo.read_file("main", API_VALUES).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/api\n  tag: \"1.5.0\"\n")
    );
    assert_eq!(repo.commit_count("main"), 2);
}

#[test]
fn bump_github_pr_opens_a_labelled_pull_request_through_the_fake_api() {
    const WEB: &str = "apps/web/values.yaml";
    const TOKEN: &str = "ghs_EXAMPLE-SECRET-4242";
    let repo = BareRepo::new_with(
        &[(
            WEB,
            "image:\n  repository: ghcr.io/acme/web\n  tag: \"2.0.0\"\n",
        )],
        "main",
    );
    let github = FakeGitHub::start(&repo, "acme/gitops", TOKEN);
    let url = format!("{}/acme/gitops.git", github.url());
    let stdout = run_example_with(
        "bump_github_pr",
        &[&url, github.url()],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{stdout}");
    let pr = &pulls[0];
    assert_eq!(pr.base, "main");
    assert_eq!(pr.title, "chore(deploy): bump ghcr.io/acme/web to 2.1.0");
    assert!(pr.labels.iter().any(|l| l == "deploy"), "{:?}", pr.labels);
    assert!(pr.body.contains("apps/web/values.yaml"), "{}", pr.body);
    assert_eq!(
        repo.read_file(&pr.head, WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web\n  tag: \"2.1.0\"\n")
    );
    assert_eq!(repo.commit_count("main"), 1, "main is untouched");
    assert!(
        stdout.starts_with(&format!("opened pull request #{} (", pr.number)),
        "{stdout}"
    );
    assert!(stdout.ends_with("verified: true\n"), "{stdout}");
}

#[test]
fn bump_checkout_commits_in_a_local_checkout_without_pushing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=dev", "-c", "user.email=dev@example.com"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.path().join("apps/api")).expect("mkdir");
    std::fs::write(
        dir.path().join(API_VALUES),
        "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.4.2\"  # CI writes this\n",
    )
    .expect("write");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    let path = dir.path().to_string_lossy().into_owned();
    let stdout = run_example_with("bump_checkout", &[&path], &[]);
    let head = git(&["rev-parse", "HEAD"]);
    assert_eq!(stdout, format!("committed {head} on main\n"));
    assert_eq!(git(&["log", "-1", "--format=%s%n%b"]), "deploy: api 1.5.0");
    assert_eq!(git(&["rev-list", "--count", "HEAD"]), "2");
    assert_eq!(
        git(&["status", "--porcelain"]),
        "",
        "the commit holds the edit"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(API_VALUES)).expect("read"),
        "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.5.0\"  # CI writes this\n"
    );
}

#[test]
fn newest_semver_picks_by_version_not_by_name_and_pins_the_digest() {
    use crate::support::registry::{TestRegistry, PASSWORD, USER};
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let created = "2026-01-02T03:04:05Z";
    let mut pushed = std::collections::HashMap::new();
    for tag in ["1.4.2", "1.10.0", "2.0.0", "2.1.0-rc.1", "latest"] {
        pushed.insert(tag, reg.push_image("acme/api", tag, created, "amd64"));
    }
    // Through the Bearer (token) registry, logged in as the harness's user.
    let image = format!("{}/acme/api", reg.token_host());
    let ca = reg.ca_pem.to_string_lossy().into_owned();
    let envs = [
        ("REGISTRY_USERNAME", USER),
        ("REGISTRY_PASSWORD", PASSWORD),
        ("CA_BUNDLE", ca.as_str()),
    ];
    // 2.1.0-rc.1 is a pre-release and `latest` no version: 2.0.0 is the newest.
    assert_eq!(
        run_example_with("newest_semver", &[&image], &envs),
        format!(
            "{image}:2.0.0@{} (newest of 5 tags)\n",
            pushed["2.0.0"].digest
        )
    );
    // Within ^1.4, 1.10.0 beats 1.4.2 (which sorts after it by name).
    assert_eq!(
        run_example_with("newest_semver", &[&image, "^1.4"], &envs),
        format!(
            "{image}:1.10.0@{} (newest of 5 tags)\n",
            pushed["1.10.0"].digest
        )
    );
}

#[test]
fn every_example_fits_in_forty_lines() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("example");
            let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
            assert!(lines <= 40, "{}: {lines} non-blank lines", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 6, "only {seen} examples under examples/");
}
