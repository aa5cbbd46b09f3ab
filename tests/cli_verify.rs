//! `tagbump image --verify-key`: the image's digest is resolved in a real registry
//! (`docker-registry` 2.8 behind the counting front, see `tests/support/registry/`),
//! its cosign signature checked with the given public keys, and the verified digest
//! written; a signature that does not verify fails the run (exit 1, kind
//! `verification`) with nothing written or pushed.
//!
//! Keys and signatures are made by OpenSSL and the signature objects built from
//! cosign's `specs/SIGNATURE_SPEC.md` ([`support::cosign`]); the expected files are
//! written out by hand.

use crate::support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use support::cli::{home, run, tagbump, Run};
use support::cosign::{
    openssl_available, payload, push_signatures, sig_tag, sign_and_push, Keys, Kind,
};
use support::git_server::BareRepo;
use support::registry::front::{Faults, PagingFront};
use support::registry::{sha256, TestRegistry, PASSWORD, USER};
use tempfile::TempDir;

/// A registry, the counting front before it (the host the images are named by), a
/// `HOME`, the signer's key pair and a stranger's.
struct Fixture {
    reg: TestRegistry,
    front: PagingFront,
    home: TempDir,
    signer: Keys,
    stranger: Keys,
}

impl Fixture {
    /// `None` where `docker-registry` or `openssl` is missing (reported; a failure
    /// under `TAGBUMP_REQUIRE_TOOLS=1`).
    fn start() -> Option<Fixture> {
        if !openssl_available() {
            return None;
        }
        let reg = TestRegistry::start()?;
        let front = reg.front_with(100, 1, Faults::default());
        Some(Fixture {
            reg,
            front,
            home: home(),
            signer: Keys::generate(Kind::P256),
            stranger: Keys::generate(Kind::P256),
        })
    }

    fn host(&self) -> String {
        self.front.host()
    }

