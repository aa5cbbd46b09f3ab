//! `tagbump promote` on a copy of fixtures/environments/repo (see tests/environments.rs
//! for what it holds): the files written, the JSON report (`image`'s plus
//! `promotion`), an ambiguous source refused with nothing written, a dry run. Expected
//! bytes and values are written by hand from the fixture files
//! (fixtures/environments/promote-dev-staging holds staging after dev → staging).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::cli::{home, run, tagbump, Run};

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/environments")
        .join(dir)
}

/// A copy of the fixture config repository.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_into(&fixture("repo"), dir.path());
    dir
}

fn copy_into(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_into(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

fn promote(root: &Path, args: &[&str]) -> Run {
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.arg("promote").arg("-C").arg(root).args(args);
    run(&mut cmd)
}

const STAGING: [&str; 3] = [
    "envs/staging/deployment.yaml",
    "envs/staging/kustomization.yaml",
    "envs/staging/values.yaml",
];

#[test]
fn dev_to_staging_json_is_the_image_report_plus_the_promotion() {
    let repo = copy();
    let out = promote(repo.path(), &["--to", "staging", "--output", "json"]);
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["changed"], json!(true));
    assert_eq!(report["files"], json!(STAGING));
    assert_eq!(
        report["promotion"],
        json!({
            "from": "dev",
            "to": "staging",
            "images": [
                {"image": "bitnami/redis", "from_tag": "7.2.4", "from_digest": null, "to_old_tag": "7.2.4", "changed": false},
                {"image": "ghcr.io/acme/api", "from_tag": "1.6.0", "from_digest": null, "to_old_tag": "1.5.0", "changed": true},
                {"image": "ghcr.io/acme/web", "from_tag": "2.1.0", "from_digest": null, "to_old_tag": null, "changed": true},
            ],
        })
    );
    // `changes[]` entries are `image`'s: file, path, line, old, new, kind.
    let changed: Vec<_> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["changed"] == json!(true))
        .map(|c| {
            json!({"file": c["file"], "path": c["path"], "line": c["line"], "old": c["old"], "new": c["new"], "kind": c["kind"]})
        })
        .collect();
    assert_eq!(
        changed,
        [
            json!({"file": "envs/staging/deployment.yaml", "path": "spec.template.spec.containers[0].image", "line": 10, "old": "ghcr.io/acme/api:1.5.0", "new": "ghcr.io/acme/api:1.6.0", "kind": "image-string"}),
            json!({"file": "envs/staging/kustomization.yaml", "path": "images[0].newTag", "line": 7, "old": "1.5.0", "new": "1.6.0", "kind": "kustomize"}),
            json!({"file": "envs/staging/values.yaml", "path": "api.image.tag", "line": 5, "old": "1.5.0", "new": "1.6.0", "kind": "helm-map"}),
            json!({"file": "envs/staging/deployment.yaml", "path": "spec.template.spec.containers[1].image", "line": 13, "old": "ghcr.io/acme/web:2.0.0", "new": "ghcr.io/acme/web:2.1.0", "kind": "image-string"}),
        ]
    );
    assert!(report.get("diff").is_none(), "no diff outside a dry run");
    for rel in STAGING {
        assert_eq!(
            read(repo.path(), rel),
            read(&fixture("promote-dev-staging"), rel),
            "{rel}"
        );
    }
    // Nothing outside staging changed.
    for rel in [
        "envs/dev/values.yaml",
        "envs/prod/values.yaml",
        "clusters/prod/apps.yaml",
    ] {
        assert_eq!(read(repo.path(), rel), read(&fixture("repo"), rel), "{rel}");
    }

    // Again: in sync.
    let out = promote(
        repo.path(),
        &["--to", "staging", "--from", "dev", "--output", "json"],
    );
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["changed"], json!(false));
    assert_eq!(report["files"], json!([]));
    assert!(report["promotion"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["changed"] == json!(false)));
}

#[test]
fn text_names_each_image_and_the_places() {
    let repo = copy();
    let out = promote(repo.path(), &["--to", "staging", "ghcr.io/acme/api"]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "promote dev → staging\n  \
         ghcr.io/acme/api  1.5.0 → 1.6.0\n\
         envs/staging/deployment.yaml:10  spec.template.spec.containers[0].image  ghcr.io/acme/api:1.5.0 → ghcr.io/acme/api:1.6.0  (image-string)\n\
         envs/staging/kustomization.yaml:7  images[0].newTag  1.5.0 → 1.6.0  (kustomize)\n\
         envs/staging/values.yaml:5  api.image.tag  1.5.0 → 1.6.0  (helm-map)\n\
         updated 3 file(s)\n"
    );
}

#[test]
fn an_ambiguous_source_is_refused_and_nothing_is_written() {
    let repo = copy();
    let out = promote(repo.path(), &["--to", "prod", "--output", "json"]);
    out.assert_code(1);
    let report = out.json();
    assert_eq!(report["error"]["kind"], json!("ambiguous"));
    let message = report["error"]["message"].as_str().unwrap();
    let place = format!(
        "cannot apply the promotion staging → prod in {}: ",
        repo.path().display()
    );
    assert_eq!(
        message.strip_prefix(&place),
        Some("image ghcr.io/acme/web is ambiguous in environment \"staging\": its places disagree (envs/staging/deployment.yaml:13: 2.0.0; envs/staging/values.yaml:10: 2.1.0); make them agree before promoting"),
        "{message}"
    );
    assert_eq!(
        (report["changed"].clone(), report["promotion"].clone()),
        (json!(false), json!(null))
    );
    for rel in [
        "envs/prod/values.yaml",
        "envs/prod/kustomization.yaml",
        "clusters/prod/apps.yaml",
    ] {
        assert_eq!(read(repo.path(), rel), read(&fixture("repo"), rel), "{rel}");
    }
}

#[test]
fn a_named_image_the_target_lacks_and_an_unknown_environment_are_errors() {
    let repo = copy();
    let out = promote(
        repo.path(),
        &["--to", "staging", "ghcr.io/acme/debug", "--output", "json"],
    );
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], json!("image-not-found"));
    let out = promote(repo.path(), &["--to", "qa"]);
    out.assert_code(2);
    assert_eq!(
        out.stderr,
        format!("error: cannot apply a promotion to qa in {}: there is no environment \"qa\" in .tagbump.yaml (environments: dev, staging, prod)\n", repo.path().display())
    );
    for rel in STAGING {
        assert_eq!(read(repo.path(), rel), read(&fixture("repo"), rel), "{rel}");
    }
}

#[test]
fn a_dry_run_shows_the_diff_and_writes_nothing() {
    let repo = copy();
    let out = promote(
        repo.path(),
        &[
            "--to",
            "staging",
            "--dry-run",
            "--output",
            "json",
            "ghcr.io/acme/web",
        ],
    );
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["dry_run"], json!(true));
    assert_eq!(
        report["diff"],
        json!("--- a/envs/staging/deployment.yaml\n+++ b/envs/staging/deployment.yaml\n@@ -10,4 +10,4 @@\n           image: ghcr.io/acme/api:1.5.0\n         # a hotfix someone pinned by hand\n         - name: web\n-          image: ghcr.io/acme/web:2.0.0\n+          image: ghcr.io/acme/web:2.1.0\n")
    );
    for rel in STAGING {
        assert_eq!(read(repo.path(), rel), read(&fixture("repo"), rel), "{rel}");
    }
}
