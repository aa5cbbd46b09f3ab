//! `tagbump image --verify-key … --verify-attestation TYPE --provenance-source REPO
//! --provenance-ref REF`: besides the image's cosign signature, an in-toto attestation
//! of each type must be stored for the digest (cosign's `sha256-<hex>.att` manifest,
//! `specs/ATTESTATION_SPEC.md`), signed by one of the keys, naming the digest as a
//! subject, and for SLSA v1 provenance naming the source and ref. Against the real
//! registry (`docker-registry` behind the counting front).
//!
//! The envelopes are signed by Python's `cryptography` (`tests/support/dsse_sign.py`,
//! which computes DSSE's PAE itself), the keys made by OpenSSL; the expected files are
//! written out by hand.

use crate::support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use support::attest::{
    att_tag, attest_provenance, envelope, github_provenance, push_attestations, python, statement,
    SLSA_V1,
};
use support::cli::{home, run, tagbump, Run};
use support::cosign::{openssl_available, sig_tag, sign_and_push, Keys, Kind};
use support::registry::front::{Faults, PagingFront};
use support::registry::{TestRegistry, PASSWORD, USER};
use tempfile::TempDir;

const SOURCE: &str = "https://github.com/acme/api";
const MAIN: &str = "refs/heads/main";

struct Fixture {
    reg: TestRegistry,
    front: PagingFront,
    home: TempDir,
    signer: Keys,
    stranger: Keys,
    python: String,
}

impl Fixture {
    fn start() -> Option<Fixture> {
        if !openssl_available() {
            return None;
        }
        let python = python()?;
        let reg = TestRegistry::start()?;
        let front = reg.front_with(100, 1, Faults::default());
        Some(Fixture {
            reg,
            front,
            home: home(),
            signer: Keys::generate(Kind::P256),
            stranger: Keys::generate(Kind::P256),
            python,
        })
    }

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

    fn image(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.arg("-C").arg(dir);
        run(&mut cmd)
    }

    fn key(&self) -> String {
        format!(
            "--verify-key={}",
            self.signer.public_path().to_str().expect("utf-8")
        )
    }

    /// A signed image at `tag` in `acme/api`; returns its digest.
    fn signed_image(&self, tag: &str, created: &str) -> String {
        let image = self.reg.push_image("acme/api", tag, created, "amd64");
        sign_and_push(&self.reg, "acme/api", &image.digest, &self.signer);
        image.digest
    }
}

fn values(host: &str, tag: &str, digest: &str) -> String {
    format!("image:\n  repository: {host}/acme/api\n  tag: \"{tag}\"\n  digest: \"{digest}\"\n")
}

fn config_dir(host: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("values.yaml"), values(host, "1.4.0", "")).expect("write");
    dir
}

fn read(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("values.yaml")).expect("read")
}

/// Refused: exit 1, kind `verification`, nothing written, the message names what was
/// required and holds `found`.
fn assert_refused(out: &Run, dir: &Path, host: &str, found: &str) {
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification", "{}", out.stderr);
    assert_eq!(json["verification"], serde_json::Value::Null);
    assert_eq!(json["changed"], false);
    let message = json["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&format!(
            "with in-toto attestation(s) of type {SLSA_V1} signed by the same"
        )),
        "{message}"
    );
    assert!(message.contains(found), "{message}\nwanted: {found}");
    assert_eq!(read(dir), values(host, "1.4.0", ""), "values.yaml changed");
}