    /// `tagbump image ARGS` with the registry's CA and credentials.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = tagbump(self.home.path());
        cmd.arg("image")
            .args(args)
            .arg("--ca-bundle")
            .arg(&self.reg.ca_pem)
            .args(["--registry-username", USER])
            .env("TAGBUMP_REGISTRY_PASSWORD", PASSWORD);
        cmd
    }

    /// `tagbump image ARGS -C DIR`.
    fn image(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.arg("-C").arg(dir);
        run(&mut cmd)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `SHA256:` and the hex SHA-256 of the key's DER SubjectPublicKeyInfo, computed from
/// OpenSSL's DER (`openssl pkey -pubin -outform DER`).
fn fingerprint(keys: &Keys) -> String {
    format!("SHA256:{}", &sha256(&keys.spki_der())["sha256:".len()..])
}

/// A config directory: a Deployment, Helm values with a `digest` key, Helm values
/// without one, a kustomization; `HOST` names the registry.
fn config_dir(host: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for (file, text) in files(host) {
        let full = dir.path().join(file);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

fn files(host: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "app/deploy.yaml",
            format!("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: {host}/acme/api:1.4.0 # pinned by CI\n"),
        ),
        (
            "values.yaml",
            format!("image:\n  repository: {host}/acme/api\n  tag: \"1.4.0\"\n  digest: \"\"\n"),
        ),
        (
            "nodigest/values.yaml",
            format!("image:\n  repository: {host}/acme/api\n  tag: 1.4.0\n"),
        ),
        (
            "app/kustomization.yaml",
            format!("resources:\n  - deploy.yaml\nimages:\n  - name: {host}/acme/api\n    newTag: 1.4.0\n    digest: sha256:{}\n", "0".repeat(64)),
        ),
    ]
}

/// Every file of [`config_dir`] as it was written.
fn assert_untouched(dir: &Path, host: &str) {
    for (file, text) in files(host) {
        assert_eq!(read(dir, file), text, "{file} changed");
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("read")
}

fn key(p: &Path) -> String {
    format!("--verify-key={}", path(p))
}

fn counts(front: &PagingFront) -> HashMap<(String, String), u32> {
    front.counts()
}

fn req(method: &str, path: String) -> ((String, String), u32) {
    ((method.to_string(), path), 1)
}

/// A verification failure: exit 1, kind `verification`, no `verification` member,
/// nothing written; the message names the keys required and holds `found`.
fn assert_refused(out: &Run, dir: &Path, host: &str, required: &[&Keys], found: &str) {
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification", "{}", out.stderr);
    assert_eq!(json["verification"], serde_json::Value::Null);
    assert_eq!(json["changed"], false);
    let message = json["error"]["message"]
        .as_str()
        .expect("message")
        .to_string();
    let keys: Vec<String> = required
        .iter()
        .map(|k| format!("ECDSA P-256 key {}", fingerprint(k)))
        .collect();
    assert!(
        message.contains(&format!(
            "is not verified: a cosign signature by {} was required",
            keys.join(", ")
        )),
        "{message}"
    );
    assert!(message.contains(found), "{message}\nwanted: {found}");
    assert!(out.stderr.contains(found), "{}", out.stderr);
    assert_untouched(dir, host);
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
}

#[test]
fn a_signed_digest_is_written_with_the_verification_in_the_report() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let blob = sign_and_push(&fx.reg, "acme/api", &image.digest, &fx.signer);
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            &key(&fx.signer.public_path()),
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    let d = &image.digest;
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        format!("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: {host}/acme/api:1.5.0@{d} # pinned by CI\n")
    );
    assert_eq!(
        read(dir.path(), "values.yaml"),
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    assert_eq!(
        read(dir.path(), "nodigest/values.yaml"),
        format!("image:\n  repository: {host}/acme/api\n  tag: 1.5.0\n")
    );
    assert_eq!(
        read(dir.path(), "app/kustomization.yaml"),
        format!("resources:\n  - deploy.yaml\nimages:\n  - name: {host}/acme/api\n    newTag: 1.5.0\n    digest: {d}\n")
    );
    let json = out.json();
    let location = format!("{host}/acme/api:{}", sig_tag(d));
    assert_eq!(
        json["verification"],
        serde_json::json!({
            "digest": d,
            "key_fingerprint": fingerprint(&fx.signer),
            "key_algorithm": "ECDSA P-256",
            "location": location,
            "layer": 1,
            "docker_reference": "registry.example/acme/api",
            "signatures_checked": 1,
        })
    );
    // The Helm values without a `digest` key get the tag and a note.
    assert_eq!(
        json["notes"],
        serde_json::json!([
            "nodigest/values.yaml:3: the new image's digest was not written: the map at image has no `digest` key"
        ]),
    );
    // A verified bump: the tag's HEAD, the signature manifest, the payload blob; with
    // the 401 challenge and the token, five requests (two more than --pin-digest). The
    // client counts a sixth here: its HTTPS attempt at the plain-HTTP front, before
    // it falls back to HTTP as Docker does for loopback hosts.
    let expected: HashMap<_, _> = [
        req("HEAD", "/v2/acme/api/manifests/1.5.0".into()),
        req("GET", format!("/v2/acme/api/manifests/{}", sig_tag(d))),
        req("GET", format!("/v2/acme/api/blobs/{blob}")),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts(&fx.front), expected);
    assert_eq!(fx.front.challenges(), 1);
    let tokens = &fx.reg.tokens.requests;
    assert_eq!(tokens.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(json["registry"]["requests"], 6);

    // Without --verify-key no signature is looked up: --pin-digest is one HEAD.
    fx.front.reset();
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
    assert_eq!(out.json()["verification"], serde_json::Value::Null);
    let expected: HashMap<_, _> = [req("HEAD", "/v2/acme/api/manifests/1.5.0".into())]
        .into_iter()
        .collect();
    assert_eq!(counts(&fx.front), expected);
}

#[test]
fn wrong_key_other_digest_tampered_payload_and_missing_signature_write_nothing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let signer_key = key(&fx.signer.public_path());
    let repo = "acme/api";
    // IMAGE:TAG through `front`, against a config directory naming that front's host.
    let refused = |tag: &str, front: &PagingFront, found: &str| {
        let host = front.host();
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &format!("{host}/{repo}:{tag}"),
                &signer_key,
                "--output",
                "json",
            ],
        );
        assert_refused(&out, dir.path(), &host, &[&fx.signer], found);
    };

    // Signed by another key.
    let a = fx
        .reg
        .push_image(repo, "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    sign_and_push(&fx.reg, repo, &a.digest, &fx.stranger);
    refused(
        "1.5.0",
        &fx.front,
        &format!(
            "no signature in {host}/{repo}:{} verifies {} with ECDSA P-256 key {}: layer 1: the signature does not verify with any of the 1 key(s) (signed by another key, or the payload changed after signing)",
            sig_tag(&a.digest),
            a.digest,
            fingerprint(&fx.signer)
        ),
    );

    // A good signature of another image, stored under this image's .sig tag.
    let a = fx
        .reg
        .push_image(repo, "1.6.0", "2026-01-11T00:00:00Z", "amd64");
    let b = fx
        .reg
        .push_image(repo, "2.0.0", "2026-02-10T00:00:00Z", "amd64");
    let for_b = payload(&b.digest);
    let signature = fx.signer.sign(&for_b);
    push_signatures(&fx.reg, repo, &a.digest, &[(for_b, signature)]);
    refused(
        "1.6.0",
        &fx.front,
        &format!(
            "the signature is for another image: {} was required, the payload names \"{}\"",
            a.digest, b.digest
        ),
    );

    // The payload changed after it was signed (stored under its own digest).
    let a = fx
        .reg
        .push_image(repo, "1.7.0", "2026-01-12T00:00:00Z", "amd64");
    let signed = payload(&a.digest);
    let signature = fx.signer.sign(&signed);
    let changed = String::from_utf8(signed)
        .expect("utf-8")
        .replace("registry.example", "registry.evil")
        .into_bytes();
    push_signatures(&fx.reg, repo, &a.digest, &[(changed, signature)]);
    refused(
        "1.7.0",
        &fx.front,
        "layer 1: the signature does not verify with any of the 1 key(s)",
    );

    // The payload blob served with other bytes than its digest (a tampering mirror).
    let a = fx
        .reg
        .push_image(repo, "1.8.0", "2026-01-13T00:00:00Z", "amd64");
    let blob = sign_and_push(&fx.reg, repo, &a.digest, &fx.signer);
    let tampering = fx.reg.front_with(
        100,
        1,
        Faults {
            tamper_blobs: true,
            ..Faults::default()
        },
    );
    refused(
        "1.8.0",
        &tampering,
        &format!("not the layer's digest {blob} (tampered or corrupted)"),
    );

    // No signature at all.
    let a = fx
        .reg
        .push_image(repo, "1.9.0", "2026-01-14T00:00:00Z", "amd64");
    refused(
        "1.9.0",
        &fx.front,
        &format!(
            "no cosign signature found for {}: {host}/{repo}:{} does not exist (404)",
            a.digest,
            sig_tag(&a.digest)
        ),
    );
}

