//! `tagbump image` reading a real registry (`docker-registry` 2.8 with TLS from a
//! private CA; see `tests/support/registry/`): `--pin-digest` writes the digest
//! where each target has room for it, `--platform` picks a child of an index,
//! `--verify-digest` checks a given digest, `--strategy` chooses the tag, and the
//! errors say what went wrong without leaking the password.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::cli::{home, run, tagbump, Run};
use support::registry::{Pushed, TestRegistry, PASSWORD, USER};
use tempfile::TempDir;

/// A config directory with the three kinds of places a digest can go. `REG` is
/// replaced by the registry's `127.0.0.1:<port>`.
const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: api
          image: REG/acme/api:1.4.0 # pinned by CI
";
const VALUES: &str = "\
image:
  repository: REG/acme/api
  tag: \"1.4.0\"
  digest: \"\"
";
const KUSTOMIZATION: &str = "\
resources:
  - deploy.yaml
images:
  - name: REG/acme/api
    newTag: 1.4.0
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
";

pub(crate) fn config_dir(reg: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    std::fs::write(dir.path().join("app/deploy.yaml"), deploy(reg, "1.4.0")).expect("w");
    std::fs::write(dir.path().join("values.yaml"), VALUES.replace("REG", reg)).expect("w");
    std::fs::write(
        dir.path().join("app/kustomization.yaml"),
        KUSTOMIZATION.replace("REG", reg),
    )
    .expect("w");
    dir
}

/// [`DEPLOY`] naming the registry `host`, its image at `tag` (`1.4.0`: as written).
pub(crate) fn deploy(host: &str, tag: &str) -> String {
    DEPLOY
        .replace("REG", host)
        .replace("api:1.4.0", &format!("api:{tag}"))
}

pub(crate) fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("read")
}

/// A running registry (`None` where `docker-registry` is missing and
/// `TAGBUMP_REQUIRE_TOOLS` is not `1`: the skip [`TestRegistry::start`] reports) and a
/// throw-away `HOME` for tagbump.
pub(crate) struct Fixture {
    pub(crate) reg: TestRegistry,
    home: TempDir,
}

impl Fixture {
    pub(crate) fn start() -> Option<Fixture> {
        let reg = TestRegistry::start()?;
        Some(Fixture { reg, home: home() })
    }

    /// `tagbump image ARGS -C DIR` trusting the registry's CA, without credentials.
    fn image_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = tagbump(self.home.path());
        cmd.arg("image")
            .args(args)
            .arg("-C")
            .arg(dir)
            .arg("--ca-bundle")
            .arg(&self.reg.ca_pem);
        cmd
    }

    /// `tagbump image …` with `--registry-username` and the registry password in the
    /// environment.
    pub(crate) fn image(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.image_command(dir, args);
        cmd.args(["--registry-username", USER])
            .env("TAGBUMP_REGISTRY_PASSWORD", PASSWORD);
        run(&mut cmd)
    }
}

fn assert_no_password(run: &Run) {
    assert!(
        !run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD),
        "the password leaked:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// Pushes `acme/api` 1.4.0, 1.5.0 (an index over amd64 and arm64) and returns the
/// index, its amd64 child and its arm64 child.
pub(crate) fn push_api(reg: &TestRegistry) -> [Pushed; 3] {
    reg.push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    let amd = reg.push_image("acme/api", "1.5.0-amd64", "2026-01-10T00:00:00Z", "amd64");
    let arm = reg.push_image("acme/api", "1.5.0-arm64", "2026-01-10T00:00:00Z", "arm64");
    let index = reg.push_index("acme/api", "1.5.0", &[(&amd, "amd64"), (&arm, "arm64")]);
    [index, amd, arm]
}

#[test]
fn pin_digest_writes_the_index_digest_into_image_strings_helm_maps_and_kustomize_images() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let [index, _, _] = push_api(&fx.reg);
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            "--pin-digest",
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_no_password(&out);
    let d = &index.digest;
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, &format!("1.5.0@{d}"))
    );
    assert_eq!(
        read(dir.path(), "values.yaml"),
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    assert_eq!(
        read(dir.path(), "app/kustomization.yaml"),
        format!("resources:\n  - deploy.yaml\nimages:\n  - name: {host}/acme/api\n    newTag: 1.5.0\n    digest: {d}\n")
    );
    let json = out.json();
    assert_eq!(json["registry"]["digest"]["digest"], d.as_str());
    assert_eq!(
        json["registry"]["digest"]["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    // One HEAD plus auth: the 401 challenge, the token, the HEAD with the token.
    assert_eq!(json["registry"]["requests"], 3);
}

#[test]
fn platform_pins_the_child_of_the_index() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let [_, _, arm] = push_api(&fx.reg);
    let host = fx.reg.basic_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            "app/deploy.yaml",
            "--pin-digest",
            "--platform",
            "linux/arm64",
        ],
    );
    out.assert_code(0);
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, &format!("1.5.0@{}", arm.digest))
    );
    assert!(
        out.stdout.starts_with(&format!(
            "registry: pinned 1.5.0 → {} (linux/arm64)\n",
            arm.digest
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_digest_accepts_the_registrys_digest_and_refuses_another_without_writing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let [index, amd, _] = push_api(&fx.reg);
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let wrong = format!("{host}/acme/api:1.5.0@{}", amd.digest);
    let out = fx.image(dir.path(), &[&wrong, "--verify-digest", "--output", "json"]);
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "digest-mismatch");
    assert!(
        out.stderr.contains(&format!(
            "digest mismatch for {host}/acme/api: the given digest is {}, but the registry has {} for tag \"1.5.0\"",
            amd.digest, index.digest
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, "1.4.0"),
        "nothing written"
    );

    let right = format!("{host}/acme/api:1.5.0@{}", index.digest);
    let out = fx.image(dir.path(), &[&right, "app/deploy.yaml", "--verify-digest"]);
    out.assert_code(0);
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, &format!("1.5.0@{}", index.digest))
    );
}

