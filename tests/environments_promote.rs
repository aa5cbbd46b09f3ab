//! Promotion between environments (issue 22, part 2), computed by the library and
//! written into a copy of fixtures/environments/repo (see tests/environments.rs for
//! what it holds). Every expected file is written by hand: the ones of dev → staging
//! in fixtures/environments/promote-dev-staging, the others below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tagbump::environments::{promote, Config, PromoteError, PromoteRequest, PromotedImage};
use tagbump::plan;

const DIGEST: &str = "sha256:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
const NEW_DIGEST: &str = "sha256:beefcafebeefcafebeefcafebeefcafebeefcafebeefcafebeefcafebeefcafe";

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/environments")
        .join(dir)
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// A copy of the fixture config repository.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in tree(&fixture("repo")) {
        let path = dir.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn request(to: &str, from: Option<&str>, images: &[&str]) -> PromoteRequest {
    PromoteRequest {
        to: to.to_string(),
        from: from.map(str::to_string),
        images: images.iter().map(|s| s.to_string()).collect(),
    }
}

fn run(root: &Path, req: &PromoteRequest) -> Result<tagbump::environments::Promoted, PromoteError> {
    let config = Config::load(root, None).unwrap();
    promote(root, &config, req, &plan::Options::default())
}

fn image(
    name: &str,
    from_tag: &str,
    from_digest: Option<&str>,
    to_old_tag: Option<&str>,
    changed: bool,
) -> PromotedImage {
    PromotedImage {
        image: name.to_string(),
        from_tag: Some(from_tag.to_string()),
        from_digest: from_digest.map(str::to_string),
        to_old_tag: to_old_tag.map(str::to_string),
        changed,
    }
}

#[test]
fn dev_to_staging_writes_exactly_the_expected_files() {
    let repo = copy();
    let before = tree(repo.path());
    // `from` comes from the config: staging is promoted from dev.
    let done = run(repo.path(), &request("staging", None, &[])).unwrap();
    assert_eq!(
        (done.promotion.from.as_str(), done.promotion.to.as_str()),
        ("dev", "staging")
    );
    // debug (dev only) and worker (dev and prod, not staging) are not promoted.
    assert_eq!(
        done.promotion.images,
        [
            image("bitnami/redis", "7.2.4", None, Some("7.2.4"), false),
            image("ghcr.io/acme/api", "1.6.0", None, Some("1.5.0"), true),
            // staging's places of web disagreed (2.0.0 and 2.1.0): no single old tag.
            image("ghcr.io/acme/web", "2.1.0", None, None, true),
        ]
    );
    // Nothing is written before the plan is.
    assert_eq!(tree(repo.path()), before);
    let written = done.plan.write().unwrap();
    assert_eq!(
        written,
        [
            PathBuf::from("envs/staging/deployment.yaml"),
            PathBuf::from("envs/staging/kustomization.yaml"),
            PathBuf::from("envs/staging/values.yaml"),
        ]
    );
    let mut expected = before.clone();
    for (rel, text) in tree(&fixture("promote-dev-staging")) {
        expected.insert(rel, text);
    }
    assert_eq!(tree(repo.path()), expected);
    // The changes are `image`'s records: file, path, line, old, new, kind.
    let changed: Vec<(String, String, usize, Option<String>, String)> = done
        .plan
        .records
        .iter()
        .filter(|r| r.changed)
        .map(|r| {
            (
                r.file.display().to_string(),
                r.path.clone(),
                r.line,
                r.old.clone(),
                r.new.clone(),
            )
        })
        .collect();
    let s = |v: &str| v.to_string();
    let mut want = vec![
        (
            s("envs/staging/deployment.yaml"),
            s("spec.template.spec.containers[0].image"),
            10,
            Some(s("ghcr.io/acme/api:1.5.0")),
            s("ghcr.io/acme/api:1.6.0"),
        ),
        (
            s("envs/staging/kustomization.yaml"),
            s("images[0].newTag"),
            7,
            Some(s("1.5.0")),
            s("1.6.0"),
        ),
        (
            s("envs/staging/values.yaml"),
            s("api.image.tag"),
            5,
            Some(s("1.5.0")),
            s("1.6.0"),
        ),
        (
            s("envs/staging/deployment.yaml"),
            s("spec.template.spec.containers[1].image"),
            13,
            Some(s("ghcr.io/acme/web:2.0.0")),
            s("ghcr.io/acme/web:2.1.0"),
        ),
    ];
    let mut got = changed.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // Promoting again: in sync, nothing changes.
    let again = run(repo.path(), &request("staging", Some("dev"), &[])).unwrap();
    assert!(again.promotion.images.iter().all(|i| !i.changed));
    assert!(!again.plan.changed());
    assert_eq!(again.plan.write().unwrap(), Vec::<PathBuf>::new());
    assert_eq!(tree(repo.path()), expected);
}

#[test]
fn an_image_in_sync_changes_nothing() {
    let repo = copy();
    let before = tree(repo.path());
    let done = run(
        repo.path(),
        &request("staging", None, &["docker.io/bitnami/redis"]),
    )
    .unwrap();
    assert_eq!(
        done.promotion.images,
        [image("bitnami/redis", "7.2.4", None, Some("7.2.4"), false)]
    );
    assert!(!done.plan.changed());
    assert!(done.plan.write().unwrap().is_empty());
    assert_eq!(tree(repo.path()), before);
}

