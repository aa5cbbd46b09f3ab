//! `.tagbump.yaml` (issue 22, part 1) and the status of every image per environment
//! (part 3), on the fixture config repository fixtures/environments/repo: Helm values
//! with several images (one with a Bitnami `registry`), kustomizations with `images`
//! (one with a digest), Deployments with two containers, an Argo CD Application with
//! `helm.parameters`; one image only in dev, staging with two tags for one image.
//! Every expected value below is written by hand from the fixture files.

use std::path::{Path, PathBuf};

use serde_json::json;
use tagbump::environments::{status, Config, ConfigError};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/environments/repo")
}

const DIGEST: &str = "sha256:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

#[test]
fn the_fixture_config_reads_in_order_with_its_paths() {
    let config = Config::load(&repo(), None).unwrap();
    assert_eq!(config.names(), ["dev", "staging", "prod"]);
    let prod = config.get("prod").unwrap();
    assert_eq!(
        prod.paths,
        [
            PathBuf::from("envs/prod"),
            PathBuf::from("clusters/prod/apps.yaml")
        ]
    );
    assert_eq!(prod.from.as_deref(), Some("staging"));
    assert_eq!(prod.pr, Some(true));
    assert_eq!(prod.line, 5);
    let dev = config.get("dev").unwrap();
    assert_eq!((dev.from.as_deref(), dev.pr), (None, None));
}

#[test]
fn status_of_the_fixture_repo() {
    let config = Config::load(&repo(), None).unwrap();
    let got = status(&repo(), &config).unwrap();
    let state = |tag: &str, digest: Option<&str>, places: usize| json!({"tag": tag, "digest": digest, "places": places});
    let expected = json!({
        "environments": ["dev", "staging", "prod"],
        "images": [
            {
                "image": "bitnami/redis",
                "environments": {
                    "dev": state("7.2.4", None, 1),
                    "staging": state("7.2.4", None, 1),
                    "prod": state("7.2.4", None, 1),
                },
                "in_sync": true,
            },
            {
                "image": "ghcr.io/acme/api",
                "environments": {
                    // values.yaml, kustomization.yaml, deployment.yaml
                    "dev": state("1.6.0", None, 3),
                    "staging": state("1.5.0", None, 3),
                    // values.yaml (a map with its digest), kustomization.yaml
                    "prod": state("1.5.0", Some(DIGEST), 2),
                },
                "in_sync": false,
            },
            {
                "image": "ghcr.io/acme/debug",
                "environments": {"dev": state("0.3.1", None, 1), "staging": null, "prod": null},
                "in_sync": true,
            },
            {
                "image": "ghcr.io/acme/web",
                "environments": {
                    // `digest: ""` is no digest
                    "dev": state("2.1.0", None, 1),
                    "staging": {
                        "tag": null,
                        "digest": null,
                        "places": 2,
                        "conflicts": [
                            {"file": "envs/staging/deployment.yaml", "line": 13, "tag": "2.0.0", "digest": null},
                            {"file": "envs/staging/values.yaml", "line": 10, "tag": "2.1.0", "digest": null},
                        ],
                    },
                    "prod": state("2.1.0", None, 1),
                },
                "in_sync": false,
            },
            {
                "image": "ghcr.io/acme/worker",
                "environments": {
                    // the second container of dev's Deployment
                    "dev": state("3.0.1", None, 1),
                    "staging": null,
                    // an Argo CD parameter pair (image.repository + image.tag)
                    "prod": state("3.0.0", None, 1),
                },
                "in_sync": false,
            },
        ],
    });
    let text = serde_json::to_string(&got).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value, expected, "{text}");
    // Environments keep the order of the file in every image's map.
    assert!(
        text.starts_with(
            "{\"environments\":[\"dev\",\"staging\",\"prod\"],\"images\":[{\"image\":\"bitnami/redis\",\
             \"environments\":{\"dev\":{\"tag\":\"7.2.4\",\"digest\":null,\"places\":1},\"staging\":"
        ),
        "{text}"
    );
    assert!(got.skipped.is_empty());
}

