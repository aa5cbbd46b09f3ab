//! `tagbump image --verify-identity/--verify-issuer --trusted-root`: keyless cosign
//! signatures in a real registry (`docker-registry` behind the counting front), made by
//! software other than tagbump: the npm Sigstore packages (`@sigstore/sign` against
//! `@sigstore/mock`'s Fulcio CA with its CT log, Rekor log and TSA, in-process,
//! `tests/support/sigstore/sign.cjs`), which also write the trusted root naming those
//! services. The signature objects are laid out as cosign's `specs/SIGNATURE_SPEC.md`
//! describes for keyless signatures: the simple-signing layer annotated with the
//! signature, the certificate (PEM), the chain, the Rekor bundle (SET and entry) and the
//! RFC 3161 timestamp. Every refusal: exit 1, kind `verification`, nothing written.

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use support::cli::{home, run, tagbump, Run};
use support::cosign::{payload, sig_tag};
use support::registry::front::{Faults, PagingFront};
use support::registry::{TestRegistry, PASSWORD, USER};
use support::tools;
use tempfile::TempDir;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
pub(crate) const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub(crate) const IDENTITY: &str =
    "https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.5.0";
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether node and the .ci packages are there (reported through `tools::missing`).
fn signer_available() -> bool {
    if Command::new("node").arg("--version").output().is_err() {
        tools::missing("node", "install Node.js (apt-get install nodejs)");
        return false;
    }
    if !repo_root().join(".ci/node_modules/@sigstore/sign").is_dir() {
        tools::missing("@sigstore/sign", "run `npm ci --prefix .ci`");
        return false;
    }
    true
}

/// A keyless signature by the npm signer: the bundle (JSON) and the trusted root file.
pub(crate) struct Signed {
    pub(crate) bundle: serde_json::Value,
    pub(crate) root: PathBuf,
    _dir: TempDir,
}

pub(crate) fn sign(message: &[u8], subject: &str, flags: &[&str]) -> Signed {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("payload");
    std::fs::write(&input, message).expect("payload");
    // @sigstore/mock's TSA now and then answers with a timestamp that @sigstore/verify
    // (the cross-check inside sign.cjs) refuses; such a fixture is made anew, at most
    // twice more. Any other failure, or a third refusal, fails the test.
    let mut attempts = 0;
    let out = loop {
        attempts += 1;
        let out = Command::new("node")
            .arg(repo_root().join("tests/support/sigstore/sign.cjs"))
            .arg(&input)
            .arg(dir.path())
            .args([subject, ISSUER])
            .args(flags)
            .env("NODE_PATH", repo_root().join(".ci/node_modules"))
            .output()
            .expect("node runs");
        let refused =
            String::from_utf8_lossy(&out.stderr).contains("@sigstore/verify refuses the fixture");
        if out.status.success() || !refused || attempts == 3 {
            break out;
        }
    };
    assert!(
        out.status.success(),
        "sign.cjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle =
        serde_json::from_slice(&std::fs::read(dir.path().join("bundle.json")).expect("bundle"))
            .expect("json");
    Signed {
        bundle,
        root: dir.path().join("trusted_root.json"),
        _dir: dir,
    }
}

fn pem(der_b64: &str) -> String {
    let der = B64.decode(der_b64).expect("b64");
    let body = B64.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// cosign's annotations for the bundle's signature: signature, certificate, chain,
/// and, where the bundle has them, the Rekor bundle and the RFC 3161 timestamp.
fn annotations(bundle: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let vm = &bundle["verificationMaterial"];
    let certs: Vec<String> = vm["x509CertificateChain"]["certificates"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["rawBytes"].as_str().expect("raw").to_string())
                .collect()
        })
        .unwrap_or_else(|| {
            vec![vm["certificate"]["rawBytes"]
                .as_str()
                .expect("certificate")
                .to_string()]
        });
    let mut a = serde_json::Map::new();
    a.insert(
        "dev.cosignproject.cosign/signature".into(),
        bundle["messageSignature"]["signature"].clone(),
    );
    a.insert(
        "dev.sigstore.cosign/certificate".into(),
        pem(&certs[0]).into(),
    );
    a.insert(
        "dev.sigstore.cosign/chain".into(),
        certs[1..].iter().map(|c| pem(c)).collect::<String>().into(),
    );
    if let Some(entry) = vm["tlogEntries"].as_array().and_then(|e| e.first()) {
        let log_id = B64
            .decode(entry["logId"]["keyId"].as_str().expect("log id"))
            .expect("b64");
        let rekor = serde_json::json!({
            "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {
                "body": entry["canonicalizedBody"],
                "integratedTime": entry["integratedTime"].as_str().expect("time").parse::<i64>().expect("int"),
                "logIndex": entry["logIndex"].as_str().expect("index").parse::<u64>().expect("int"),
                "logID": log_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            },
        });
        a.insert(
            "dev.sigstore.cosign/bundle".into(),
            rekor.to_string().into(),
        );
    }
    if let Some(ts) = vm["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .and_then(|t| t.first())
    {
        let ts = serde_json::json!({"SignedRFC3161Timestamp": ts["signedTimestamp"]});
        a.insert(
            "dev.sigstore.cosign/rfc3161timestamp".into(),
            ts.to_string().into(),
        );
    }
    a
}