#[test]
fn a_named_image_one_side_lacks_is_an_error_naming_it() {
    let repo = copy();
    let before = tree(repo.path());
    // debug is only in dev: the target lacks it.
    let err = run(
        repo.path(),
        &request("staging", None, &["ghcr.io/acme/debug"]),
    )
    .unwrap_err();
    assert_eq!(err.kind(), Some("image-not-found"));
    assert_eq!(
        err.to_string(),
        "image ghcr.io/acme/debug is not referenced under the paths of environment \"staging\" (envs/staging), so it cannot be promoted from \"dev\" to \"staging\""
    );
    // worker is in prod but not in staging: the source lacks it.
    let err = run(
        repo.path(),
        &request("prod", None, &["ghcr.io/acme/worker"]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, PromoteError::NotReferenced { environment, .. } if environment == "staging"),
        "{err}"
    );
    assert_eq!(tree(repo.path()), before);
}

#[test]
fn a_source_whose_places_disagree_is_ambiguous_and_nothing_is_written() {
    let repo = copy();
    let before = tree(repo.path());
    // staging runs web 2.0.0 in its Deployment and 2.1.0 in its values.
    let err = run(repo.path(), &request("prod", None, &[])).unwrap_err();
    assert_eq!(err.kind(), Some("ambiguous"));
    assert_eq!(
        err.to_string(),
        "image ghcr.io/acme/web is ambiguous in environment \"staging\": its places disagree (envs/staging/deployment.yaml:13: 2.0.0; envs/staging/values.yaml:10: 2.1.0); make them agree before promoting"
    );
    assert_eq!(tree(repo.path()), before);
}

#[test]
fn unknown_environments_and_no_source_are_refused() {
    let repo = copy();
    let err = run(repo.path(), &request("qa", None, &[])).unwrap_err();
    assert_eq!(err.kind(), Some("invalid-input"));
    assert_eq!(
        err.to_string(),
        "there is no environment \"qa\" in .tagbump.yaml (environments: dev, staging, prod)"
    );
    let err = run(repo.path(), &request("dev", None, &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment \"dev\" has no `from` in .tagbump.yaml: say which environment to promote from"
    );
    let err = run(
        repo.path(),
        &request("staging", None, &["ghcr.io/acme/api:1.0"]),
    )
    .unwrap_err();
    assert_eq!(err.kind(), Some("invalid-input"));
}

/// staging with web agreeing and api pinned by digest in each of its places.
fn pin_staging(root: &Path) {
    let staging = root.join("envs/staging");
    std::fs::write(
        staging.join("deployment.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.6.0@{NEW_DIGEST}\n        - name: web\n          image: ghcr.io/acme/web:2.1.0\n"
        ),
    )
    .unwrap();
    std::fs::write(
        staging.join("kustomization.yaml"),
        format!(
            "images:\n  - name: ghcr.io/acme/api\n    newTag: 1.6.0\n    digest: {NEW_DIGEST}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        staging.join("values.yaml"),
        format!("api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.6.0\"\n    digest: {NEW_DIGEST}\n"),
    )
    .unwrap();
}

#[test]
fn a_staging_digest_is_promoted_into_prods_digest_fields() {
    let repo = copy();
    pin_staging(repo.path());
    let before = tree(repo.path());
    let done = run(repo.path(), &request("prod", None, &["ghcr.io/acme/api"])).unwrap();
    assert_eq!(
        done.promotion.images,
        [image(
            "ghcr.io/acme/api",
            "1.6.0",
            Some(NEW_DIGEST),
            Some("1.5.0"),
            true
        )]
    );
    done.plan.write().unwrap();
    let mut expected = before;
    expected.insert(
        "envs/prod/kustomization.yaml".into(),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: \"1.6.0\"\n    digest: {NEW_DIGEST}\n"
        ),
    );
    expected.insert(
        "envs/prod/values.yaml".into(),
        format!(
            "# prod: pinned by digest\napi:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.6.0\"\n    digest: {NEW_DIGEST}\nweb:\n  image:\n    registry: ghcr.io\n    repository: acme/web\n    tag: 2.1.0\nredis:\n  image:\n    registry: docker.io\n    repository: bitnami/redis\n    tag: 7.2.4\n"
        ),
    );
    assert_eq!(tree(repo.path()), expected);
}

#[test]
fn a_source_without_a_digest_drops_the_targets_with_a_note() {
    let repo = copy();
    // staging's web agrees with itself; api stays 1.5.0 without a digest.
    let deployment = repo.path().join("envs/staging/deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(&deployment, text.replace("web:2.0.0", "web:2.1.0")).unwrap();
    let done = run(repo.path(), &request("prod", None, &["ghcr.io/acme/api"])).unwrap();
    assert_eq!(
        done.promotion.images,
        [image(
            "ghcr.io/acme/api",
            "1.5.0",
            None,
            Some("1.5.0"),
            true
        )]
    );
    assert_eq!(
        done.plan.notes,
        [
            format!("envs/prod/kustomization.yaml:8: dropped the old digest {DIGEST}: it pinned the previous image and would override the new tag"),
            format!("envs/prod/values.yaml:6: dropped the old digest {DIGEST}: it pinned the previous image and would override the new tag"),
        ]
    );
    done.plan.write().unwrap();
    let prod = tree(&repo.path().join("envs/prod"));
    assert_eq!(
        prod["kustomization.yaml"],
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: \"1.5.0\"\n    digest: \"\"\n"
    );
    assert_eq!(
        prod["values.yaml"],
        "# prod: pinned by digest\napi:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"1.5.0\"\n    digest: \"\"\nweb:\n  image:\n    registry: ghcr.io\n    repository: acme/web\n    tag: 2.1.0\nredis:\n  image:\n    registry: docker.io\n    repository: bitnami/redis\n    tag: 7.2.4\n"
    );
}