#[test]
fn any_one_key_suffices_from_the_flags_or_the_variable() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    sign_and_push(&fx.reg, "acme/api", &image.digest, &fx.signer);
    let d = &image.digest;
    let expected_values =
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n");
    let ed25519 = Keys::generate(Kind::Ed25519);

    // Two flags: the first key (another one) does not verify, the second does.
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            "values.yaml",
            &key(&ed25519.public_path()),
            &key(&fx.signer.public_path()),
        ],
    );
    out.assert_code(0);
    assert_eq!(read(dir.path(), "values.yaml"), expected_values);
    assert!(
        out.stdout.contains(&format!(
            "registry: signature verified: {d} by ECDSA P-256 key {} ({host}/acme/api:{}, 1 signature(s) checked)\n",
            fingerprint(&fx.signer),
            sig_tag(d)
        )),
        "{}",
        out.stdout
    );

    // TAGBUMP_VERIFY_KEY: one file per line, blank lines skipped.
    let dir = config_dir(&host);
    let mut cmd = fx.command(&[&format!("{host}/acme/api:1.5.0"), "values.yaml"]);
    cmd.arg("-C").arg(dir.path()).env(
        "TAGBUMP_VERIFY_KEY",
        format!(
            "{}\n\n{}\n",
            path(&fx.stranger.public_path()),
            path(&fx.signer.public_path())
        ),
    );
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(read(dir.path(), "values.yaml"), expected_values);

    // Only keys that did not sign it: both are named as required.
    let dir = config_dir(&host);
    let mut cmd = fx.command(&[&format!("{host}/acme/api:1.5.0"), "--output", "json"]);
    cmd.arg("-C")
        .arg(dir.path())
        .env("TAGBUMP_VERIFY_KEY", path(&fx.stranger.public_path()));
    cmd.arg(key(&ed25519.public_path()));
    let out = run(&mut cmd);
    // The flag wins over the variable: only the Ed25519 key is required.
    out.assert_code(1);
    let message = out.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains(&format!(
            "is not verified: a cosign signature by Ed25519 key {} was required",
            fingerprint(&ed25519)
        )),
        "{message}"
    );
    assert_untouched(dir.path(), &host);

    // A key file that is not a public key is bad input (exit 2), before any request.
    fx.front.reset();
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            &key(&fx.signer.dir().join("key.pem")),
            "--output",
            "json",
        ],
    );
    out.assert_code(2);
    assert_eq!(out.json()["error"]["kind"], "invalid-input");
    assert!(
        out.stderr.contains(&format!(
            "key file {}: this is a private key",
            path(&fx.signer.dir().join("key.pem"))
        )),
        "{}",
        out.stderr
    );
    assert_untouched(dir.path(), &host);
    assert!(counts(&fx.front).is_empty());
}

