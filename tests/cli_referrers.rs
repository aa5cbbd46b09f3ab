//! Signatures and attestations stored as Sigstore bundles among an image's OCI 1.1
//! referrers (cosign's `specs/BUNDLE_SPEC.md`: what `cosign sign --new-bundle-format`,
//! cosign 3's default, and GitHub's attest actions write), in a real registry
//! (`docker-registry`, distribution 2.8, which has no referrers API: the referrers tag
//! schema's index is read) and behind the counting front serving the referrers API as
//! the OCI distribution spec 1.1 says ("Listing Referrers"). The bundles are made by
//! software other than tagbump: keyless ones by the npm Sigstore packages against
//! `@sigstore/mock` (`tests/support/sigstore/sign.cjs`), key-based ones by Python's
//! `cryptography` (`tests/support/dsse_sign.py`). Every refusal: exit 1, kind
//! `verification`, nothing written.

use std::collections::HashMap;
use std::path::Path;

use crate::cli_keyless::{config_dir, merged_root, path, sign, values, Fixture, IDENTITY, ISSUER};
use crate::support;
use support::attest::{github_provenance, statement, SLSA_V1};
use support::referrers::{push_bundle, push_referrers_tag, sign_v1_statement, COSIGN_SIGN_V1};

const IN_TOTO: &str = "application/vnd.in-toto+json";

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

fn read(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("values.yaml")).expect("read")
}

fn get(path: String) -> (String, String) {
    ("GET".to_string(), path)
}

/// Exit 1, kind `verification`, nothing written; the message holds each of `found`.
fn assert_refused(out: &support::cli::Run, dir: &Path, host: &str, found: &[&str]) {
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "verification", "{}", out.stderr);
    let message = json["error"]["message"].as_str().expect("message");
    for f in found {
        assert!(message.contains(f), "{message}\nwanted: {f}");
    }
    assert_eq!(read(dir), values(host));
}

