//! Cosign signatures made by other software than tagbump, for the verification tests:
//! key pairs and signatures from OpenSSL's command line, and the signature objects
//! built from cosign's `specs/SIGNATURE_SPEC.md`.
//!
//! OpenSSL signs as cosign does for a key pair (§ Signature Schemes): over the payload
//! bytes themselves, ECDSA signatures ASN.1 DER, base64 as in the
//! `dev.cosignproject.cosign/signature` annotation (`openssl base64 -A`). The storage
//! follows § Storage, "Tag-based Discovery" and "OCI Image Manifest V1": an OCI image
//! manifest tagged `sha256-<hex>.sig`, one layer per signature of media type
//! `application/vnd.dev.cosign.simplesigning.v1+json` whose blob is the payload and
//! whose `dev.cosignproject.cosign/signature` annotation is the base64 signature.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::registry::{TestRegistry, OCI_CONFIG, OCI_MANIFEST};
use super::tools;
use tagbump::verify::PublicKey;
use tempfile::TempDir;

/// The simple-signing layer's media type.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// A simple-signing payload as cosign writes it (no annotations: `"optional":null`).
pub fn payload(digest: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/acme/api"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// Whether `openssl` runs (else reported missing: [`tools::missing`]).
pub fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        tools::missing(
            "openssl",
            "the key tests make keys with it (Debian: apt-get install openssl)",
        );
    }
    ok
}

pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// How a key pair is made and how it signs.
#[derive(Clone, Copy)]
pub enum Kind {
    P256,
    P384,
    Ed25519,
    Rsa2048,
    Rsa2048Pss,
}

/// A key pair made by OpenSSL in a directory of its own.
pub struct Keys {
    dir: TempDir,
    kind: Kind,
}

impl Keys {
    pub fn generate(kind: Kind) -> Keys {
        Keys::generate_with(kind, genpkey_args(kind))
    }

    pub fn generate_with(kind: Kind, genpkey: &[&str]) -> Keys {
        let dir = tempfile::tempdir().expect("key dir");
        let mut args = vec!["genpkey"];
        args.extend_from_slice(genpkey);
        args.extend(["-out", "key.pem"]);
        openssl(dir.path(), &args);
        openssl(
            dir.path(),
            &["pkey", "-in", "key.pem", "-pubout", "-out", "key.pub"],
        );
        Keys { dir, kind }
    }

    /// The key pair's directory (`key.pem`, `key.pub`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The public key file (PEM), as `--verify-key` takes it.
    pub fn public_path(&self) -> PathBuf {
        self.path("key.pub")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn public_pem(&self) -> Vec<u8> {
        std::fs::read(self.path("key.pub")).expect("key.pub")
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_pem(&self.public_pem()).expect("OpenSSL's public key reads")
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        openssl(
            self.dir.path(),
            &["pkey", "-pubin", "-in", "key.pub", "-outform", "DER"],
        )
    }

    /// `message` signed, base64 (one line).
    pub fn sign(&self, message: &[u8]) -> String {
        std::fs::write(self.path("payload.json"), message).expect("payload");
        let d = self.dir.path();
        let _ = std::fs::remove_file(self.path("sig.bin"));
        let sign: &[&str] = match self.kind {
            Kind::P256 | Kind::Rsa2048 => &["dgst", "-sha256", "-sign", "key.pem"],
            Kind::P384 => &["dgst", "-sha384", "-sign", "key.pem"],
            Kind::Rsa2048Pss => &[
                "dgst",
                "-sha256",
                "-sign",
                "key.pem",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
            Kind::Ed25519 => &["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin"],
        };
        let mut args = sign.to_vec();
        match self.kind {
            Kind::Ed25519 => args.extend(["-in", "payload.json", "-out", "sig.bin"]),
            _ => args.extend(["-out", "sig.bin", "payload.json"]),
        }
        openssl(d, &args);
        let b64 = openssl(d, &["base64", "-A", "-in", "sig.bin"]);
        String::from_utf8(b64).expect("base64 is ASCII")
    }
}

pub fn genpkey_args(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        Kind::P384 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        Kind::Ed25519 => &["-algorithm", "ED25519"],
        Kind::Rsa2048 | Kind::Rsa2048Pss => {
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        }
    }
}

/// `sha256-<hex>.sig`, per the spec's digest → tag rules.
pub fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// Pushes the signature manifest of `image_digest` to `repo`: one simple-signing
/// layer per `(payload, signature)`, the payload blobs and a config naming them.
/// Returns the payload blobs' digests.
pub fn push_signatures(
    reg: &TestRegistry,
    repo: &str,
    image_digest: &str,
    signed: &[(Vec<u8>, String)],
) -> Vec<String> {
    let mut layers = Vec::new();
    let mut digests = Vec::new();
    for (payload, signature) in signed {
        let digest = reg.push_blob(repo, payload);
        layers.push(serde_json::json!({
            "mediaType": SIMPLE_SIGNING,
            "size": payload.len(),
            "digest": digest,
            "annotations": {"dev.cosignproject.cosign/signature": signature},
        }));
        digests.push(digest);
    }
    let config = serde_json::json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": digests},
    });
    let config = serde_json::to_vec(&config).expect("json");
    let config_digest = reg.push_blob(repo, &config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": config.len(), "digest": config_digest},
        "layers": layers,
    });
    reg.put_manifest(
        repo,
        &sig_tag(image_digest),
        OCI_MANIFEST,
        serde_json::to_vec(&manifest).expect("json"),
    );
    digests
}

/// Signs `image_digest`'s payload with `keys` and pushes it as the digest's one
/// signature; returns the payload blob's digest.
pub fn sign_and_push(reg: &TestRegistry, repo: &str, image_digest: &str, keys: &Keys) -> String {
    let signed = payload(image_digest);
    let signature = keys.sign(&signed);
    push_signatures(reg, repo, image_digest, &[(signed, signature)]).remove(0)
}