#[test]
fn a_strategy_skips_newer_tags_that_do_not_verify_and_says_why() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let repo = "acme/api";
    let older = fx
        .reg
        .push_image(repo, "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    let signed = fx
        .reg
        .push_image(repo, "1.4.1", "2026-01-05T00:00:00Z", "amd64");
    let by_stranger = fx
        .reg
        .push_image(repo, "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let unsigned = fx
        .reg
        .push_image(repo, "1.6.0", "2026-01-20T00:00:00Z", "amd64");
    sign_and_push(&fx.reg, repo, &older.digest, &fx.signer);
    sign_and_push(&fx.reg, repo, &signed.digest, &fx.signer);
    sign_and_push(&fx.reg, repo, &by_stranger.digest, &fx.stranger);
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/{repo}"),
            "app/deploy.yaml",
            "--strategy",
            "semver",
            &key(&fx.signer.public_path()),
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    let d = &signed.digest;
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        format!("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: {host}/acme/api:1.4.1@{d} # pinned by CI\n")
    );
    let json = out.json();
    let strategy = &json["registry"]["strategy"];
    assert_eq!(strategy["tag"], "1.4.1");
    assert_eq!(
        strategy["reason"],
        "the best candidate with a verified signature: the 2 better of 4 candidate(s) were refused"
    );
    assert_eq!(
        strategy["rejected"][0],
        serde_json::json!({
            "tag": "1.6.0",
            "reason": format!(
                "signature not verified: no cosign signature found for {}: {host}/{repo}:{} does not exist (404)",
                unsigned.digest,
                sig_tag(&unsigned.digest)
            ),
        })
    );
    assert_eq!(strategy["rejected"][1]["tag"], "1.5.0");
    let reason = strategy["rejected"][1]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with(&format!(
            "signature not verified: no signature in {host}/{repo}:{} verifies {}",
            sig_tag(&by_stranger.digest),
            by_stranger.digest
        )) && reason.contains("does not verify with any of the 1 key(s)"),
        "{reason}"
    );
    assert_eq!(json["verification"]["digest"], d.as_str());
    assert_eq!(json["registry"]["digest"]["tag"], "1.4.1");

    // Only the stranger's key: no candidate verifies (the four best are tried).
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/{repo}"),
            "app/deploy.yaml",
            "--strategy",
            "semver",
            &key(&Keys::generate(Kind::P256).public_path()),
            "--output",
            "json",
        ],
    );
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification");
    let message = json["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("none of the 4 best candidate(s) has a signature that verifies with ECDSA P-256 key SHA256:")
            && message.contains("1.6.0: signature not verified: no cosign signature found")
            && message.contains("1.4.0: signature not verified: no signature in"),
        "{message}"
    );
    assert_eq!(json["registry"]["strategy"]["considered"], 4);
    assert_untouched(dir.path(), &host);
}