/// Pushes `sha256-<hex>.sig` for `digest`: one simple-signing layer holding
/// `payload_blob`, with `annotations`. Returns the payload blob's digest.
fn push_keyless(
    reg: &TestRegistry,
    digest: &str,
    payload_blob: &[u8],
    annotations: serde_json::Map<String, serde_json::Value>,
) -> String {
    let blob = reg.push_blob("acme/api", payload_blob);
    let config = serde_json::to_vec(&serde_json::json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": [blob]}})).expect("json");
    let config_digest = reg.push_blob("acme/api", &config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": [{"mediaType": SIMPLE_SIGNING, "size": payload_blob.len(), "digest": blob, "annotations": annotations}],
    });
    reg.put_manifest(
        "acme/api",
        &sig_tag(digest),
        OCI_MANIFEST,
        serde_json::to_vec(&manifest).expect("json"),
    );
    blob
}

pub(crate) struct Fixture {
    pub(crate) reg: TestRegistry,
    pub(crate) front: PagingFront,
    pub(crate) home: TempDir,
}

impl Fixture {
    pub(crate) fn start() -> Option<Fixture> {
        if !signer_available() {
            return None;
        }
        let reg = TestRegistry::start()?;
        let front = reg.front_with(100, 1, Faults::default());
        Some(Fixture {
            reg,
            front,
            home: home(),
        })
    }

    pub(crate) fn image(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = tagbump(self.home.path());
        cmd.arg("image")
            .args(args)
            .arg("--ca-bundle")
            .arg(&self.reg.ca_pem)
            .args(["--registry-username", USER, "--output", "json"])
            .env("TAGBUMP_REGISTRY_PASSWORD", PASSWORD)
            .arg("-C")
            .arg(dir);
        run(&mut cmd)
    }
}

pub(crate) fn values(host: &str) -> String {
    format!("image:\n  repository: {host}/acme/api\n  tag: \"1.4.0\"\n  digest: \"\"\n")
}

pub(crate) fn config_dir(host: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("values.yaml"), values(host)).expect("write");
    dir
}

pub(crate) fn path(p: &Path) -> String {
    p.to_str().expect("utf-8").to_string()
}

/// Exit 1, kind `verification`, nothing written; the message holds `found`.
fn assert_refused(out: &Run, dir: &Path, host: &str, found: &str) {
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification", "{}", out.stderr);
    assert_eq!(json["verification"], serde_json::Value::Null);
    let message = json["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("a cosign signature by a certificate for"),
        "{message}"
    );
    assert!(message.contains(found), "{message}\nwanted: {found}");
    assert_eq!(
        std::fs::read_to_string(dir.join("values.yaml")).expect("read"),
        values(host)
    );
}