#[test]
fn strategy_semver_with_a_constraint_picks_the_highest_version_in_range_and_says_why() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let base = fx
        .reg
        .push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    for tag in [
        "1.4.2",
        "v1.4.10",
        "1.5.0",
        "2.0.0",
        "1.4.11-rc.1",
        "latest",
        "sha-1a2b3c4",
    ] {
        fx.reg.tag("acme/api", tag, &base);
    }
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "app/deploy.yaml",
            "--strategy",
            "semver",
            "--constraint",
            "~1.4",
            "--ignore-tags",
            "sha-*",
        ],
    );
    out.assert_code(0);
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, "v1.4.10")
    );
    let expected = "\
registry: semver chose v1.4.10: 1.4.10 is the highest semantic version within \"~1.4\" of 3 candidate(s)
registry: candidates (3 of 8 listed): v1.4.10 (1.4.10), 1.4.2, 1.4.0
registry: rejected 2.0.0: outside --constraint \"~1.4\"
registry: rejected 1.5.0: outside --constraint \"~1.4\"
registry: rejected 1.4.11-rc.1: outside --constraint \"~1.4\"
registry: rejected sha-1a2b3c4: ignored by \"sha-*\"
registry: rejected latest: not a semantic version
";
    assert!(out.stdout.starts_with(expected), "{}", out.stdout);
    // The JSON report gives the same reasons, in the same (flag) words.
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "app/deploy.yaml",
            "--strategy",
            "semver",
            "--constraint",
            "~1.4",
            "--allow-tags",
            "^[v0-9]",
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_eq!(
        out.json()["registry"]["strategy"]["rejected"],
        serde_json::json!([
            {"tag": "2.0.0", "reason": "outside --constraint \"~1.4\""},
            {"tag": "1.5.0", "reason": "outside --constraint \"~1.4\""},
            {"tag": "1.4.11-rc.1", "reason": "outside --constraint \"~1.4\""},
            {"tag": "sha-1a2b3c4", "reason": "does not match --allow-tags \"^[v0-9]\""},
            {"tag": "latest", "reason": "does not match --allow-tags \"^[v0-9]\""},
        ])
    );
}

#[test]
fn strategy_newest_build_reads_created_times_and_alphabetical_the_names() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    fx.reg
        .push_image("acme/api", "a1b2c3d", "2026-03-01T09:00:00Z", "amd64");
    fx.reg
        .push_image("acme/api", "f0e1d2c", "2026-03-02T09:00:00Z", "amd64");
    fx.reg
        .push_image("acme/api", "0ddba11", "2026-02-27T09:00:00Z", "amd64");
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "app/deploy.yaml",
            "--strategy",
            "newest-build",
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, "f0e1d2c")
    );
    let json = out.json();
    assert_eq!(
        json["registry"]["strategy"]["reason"],
        "built 2026-03-02T09:00:00Z, the newest of 3 candidate(s)"
    );
    assert_eq!(
        json["registry"]["strategy"]["candidates"][1]["tag"],
        "a1b2c3d"
    );

    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "app/deploy.yaml",
            "--strategy",
            "alphabetical",
            "--allow-tags",
            "regexp:^[0-9a-f]{7}$",
        ],
    );
    out.assert_code(0);
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&host, "f0e1d2c")
    );
}

#[test]
fn strategy_digest_tracks_a_mutable_tag() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let first = fx
        .reg
        .push_image("acme/api", "latest", "2026-03-01T09:00:00Z", "amd64");
    let host = fx.reg.token_host();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("deploy.yaml"),
        format!("image: {host}/acme/api:latest\n"),
    )
    .expect("w");
    let image = format!("{host}/acme/api:latest");
    fx.image(dir.path(), &[&image, "--strategy", "digest"])
        .assert_code(0);
    assert_eq!(
        read(dir.path(), "deploy.yaml"),
        format!("image: {image}@{}\n", first.digest)
    );
    // CI pushes a new `latest`: the next run moves the digest.
    let second = fx
        .reg
        .push_image("acme/api", "latest", "2026-03-02T09:00:00Z", "amd64");
    fx.image(dir.path(), &[&image, "--strategy", "digest"])
        .assert_code(0);
    assert_eq!(
        read(dir.path(), "deploy.yaml"),
        format!("image: {image}@{}\n", second.digest)
    );
}