#[test]
fn a_cosign_3_keyless_signature_in_the_referrers_tag_schema_verifies() {
    let Some(fx) = Fixture::start() else { return };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "1.5.0", "2026-01-10T00:00:00Z", "amd64");
    let d = &image.digest;
    let hex = d.strip_prefix("sha256:").expect("sha256");
    // cosign 3: a DSSE in-toto statement of type sign/v1 whose subject is the digest
    // alone; its time proof a TSA's timestamp (@sigstore/mock's Rekor writes DSSE
    // entries that @sigstore/verify, the fixture's cross-check, refuses).
    let signed = sign(
        &sign_v1_statement(d),
        IDENTITY,
        &["--dsse", IN_TOTO, "--tsa-only"],
    );
    let referrer = push_bundle(
        &fx.reg,
        "acme/api",
        &image,
        &bytes(&signed.bundle),
        Some(COSIGN_SIGN_V1),
    );
    push_referrers_tag(&fx.reg, "acme/api", d, std::slice::from_ref(&referrer));
    let root = path(&signed.root);
    let keyless = [
        format!("--verify-identity={IDENTITY}"),
        format!("--verify-issuer={ISSUER}"),
        format!("--trusted-root={root}"),
    ];
    let args = |image: &str| -> Vec<String> {
        std::iter::once(image.to_string())
            .chain(keyless.iter().cloned())
            .collect()
    };
    let run = |dir: &Path, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fx.image(dir, &args)
    };

    let dir = config_dir(&host);
    let out = run(dir.path(), &args(&format!("{host}/acme/api:1.5.0")));
    out.assert_code(0);
    assert_eq!(
        read(dir.path()),
        format!("image:\n  repository: {host}/acme/api\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    let v = &out.json()["verification"];
    let manifest = referrer["digest"].as_str().expect("digest");
    assert_eq!(
        (&v["digest"], &v["identity"], &v["issuer"]),
        (
            &serde_json::json!(d),
            &serde_json::json!(IDENTITY),
            &serde_json::json!(ISSUER)
        )
    );
    assert_eq!(v["location"], format!("{host}/acme/api@{manifest}"));
    assert_eq!(v["key_algorithm"], "Fulcio certificate");
    // What it cost: the tag, cosign's `.sig` (absent), the referrers API (absent from
    // distribution 2.8), the tag schema's index, the bundle's manifest and its blob.
    let layer = support::registry::sha256(&bytes(&signed.bundle));
    let expected: HashMap<_, _> = [
        (
            (
                "HEAD".to_string(),
                "/v2/acme/api/manifests/1.5.0".to_string(),
            ),
            1,
        ),
        (get(format!("/v2/acme/api/manifests/sha256-{hex}.sig")), 1),
        (get(format!("/v2/acme/api/referrers/{d}")), 1),
        (get(format!("/v2/acme/api/manifests/sha256-{hex}")), 1),
        (get(format!("/v2/acme/api/manifests/{manifest}")), 1),
        (get(format!("/v2/acme/api/blobs/{layer}")), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(fx.front.counts(), expected);

    // A near-miss identity, and the same statement for another digest: refused.
    let dir = config_dir(&host);
    let mut near = args(&format!("{host}/acme/api:1.5.0"));
    near[1] = format!(
        "--verify-identity={}",
        IDENTITY.replace("acme/api", "acme/api-evil")
    );
    let out = run(dir.path(), &near);
    assert_refused(
        &out,
        dir.path(),
        &host,
        &[
            &format!("{host}/acme/api@{manifest}"),
            "identity does not match",
        ],
    );
    let other = fx
        .reg
        .push_image("acme/api", "1.6.0", "2026-01-11T00:00:00Z", "amd64");
    let wrong = push_bundle(
        &fx.reg,
        "acme/api",
        &other,
        &bytes(&signed.bundle),
        Some(COSIGN_SIGN_V1),
    );
    push_referrers_tag(&fx.reg, "acme/api", &other.digest, &[wrong]);
    let dir = config_dir(&host);
    let out = run(dir.path(), &args(&format!("{host}/acme/api:1.6.0")));
    let other_hex = other.digest.strip_prefix("sha256:").expect("sha256");
    assert_refused(
        &out,
        dir.path(),
        &host,
        &[&format!("has no subject with sha256 {other_hex}")],
    );
}

#[test]
fn through_the_referrers_api_a_keyless_signature_and_github_provenance_verify() {
    let Some(fx) = Fixture::start() else { return };
    fx.front.serve_referrers();
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "2.0.0", "2026-02-01T00:00:00Z", "amd64");
    let d = &image.digest;
    let hex = d.strip_prefix("sha256:").expect("sha256");
    // A message signature over the manifest (its digest is the image's), and SLSA
    // provenance as GitHub's attest action makes it for a private repository: a
    // timestamp from the TSA, no log entry.
    let signature = sign(&image.bytes, IDENTITY, &[]);
    let provenance = statement(
        d,
        SLSA_V1,
        github_provenance("https://github.com/acme/api", "refs/tags/v2.0.0"),
    );
    let attested = sign(&provenance, IDENTITY, &["--dsse", IN_TOTO, "--tsa-only"]);
    // Two roots: each signing run has its own mock CA, log and TSA; one root file with
    // both is what --trusted-root takes.
    let root_dir = tempfile::tempdir().expect("tmp");
    let root = merged_root(&[&signature.root, &attested.root], root_dir.path());
    for (bundle, predicate) in [(&signature.bundle, None), (&attested.bundle, Some(SLSA_V1))] {
        let descriptor = push_bundle(&fx.reg, "acme/api", &image, &bytes(bundle), predicate);
        fx.front.add_referrer("acme/api", d, descriptor);
    }
    let base = |source: &str| -> Vec<String> {
        vec![
            format!("{host}/acme/api:2.0.0"),
            format!("--verify-identity={IDENTITY}"),
            format!("--verify-issuer={ISSUER}"),
            format!("--trusted-root={}", path(&root)),
            format!("--verify-attestation={SLSA_V1}"),
            format!("--provenance-source={source}"),
        ]
    };
    let run = |dir: &Path, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fx.image(dir, &args)
    };
    let dir = config_dir(&host);
    let out = run(dir.path(), &base("https://github.com/acme/api"));
    out.assert_code(0);
    assert!(
        read(dir.path()).contains(&format!("digest: \"{d}\"")),
        "{}",
        out.stderr
    );
    let v = &out.json()["verification"];
    assert_eq!(v["identity"], IDENTITY);
    let attestation = &v["attestations"][0];
    assert_eq!(attestation["predicate_type"], SLSA_V1);
    assert_eq!(attestation["identity"], IDENTITY);
    assert_eq!(attestation["issuer"], ISSUER);
    assert!(
        attestation.get("key_fingerprint").is_none(),
        "{attestation}"
    );
    assert_eq!(
        attestation["provenance"], "buildDefinition.externalParameters.workflow",
        "what named the source: {attestation}"
    );
    // The referrers were listed once, for the signature and the attestation; the API
    // answered, so the tag schema was never read.
    let counts = fx.front.counts();
    assert_eq!(
        counts.get(&get(format!("/v2/acme/api/referrers/{d}"))),
        Some(&1)
    );
    assert_eq!(
        counts.get(&get(format!("/v2/acme/api/manifests/sha256-{hex}"))),
        None
    );

    // Provenance of another source (a near miss), or none of a required type: refused.
    let dir = config_dir(&host);
    let out = run(dir.path(), &base("https://github.com/acme/ap"));
    assert_refused(&out, dir.path(), &host, &["https://github.com/acme/ap"]);
    let dir = config_dir(&host);
    let mut args = base("https://github.com/acme/api");
    args.push("--verify-attestation=https://spdx.dev/Document".into());
    let out = run(dir.path(), &args);
    assert_refused(
        &out,
        dir.path(),
        &host,
        &["https://spdx.dev/Document", "holds no bundle of that type"],
    );
}

#[test]
fn a_key_signed_cosign_3_bundle_verifies_with_the_key_and_not_another() {
    let Some(fx) = Fixture::start() else { return };
    let Some(python) = support::attest::python() else {
        return;
    };
    let host = fx.front.host();
    let image = fx
        .reg
        .push_image("acme/api", "3.0.0", "2026-03-01T00:00:00Z", "amd64");
    let d = &image.digest;
    let keys = support::cosign::Keys::generate(support::cosign::Kind::P256);
    let bundle = support::attest::bundle(&python, &keys, &sign_v1_statement(d));
    let referrer = push_bundle(&fx.reg, "acme/api", &image, &bundle, Some(COSIGN_SIGN_V1));
    push_referrers_tag(&fx.reg, "acme/api", d, &[referrer]);
    // A registry older than the referrers API may answer its route with 405: the tag
    // schema is read all the same.
    fx.front.refuse_referrers_with(405);
    let dir = config_dir(&host);
    let key = format!("--verify-key={}", path(&keys.public_path()));
    let out = fx.image(dir.path(), &[&format!("{host}/acme/api:3.0.0"), &key]);
    out.assert_code(0);
    let v = &out.json()["verification"];
    assert_eq!(v["key_fingerprint"], keys.public_key().fingerprint());
    assert_eq!(v["key_algorithm"], "ECDSA P-256");
    assert!(read(dir.path()).contains(&format!("digest: \"{d}\"")));

    let stranger = support::cosign::Keys::generate(support::cosign::Kind::P256);
    let dir = config_dir(&host);
    let key = format!("--verify-key={}", path(&stranger.public_path()));
    let out = fx.image(dir.path(), &[&format!("{host}/acme/api:3.0.0"), &key]);
    let hex = d.strip_prefix("sha256:").expect("sha256");
    assert_refused(
        &out,
        dir.path(),
        &host,
        &[
            &format!("{host}/acme/api:sha256-{hex}"),
            "no cosign signature found",
            "with none of the 1 key(s)",
        ],
    );
}
