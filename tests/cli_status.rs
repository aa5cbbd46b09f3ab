//! `tagbump status` on the fixture config repository fixtures/environments/repo (see
//! tests/environments.rs for what it holds): the table, the Markdown for
//! `$GITHUB_STEP_SUMMARY`, the JSON report and a refused config. Expected bytes are
//! written by hand from the fixture files.

use std::path::{Path, PathBuf};

use crate::support::cli::{home, run, tagbump};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/environments/repo")
}

fn status(args: &[&str]) -> crate::support::cli::Run {
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.arg("status").arg("-C").arg(repo()).args(args);
    run(&mut cmd)
}

#[test]
fn markdown_has_a_row_per_image_and_a_column_per_environment() {
    let out = status(&["--output", "markdown"]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "| Image | dev | staging | prod | In sync |\n\
         |---|---|---|---|---|\n\
         | `bitnami/redis` | `7.2.4` | `7.2.4` | `7.2.4` | yes |\n\
         | `ghcr.io/acme/api` | `1.6.0` | `1.5.0` | `1.5.0@sha256:c0ffee00c0ff…` | **no** |\n\
         | `ghcr.io/acme/debug` | `0.3.1` | — | — | yes |\n\
         | `ghcr.io/acme/web` | `2.1.0` | conflict: `2.0.0`, `2.1.0` | `2.1.0` | **no** |\n\
         | `ghcr.io/acme/worker` | `3.0.1` | — | `3.0.0` | **no** |\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn text_is_a_table() {
    let out = status(&[]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "IMAGE                dev               staging                            prod                                   IN SYNC\n\
         bitnami/redis        7.2.4 (1 place)   7.2.4 (1 place)                    7.2.4 (1 place)                        yes\n\
         ghcr.io/acme/api     1.6.0 (3 places)  1.5.0 (3 places)                   1.5.0@sha256:c0ffee00c0ff… (2 places)  no\n\
         ghcr.io/acme/debug   0.3.1 (1 place)   -                                  -                                      yes\n\
         ghcr.io/acme/web     2.1.0 (1 place)   conflict: 2.0.0, 2.1.0 (2 places)  2.1.0 (1 place)                        no\n\
         ghcr.io/acme/worker  3.0.1 (1 place)   -                                  3.0.0 (1 place)                        no\n"
    );
}

#[test]
fn json_names_every_environment_of_every_image() {
    let out = status(&["--output", "json"]);
    out.assert_code(0);
    let json = out.json();
    assert_eq!(
        json["environments"],
        serde_json::json!(["dev", "staging", "prod"])
    );
    let images: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        images,
        [
            "bitnami/redis",
            "ghcr.io/acme/api",
            "ghcr.io/acme/debug",
            "ghcr.io/acme/web",
            "ghcr.io/acme/worker"
        ]
    );
    let api = &json["images"][1];
    assert_eq!(
        api["environments"]["prod"],
        serde_json::json!({
            "tag": "1.5.0",
            "digest": "sha256:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
            "places": 2
        })
    );
    assert_eq!(
        api["environments"]["dev"]["digest"],
        serde_json::Value::Null
    );
    assert_eq!(api["in_sync"], false);
    let debug = &json["images"][2];
    assert_eq!(debug["environments"]["staging"], serde_json::Value::Null);
    assert_eq!(debug["in_sync"], true);
    let web_staging = &json["images"][3]["environments"]["staging"];
    assert_eq!(web_staging["tag"], serde_json::Value::Null);
    assert_eq!(
        web_staging["conflicts"],
        serde_json::json!([
            {"file": "envs/staging/deployment.yaml", "line": 13, "tag": "2.0.0", "digest": null},
            {"file": "envs/staging/values.yaml", "line": 10, "tag": "2.1.0", "digest": null}
        ])
    );
    // Environments in the order of the file, not sorted.
    let dev = out.stdout.find("\"dev\": {").unwrap();
    let staging = out.stdout.find("\"staging\": {").unwrap();
    let prod = out.stdout.find("\"prod\": {").unwrap();
    assert!(dev < staging && staging < prod);
}

#[test]
fn a_refused_config_is_a_config_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("envs.yaml");
    std::fs::write(
        &file,
        "environments:\n  dev: {paths: [envs/dev]}\n  prod:\n    paths: [envs/prod]\n    approvers: [ops]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap().to_string();
    let out = status(&["--config", &file, "--output", "json"]);
    out.assert_code(1);
    let message = format!(
        "{file}:5:5: unknown key `approvers` in environment \"prod\"; expected `paths`, `from`, `pr`"
    );
    assert_eq!(
        out.json(),
        serde_json::json!({"error": {"kind": "config", "message": message}})
    );
    assert_eq!(out.stderr, format!("error: {message}\n"));
}