#[test]
fn no_matching_tag_lists_the_newest_rejected_candidates_and_changes_nothing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let base = fx
        .reg
        .push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    for tag in ["1.5.0", "2.0.0", "nightly"] {
        fx.reg.tag("acme/api", tag, &base);
    }
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "--strategy",
            "semver",
            "--constraint",
            "^3",
            "--output",
            "json",
        ],
    );
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "no-match");
    assert!(
        out.stderr.contains(&format!(
            "no tag of {host}/acme/api matches --constraint \"^3\" (4 tag(s) listed); newest rejected: \
             2.0.0 (outside --constraint \"^3\"), 1.5.0 (outside --constraint \"^3\"), \
             1.4.0 (outside --constraint \"^3\"), nightly (not a semantic version)"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(read(dir.path(), "app/deploy.yaml"), deploy(&host, "1.4.0"));
}

#[test]
fn errors_unknown_tag_bad_password_and_anonymous_are_classified_and_leak_nothing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    push_api(&fx.reg);
    let host = fx.reg.token_host();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:9.9.9"),
            "--pin-digest",
            "--output",
            "json",
        ],
    );
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "registry-not-found");
    assert!(
        out.stderr.contains(&format!(
            "{host}: tag \"9.9.9\" not found in repository acme/api (404)"
        )),
        "{}",
        out.stderr
    );

    let image = format!("{host}/acme/api:1.5.0");
    let mut cmd = fx.image_command(dir.path(), &[&image, "--pin-digest", "--output", "json"]);
    cmd.args(["--registry-username", USER])
        .env("TAGBUMP_REGISTRY_PASSWORD", "wrong-SECRET-5e6f");
    let out = run(&mut cmd);
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "registry-auth");
    assert!(
        !out.stdout.contains("wrong-SECRET-5e6f") && !out.stderr.contains("wrong-SECRET-5e6f"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("as user \"ci-bot\""), "{}", out.stderr);
    assert_eq!(read(dir.path(), "app/deploy.yaml"), deploy(&host, "1.4.0"));

    let out = run(&mut fx.image_command(dir.path(), &[&image, "--pin-digest"]));
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("denied (401) without credentials; give --registry-username"),
        "{}",
        out.stderr
    );
}

#[test]
fn credentials_come_from_docker_config_auths_and_credential_helpers() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let [index, _, _] = push_api(&fx.reg);
    let host = fx.reg.token_host();
    let docker = fx.home.path().join(".docker");
    std::fs::create_dir_all(&docker).expect("mkdir");
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"auths\":{{\"{host}\":{{\"auth\":\"{auth}\"}}}}}}"),
    )
    .expect("w");
    let dir = config_dir(&host);
    let image = format!("{host}/acme/api:1.5.0");
    let args = [image.as_str(), "app/deploy.yaml", "--pin-digest"];
    run(&mut fx.image_command(dir.path(), &args)).assert_code(0);
    assert!(read(dir.path(), "app/deploy.yaml").contains(&index.digest));

    // credHelpers: docker-credential-<name> get, server address on stdin.
    let bin = tempfile::tempdir().expect("bin");
    let helper = bin.path().join("docker-credential-tagbumptest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\n[ \"$server\" = \"{host}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"),
    )
    .expect("w");
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"credHelpers\":{{\"{host}\":\"tagbumptest\"}}}}"),
    )
    .expect("w");
    let dir = config_dir(&host);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(fx.image_command(dir.path(), &args).env("PATH", path));
    out.assert_code(0);
    assert_no_password(&out);
    assert!(read(dir.path(), "app/deploy.yaml").contains(&index.digest));
}

#[test]
fn the_rollback_guard_still_applies_to_a_chosen_tag() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    push_api(&fx.reg);
    let host = fx.reg.token_host();
    let dir = tempfile::tempdir().expect("tmp");
    let deploy = format!("image: {host}/acme/api:2.0.0\n");
    std::fs::write(dir.path().join("deploy.yaml"), &deploy).expect("w");
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "--strategy",
            "semver",
            "--constraint",
            "1.x",
            "--no-downgrade",
            "--output",
            "json",
        ],
    );
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "policy");
    assert_eq!(json["registry"]["strategy"]["tag"], "1.5.0");
    assert!(
        out.stderr
            .contains("refusing to move 2.0.0 back to 1.5.0 (--no-downgrade)"),
        "{}",
        out.stderr
    );
    assert_eq!(read(dir.path(), "deploy.yaml"), deploy, "nothing written");
}
