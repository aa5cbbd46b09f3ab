//! JSON manifests and what a whole-tree search does not enter (issue 19 item 5).
//!
//! `fixtures/search-json` is a config repository with JSON beside YAML: a `kind: List`
//! of a Deployment and a Service as `kubectl get -o json` writes it, a single JSON
//! Deployment, and a `package.json` and a Grafana dashboard that name the image but
//! are not Kubernetes objects. The search edits the manifests byte-exactly, never
//! touches the others, does not count them as skipped (so the skipped-reference rule
//! does not fail the run), and lists them, with the directories it does not enter, in
//! `Plan::not_searched`.

use std::path::{Path, PathBuf};

use tagbump::image::ImageRef;
use tagbump::plan::{plan, Options, Request};
use tagbump::targets::{NotSearched, NotSearchedReason};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/search-json")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A copy of the fixture's `in/` tree.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture().join("in"), dir.path());
    dir
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).expect("read")
}

fn image_request(image: &str) -> Request {
    Request::Image {
        image: ImageRef::parse(image).expect("image"),
        paths: vec![],
    }
}

fn not_searched(path: &str, reason: NotSearchedReason) -> NotSearched {
    NotSearched {
        path: PathBuf::from(path),
        reason,
    }
}

#[test]
fn a_json_list_manifest_is_edited_byte_exactly_and_other_json_is_not_searched() {
    let dir = checkout();
    let planned = plan(
        dir.path(),
        &image_request("gcr.io/heptio-images/ks-guestbook-demo:0.3"),
        &Options::default(),
    )
    .expect("found");
    assert_eq!(
        planned.changed_files(),
        vec![
            PathBuf::from("apps/guestbook/guestbook-ui.json"),
            PathBuf::from("charts/guestbook/values.yaml"),
        ]
    );
    let json = planned
        .records
        .iter()
        .find(|r| r.file == Path::new("apps/guestbook/guestbook-ui.json"))
        .expect("JSON place");
    assert_eq!(
        (json.path.as_str(), json.line),
        ("items[0].spec.template.spec.containers[0].image", 28)
    );
    assert!(planned.skipped.is_empty(), "{:?}", planned.skipped);
    assert_eq!(
        planned.not_searched,
        vec![
            not_searched(".github", NotSearchedReason::HiddenDirectory),
            not_searched(
                "charts/guestbook/templates",
                NotSearchedReason::ChartTemplates
            ),
            not_searched(
                "dashboards/guestbook.json",
                NotSearchedReason::NotKubernetesJson
            ),
            not_searched("web/package.json", NotSearchedReason::NotKubernetesJson),
        ]
    );
    planned.write().expect("written");
    for rel in [
        "apps/guestbook/guestbook-ui.json",
        "charts/guestbook/values.yaml",
    ] {
        assert_eq!(
            read(dir.path(), rel),
            read(&fixture().join("out"), rel),
            "{rel}"
        );
    }
    for rel in [
        "web/package.json",
        "dashboards/guestbook.json",
        ".github/workflows/build.yaml",
        "charts/guestbook/templates/deployment.yaml",
        "apps/redis/deployment.json",
    ] {
        assert_eq!(
            read(dir.path(), rel),
            read(&fixture().join("in"), rel),
            "{rel}"
        );
    }
}

#[test]
fn a_single_json_deployment_gets_its_image_string() {
    let dir = checkout();
    let planned = plan(
        dir.path(),
        &image_request("registry.k8s.io/redis:7.2"),
        &Options::default(),
    )
    .expect("found");
    planned.write().expect("written");
    assert_eq!(
        planned.changed_files(),
        vec![PathBuf::from("apps/redis/deployment.json")]
    );
    let rel = "apps/redis/deployment.json";
    assert_eq!(read(dir.path(), rel), read(&fixture().join("out"), rel));
}

