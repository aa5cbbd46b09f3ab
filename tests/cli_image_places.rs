//! `tagbump image` tells the user why each place was touched: `--output json` gives
//! every change its `kind` (`helm-map`, `kustomize`, `image-string`, `flux-marker`,
//! `argocd-parameter`, `app-version`) and `pinned` when an untagged image string got a
//! tag; `--dry-run` prints the same next to each line. The flags that shape discovery
//! (`--flux-policy`, `--app-version`, `--argocd-param`) are checked here end to end,
//! through the binary, on a config tree written by each test, and so is what a search
//! could not use: a skipped file naming the image (`skipped-reference`,
//! `--skip-unreadable`) and a name without a place for its tag (`name_only`).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn tagbump(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagbump"))
        .args(args)
        .arg("-C")
        .arg(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run tagbump")
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// `file path kind [pinned]` for every change of a JSON report.
fn places(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let pinned = if c["pinned"] == Value::Bool(true) {
                " pinned"
            } else {
                ""
            };
            format!(
                "{} {} {}{pinned}",
                c["file"].as_str().expect("file"),
                c["path"].as_str().expect("path"),
                c["kind"].as_str().expect("kind")
            )
        })
        .collect()
}

const VALUES: &str = "image:\n  registry: null\n  repository: ghcr.io/acme/api\n  tag: v1.4.2\nexporter:\n  image: ghcr.io/acme/api\n  tag: v1.4.2\n";
const KUSTOMIZATION: &str =
    "images:\n  - name: api\n    newName: ghcr.io/acme/api\n    newTag: v1.4.2\n";
const POD: &str =
    "kind: Pod\nspec:\n  containers:\n    - name: api\n      image: ghcr.io/acme/api\n";
const FLUX: &str = "runner: ghcr.io/acme/api:v1.4.2 # {\"$imagepolicy\": \"flux-system:api\"}\n";
const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      parameters:\n        - name: image.repository\n          value: ghcr.io/acme/api\n        - name: image.tag\n          value: v1.4.2\n";
const CHART: &str = "apiVersion: v2\nname: api\nversion: 1.0.0\nappVersion: v1.4.2\n";

#[test]
fn json_output_names_the_kind_of_every_place_and_pinned_strings() {
    let dir = tree(&[
        ("chart/Chart.yaml", CHART),
        ("chart/values.yaml", VALUES),
        ("overlay/kustomization.yaml", KUSTOMIZATION),
        ("pod.yaml", POD),
        ("flux.yaml", FLUX),
        ("app.yaml", APP),
    ]);
    let out = tagbump(
        dir.path(),
        &[
            "image",
            "ghcr.io/acme/api:v1.5.0",
            "--app-version",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(
        places(&report),
        vec![
            "app.yaml spec.source.helm.parameters[1].value argocd-parameter",
            "chart/Chart.yaml appVersion app-version",
            "chart/values.yaml image.tag helm-map",
            "chart/values.yaml exporter.tag helm-map",
            "flux.yaml runner flux-marker",
            "overlay/kustomization.yaml images[0].newTag kustomize",
            "pod.yaml spec.containers[0].image image-string pinned",
        ]
    );
    assert!(
        report["notes"].as_array().expect("notes").iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("pod.yaml:5: pinned"))),
        "{report}"
    );
    // A dry run: nothing written.
    let pod = std::fs::read_to_string(dir.path().join("pod.yaml")).expect("pod");
    assert_eq!(pod, POD);
}

