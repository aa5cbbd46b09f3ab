//! Snapshots of what users read: the `tagbump` binary's dry-run output (text and JSON),
//! its help texts, and its error messages.
//!
//! The `.snap` files live in `tests/snapshots/` and are committed; a mismatch fails the
//! test (no `cargo insta` needed). Review a deliberate change with `cargo insta review`,
//! or regenerate with `INSTA_UPDATE=always cargo test --test cli cli_snapshots` and read the
//! diff before committing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-config-repo");

/// A copy of the demo config repository (`<tmp>/demo`).
struct Demo {
    _dir: TempDir,
    root: PathBuf,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::Builder::new()
            .prefix("tagbump-snap-")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().join("demo");
        copy_dir(Path::new(DEMO), &root);
        Demo { _dir: dir, root }
    }

    fn write(&self, rel: &str, content: &str) {
        let full = self.root.join(rel);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
    }

    /// Runs `tagbump ARGS -C <copy>` and returns what it printed, with the copy's
    /// location replaced by `[DEMO]`.
    fn run(&self, args: &[&str]) -> String {
        let out = tagbump()
            .args(args)
            .arg("-C")
            .arg(&self.root)
            .output()
            .expect("run tagbump");
        let canonical = self.root.canonicalize().expect("canonical root");
        let normalise = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes)
                .replace(&*canonical.to_string_lossy(), "[DEMO]")
                .replace(&*self.root.to_string_lossy(), "[DEMO]")
        };
        transcript(
            out.status.code(),
            &normalise(&out.stdout),
            &normalise(&out.stderr),
        )
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// The binary with a clean environment (no CI variables, no tokens, no git config).
fn tagbump() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagbump"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

fn transcript(code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let code = code.map_or_else(|| "signal".to_string(), |c| c.to_string());
    let mut text = format!("exit code: {code}\n");
    if !stdout.is_empty() {
        text.push_str("----- stdout\n");
        text.push_str(stdout);
    }
    if !stderr.is_empty() {
        text.push_str("----- stderr\n");
        text.push_str(stderr);
    }
    text
}

fn help(args: &[&str]) -> String {
    let out = tagbump().args(args).output().expect("run tagbump");
    assert_eq!(out.status.code(), Some(0), "{args:?} succeeds");
    assert!(out.stderr.is_empty(), "help goes to stdout");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------- output

#[test]
fn dry_run_text() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "dry_run_text",
        demo.run(&["image", "ghcr.io/acme/api:1.5.0", "--dry-run"])
    );
}

#[test]
fn dry_run_json() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "dry_run_json",
        demo.run(&[
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--dry-run",
            "--output",
            "json"
        ])
    );
}

#[test]
fn set_dry_run_text() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "set_dry_run_text",
        demo.run(&[
            "set",
            "apps/web/values.yaml",
            "frontend.image.tag=2.1.0",
            "backend.tag=1.5.0",
            "--dry-run"
        ])
    );
}

/// A values file whose image map is anchored and merged into two other components.
const ANCHORED: &str = "defaults: &img\n  repository: ghcr.io/acme/api\n  tag: 1.4.2\napi:\n  image: *img\nworker:\n  image:\n    <<: *img\n    pullPolicy: Always\n";

#[test]
fn set_reports_the_paths_that_change_through_aliases() {
    let demo = Demo::new();
    demo.write("apps/anchored/values.yaml", ANCHORED);
    insta::assert_snapshot!(
        "set_aliases_text",
        demo.run(&[
            "set",
            "apps/anchored/values.yaml",
            "defaults.tag=1.5.0",
            "--dry-run"
        ])
    );
    insta::assert_snapshot!(
        "set_aliases_json",
        demo.run(&[
            "set",
            "apps/anchored/values.yaml",
            "defaults.tag=1.5.0",
            "--dry-run",
            "--output",
            "json"
        ])
    );
}

/// A chart's values with typed settings, as Helm charts ship them (bitnami-style
/// `## @param` comments): numbers and booleans stay typed, a float tag that would change
/// is quoted, and each change of type is reported.
const TYPED: &str = "## @param replicaCount Number of replicas\nreplicaCount: 1\nimage:\n  repository: acme/api\n  tag: 1.9\n## @param metrics.enabled Start a metrics exporter\nmetrics:\n  enabled: true\n  ratio: 0.5\n";