#[test]
fn a_keyless_signature_by_the_identity_verifies_and_its_digest_is_written() {
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let d = &image.digest;
    let message = payload(d);
    let signed = sign(&message, IDENTITY, &[]);
    let blob = push_keyless(&fx.reg, d, &message, annotations(&signed.bundle));
    let dir = config_dir(&host);
    let root = path(&signed.root);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            r"--verify-identity=regexp:https://github\.com/acme/api/\.github/workflows/release\.yml@refs/tags/v.*",
            &format!("--verify-issuer={ISSUER}"),
            &format!("--trusted-root={root}"),
        ],
    );
    out.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    let v = &out.json()["verification"];
    assert_eq!(v["digest"], d.as_str());
    assert_eq!(v["identity"], IDENTITY);
    assert_eq!(v["issuer"], ISSUER);
    assert_eq!(v["key_algorithm"], "Fulcio certificate");
    let entry = &signed.bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        v["log_index"].to_string(),
        entry["logIndex"].as_str().expect("index")
    );
    assert!(
        v["signed_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    // A verified keyless bump costs what a key-verified one does: the tag's HEAD, the
    // signature manifest, the payload blob.
    let expected: HashMap<_, _> = [
        (
            (
                "HEAD".to_string(),
                "/v2/acme/api/manifests/1.5.0".to_string(),
            ),
            1,
        ),
        (
            (
                "GET".to_string(),
                format!("/v2/acme/api/manifests/{}", sig_tag(d)),
            ),
            1,
        ),
        (("GET".to_string(), format!("/v2/acme/api/blobs/{blob}")), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(fx.front.counts(), expected);

    // With --verify-key too, either suffices: a stranger's key does not stop the
    // identity from verifying.
    if support::cosign::openssl_available() {
        let stranger = support::cosign::Keys::generate(support::cosign::Kind::P256);
        let key_arg = format!("--verify-key={}", path(&stranger.public_path()));
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &format!("{host}/acme/api:1.5.0"),
                &key_arg,
                &format!("--verify-identity={IDENTITY}"),
                &format!("--verify-issuer={ISSUER}"),
                &format!("--trusted-root={root}"),
            ],
        );
        out.assert_code(0);
        assert_eq!(out.json()["verification"]["identity"], IDENTITY);
        // Neither: the message names both ways.
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &format!("{host}/acme/api:1.5.0"),
                &key_arg,
                "--verify-identity=https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.5.0",
                &format!("--verify-issuer={ISSUER}"),
                &format!("--trusted-root={root}"),
            ],
        );
        out.assert_code(1);
        let message = out.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_string();
        assert!(message.contains("ECDSA P-256 key SHA256:"), "{message}");
        assert!(
            message.contains("or a certificate for https://github.com/acme/other/"),
            "{message}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
            values(&host)
        );
    }

    // The same through the variables (an empty one is unset).
    let dir = config_dir(&host);
    let mut cmd = tagbump(fx.home.path());
    cmd.args([
        "image",
        &format!("{host}/acme/api:1.5.0"),
        "--output",
        "json",
        "--registry-username",
        USER,
    ])
    .arg("--ca-bundle")
    .arg(&fx.reg.ca_pem)
    .arg("-C")
    .arg(dir.path())
    .env("TAGBUMP_REGISTRY_PASSWORD", PASSWORD)
    .env("TAGBUMP_VERIFY_IDENTITY", IDENTITY)
    .env("TAGBUMP_VERIFY_ISSUER", ISSUER)
    .env("TAGBUMP_TRUSTED_ROOT", &root)
    .env("TAGBUMP_VERIFY_KEY", "");
    let out = run(&mut cmd);
    out.assert_code(0);
    assert_eq!(out.json()["verification"]["identity"], IDENTITY);
}