#[test]
fn status_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo(), dir.path());
    let before = snapshot(dir.path());
    let config = Config::load(dir.path(), None).unwrap();
    status(dir.path(), &config).unwrap();
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_config_given_elsewhere_names_paths_relative_to_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("envs.yaml");
    std::fs::write(
        &file,
        "environments:\n  prod:\n    paths: [clusters/prod]\n",
    )
    .unwrap();
    let config = Config::load(&repo(), Some(&file)).unwrap();
    let got = serde_json::to_value(status(&repo(), &config).unwrap()).unwrap();
    assert_eq!(
        got,
        json!({"environments": ["prod"], "images": [{
            "image": "ghcr.io/acme/worker",
            "environments": {"prod": {"tag": "3.0.0", "digest": null, "places": 1}},
            "in_sync": true,
        }]})
    );
}

#[test]
fn a_missing_path_is_an_error_naming_the_environment() {
    let config = Config::parse("t.yaml", "environments:\n  qa: {paths: [envs/qa]}\n").unwrap();
    let err = status(&repo(), &config).unwrap_err();
    assert_eq!(err.kind(), "file-not-found");
    assert!(err.to_string().starts_with("environment \"qa\": "), "{err}");
}

/// (config text, expected message) for every kind of mistake; lines and columns
/// counted by hand.
const BAD: &[(&str, &str)] = &[
    (
        "environments:\n  dev: {paths: [envs/dev]}\nenvironment: {}\n",
        "t.yaml:3:1: unknown key `environment` at the top level; expected `environments`",
    ),
    (
        "environments:\n  dev:\n    paths: [envs/dev]\n    form: staging\n",
        "t.yaml:4:5: unknown key `form` in environment \"dev\"; expected `paths`, `from`, `pr`",
    ),
    (
        "environments:\n  dev:\n    paths: envs/dev\n",
        "t.yaml:3:12: `paths` of environment \"dev\" must be a list of paths, not the string `envs/dev`",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev], pr: \"yes\"}\n",
        "t.yaml:2:32: `pr` of environment \"dev\" must be true or false, not the string `yes`",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev], from: 5}\n",
        "t.yaml:2:34: `from` of environment \"dev\" must be a string, not a number (`5`)",
    ),
    (
        "environments:\n  - dev\n",
        "t.yaml:2:3: environments must be a mapping, not a sequence",
    ),
    (
        "environments:\n  dev: {from: prod}\n",
        "t.yaml:2:3: environment \"dev\" has no `paths`; list the directories or files it deploys from",
    ),
    (
        "environments:\n  dev:\n    paths: []\n",
        "t.yaml:3:12: `paths` of environment \"dev\" is empty; list the directories or files it deploys from",
    ),
    (
        "environments:\n  dev:\n    paths:\n      - /srv/envs/dev\n",
        "t.yaml:4:9: path `/srv/envs/dev` of environment \"dev\" is absolute; paths are relative to the repository root and stay inside it",
    ),
    (
        "environments:\n  dev:\n    paths:\n      - envs/../../other\n",
        "t.yaml:4:9: path `envs/../../other` of environment \"dev\" leaves the repository (`..`); paths are relative to the repository root and stay inside it",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev]}\n  prod: {paths: [envs/prod], from: stagin}\n",
        "t.yaml:3:36: environment \"prod\" is promoted from \"stagin\", which is not an environment of this file (environments: dev, prod)",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev], from: prod}\n  staging: {paths: [envs/staging], from: dev}\n  prod: {paths: [envs/prod], from: staging}\n",
        "t.yaml:2:34: the `from` chain is a cycle: dev → prod → staging → dev",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev], from: dev}\n",
        "t.yaml:2:34: the `from` chain is a cycle: dev → dev",
    ),
    (
        "environments:\n  dev:\n    paths: [envs]\n  prod:\n    paths:\n      - clusters/prod\n      - ./envs/prod/\n",
        "t.yaml:7:9: path `./envs/prod/` of environment \"prod\" overlaps path `envs` of environment \"dev\" (line 3); one is inside the other, so a file would belong to both environments",
    ),
    (
        "environments:\n  dev: {paths: [envs/dev]}\n  qa: {paths: [\"envs/dev\"]}\n",
        "t.yaml:3:16: path `envs/dev` of environment \"qa\" overlaps path `envs/dev` of environment \"dev\" (line 2); they are the same path, so a file would belong to both environments",
    ),
    (
        "environments:\n  dev: {paths: [a]}\n  dev: {paths: [b]}\n",
        "t.yaml:3:3: environment `dev` is given twice (first at line 2)",
    ),
    (
        "environments:\n  dev: {paths: [a], pr: true, pr: false}\n",
        "t.yaml:2:31: key `pr` is given twice (first at line 2)",
    ),
    ("environments: {}\n", "t.yaml:1:15: `environments` names no environment"),
    ("# nothing yet\n", "t.yaml:1:1: the file is empty; it needs an `environments:` mapping"),
    ("environments:\n  dev: {paths: [a]\n", "t.yaml:3:1: malformed YAML: "),
];