#[test]
fn set_keeps_numbers_and_booleans_typed() {
    let demo = Demo::new();
    demo.write("apps/typed/values.yaml", TYPED);
    insta::assert_snapshot!(
        "set_typed_text",
        demo.run(&[
            "set",
            "apps/typed/values.yaml",
            "replicaCount=3",
            "metrics.enabled=false",
            "metrics.ratio=0.75",
            "image.tag=1.10",
        ])
    );
    let after =
        std::fs::read_to_string(demo.root.join("apps/typed/values.yaml")).expect("read back");
    assert_eq!(
        after,
        TYPED
            .replace("replicaCount: 1", "replicaCount: 3")
            .replace("enabled: true", "enabled: false")
            .replace("ratio: 0.5", "ratio: 0.75")
            .replace("tag: 1.9", "tag: \"1.10\"")
    );
    insta::assert_snapshot!(
        "set_type_json",
        demo.run(&[
            "set",
            "apps/typed/values.yaml",
            "replicaCount=4",
            "--type",
            "string",
            "--dry-run",
            "--output",
            "json"
        ])
    );
}

/// Invalid arguments exit 2 (as clap's own errors do), each with a message that says
/// what to type instead; nothing is written.
#[test]
fn error_invalid_arguments_exit_2() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_image_with_a_scheme",
        demo.run(&["image", "https://quay.io/thanos/thanos:v1", "--dry-run"])
    );
    insta::assert_snapshot!(
        "error_colon_for_equals",
        demo.run(&["set", "apps/api/values.yaml", "image.tag:v1"])
    );
    insta::assert_snapshot!(
        "error_empty_value",
        demo.run(&["set", "apps/api/values.yaml", "image.tag="])
    );
}

/// A dry run says so in the report: `changed` and `files` are what would be written.
#[test]
fn set_dry_run_json_says_dry_run() {
    let demo = Demo::new();
    let out = demo.run(&[
        "set",
        "apps/api/values.yaml",
        "image.tag=1.5.0",
        "--dry-run",
        "--output",
        "json",
    ]);
    assert!(
        out.contains("\n  \"dry_run\": true,\n  \"changed\": true,"),
        "{out}"
    );
    let real = demo.run(&[
        "set",
        "apps/api/values.yaml",
        "image.tag=1.5.1",
        "--output",
        "json",
    ]);
    assert!(!real.contains("dry_run"), "{real}");
}

/// The file is named once in an error, by the context (`in FILE`), not again by the cause.
#[test]
fn error_names_each_context_once() {
    let demo = Demo::new();
    demo.write("apps/bad/values.yaml", "image: [1,\n tag: 2\n");
    let out = demo.run(&["set", "apps/bad/values.yaml", "image.tag=1"]);
    assert!(
        out.contains("error: cannot apply image.tag=1 in apps/bad/values.yaml in [DEMO]: malformed YAML at line 3, column 1: "),
        "{out}"
    );
}

#[test]
fn error_a_value_that_is_not_its_type() {
    let demo = Demo::new();
    demo.write("apps/typed/values.yaml", TYPED);
    insta::assert_snapshot!(
        "error_type",
        demo.run(&[
            "set",
            "apps/typed/values.yaml",
            "replicaCount=010",
            "--type",
            "int"
        ])
    );
}

#[test]
fn error_no_aliased_refuses_an_edit_that_changes_aliases() {
    let demo = Demo::new();
    demo.write("apps/anchored/values.yaml", ANCHORED);
    insta::assert_snapshot!(
        "error_no_aliased",
        demo.run(&[
            "set",
            "apps/anchored/values.yaml",
            "defaults.tag=1.5.0",
            "--no-aliased"
        ])
    );
    let after =
        std::fs::read_to_string(demo.root.join("apps/anchored/values.yaml")).expect("read back");
    assert_eq!(after, ANCHORED, "a refused edit writes nothing");
}

// ---------------------------------------------------------------- help

/// The README states `--pr-branch`'s default and placeholders as `--help` does.
#[test]
fn readme_pr_branch_default_and_placeholders_match_help() {
    let help = help(&["image", "--help"]);
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = help
        .split("--pr-branch <TEMPLATE>")
        .nth(1)
        .expect("--pr-branch in --help");
    let default = section
        .split("[default: ")
        .nth(1)
        .and_then(|d| d.split(']').next())
        .expect("a default");
    assert!(
        readme.contains(&format!("(`--pr-branch`, default `{default}`")),
        "README must state the default {default:?}"
    );
    let message = help
        .split("--message <TEMPLATE>")
        .nth(1)
        .and_then(|m| m.split("[env:").next())
        .expect("--message in --help");
    for placeholder in message.split_whitespace().filter(|w| w.starts_with('{')) {
        let name = placeholder.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        assert!(
            readme.contains(&format!("`{{{name}}}`")),
            "README must name the placeholder {{{name}}}"
        );
    }
}

#[test]
fn help_top_level() {
    insta::assert_snapshot!("help", help(&["--help"]));
}

#[test]
fn help_image() {
    insta::assert_snapshot!("help_image", help(&["image", "--help"]));
}

#[test]
fn help_set() {
    insta::assert_snapshot!("help_set", help(&["set", "--help"]));
}

// ---------------------------------------------------------------- errors

#[test]
fn error_missing_key() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_missing_key",
        demo.run(&["set", "apps/api/values.yaml", "image.digest=sha256:0"])
    );
}

