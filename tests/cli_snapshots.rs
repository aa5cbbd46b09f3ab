//! Snapshots of what users read: the `tagbump` binary's dry-run output (text and JSON),
//! its help texts, and its error messages.
//!
//! The `.snap` files live in `tests/snapshots/` and are committed; a mismatch fails the
//! test (no `cargo insta` needed). Review a deliberate change with `cargo insta review`,
//! or regenerate with `INSTA_UPDATE=always cargo test --test cli cli_snapshots` and read the
//! diff before committing.
//!
//! A snapshot is tagbump's own output, so one accepted by mistake would hide a regression.
//! Each snapshot assertion therefore has hand-written asserts beside it on what the output
//! must say: the exit code, the files changed, the old → new values, the error's kind or
//! its key phrase (see [`Ran`]).

#[path = "cli_snapshots/run.rs"]
mod run;

use run::{changes, help, owned, Demo};

// ---------------------------------------------------------------- output

/// The demo's four files that hold ghcr.io/acme/api:1.4.2.
const API_FILES: [&str; 4] = [
    "apps/api/.argocd-source-api.yaml",
    "apps/api/kustomization.yaml",
    "apps/api/values.yaml",
    "apps/worker/deployment.yaml",
];

#[test]
fn dry_run_text() {
    let demo = Demo::new();
    let before = demo.read("apps/api/values.yaml");
    let out = demo.run(&["image", "ghcr.io/acme/api:1.5.0", "--dry-run"]);
    insta::assert_snapshot!("dry_run_text", out.transcript());

    out.assert_ok();
    let lines = out.change_lines();
    assert_eq!(lines.len(), 5, "{lines:?}");
    for (line, file) in lines.iter().zip([0, 1, 2, 3, 3].map(|i| API_FILES[i])) {
        assert!(line.starts_with(&format!("{file}:")), "{line}");
        assert!(
            line.contains("1.4.2 → ") && line.contains("1.5.0"),
            "{line}"
        );
    }
    for file in API_FILES {
        assert!(
            out.stdout.contains(&format!("+++ b/{file}\n")),
            "a diff of {file}"
        );
    }
    assert!(out
        .stdout
        .ends_with("dry run: changes shown above were not written\n"));
    assert_eq!(demo.read("apps/api/values.yaml"), before, "nothing written");
}

#[test]
fn dry_run_json() {
    let demo = Demo::new();
    let out = demo.run(&[
        "image",
        "ghcr.io/acme/api:1.5.0",
        "--dry-run",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("dry_run_json", out.transcript());

    out.assert_ok();
    let report = out.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["changed"], true);
    assert_eq!(report["files"], serde_json::json!(API_FILES));
    let (old, new) = ("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api:1.5.0");
    assert_eq!(
        changes(&report),
        owned(&[
            (API_FILES[0], "helm.parameters[1].value", "1.4.2", "1.5.0"),
            (API_FILES[1], "images[0].newTag", "1.4.2", "1.5.0"),
            (API_FILES[2], "image.tag", "1.4.2", "1.5.0"),
            (
                API_FILES[3],
                "spec.template.spec.initContainers[0].image",
                old,
                new
            ),
            (
                API_FILES[3],
                "spec.jobTemplate.spec.template.spec.containers[0].image",
                old,
                new
            ),
        ])
    );
    let kinds: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "argocd-parameter",
            "kustomize",
            "helm-map",
            "image-string",
            "image-string"
        ]
    );
    assert_eq!(report["pushed"], false);
}

#[test]
fn set_dry_run_text() {
    let demo = Demo::new();
    let before = demo.read("apps/web/values.yaml");
    let out = demo.run(&[
        "set",
        "apps/web/values.yaml",
        "frontend.image.tag=2.1.0",
        "backend.tag=1.5.0",
        "--dry-run",
    ]);
    insta::assert_snapshot!("set_dry_run_text", out.transcript());

    out.assert_ok();
    assert_eq!(
        out.change_lines(),
        [
            "apps/web/values.yaml:4  frontend.image.tag  2.0.1 → 2.1.0",
            "apps/web/values.yaml:6  backend.tag  1.4.2 → 1.5.0",
        ]
    );
    assert!(
        out.stdout
            .contains("+  tag: \"1.5.0\"   # not an image map"),
        "quotes and comment kept"
    );
    assert_eq!(demo.read("apps/web/values.yaml"), before, "nothing written");
}