#[test]
fn a_timestamp_from_a_tsa_of_the_root_is_proof_enough_without_a_log_entry() {
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let message = payload(&image.digest);
    let signed = sign(&message, IDENTITY, &["--tsa-only"]);
    let a = annotations(&signed.bundle);
    assert!(
        !a.contains_key("dev.sigstore.cosign/bundle")
            && a.contains_key("dev.sigstore.cosign/rfc3161timestamp")
    );
    push_keyless(&fx.reg, &image.digest, &message, a);
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api:1.5.0"),
            &format!("--verify-identity={IDENTITY}"),
            &format!("--verify-issuer={ISSUER}"),
            &format!("--trusted-root={}", path(&signed.root)),
        ],
    );
    out.assert_code(0);
    let v = &out.json()["verification"];
    assert_eq!(v["identity"], IDENTITY);
    assert_eq!(v["log_index"], serde_json::Value::Null);
}

#[test]
fn keyless_signatures_that_do_not_meet_the_policy_are_refused_with_nothing_written() {
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let other = fx
        .reg
        .push_image("acme/api", "1.6.0", "2026-01-11T00:00:00Z", "amd64");
    let d = &image.digest;
    let message = payload(d);
    let signed = sign(&message, IDENTITY, &[]);
    let root = path(&signed.root);
    let stranger = sign(&message, IDENTITY, &[]);
    let image_arg = format!("{host}/acme/api:1.5.0");
    let check = |identity: &str, issuer: &str, root: &str, found: &str| {
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &image_arg,
                &format!("--verify-identity={identity}"),
                &format!("--verify-issuer={issuer}"),
                &format!("--trusted-root={root}"),
            ],
        );
        assert_refused(&out, dir.path(), &host, found);
    };
    push_keyless(&fx.reg, d, &message, annotations(&signed.bundle));
    // Near-miss identity: another repository whose name starts alike.
    check(
        "https://github.com/acme/api-evil/.github/workflows/release.yml@refs/tags/v1.5.0",
        ISSUER,
        &root,
        "the certificate's identity does not match",
    );
    let near = "https://github.com/acme/ap/.github/workflows/release.yml@refs/tags/v1.5.0";
    check(
        near,
        ISSUER,
        &root,
        "the certificate's identity does not match",
    );
    // An unanchored pattern matches the whole SAN or nothing.
    check(
        "regexp:acme/api",
        ISSUER,
        &root,
        "the certificate's identity does not match",
    );
    // Wrong issuer (exact, and a prefix of the real one).
    check(
        IDENTITY,
        "https://accounts.google.com",
        &root,
        "the certificate's OIDC issuer does not match",
    );
    check(
        IDENTITY,
        "regexp:https://token\\.actions",
        &root,
        "the certificate's OIDC issuer does not match",
    );
    // CA not in the root: another instance's root (its own CA, log and TSA).
    check(
        IDENTITY,
        ISSUER,
        &path(&stranger.root),
        "transparency-log entry",
    );
    // SET by a log that is not the root's: the right CA, another log key.
    let mut mixed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&signed.root).expect("root")).expect("json");
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stranger.root).expect("root")).expect("json");
    mixed["tlogs"] = theirs["tlogs"].clone();
    let mixed_path = signed.root.with_file_name("mixed_root.json");
    std::fs::write(&mixed_path, mixed.to_string()).expect("write");
    check(
        IDENTITY,
        ISSUER,
        &path(&mixed_path),
        "by a log that is not in the trusted root",
    );
    // The CA alone replaced: the log and TSA are trusted, the certificate is not.
    let mut other_ca =
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&signed.root).expect("root"))
            .expect("json");
    other_ca["certificateAuthorities"] = theirs["certificateAuthorities"].clone();
    let other_ca_path = signed.root.with_file_name("other_ca_root.json");
    std::fs::write(&other_ca_path, other_ca.to_string()).expect("write");
    check(
        IDENTITY,
        ISSUER,
        &path(&other_ca_path),
        "does not chain to a certificate authority of the trusted root",
    );

    // A signature for another digest: the payload names 1.6.0's digest.
    let for_other = payload(&other.digest);
    let signed_other = sign(&for_other, IDENTITY, &[]);
    push_keyless(&fx.reg, d, &for_other, annotations(&signed_other.bundle));
    check(
        IDENTITY,
        ISSUER,
        &path(&signed_other.root),
        "the signature is for another image",
    );

    // A tampered payload: the signature and certificate of `message`, another blob.
    let mut tampered = message.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x01;
    push_keyless(&fx.reg, d, &tampered, annotations(&signed.bundle));
    check(IDENTITY, ISSUER, &root, "the signature does not verify");

    // No log entry and no timestamp: nothing proves when the certificate signed.
    let mut bare = annotations(&signed.bundle);
    bare.remove("dev.sigstore.cosign/bundle");
    bare.remove("dev.sigstore.cosign/rfc3161timestamp");
    push_keyless(&fx.reg, d, &message, bare);
    check(IDENTITY, ISSUER, &root, "no proof of signing time");

    // An expired certificate: the log and the TSA saw the signature after it expired.
    let expired = sign(&message, IDENTITY, &["--expired"]);
    push_keyless(&fx.reg, d, &message, annotations(&expired.bundle));
    check(
        IDENTITY,
        ISSUER,
        &path(&expired.root),
        "the certificate was not valid at the signing time",
    );

    // --verify-identity without --verify-issuer is invalid input, before any request.
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[&image_arg, &format!("--verify-identity={IDENTITY}")],
    );
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("--verify-identity needs --verify-issuer"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_strategy_takes_the_best_tag_signed_by_the_identity() {
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let signed = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let by_other = fx
        .reg
        .push_image("acme/api", "1.6.0", "2026-01-15T00:00:00Z", "amd64");
    let unsigned = fx
        .reg
        .push_image("acme/api", "1.7.0", "2026-01-20T00:00:00Z", "amd64");
    let message = payload(&signed.digest);
    let good = sign(&message, IDENTITY, &[]);
    push_keyless(&fx.reg, &signed.digest, &message, annotations(&good.bundle));
    let other_message = payload(&by_other.digest);
    let other = sign(
        &other_message,
        "https://github.com/acme/api-evil/.github/workflows/release.yml@refs/tags/v1.6.0",
        &[],
    );
    push_keyless(
        &fx.reg,
        &by_other.digest,
        &other_message,
        annotations(&other.bundle),
    );
    // Both signers' roots: the other's signature fails on its identity, not its root.
    let mut root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&good.root).expect("root")).expect("json");
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&other.root).expect("root")).expect("json");
    for list in [
        "tlogs",
        "certificateAuthorities",
        "ctlogs",
        "timestampAuthorities",
    ] {
        let mine = root[list].as_array_mut().expect("list");
        mine.extend(theirs[list].as_array().expect("list").iter().cloned());
    }
    let root_path = good.root.with_file_name("both_roots.json");
    std::fs::write(&root_path, root.to_string()).expect("write");
    let dir = config_dir(&host);
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "--strategy=semver",
            r"--verify-identity=regexp:https://github\.com/acme/api/\.github/workflows/release\.yml@refs/tags/v.*",
            &format!("--verify-issuer={ISSUER}"),
            &format!("--trusted-root={}", path(&root_path)),
        ],
    );
    out.assert_code(0);
    let d = &signed.digest;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    let json = out.json();
    let strategy = &json["registry"]["strategy"];
    assert_eq!(strategy["tag"], "1.5.0");
    assert_eq!(strategy["rejected"][0]["tag"], "1.7.0");
    let reason = strategy["rejected"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains(&format!(
            "no cosign signature found for {}",
            unsigned.digest
        )),
        "{reason}"
    );
    assert_eq!(strategy["rejected"][1]["tag"], "1.6.0");
    let reason = strategy["rejected"][1]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("the certificate's identity does not match"),
        "{reason}"
    );
    assert!(reason.contains("acme/api-evil"), "{reason}");
    assert_eq!(json["verification"]["identity"], IDENTITY);
}