#[test]
fn error_key_holds_a_map() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_key_holds_a_map",
        demo.run(&["set", "apps/api/values.yaml", "image=1.5.0"])
    );
}

#[test]
fn error_malformed_yaml() {
    let demo = Demo::new();
    demo.write(
        "apps/broken/values.yaml",
        "image:\n  repository: ghcr.io/acme/broken\n  tag: [1.4.2\nreplicas: 2\n",
    );
    insta::assert_snapshot!(
        "error_malformed_yaml",
        demo.run(&["set", "apps/broken/values.yaml", "image.tag=1.5.0"])
    );
}

#[test]
fn error_bad_image_reference() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_bad_image_reference",
        demo.run(&["image", "ghcr.io/Acme/api:1.5.0"])
    );
}

#[test]
fn error_path_outside_the_repo() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_path_outside_the_repo",
        demo.run(&["set", "../values.yaml", "image.tag=1.5.0"])
    );
}

#[test]
fn error_image_not_found() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_image_not_found",
        demo.run(&["image", "ghcr.io/acme/billing:2.0.0", "apps"])
    );
}

#[test]
fn error_assignment_before_any_file() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_assignment_before_any_file",
        demo.run(&["set", "image.tag=1.5.0", "apps/api/values.yaml"])
    );
}

// ---------------------------------------------------------------- set: files and documents

/// A file named twice (even spelled differently) is edited once, with every edit in
/// order: one update per value, each from the value in the file.
#[test]
fn set_same_file_twice_is_one_file_with_both_edits() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "set_same_file_twice_is_one_file_with_both_edits",
        demo.run(&[
            "set",
            "apps/api/values.yaml",
            "image.tag=1.5.0",
            "./apps/api/values.yaml",
            "podAnnotations.\"app.kubernetes.io/version\"=1.5.0",
            "apps/api/values.yaml",
            "image.tag=1.5.0",
            "--dry-run"
        ])
    );
}

/// The same key path twice for one file with two values is refused before anything is
/// written.
#[test]
fn error_same_key_set_twice_with_two_values() {
    let demo = Demo::new();
    let before = std::fs::read_to_string(demo.root.join("apps/api/values.yaml")).expect("read");
    insta::assert_snapshot!(
        "error_same_key_set_twice_with_two_values",
        demo.run(&[
            "set",
            "apps/api/values.yaml",
            "image.tag=1.5.0",
            "apps/api/values.yaml",
            "image.tag=1.6.0"
        ])
    );
    let after = std::fs::read_to_string(demo.root.join("apps/api/values.yaml")).expect("read");
    assert_eq!(before, after, "nothing written");
}

const TWO_DEPLOYMENTS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
        - name: proxy
          image: ghcr.io/acme/proxy:0.9.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:2.0.0
";

/// Without --document, every document that has the path is edited; a document whose
/// `containers` list is shorter is skipped.
#[test]
fn set_multi_document_edits_the_documents_that_have_the_path() {
    let demo = Demo::new();
    demo.write("apps/api/deployments.yaml", TWO_DEPLOYMENTS);
    insta::assert_snapshot!(
        "set_multi_document_edits_the_documents_that_have_the_path",
        demo.run(&[
            "set",
            "apps/api/deployments.yaml",
            "spec.template.spec.containers[1].image=ghcr.io/acme/proxy:1.0.0",
            "--dry-run"
        ])
    );
}

/// With --document N, that document must have the path.
#[test]
fn error_multi_document_with_document_n_is_strict() {
    let demo = Demo::new();
    demo.write("apps/api/deployments.yaml", TWO_DEPLOYMENTS);
    insta::assert_snapshot!(
        "error_multi_document_with_document_n_is_strict",
        demo.run(&[
            "set",
            "apps/api/deployments.yaml",
            "spec.template.spec.containers[1].image=ghcr.io/acme/proxy:1.0.0",
            "--document",
            "1"
        ])
    );
}

// ---------------------------------------------------------------- errors as JSON

/// `--output json` on failure: one object with the error's message and kind next to the
/// usual members (nothing done); the human text still goes to stderr.
#[test]
fn error_json_missing_key() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_json_missing_key",
        demo.run(&[
            "set",
            "apps/api/values.yaml",
            "image.digest=sha256:0",
            "--output",
            "json"
        ])
    );
}

#[test]
fn error_json_invalid_input() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_json_invalid_input",
        demo.run(&[
            "set",
            "image.tag=1.5.0",
            "apps/api/values.yaml",
            "--output",
            "json"
        ])
    );
}

#[test]
fn error_json_policy() {
    let demo = Demo::new();
    insta::assert_snapshot!(
        "error_json_policy",
        demo.run(&[
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--allow-tags",
            "^v",
            "--output",
            "json"
        ])
    );
}