/// A values file whose image map is anchored and merged into two other components.
const ANCHORED: &str = "defaults: &img\n  repository: ghcr.io/acme/api\n  tag: 1.4.2\napi:\n  image: *img\nworker:\n  image:\n    <<: *img\n    pullPolicy: Always\n";

#[test]
fn set_reports_the_paths_that_change_through_aliases() {
    let demo = Demo::new();
    demo.write("apps/anchored/values.yaml", ANCHORED);
    let text = demo.run(&[
        "set",
        "apps/anchored/values.yaml",
        "defaults.tag=1.5.0",
        "--dry-run",
    ]);
    insta::assert_snapshot!("set_aliases_text", text.transcript());
    text.assert_ok();
    assert_eq!(
        text.change_lines(),
        ["apps/anchored/values.yaml:3  defaults.tag  1.4.2 → 1.5.0  (also api.image.tag, worker.image.tag through aliases)"]
    );

    let json = demo.run(&[
        "set",
        "apps/anchored/values.yaml",
        "defaults.tag=1.5.0",
        "--dry-run",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("set_aliases_json", json.transcript());
    json.assert_ok();
    let report = json.json();
    assert_eq!(
        changes(&report),
        owned(&[(
            "apps/anchored/values.yaml",
            "defaults.tag",
            "1.4.2",
            "1.5.0"
        )])
    );
    assert_eq!(
        report["changes"][0]["aliases"],
        serde_json::json!(["api.image.tag", "worker.image.tag"])
    );
    assert_eq!(demo.read("apps/anchored/values.yaml"), ANCHORED, "dry runs");
}

/// A chart's values with typed settings, as Helm charts ship them (bitnami-style
/// `## @param` comments): numbers and booleans stay typed, a float tag that would change
/// is quoted, and each change of type is reported.
const TYPED: &str = "## @param replicaCount Number of replicas\nreplicaCount: 1\nimage:\n  repository: acme/api\n  tag: 1.9\n## @param metrics.enabled Start a metrics exporter\nmetrics:\n  enabled: true\n  ratio: 0.5\n";

#[test]
fn set_keeps_numbers_and_booleans_typed() {
    let demo = Demo::new();
    demo.write("apps/typed/values.yaml", TYPED);
    let out = demo.run(&[
        "set",
        "apps/typed/values.yaml",
        "replicaCount=3",
        "metrics.enabled=false",
        "metrics.ratio=0.75",
        "image.tag=1.10",
    ]);
    insta::assert_snapshot!("set_typed_text", out.transcript());
    out.assert_ok();
    assert_eq!(
        out.change_lines(),
        [
            "apps/typed/values.yaml:2  replicaCount  1 → 3",
            "apps/typed/values.yaml:5  image.tag  1.9 → 1.10  (type float → string)",
            "apps/typed/values.yaml:8  metrics.enabled  true → false",
            "apps/typed/values.yaml:9  metrics.ratio  0.5 → 0.75",
        ]
    );
    assert!(
        out.stdout.ends_with("updated 1 file(s)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        demo.read("apps/typed/values.yaml"),
        TYPED
            .replace("replicaCount: 1", "replicaCount: 3")
            .replace("enabled: true", "enabled: false")
            .replace("ratio: 0.5", "ratio: 0.75")
            .replace("tag: 1.9", "tag: \"1.10\"")
    );

    let json = demo.run(&[
        "set",
        "apps/typed/values.yaml",
        "replicaCount=4",
        "--type",
        "string",
        "--dry-run",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("set_type_json", json.transcript());
    json.assert_ok();
    let report = json.json();
    assert_eq!(
        changes(&report),
        owned(&[("apps/typed/values.yaml", "replicaCount", "3", "4")])
    );
    assert_eq!(
        report["changes"][0]["type_changed"],
        serde_json::json!({ "from": "int", "to": "string" })
    );
    assert!(report["diff"]
        .as_str()
        .unwrap()
        .contains("+replicaCount: \"4\"\n"));
}

/// Invalid arguments exit 2 (as clap's own errors do), each with a message that says
/// what to type instead; nothing is written.
#[test]
fn error_invalid_arguments_exit_2() {
    let demo = Demo::new();
    let before = demo.read("apps/api/values.yaml");
    let scheme = demo.run(&["image", "https://quay.io/thanos/thanos:v1", "--dry-run"]);
    insta::assert_snapshot!("error_image_with_a_scheme", scheme.transcript());
    scheme.assert_error(
        2,
        &["drop the scheme (https://)", "quay.io/thanos/thanos:v1"],
    );

    let colon = demo.run(&["set", "apps/api/values.yaml", "image.tag:v1"]);
    insta::assert_snapshot!("error_colon_for_equals", colon.transcript());
    colon.assert_error(2, &["has no `=`", "write image.tag=v1"]);

    let empty = demo.run(&["set", "apps/api/values.yaml", "image.tag="]);
    insta::assert_snapshot!("error_empty_value", empty.transcript());
    empty.assert_error(2, &["the value is empty", "--allow-empty"]);
    assert_eq!(demo.read("apps/api/values.yaml"), before, "nothing written");
}

/// A dry run says so in the report: `changed` and `files` are what would be written.
#[test]
fn set_dry_run_json_says_dry_run() {
    let demo = Demo::new();
    let out = demo
        .run(&[
            "set",
            "apps/api/values.yaml",
            "image.tag=1.5.0",
            "--dry-run",
            "--output",
            "json",
        ])
        .transcript();
    assert!(
        out.contains("\n  \"dry_run\": true,\n  \"changed\": true,"),
        "{out}"
    );
    let real = demo
        .run(&[
            "set",
            "apps/api/values.yaml",
            "image.tag=1.5.1",
            "--output",
            "json",
        ])
        .transcript();
    assert!(!real.contains("dry_run"), "{real}");
}

/// The file is named once in an error, by the context (`in FILE`), not again by the cause.
#[test]
fn error_names_each_context_once() {
    let demo = Demo::new();
    demo.write("apps/bad/values.yaml", "image: [1,\n tag: 2\n");
    let out = demo
        .run(&["set", "apps/bad/values.yaml", "image.tag=1"])
        .transcript();
    assert!(
        out.contains("error: cannot apply image.tag=1 in apps/bad/values.yaml in [DEMO]: malformed YAML at line 3, column 1: "),
        "{out}"
    );
}

#[test]
fn error_a_value_that_is_not_its_type() {
    let demo = Demo::new();
    demo.write("apps/typed/values.yaml", TYPED);
    let out = demo.run(&[
        "set",
        "apps/typed/values.yaml",
        "replicaCount=010",
        "--type",
        "int",
    ]);
    insta::assert_snapshot!("error_type", out.transcript());
    out.assert_error(
        2,
        &["replicaCount=010 (--type int)", "\"010\" is not an int"],
    );
    assert_eq!(demo.read("apps/typed/values.yaml"), TYPED);
}

#[test]
fn error_no_aliased_refuses_an_edit_that_changes_aliases() {
    let demo = Demo::new();
    demo.write("apps/anchored/values.yaml", ANCHORED);
    let out = demo.run(&[
        "set",
        "apps/anchored/values.yaml",
        "defaults.tag=1.5.0",
        "--no-aliased",
    ]);
    insta::assert_snapshot!("error_no_aliased", out.transcript());
    out.assert_error(
        1,
        &[
            "defaults.tag at line 3 is under an anchor",
            "api.image.tag, worker.image.tag",
            "--no-aliased",
        ],
    );
    assert_eq!(
        demo.read("apps/anchored/values.yaml"),
        ANCHORED,
        "a refused edit writes nothing"
    );
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
    let text = help(&["--help"]);
    insta::assert_snapshot!("help", text);
    assert!(
        text.starts_with("Write a freshly pushed container image tag"),
        "{text}"
    );
    assert!(text.contains("Usage: tagbump <COMMAND>"));
    for command in ["image", "set", "status", "completions", "help"] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "command {command}"
        );
    }
    for code in [
        "0 success",
        "1 error",
        "2\ninvalid arguments",
        "3 nothing changed",
        "4 the commit was pushed",
    ] {
        assert!(text.contains(code), "exit code {code:?} explained");
    }
}

#[test]
fn help_image() {
    let text = help(&["image", "--help"]);
    insta::assert_snapshot!("help_image", text);
    assert!(text.contains("Usage: tagbump image [OPTIONS] <IMAGE> [PATHS]..."));
    for flag in [
        "--tag <TAG>",
        "--flux-policy <NAMESPACE:NAME>",
        "--argocd-param <NAME[,TAG]>",
        "--dry-run",
        "--output <",
        "--repo <",
        "--pr\n",
        "--pr-branch <TEMPLATE>",
        "--close-superseded",
    ] {
        assert!(text.contains(flag), "{flag:?} documented");
    }
}

#[test]
fn help_set() {
    let text = help(&["set", "--help"]);
    insta::assert_snapshot!("help_set", text);
    assert!(text.contains("Usage: tagbump set [OPTIONS] <FILE|KEY=VALUE>..."));
    for flag in [
        "--create",
        "--document <N>",
        "--type <TYPE>",
        "[default: auto]",
    ] {
        assert!(text.contains(flag), "{flag:?} documented");
    }
    for value in ["auto:", "string:", "int:", "float:", "bool:"] {
        assert!(text.contains(&format!("- {value}")), "--type {value}");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn error_missing_key() {
    let demo = Demo::new();
    let out = demo.run(&["set", "apps/api/values.yaml", "image.digest=sha256:0"]);
    insta::assert_snapshot!("error_missing_key", out.transcript());
    out.assert_error(
        1,
        &[
            "apps/api/values.yaml",
            "key path image.digest not found",
            "prefix is image (line 5)",
            "--create",
        ],
    );
}

#[test]
fn error_key_holds_a_map() {
    let demo = Demo::new();
    let out = demo.run(&["set", "apps/api/values.yaml", "image=1.5.0"]);
    insta::assert_snapshot!("error_key_holds_a_map", out.transcript());
    out.assert_error(
        1,
        &["key path image at line 5 holds a mapping", "e.g. image.tag"],
    );
}

#[test]
fn error_malformed_yaml() {
    let demo = Demo::new();
    let broken = "image:\n  repository: ghcr.io/acme/broken\n  tag: [1.4.2\nreplicas: 2\n";
    demo.write("apps/broken/values.yaml", broken);
    let out = demo.run(&["set", "apps/broken/values.yaml", "image.tag=1.5.0"]);
    insta::assert_snapshot!("error_malformed_yaml", out.transcript());
    out.assert_error(
        1,
        &[
            "apps/broken/values.yaml",
            "malformed YAML at line 4, column 9",
        ],
    );
    assert_eq!(demo.read("apps/broken/values.yaml"), broken);
}

#[test]
fn error_bad_image_reference() {
    let demo = Demo::new();
    let out = demo.run(&["image", "ghcr.io/Acme/api:1.5.0"]);
    insta::assert_snapshot!("error_bad_image_reference", out.transcript());
    out.assert_error(
        2,
        &[
            "invalid image \"ghcr.io/Acme/api:1.5.0\"",
            "must be lowercase (found 'A')",
        ],
    );
}

#[test]
fn error_path_outside_the_repo() {
    let demo = Demo::new();
    let out = demo.run(&["set", "../values.yaml", "image.tag=1.5.0"]);
    insta::assert_snapshot!("error_path_outside_the_repo", out.transcript());
    out.assert_error(2, &["../values.yaml", "outside the repository root [DEMO]"]);
}

#[test]
fn error_image_not_found() {
    let demo = Demo::new();
    let out = demo.run(&["image", "ghcr.io/acme/billing:2.0.0", "apps"]);
    insta::assert_snapshot!("error_image_not_found", out.transcript());
    out.assert_error(
        1,
        &[
            "no reference to ghcr.io/acme/billing found under apps",
            "tagbump set",
        ],
    );
}

#[test]
fn error_assignment_before_any_file() {
    let demo = Demo::new();
    let out = demo.run(&["set", "image.tag=1.5.0", "apps/api/values.yaml"]);
    insta::assert_snapshot!("error_assignment_before_any_file", out.transcript());
    out.assert_error(
        2,
        &[
            "\"image.tag=1.5.0\"",
            "name the file before its KEY=VALUE assignments",
        ],
    );
}

// ---------------------------------------------------------------- set: files and documents

/// A file named twice (even spelled differently) is edited once, with every edit in
/// order: one update per value, each from the value in the file.
#[test]
fn set_same_file_twice_is_one_file_with_both_edits() {
    let demo = Demo::new();
    let out = demo.run(&[
        "set",
        "apps/api/values.yaml",
        "image.tag=1.5.0",
        "./apps/api/values.yaml",
        "podAnnotations.\"app.kubernetes.io/version\"=1.5.0",
        "apps/api/values.yaml",
        "image.tag=1.5.0",
        "--dry-run",
    ]);
    insta::assert_snapshot!(
        "set_same_file_twice_is_one_file_with_both_edits",
        out.transcript()
    );
    out.assert_ok();
    assert_eq!(
        out.change_lines(),
        [
            "apps/api/values.yaml:7  image.tag  1.4.2 → 1.5.0",
            "apps/api/values.yaml:11  podAnnotations.\"app.kubernetes.io/version\"  1.4.2 → 1.5.0",
        ]
    );
    assert_eq!(
        out.stdout.matches("+++ b/").count(),
        1,
        "one file, one diff"
    );
}

/// The same key path twice for one file with two values is refused before anything is
/// written.
#[test]
fn error_same_key_set_twice_with_two_values() {
    let demo = Demo::new();
    let before = demo.read("apps/api/values.yaml");
    let out = demo.run(&[
        "set",
        "apps/api/values.yaml",
        "image.tag=1.5.0",
        "apps/api/values.yaml",
        "image.tag=1.6.0",
    ]);
    insta::assert_snapshot!("error_same_key_set_twice_with_two_values", out.transcript());
    out.assert_error(
        2,
        &["image.tag is set twice for apps/api/values.yaml (1.5.0, 1.6.0)"],
    );
    assert_eq!(before, demo.read("apps/api/values.yaml"), "nothing written");
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
    let out = demo.run(&[
        "set",
        "apps/api/deployments.yaml",
        "spec.template.spec.containers[1].image=ghcr.io/acme/proxy:1.0.0",
        "--dry-run",
    ]);
    insta::assert_snapshot!(
        "set_multi_document_edits_the_documents_that_have_the_path",
        out.transcript()
    );
    out.assert_ok();
    assert_eq!(
        out.change_lines(),
        ["apps/api/deployments.yaml:12  spec.template.spec.containers[1].image  ghcr.io/acme/proxy:0.9.0 → ghcr.io/acme/proxy:1.0.0"]
    );
    assert!(
        !out.stdout.contains("worker:2.0.0\n+"),
        "the second document is not edited"
    );
}

/// With --document N, that document must have the path.
#[test]
fn error_multi_document_with_document_n_is_strict() {
    let demo = Demo::new();
    demo.write("apps/api/deployments.yaml", TWO_DEPLOYMENTS);
    let out = demo.run(&[
        "set",
        "apps/api/deployments.yaml",
        "spec.template.spec.containers[1].image=ghcr.io/acme/proxy:1.0.0",
        "--document",
        "1",
    ]);
    insta::assert_snapshot!(
        "error_multi_document_with_document_n_is_strict",
        out.transcript()
    );
    out.assert_error(
        1,
        &["spec.template.spec.containers at line 22 has 1 items, no index 1"],
    );
    assert_eq!(demo.read("apps/api/deployments.yaml"), TWO_DEPLOYMENTS);
}

// ---------------------------------------------------------------- errors as JSON

/// `--output json` on failure: one object with the error's message and kind next to the
/// usual members (nothing done); the human text still goes to stderr.
#[test]
fn error_json_missing_key() {
    let demo = Demo::new();
    let out = demo.run(&[
        "set",
        "apps/api/values.yaml",
        "image.digest=sha256:0",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("error_json_missing_key", out.transcript());
    out.assert_json_error(1, "key-path", "key path image.digest not found");
}

#[test]
fn error_json_invalid_input() {
    let demo = Demo::new();
    let out = demo.run(&[
        "set",
        "image.tag=1.5.0",
        "apps/api/values.yaml",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("error_json_invalid_input", out.transcript());
    out.assert_json_error(
        2,
        "invalid-input",
        "name the file before its KEY=VALUE assignments",
    );
}

#[test]
fn error_json_policy() {
    let demo = Demo::new();
    let out = demo.run(&[
        "image",
        "ghcr.io/acme/api:1.5.0",
        "--allow-tags",
        "^v",
        "--output",
        "json",
    ]);
    insta::assert_snapshot!("error_json_policy", out.transcript());
    out.assert_json_error(
        1,
        "policy",
        "refusing 1.5.0: it does not match --allow-tags ^v",
    );
}