/// One trusted root holding the CAs, logs, CT logs and TSAs of every root in `roots`.
pub(crate) fn merged_root(roots: &[&Path], dir: &Path) -> std::path::PathBuf {
    let mut merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(roots[0]).expect("root")).expect("json");
    for other in &roots[1..] {
        let other: serde_json::Value =
            serde_json::from_slice(&std::fs::read(other).expect("root")).expect("json");
        for key in [
            "tlogs",
            "certificateAuthorities",
            "ctlogs",
            "timestampAuthorities",
        ] {
            let extra = other[key].as_array().cloned().unwrap_or_default();
            if let Some(list) = merged[key].as_array_mut() {
                list.extend(extra);
            } else if !extra.is_empty() {
                merged[key] = serde_json::Value::Array(extra);
            }
        }
    }
    let file = dir.join("trusted_root.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&merged).expect("json")).expect("write");
    file
}

/// cosign 2's keyless attestation (`cosign attest`, `specs/ATTESTATION_SPEC.md`): the
/// `.att` layer's blob is the DSSE envelope, its annotations the Fulcio certificate and
/// the chain and, here, the RFC 3161 timestamp (`dev.cosignproject.cosign/signature` is
/// empty: the signature is the envelope's). Signed keyless by the npm packages.
#[test]
fn a_keyless_attestation_in_the_att_tag_verifies_with_the_identity() {
    use support::attest::{github_provenance, push_attestation_layers, statement, SLSA_V1};
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.7.0", "2026-01-12T00:00:00Z", "amd64");
    let d = &image.digest;
    let message = payload(d);
    let signed = sign(&message, IDENTITY, &[]);
    push_keyless(&fx.reg, d, &message, annotations(&signed.bundle));
    let provenance = statement(
        d,
        SLSA_V1,
        github_provenance("https://github.com/acme/api", "refs/tags/v1.7.0"),
    );
    let attested = sign(
        &provenance,
        IDENTITY,
        &["--dsse", "application/vnd.in-toto+json", "--tsa-only"],
    );
    let envelope = &attested.bundle["dsseEnvelope"];
    let blob = serde_json::to_vec(&serde_json::json!({
        "payloadType": envelope["payloadType"],
        "payload": envelope["payload"],
        "signatures": [{"keyid": "", "sig": envelope["signatures"][0]["sig"]}],
    }))
    .expect("json");
    let mut a = annotations(&attested.bundle);
    a.insert("dev.cosignproject.cosign/signature".into(), "".into());
    a.insert("predicateType".into(), SLSA_V1.into());
    push_attestation_layers(&fx.reg, "acme/api", d, &[(blob, a)]);
    let roots = tempfile::tempdir().expect("tmp");
    let root = merged_root(&[&signed.root, &attested.root], roots.path());
    let run = |source: &str| {
        let dir = config_dir(&host);
        let out = fx.image(
            dir.path(),
            &[
                &format!("{host}/acme/api:1.7.0"),
                &format!("--verify-identity={IDENTITY}"),
                &format!("--verify-issuer={ISSUER}"),
                &format!("--trusted-root={}", path(&root)),
                &format!("--verify-attestation={SLSA_V1}"),
                &format!("--provenance-source={source}"),
            ],
        );
        let written = std::fs::read_to_string(dir.path().join("values.yaml")).expect("read");
        (out, written)
    };
    let (out, written) = run("https://github.com/acme/api");
    out.assert_code(0);
    assert!(
        written.contains(&format!("digest: \"{d}\"")),
        "{}",
        out.stderr
    );
    let a = &out.json()["verification"]["attestations"][0];
    assert_eq!(
        (&a["identity"], &a["issuer"], &a["layer"]),
        (
            &serde_json::json!(IDENTITY),
            &serde_json::json!(ISSUER),
            &serde_json::json!(1)
        )
    );
    let hex = d.strip_prefix("sha256:").expect("sha256");
    assert_eq!(a["location"], format!("{host}/acme/api:sha256-{hex}.att"));

    // Provenance of another source is refused, nothing written.
    let (out, written) = run("https://github.com/acme/ap");
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "verification");
    assert_eq!(written, values(&host));
}