#[test]
fn a_dry_run_verifies_and_shows_the_digest_without_writing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    sign_and_push(&fx.reg, "acme/api", &image.digest, &fx.signer);
    let unsigned = fx
        .reg
        .push_image("acme/api", "1.6.0", "2026-01-20T00:00:00Z", "amd64");
    let d = &image.digest;
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            "values.yaml",
            &key(&fx.signer.public_path()),
            "--dry-run",
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_untouched(dir.path(), &host);
    let json = out.json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["verification"]["digest"], d.as_str());
    assert_eq!(
        json["diff"],
        format!("--- a/values.yaml\n+++ b/values.yaml\n@@ -1,4 +1,4 @@\n image:\n   repository: {host}/acme/api\n-  tag: \"1.4.0\"\n-  digest: \"\"\n+  tag: \"1.5.0\"\n+  digest: \"{d}\"\n")
    );
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.6.0"),
            "values.yaml",
            &key(&fx.signer.public_path()),
            "--dry-run",
            "--output",
            "json",
        ],
    );
    assert_refused(
        &out,
        dir.path(),
        &host,
        &[&fx.signer],
        &format!("no cosign signature found for {}", unsigned.digest),
    );
}

#[test]
fn through_a_git_remote_a_refusal_pushes_nothing_and_a_verified_digest_lands() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.host();
    let signed = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    sign_and_push(&fx.reg, "acme/api", &signed.digest, &fx.signer);
    let unsigned = fx
        .reg
        .push_image("acme/api", "1.6.0", "2026-01-20T00:00:00Z", "amd64");
    let values =
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.4.0\"\n  digest: \"\"\n");
    let repo = BareRepo::new_with(&[("apps/api/values.yaml", &values)], "main");
    let seeded = repo.tip("main").expect("main");
    let bump = |tag: &str| {
        let url = repo.file_url();
        let mut cmd = fx.command(&[
            &format!("{host}/acme/api:{tag}"),
            &key(&fx.signer.public_path()),
            "--repo",
            &url,
            "--branch",
            "main",
            "--output",
            "json",
        ]);
        run(&mut cmd)
    };

    let out = bump("1.6.0");
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification");
    assert_eq!(json["pushed"], false);
    assert_eq!(json["commit"], serde_json::Value::Null);
    assert!(
        out.stderr.contains(&format!(
            "no cosign signature found for {}",
            unsigned.digest
        )),
        "{}",
        out.stderr
    );
    assert_eq!(repo.tip("main").as_deref(), Some(seeded.as_str()));
    assert_eq!(repo.commit_count("main"), 1);

    let out = bump("1.5.0");
    out.assert_code(0);
    assert_eq!(out.json()["pushed"], true);
    assert_eq!(out.json()["verification"]["digest"], signed.digest.as_str());
    assert_eq!(repo.commit_count("main"), 2);
    assert_eq!(
        repo.read_file("main", "apps/api/values.yaml").as_deref(),
        Some(
            format!(
                "image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{}\"\n",
                signed.digest
            )
            .as_str()
        )
    );
}
