//! `tagbump image IMAGE:TAG DIR --argocd-app NAME` writes the application's
//! `.argocd-source-<app>.yaml` byte for byte as Argo CD Image Updater's git
//! write-back writes it (fixtures in `fixtures/argocd-writeback/`, see its README),
//! and nothing else.

use crate::support;

use std::path::{Path, PathBuf};

use support::cli::{home, run, tagbump};

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/argocd-writeback")
        .join(case)
}

/// Copies the case's `app/` into a temporary config repository (as `app/`).
fn checkout(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let from = fixture(case).join("app");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    for entry in std::fs::read_dir(&from).expect("fixture") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join("app").join(entry.file_name())).expect("copy");
    }
    dir
}

fn tagbump_image(dir: &Path, args: &[&str]) -> support::cli::Run {
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.arg("image").args(args).arg("-C").arg(dir);
    run(&mut cmd)
}

/// Runs the case, compares the override file with `expected.yaml`, runs it again
/// (nothing changes), and checks that no other file changed.
fn case(name: &str, file: &str, args: &[&str]) {
    let dir = checkout(name);
    let before: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir.path().join("app"))
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| !p.ends_with(file))
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect();
    let mut all = args.to_vec();
    all.push("app");
    tagbump_image(dir.path(), &all).assert_code(0);
    let expected = std::fs::read_to_string(fixture(name).join("expected.yaml")).expect("expected");
    let written = std::fs::read_to_string(dir.path().join("app").join(file)).expect("written");
    assert_eq!(
        written, expected,
        "{name}: the override file differs from Image Updater's"
    );
    for (path, bytes) in before {
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "{} must not change",
            path.display()
        );
    }
    let again = tagbump_image(dir.path(), &all);
    again.assert_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_new_helm_override_file_with_a_quoted_tag_and_values_yaml_untouched() {
    case(
        "helm-new",
        ".argocd-source-api.yaml",
        &["ghcr.io/acme/api:1.10", "--argocd-app", "api"],
    );
}

#[test]
fn helm_parameters_already_in_the_file_are_kept_and_the_list_sorted_by_name() {
    case(
        "helm-merge",
        ".argocd-source-api.yaml",
        &["ghcr.io/acme/api:v1.5.0", "--argocd-app", "api"],
    );
}

#[test]
fn a_kustomize_image_is_replaced_in_place_and_others_kept() {
    case(
        "kustomize-merge",
        ".argocd-source-shop.yaml",
        &["ghcr.io/acme/api:v1.5.0", "--argocd-app", "shop"],
    );
}

#[test]
fn an_application_in_another_namespace_gets_the_namespaced_file_name() {
    case(
        "kustomize-namespaced",
        ".argocd-source-team-a_shop.yaml",
        &[
            "ghcr.io/acme/api:v1.5.0",
            "--argocd-app",
            "team-a/shop",
            "--kustomize-image-name",
            "api",
        ],
    );
}

#[test]
fn an_unknown_kind_and_a_bad_name_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    let out = tagbump_image(
        dir.path(),
        &[
            "ghcr.io/acme/api:v1",
            "app",
            "--argocd-app",
            "api",
            "--output",
            "json",
        ],
    );
    out.assert_code(2);
    assert_eq!(out.json()["error"]["kind"], "invalid-input");
    assert!(
        out.stderr
            .contains("app: cannot tell whether the application is Helm or Kustomize"),
        "{}",
        out.stderr
    );
    let out = tagbump_image(
        dir.path(),
        &[
            "ghcr.io/acme/api:v1",
            "app",
            "--argocd-app",
            "../evil",
            "--argocd-app-kind",
            "helm",
        ],
    );
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("invalid Argo CD application \"../evil\""),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("app"))
            .expect("dir")
            .count(),
        0,
        "nothing written"
    );
}