#[test]
fn config_errors_name_the_line_and_column() {
    for (text, expected) in BAD {
        let err = Config::parse("t.yaml", text).expect_err(text);
        assert_eq!(err.kind(), "config", "{text}");
        let message = err.to_string();
        if expected.ends_with(": ") {
            assert!(message.starts_with(expected), "{text}\n{message}");
        } else {
            assert_eq!(&message, expected, "{text}");
        }
        let at = err.at().expect("a position");
        assert_eq!(
            format!("{at}: "),
            expected[..expected.find(": ").unwrap() + 2]
        );
    }
}

#[test]
fn an_unreadable_config_is_an_io_error() {
    let err = Config::load(Path::new("/nonexistent-tagbump-root"), None).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert_eq!(err.kind(), "io");
    assert!(
        err.to_string()
            .contains("/nonexistent-tagbump-root/.tagbump.yaml"),
        "{err}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn what_cannot_be_read_is_reported_and_the_rest_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("envs/dev")).unwrap();
    std::fs::write(
        root.join(".tagbump.yaml"),
        "environments:\n  dev: {paths: [envs/dev]}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("envs/dev/values.yaml"),
        "image:\n  repository: ghcr.io/acme/api\n  tag: 1.6.0\n",
    )
    .unwrap();
    std::fs::write(
        root.join("envs/dev/broken.yaml"),
        "image: [ghcr.io/acme/api:1.0\n",
    )
    .unwrap();
    std::fs::write(
        root.join("envs/dev/kustomization.yaml"),
        "images:\n  - name: ghcr.io/acme/web\n    newName: ghcr.io/acme/web-mirror\n",
    )
    .unwrap();
    let config = Config::load(root, None).unwrap();
    let got = status(root, &config).unwrap();
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        json!({"environments": ["dev"], "images": [{
            "image": "ghcr.io/acme/api",
            "environments": {"dev": {"tag": "1.6.0", "digest": null, "places": 1}},
            "in_sync": true,
        }]})
    );
    let skipped: Vec<(String, String)> = got
        .skipped
        .iter()
        .map(|(p, why)| (p.display().to_string(), why.clone()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "envs/dev/broken.yaml");
    assert!(
        skipped[0].1.contains("malformed YAML at line 2"),
        "{skipped:?}"
    );
    assert_eq!(skipped[1].0, "envs/dev/kustomization.yaml");
    assert!(skipped[1].1.starts_with("line 2: "), "{skipped:?}");
    assert!(!skipped[1].1.contains("probe"), "{skipped:?}");
}

/// fixtures/environments/sources: an Argo CD Application with `helm.values` (YAML in a
/// string) and a `helm.parameters` triple with a digest, Image Updater's
/// `.argocd-source-<app>.yaml` with `kustomize.images` (one `old=new` item), and Flux
/// markers (a `:name` + `:tag` pair, a whole reference): one place each.
#[test]
fn argo_cd_and_flux_places_count_once_each() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/environments/sources");
    let config = Config::load(&root, None).unwrap();
    let got = serde_json::to_value(status(&root, &config).unwrap()).unwrap();
    let one = |image: &str, tag: &str, digest: Option<&str>| {
        json!({
            "image": image,
            "environments": {"dev": {"tag": tag, "digest": digest, "places": 1}},
            "in_sync": true,
        })
    };
    assert_eq!(
        got,
        json!({"environments": ["dev"], "images": [
            one("ghcr.io/acme/api", "1.6.0", None),
            one("ghcr.io/acme/cron", "1.1.0", None),
            one("ghcr.io/acme/flux", "0.9.0", None),
            one("ghcr.io/acme/side", "4.0.0", None),
            one("ghcr.io/acme/web", "2.0.0", Some(DIGEST)),
            one("ghcr.io/acme/worker", "3.0.1", None),
        ]})
    );
}