#[test]
fn provenance_of_the_source_and_ref_lets_the_bump_write_the_digest() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.front.host();
    let d = fx.signed_image("1.5.0", "2026-01-10T00:00:00Z");
    let envelope = attest_provenance(
        &fx.python, &fx.reg, "acme/api", &d, &fx.signer, SOURCE, MAIN,
    );
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            &fx.key(),
            "--verify-attestation",
            SLSA_V1,
            "--provenance-source",
            SOURCE,
            "--provenance-ref",
            MAIN,
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_eq!(read(dir.path()), values(&host, "1.5.0", &d));
    let json = out.json();
    let fingerprint = json["verification"]["key_fingerprint"].clone();
    assert_eq!(
        json["verification"]["attestations"],
        serde_json::json!([{
            "predicate_type": SLSA_V1,
            "key_fingerprint": fingerprint,
            "location": format!("{host}/acme/api:{}", att_tag(&d)),
            "layer": 1,
            "provenance": "buildDefinition.externalParameters.workflow",
        }])
    );
    // The signature (manifest, payload) and the attestation (manifest, envelope): two
    // requests more than --verify-key alone.
    let counts: HashMap<(String, String), u32> = fx.front.counts();
    let sig = counts
        .keys()
        .find(|(_, p)| p.starts_with("/v2/acme/api/blobs/") && !p.ends_with(&envelope))
        .expect("payload blob read")
        .clone();
    let expected: HashMap<(String, String), u32> = [
        (("HEAD".into(), "/v2/acme/api/manifests/1.5.0".into()), 1),
        (
            (
                "GET".into(),
                format!("/v2/acme/api/manifests/{}", sig_tag(&d)),
            ),
            1,
        ),
        (sig, 1),
        (
            (
                "GET".into(),
                format!("/v2/acme/api/manifests/{}", att_tag(&d)),
            ),
            1,
        ),
        (("GET".into(), format!("/v2/acme/api/blobs/{envelope}")), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, expected);
    assert_eq!(json["registry"]["requests"], 8);

    // The text output says what verified.
    let dir = config_dir(&host);
    let mut cmd = fx.command(&[&format!("{host}/acme/api:1.5.0"), &fx.key()]);
    cmd.arg("-C")
        .arg(dir.path())
        .env("TAGBUMP_VERIFY_ATTESTATION", format!("{SLSA_V1}\n"))
        .env("TAGBUMP_PROVENANCE_SOURCE", SOURCE);
    let out = run(&mut cmd);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!(
            "registry: attestation verified: {SLSA_V1} by key {} ({host}/acme/api:{}), provenance named by buildDefinition.externalParameters.workflow\n",
            fingerprint.as_str().expect("fingerprint"),
            att_tag(&d)
        )),
        "{}",
        out.stdout
    );
    assert_eq!(read(dir.path()), values(&host, "1.5.0", &d));
}

#[test]
fn wrong_source_near_miss_wrong_ref_missing_other_digest_tampered_and_wrong_key_write_nothing() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.front.host();
    let repo = "acme/api";
    let refused = |tag: &str, found: &str| {
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &format!("{host}/{repo}:{tag}"),
                &fx.key(),
                "--provenance-source",
                SOURCE,
                "--provenance-ref",
                MAIN,
                "--output",
                "json",
            ],
        );
        assert_refused(&out, dir.path(), &host, found);
    };
    let slsa_layer = |digest: &str, keys: &Keys, repository: &str, git_ref: &str| {
        let s = statement(digest, SLSA_V1, github_provenance(repository, git_ref));
        envelope(&fx.python, keys, &s)
    };

    // Built from another repository.
    let d = fx.signed_image("1.0.0", "2026-01-01T00:00:00Z");
    attest_provenance(
        &fx.python,
        &fx.reg,
        repo,
        &d,
        &fx.signer,
        "https://github.com/evil/api",
        MAIN,
    );
    refused("1.0.0", "layer 1: the provenance does not name source https://github.com/acme/api at ref refs/heads/main: it names workflow repository \"https://github.com/evil/api\"");

    // A near miss: the source's name is a prefix of the repository's.
    let d = fx.signed_image("1.1.0", "2026-01-02T00:00:00Z");
    attest_provenance(
        &fx.python,
        &fx.reg,
        repo,
        &d,
        &fx.signer,
        "https://github.com/acme/api-evil",
        MAIN,
    );
    refused(
        "1.1.0",
        "dependency \"git+https://github.com/acme/api-evil@refs/heads/main\"",
    );

    // The right source at another ref.
    let d = fx.signed_image("1.2.0", "2026-01-03T00:00:00Z");
    attest_provenance(
        &fx.python,
        &fx.reg,
        repo,
        &d,
        &fx.signer,
        SOURCE,
        "refs/heads/feature",
    );
    refused("1.2.0", "ref \"refs/heads/feature\"");

    // No attestation at all.
    let d = fx.signed_image("1.3.0", "2026-01-04T00:00:00Z");
    refused(
        "1.3.0",
        &format!(
            "no attestation of type {SLSA_V1} found for {d}: {host}/{repo}:{} does not exist (404)",
            att_tag(&d)
        ),
    );

    // Good provenance of another image stored under this image's .att tag.
    let d = fx.signed_image("1.4.1", "2026-01-05T00:00:00Z");
    let other = fx
        .reg
        .push_image(repo, "9.9.9", "2026-01-05T00:00:00Z", "amd64");
    let layer = slsa_layer(&other.digest, &fx.signer, SOURCE, MAIN);
    push_attestations(&fx.reg, repo, &d, &[(layer, SLSA_V1)]);
    refused(
        "1.4.1",
        &format!("layer 1: the statement is for another image: no subject has {d}"),
    );

    // The envelope's payload changed after signing (stored under its own digest).
    let d = fx.signed_image("1.5.0", "2026-01-06T00:00:00Z");
    let signed = slsa_layer(&d, &fx.signer, "https://github.com/evil/api", MAIN);
    let mut tampered: serde_json::Value = serde_json::from_slice(&signed).expect("envelope");
    let forged = statement(&d, SLSA_V1, github_provenance(SOURCE, MAIN));
    tampered["payload"] = base64_std(&forged).into();
    push_attestations(
        &fx.reg,
        repo,
        &d,
        &[(serde_json::to_vec(&tampered).expect("json"), SLSA_V1)],
    );
    refused(
        "1.5.0",
        "layer 1: no signature of the envelope (1) verifies with any of the 1 key(s)",
    );

    // Signed by another key.
    let d = fx.signed_image("1.6.0", "2026-01-07T00:00:00Z");
    attest_provenance(&fx.python, &fx.reg, repo, &d, &fx.stranger, SOURCE, MAIN);
    refused(
        "1.6.0",
        "layer 1: no signature of the envelope (1) verifies with any of the 1 key(s)",
    );

    // Only another predicate type is stored: none of the required type.
    let d = fx.signed_image("1.7.0", "2026-01-08T00:00:00Z");
    let sbom = envelope(
        &fx.python,
        &fx.signer,
        &statement(&d, "https://spdx.dev/Document", serde_json::json!({})),
    );
    push_attestations(&fx.reg, repo, &d, &[(sbom, "https://spdx.dev/Document")]);
    refused(
        "1.7.0",
        &format!("{host}/{repo}:{} holds none of that type", att_tag(&d)),
    );

    // The attestation flags need a signer policy, and a type must be a URI (exit 2).
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/{repo}:1.6.0"),
            "--verify-attestation",
            SLSA_V1,
            "--output",
            "json",
        ],
    );
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("need --verify-key or --verify-identity"),
        "{}",
        out.stderr
    );
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/{repo}:1.6.0"),
            &fx.key(),
            "--verify-attestation",
            "slsa",
            "--output",
            "json",
        ],
    );
    out.assert_code(2);
    assert!(
        out.stderr.contains("--verify-attestation takes a predicate type URI (e.g. https://slsa.dev/provenance/v1), not \"slsa\""),
        "{}",
        out.stderr
    );
    assert_eq!(read(dir.path()), values(&host, "1.4.0", ""));
}