#[test]
fn an_image_named_only_in_json_that_is_no_manifest_is_not_found_and_nothing_fails() {
    // The dashboard and package.json name this image; neither is searched, so the run
    // finds no reference rather than failing on a skipped one.
    let dir = checkout();
    std::fs::remove_file(dir.path().join("apps/guestbook/guestbook-ui.json")).expect("rm");
    std::fs::remove_file(dir.path().join("charts/guestbook/values.yaml")).expect("rm");
    let err = plan(
        dir.path(),
        &image_request("gcr.io/heptio-images/ks-guestbook-demo:0.3"),
        &Options::default(),
    )
    .expect_err("nothing to write");
    assert!(
        matches!(err, tagbump::plan::PlanError::ImageNotFound { .. }),
        "{err:?}"
    );
    assert!(err.skipped().is_empty(), "{:?}", err.skipped());
}

#[test]
fn hidden_files_node_modules_and_links_out_of_the_tree_are_listed_as_not_searched() {
    let dir = checkout();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(".pre-commit-config.yaml", "repos: []\n");
    write(".gitignore", "node_modules\n");
    write(
        "web/node_modules/left-pad/package.json",
        "{\"name\": \"left-pad\"}\n",
    );
    write(
        "web/tsconfig.json",
        "{\n  // comments: not JSON, not a manifest\n  \"compilerOptions\": {}\n}\n",
    );
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("values.yaml"), "tag: v1\n").expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            outside.path().join("values.yaml"),
            root.join("apps/out.yaml"),
        )
        .expect("link");
        std::os::unix::fs::symlink(outside.path(), root.join("apps/shared")).expect("link");
        std::os::unix::fs::symlink(root.join("gone.yaml"), root.join("apps/gone.yaml"))
            .expect("link");
    }
    let planned = plan(
        root,
        &image_request("gcr.io/heptio-images/ks-guestbook-demo:0.3"),
        &Options::default(),
    )
    .expect("found");
    let mut expected = vec![
        not_searched(".github", NotSearchedReason::HiddenDirectory),
        not_searched(".pre-commit-config.yaml", NotSearchedReason::HiddenFile),
        not_searched(
            "charts/guestbook/templates",
            NotSearchedReason::ChartTemplates,
        ),
        not_searched(
            "dashboards/guestbook.json",
            NotSearchedReason::NotKubernetesJson,
        ),
        not_searched("web/node_modules", NotSearchedReason::NodeModules),
        not_searched("web/package.json", NotSearchedReason::NotKubernetesJson),
        not_searched("web/tsconfig.json", NotSearchedReason::NotKubernetesJson),
    ];
    if cfg!(unix) {
        expected.extend([
            not_searched("apps/gone.yaml", NotSearchedReason::DanglingLink),
            not_searched("apps/out.yaml", NotSearchedReason::LinkOutside),
            not_searched("apps/shared", NotSearchedReason::LinkOutside),
        ]);
        expected.sort_by(|a, b| a.path.cmp(&b.path));
    }
    assert_eq!(planned.not_searched, expected);
    assert!(planned.skipped.is_empty(), "{:?}", planned.skipped);
}

#[test]
fn values_inside_a_json_argo_cd_application_are_written_back_as_a_json_string() {
    // `helm.values` is YAML inside a JSON string: edited inside, then written with
    // JSON escapes (`\n`), never as a YAML block or with YAML-only escapes.
    let app = r#"{
  "apiVersion": "argoproj.io/v1alpha1",
  "kind": "Application",
  "metadata": {"name": "api", "namespace": "argocd"},
  "spec": {
    "source": {
      "repoURL": "https://charts.example.com",
      "chart": "api",
      "targetRevision": "1.0.0",
      "helm": {"values": "image:\n  repository: ghcr.io/acme/api\n  tag: v1 # pinned\n"}
    }
  }
}
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("api.json"), app).expect("write");
    let planned = plan(
        dir.path(),
        &image_request("ghcr.io/acme/api:v2"),
        &Options::default(),
    )
    .expect("found");
    planned.write().expect("written");
    let written = read(dir.path(), "api.json");
    assert_eq!(written, app.replace("tag: v1 # pinned", "tag: v2 # pinned"));
    let back: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(
        back["spec"]["source"]["helm"]["values"],
        "image:\n  repository: ghcr.io/acme/api\n  tag: v2 # pinned\n"
    );
}
