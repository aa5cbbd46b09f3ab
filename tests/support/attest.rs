//! In-toto attestations made by other software than tagbump, for the attestation tests:
//! DSSE envelopes and Sigstore bundles signed by `tests/support/dsse_sign.py` (Python's
//! `cryptography`, which computes DSSE's PAE itself) with keys OpenSSL made
//! ([`Keys`]), and their storage built from cosign's `specs/ATTESTATION_SPEC.md`: an
//! OCI image manifest tagged `sha256-<hex>.att`, one layer per attestation of media
//! type `application/vnd.dsse.envelope.v1+json` annotated with `predicateType`, whose
//! blob is the envelope.

use std::path::Path;
use std::process::Command;

use super::cosign::Keys;
use super::registry::{TestRegistry, OCI_CONFIG, OCI_MANIFEST};
use super::tools;

/// The DSSE layer's media type.
pub const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
/// SLSA v1 provenance.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// in-toto's DSSE payload type.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The interpreter with `cryptography` (`TAGBUMP_PYTHON`, else `python3`), or `None`
/// (reported missing: [`tools::missing`]).
pub fn python() -> Option<String> {
    let python = std::env::var("TAGBUMP_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&python)
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        tools::missing(
            "python3 with cryptography",
            "the attestation tests sign DSSE envelopes with it (pip install cryptography; .ci/run installs it into its venv)",
        );
        return None;
    }
    Some(python)
}

/// An in-toto v1 statement about `digest` (`sha256:<hex>`).
pub fn statement(digest: &str, predicate_type: &str, predicate: serde_json::Value) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "registry.example/acme/api", "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .expect("json")
}

/// SLSA v1 provenance as GitHub's build type writes it (`actions/attest-build-provenance`):
/// the workflow's repository and ref, and the source as a `git+` dependency.
pub fn github_provenance(repository: &str, git_ref: &str) -> serde_json::Value {
    serde_json::json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {
                "ref": git_ref, "repository": repository, "path": ".github/workflows/release.yml"}},
            "internalParameters": {"github": {"event_name": "push"}},
            "resolvedDependencies": [{
                "uri": format!("git+{repository}@{git_ref}"),
                "digest": {"gitCommit": "7c0ffee0000000000000000000000000000000c0"}}]
        },
        "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"},
                       "metadata": {"invocationId": "https://github.com/acme/api/actions/runs/1/attempts/1"}}
    })
}

fn sign(python: &str, mode: &str, keys: &Keys, payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let file = keys.path("statement.json");
    std::fs::write(&file, payload).expect("statement");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/dsse_sign.py");
    let out = Command::new(python)
        .arg(script)
        .arg(mode)
        .arg(keys.path("key.pem"))
        .arg(payload_type)
        .arg(&file)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "dsse_sign.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `payload` in a DSSE envelope of in-toto's payload type signed by `keys`.
pub fn envelope(python: &str, keys: &Keys, payload: &[u8]) -> Vec<u8> {
    sign(python, "envelope", keys, IN_TOTO, payload)
}

/// `payload` in a Sigstore bundle v0.3 (a key-signed DSSE envelope, no log entry).
pub fn bundle(python: &str, keys: &Keys, payload: &[u8]) -> Vec<u8> {
    sign(python, "bundle", keys, IN_TOTO, payload)
}

/// `sha256-<hex>.att`.
pub fn att_tag(digest: &str) -> String {
    format!("{}.att", digest.replace(':', "-"))
}

/// Pushes the attestation manifest of `image_digest`: one DSSE layer per
/// `(envelope, predicateType annotation)`. Returns the envelope blobs' digests.
pub fn push_attestations(
    reg: &TestRegistry,
    repo: &str,
    image_digest: &str,
    envelopes: &[(Vec<u8>, &str)],
) -> Vec<String> {
    let layers: Vec<(Vec<u8>, serde_json::Map<String, serde_json::Value>)> = envelopes
        .iter()
        .map(|(envelope, predicate_type)| {
            let mut a = serde_json::Map::new();
            a.insert("dev.cosignproject.cosign/signature".into(), "".into());
            a.insert("predicateType".into(), (*predicate_type).into());
            (envelope.clone(), a)
        })
        .collect();
    push_attestation_layers(reg, repo, image_digest, &layers)
}

/// Pushes the attestation manifest of `image_digest`: one DSSE layer per `(envelope,
/// annotations)` (keyless: cosign's certificate, chain, bundle and timestamp
/// annotations). Returns the envelope blobs' digests.
pub fn push_attestation_layers(
    reg: &TestRegistry,
    repo: &str,
    image_digest: &str,
    envelopes: &[(Vec<u8>, serde_json::Map<String, serde_json::Value>)],
) -> Vec<String> {
    let mut layers = Vec::new();
    let mut digests = Vec::new();
    for (envelope, annotations) in envelopes {
        let digest = reg.push_blob(repo, envelope);
        layers.push(serde_json::json!({
            "mediaType": DSSE,
            "size": envelope.len(),
            "digest": digest,
            "annotations": annotations,
        }));
        digests.push(digest);
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": digests},
    }))
    .expect("json");
    let config_digest = reg.push_blob(repo, &config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": config.len(), "digest": config_digest},
        "layers": layers,
    });
    reg.put_manifest(
        repo,
        &att_tag(image_digest),
        OCI_MANIFEST,
        serde_json::to_vec(&manifest).expect("json"),
    );
    digests
}

/// Signs SLSA v1 provenance of `image_digest` naming `repository`@`git_ref` with
/// `keys` and pushes it as the digest's one attestation; returns the envelope's digest.
pub fn attest_provenance(
    python: &str,
    reg: &TestRegistry,
    repo: &str,
    image_digest: &str,
    keys: &Keys,
    repository: &str,
    git_ref: &str,
) -> String {
    let statement = statement(
        image_digest,
        SLSA_V1,
        github_provenance(repository, git_ref),
    );
    let envelope = envelope(python, keys, &statement);
    push_attestations(reg, repo, image_digest, &[(envelope, SLSA_V1)]).remove(0)
}