#[test]
fn a_strategy_rejects_newer_candidates_without_provenance_and_says_why() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    let host = fx.front.host();
    let repo = "acme/api";
    let attested = fx.signed_image("1.4.1", "2026-01-05T00:00:00Z");
    attest_provenance(
        &fx.python, &fx.reg, repo, &attested, &fx.signer, SOURCE, MAIN,
    );
    let evil = fx.signed_image("1.5.0", "2026-01-10T00:00:00Z");
    attest_provenance(
        &fx.python,
        &fx.reg,
        repo,
        &evil,
        &fx.signer,
        "https://github.com/acme/api-evil",
        MAIN,
    );
    let bare = fx.signed_image("1.6.0", "2026-01-20T00:00:00Z");
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/{repo}"),
            "--strategy",
            "semver",
            &fx.key(),
            "--provenance-source",
            SOURCE,
            "--output",
            "json",
        ],
    );
    out.assert_code(0);
    assert_eq!(read(dir.path()), values(&host, "1.4.1", &attested));
    let json = out.json();
    let strategy = &json["registry"]["strategy"];
    assert_eq!(strategy["tag"], "1.4.1");
    assert_eq!(strategy["rejected"][0]["tag"], "1.6.0");
    assert_eq!(
        strategy["rejected"][0]["reason"],
        format!(
            "attestation not verified: no attestation of type {SLSA_V1} found for {bare}: {host}/{repo}:{} does not exist (404), \
             and {host}/{repo}:{} holds no Sigstore bundle",
            att_tag(&bare),
            bare.replacen(':', "-", 1)
        )
    );
    assert_eq!(strategy["rejected"][1]["tag"], "1.5.0");
    let reason = strategy["rejected"][1]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with(&format!("attestation not verified: no attestation of type {SLSA_V1} in {host}/{repo}:{} verifies {evil}", att_tag(&evil)))
            && reason.contains("does not name source https://github.com/acme/api:"),
        "{reason}"
    );
    assert_eq!(
        json["verification"]["attestations"][0]["predicate_type"],
        SLSA_V1
    );
}

fn base64_std(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