#[test]
fn dry_run_text_shows_the_kind_next_to_each_change() {
    let dir = tree(&[("pod.yaml", POD), ("values.yaml", VALUES)]);
    let out = tagbump(
        dir.path(),
        &["image", "ghcr.io/acme/api:v1.5.0", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "pod.yaml:5  spec.containers[0].image  ghcr.io/acme/api → ghcr.io/acme/api:v1.5.0  (image-string, pinned)",
        "values.yaml:4  image.tag  v1.4.2 → v1.5.0  (helm-map)",
        "values.yaml:7  exporter.tag  v1.4.2 → v1.5.0  (helm-map)",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn app_version_is_written_only_for_charts_whose_values_refer_to_the_image() {
    let other_values = "image:\n  repository: ghcr.io/acme/web\n  tag: v1.4.2\n";
    let dir = tree(&[
        ("charts/api/Chart.yaml", CHART),
        ("charts/api/values.yaml", VALUES),
        ("charts/web/Chart.yaml", CHART),
        ("charts/web/values.yaml", other_values),
    ]);
    let out = tagbump(
        dir.path(),
        &["image", "ghcr.io/acme/api:v1.5.0", "--app-version"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let read = |rel: &str| std::fs::read_to_string(dir.path().join(rel)).expect("read");
    assert_eq!(
        read("charts/api/Chart.yaml"),
        "apiVersion: v2\nname: api\nversion: 1.0.0\nappVersion: v1.5.0\n"
    );
    assert_eq!(read("charts/web/Chart.yaml"), CHART);
    assert_eq!(read("charts/web/values.yaml"), other_values);

    // Without the flag, appVersion is not a place.
    let dir = tree(&[
        ("charts/api/Chart.yaml", CHART),
        ("charts/api/values.yaml", VALUES),
    ]);
    let out = tagbump(dir.path(), &["image", "ghcr.io/acme/api:v1.5.0"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("charts/api/Chart.yaml")).expect("read"),
        CHART
    );
}

#[test]
fn flux_policy_writes_exactly_the_fields_of_that_policy() {
    let marked = "web:\n  image: ghcr.io/acme/web:1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n  tag: 1.0.0 # {\"$imagepolicy\": \"apps:web:tag\"}\n";
    let dir = tree(&[("marked.yaml", marked), ("values.yaml", VALUES)]);
    let out = tagbump(
        dir.path(),
        &[
            "image",
            "ghcr.io/acme/web:2.0.0",
            "--flux-policy",
            "apps:web",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(
        places(&report),
        vec![
            "marked.yaml web.image flux-marker",
            "marked.yaml web.tag flux-marker"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("marked.yaml")).expect("read"),
        "web:\n  image: ghcr.io/acme/web:2.0.0 # {\"$imagepolicy\": \"apps:web\"}\n  tag: 2.0.0 # {\"$imagepolicy\": \"apps:web:tag\"}\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
        VALUES
    );
}

#[test]
fn a_malformed_flux_policy_is_an_argument_error_and_nothing_changes() {
    let dir = tree(&[("values.yaml", VALUES)]);
    let out = tagbump(
        dir.path(),
        &["image", "ghcr.io/acme/api:v1.5.0", "--flux-policy", "api"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NAMESPACE:NAME"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
        VALUES
    );
}

#[test]
fn argocd_param_names_chart_specific_parameters() {
    let source = "helm:\n  parameters:\n  - name: backend.img.name\n    value: ghcr.io/acme/api\n  - name: backend.img.version\n    value: v1.4.2\n";
    let dir = tree(&[(".argocd-source-shop.yaml", source)]);
    let out = tagbump(
        dir.path(),
        &[
            "image",
            "ghcr.io/acme/api:v1.5.0",
            "--argocd-param",
            "backend.img.name,backend.img.version",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(
        places(&report),
        vec![".argocd-source-shop.yaml helm.parameters[1].value argocd-parameter"]
    );
}

#[test]
fn helm_values_strings_are_reported_place_by_place() {
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: |\n        image:\n          repository: ghcr.io/acme/api\n          tag: v1.4.2\n";
    let dir = tree(&[("app.yaml", app)]);
    let out = tagbump(
        dir.path(),
        &[
            "image",
            "ghcr.io/acme/api:v1.5.0",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    let report = json(&out);
    let change = &report["changes"][0];
    assert_eq!(change["path"], "spec.source.helm.values > image.tag");
    assert_eq!(change["kind"], "helm-map");
    assert_eq!(change["line"], 9);
    assert_eq!(change["old"], "v1.4.2");
    assert_eq!(change["new"], "v1.5.0");
    assert_eq!(report["changes"].as_array().expect("changes").len(), 1);
}

// Issue 19, items 4 and 6: what a search could not use is said, not hidden.

/// The `image:` block of bitnami/charts' `redis/values.yaml` (Apache-2.0, trimmed), and
/// a copy broken by a bad merge (an entry indented one space short).
const BITNAMI: &str = "# Copyright Broadcom, Inc. All Rights Reserved.\n# SPDX-License-Identifier: APACHE-2.0\nimage:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.4-debian-12-r9\n  pullPolicy: IfNotPresent\n";
const BITNAMI_BROKEN: &str = "# Copyright Broadcom, Inc. All Rights Reserved.\n# SPDX-License-Identifier: APACHE-2.0\nimage:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.4-debian-12-r9\n pullPolicy: IfNotPresent\n";

fn failed_json(out: &Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn a_skipped_file_naming_the_image_fails_the_run_before_anything_is_written() {
    let dir = tree(&[
        ("charts/redis/values.yaml", BITNAMI),
        ("charts/redis-copy/values.yaml", BITNAMI_BROKEN),
    ]);
    let image = "bitnami/redis:7.2.5-debian-12-r0";
    let report = failed_json(
        &tagbump(dir.path(), &["image", image, "--output", "json"]),
        1,
    );
    assert_eq!(report["error"]["kind"], "skipped-reference", "{report}");
    let message = report["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("charts/redis-copy/values.yaml (malformed YAML at line 7")
            && message.ends_with(
                "nothing was written; fix it, or pass --skip-unreadable to update the other \
                 files anyway"
            ),
        "{message}"
    );
    let skipped = report["skipped"].as_array().expect("skipped on failure");
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["file"], "charts/redis-copy/values.yaml");
    assert!(skipped[0]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("malformed YAML at line 7")));
    assert_eq!(report["changed"], false);
    assert_eq!(report["files"], serde_json::json!([]));
    // Nothing written, not even the good file.
    let good = std::fs::read_to_string(dir.path().join("charts/redis/values.yaml")).expect("read");
    assert_eq!(good, BITNAMI);

    // Text: the skip on stderr before the error, exit 1.
    let out = tagbump(dir.path(), &["image", image]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("skipped charts/redis-copy/values.yaml: malformed YAML at line 7"),
        "{stderr}"
    );
    assert!(stderr.contains("\nerror: "), "{stderr}");

    // --skip-unreadable (or TAGBUMP_SKIP_UNREADABLE): the other files are written and the
    // skip is reported.
    let out = tagbump(
        dir.path(),
        &["image", image, "--skip-unreadable", "--output", "json"],
    );
    let report = json(&out);
    assert_eq!(
        report["files"],
        serde_json::json!(["charts/redis/values.yaml"])
    );
    assert_eq!(
        report["skipped"][0]["file"],
        "charts/redis-copy/values.yaml"
    );
    assert!(report["notes"][0]
        .as_str()
        .is_some_and(|n| n.contains("names bitnami/redis but could not be read")));
    let good = std::fs::read_to_string(dir.path().join("charts/redis/values.yaml")).expect("read");
    assert_eq!(
        good,
        BITNAMI.replace("7.2.4-debian-12-r9", "7.2.5-debian-12-r0")
    );
}

#[test]
fn the_skip_unreadable_variable_allows_it_too() {
    let dir = tree(&[
        ("charts/redis/values.yaml", BITNAMI),
        ("charts/redis-copy/values.yaml", BITNAMI_BROKEN),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_tagbump"))
        .args([
            "image",
            "bitnami/redis:7.2.5-debian-12-r0",
            "--dry-run",
            "-C",
        ])
        .arg(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("TAGBUMP_SKIP_UNREADABLE", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run tagbump");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_failed_search_lists_what_it_could_not_read() {
    let dir = tree(&[("charts/redis-copy/values.yaml", BITNAMI_BROKEN)]);
    let report = failed_json(
        &tagbump(
            dir.path(),
            &["image", "ghcr.io/acme/api:v2", "--output", "json"],
        ),
        1,
    );
    assert_eq!(report["error"]["kind"], "image-not-found");
    let message = report["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("(searched 0 file(s); 1 more could not be read)"),
        "{message}"
    );
    assert_eq!(
        report["skipped"][0]["file"],
        "charts/redis-copy/values.yaml"
    );
}

#[test]
fn a_name_without_a_place_for_its_tag_says_where_it_is_and_what_to_pass() {
    // A Quarkus application chart's values, and an Argo CD Application passing the image
    // as one Helm parameter.
    let values = "app:\n  name: quarkus-app\nimage:\n  name: quay.io/acme/quarkus\n  pullPolicy: IfNotPresent\n";
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: quarkus-app\nspec:\n  source:\n    helm:\n      parameters:\n        - name: image.name\n          value: quay.io/acme/quarkus\n";
    let dir = tree(&[
        ("quarkus-app/values.yaml", values),
        ("apps/quarkus.yaml", app),
    ]);
    let report = failed_json(
        &tagbump(
            dir.path(),
            &["image", "quay.io/acme/quarkus:1.2.0", "--output", "json"],
        ),
        1,
    );
    assert_eq!(report["error"]["kind"], "image-not-found");
    assert_eq!(
        report["name_only"],
        serde_json::json!([
            {"file": "apps/quarkus.yaml", "document": 0, "path": "spec.source.helm.parameters[0].value", "line": 10, "value": "quay.io/acme/quarkus"},
            {"file": "quarkus-app/values.yaml", "document": 0, "path": "image.name", "line": 4, "value": "quay.io/acme/quarkus"},
        ])
    );
    let message = report["error"]["message"].as_str().expect("message");
    for part in [
        "quay.io/acme/quarkus is named, but nowhere with a place for its tag: ",
        "quarkus-app/values.yaml:4 image.name = quay.io/acme/quarkus (no image.tag beside it)",
        "--argocd-param image.name,TAG_PARAMETER",
        "`tagbump set quarkus-app/values.yaml image.tag=1.2.0 --create`",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert!(!message.contains("no reference"), "{message}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("quarkus-app/values.yaml")).expect("read"),
        values
    );
}

/// A copy of `fixtures/search-json/in` (JSON manifests beside a package.json, a
/// Grafana dashboard, a hidden `.github/` and a chart's `templates/`).
fn json_checkout() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    copy(&search_json().join("in"), dir.path());
    dir
}

fn search_json() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/search-json")
}

#[test]
fn json_manifests_are_edited_and_what_was_not_searched_is_reported_once() {
    let dir = json_checkout();
    let image = "gcr.io/heptio-images/ks-guestbook-demo:0.3";
    let text = tagbump(dir.path(), &["image", image, "--dry-run"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("not searched"))
        .collect();
    assert_eq!(
        lines,
        ["not searched: 2 directories (.github, charts/guestbook/templates), \
          2 JSON files that are not Kubernetes objects (dashboards/guestbook.json, web/package.json)"]
    );
    assert!(!stdout.contains("skipped"), "{stdout}");

    let report = json(&tagbump(dir.path(), &["image", image, "--output", "json"]));
    assert_eq!(
        report["not_searched"],
        serde_json::json!([
            {"path": ".github", "reason": "hidden-directory"},
            {"path": "charts/guestbook/templates", "reason": "chart-templates"},
            {"path": "dashboards/guestbook.json", "reason": "not-kubernetes-json"},
            {"path": "web/package.json", "reason": "not-kubernetes-json"},
        ])
    );
    assert_eq!(report["skipped"], serde_json::json!([]));
    assert_eq!(
        places(&report),
        [
            "apps/guestbook/guestbook-ui.json items[0].spec.template.spec.containers[0].image image-string",
            "charts/guestbook/values.yaml image.tag helm-map",
        ]
    );
    for (rel, dir_of_expected) in [
        ("apps/guestbook/guestbook-ui.json", "out"),
        ("charts/guestbook/values.yaml", "out"),
        ("web/package.json", "in"),
        ("dashboards/guestbook.json", "in"),
    ] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(rel)).expect("read"),
            std::fs::read_to_string(search_json().join(dir_of_expected).join(rel)).expect("read"),
            "{rel}"
        );
    }
}

#[test]
fn a_search_that_entered_everything_reports_no_not_searched() {
    let dir = tree(&[(
        "values.yaml",
        "image:\n  repository: nginx\n  tag: \"1.25\"\n",
    )]);
    let report = json(&tagbump(
        dir.path(),
        &["image", "nginx:1.26", "--output", "json"],
    ));
    assert!(report.get("not_searched").is_none(), "{report}");
}

#[test]
fn set_on_a_json_file_writes_json() {
    let dir = json_checkout();
    let rel = "apps/redis/deployment.json";
    let out = tagbump(
        dir.path(),
        &[
            "set",
            rel,
            "spec.replicas=3",
            "spec.template.spec.containers[0].image=registry.k8s.io/redis:7.2",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original = std::fs::read_to_string(search_json().join("in").join(rel)).expect("read");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(rel)).expect("read"),
        original
            .replace("\"replicas\": 1,", "\"replicas\": 3,")
            .replace("redis:e2e", "redis:7.2")
    );
    // A key that is not there is not added to JSON, even with --create.
    let out = tagbump(dir.path(), &["set", rel, "spec.paused=true", "--create"]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("keys are not added to JSON files"),
        "{stderr}"
    );
}

#[test]
fn a_failed_search_says_what_it_did_not_search() {
    // Only the dashboard and package.json name this image: not found, and the report
    // says why those were not looked at (stderr in text, `not_searched` in JSON).
    let dir = json_checkout();
    for rel in [
        "apps/guestbook/guestbook-ui.json",
        "charts/guestbook/values.yaml",
    ] {
        std::fs::remove_file(dir.path().join(rel)).expect("rm");
    }
    let image = "gcr.io/heptio-images/ks-guestbook-demo:0.3";
    let out = tagbump(dir.path(), &["image", image]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "not searched: 2 directories (.github, charts/guestbook/templates), \
             2 JSON files that are not Kubernetes objects (dashboards/guestbook.json, web/package.json)\n"
        ),
        "{stderr}"
    );
    let out = tagbump(dir.path(), &["image", image, "--output", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["error"]["kind"], "image-not-found");
    assert_eq!(
        report["not_searched"][3],
        serde_json::json!({"path": "web/package.json", "reason": "not-kubernetes-json"})
    );
}
