//! Key-based verification of an image digest against cosign signatures in a real
//! registry (`docker-registry`, distribution 2.8), read through the paginating front,
//! which counts the requests.
//!
//! The signatures come from OpenSSL ([`crate::support::cosign::Keys`]); the signature
//! objects are built there from cosign's `specs/SIGNATURE_SPEC.md` (§ Storage,
//! "Tag-based Discovery" and "OCI Image Manifest V1"): an OCI image manifest tagged
//! `sha256-<hex>.sig`, one layer per signature of media type
//! `application/vnd.dev.cosign.simplesigning.v1+json` whose blob is the payload and
//! whose `dev.cosignproject.cosign/signature` annotation is the base64 signature.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::cosign::{openssl_available, payload, push_signatures, sig_tag, Keys, Kind};
use crate::support::registry::front::{Faults, PagingFront};
use crate::support::registry::{TestRegistry, PASSWORD, USER};
use tagbump::image::ImageRef;
use tagbump::registry::{BasicCredentials, Client, ClientOptions, Endpoint, RegistryError};
use tagbump::retry::Timeouts;
use tagbump::secret::Secret;
use tagbump::verify::{verify_with_keys, PublicKey, VerifyError};

/// A registry, a counting front before it, and the keys, or `None` (reported) where a
/// tool is missing.
fn setup() -> Option<(TestRegistry, PagingFront)> {
    if !openssl_available() {
        return None;
    }
    let reg = TestRegistry::start()?;
    let front = reg.front_with(100, 1, Faults::default());
    Some((reg, front))
}

/// A client for `repo` through `front`.
fn client(front: &PagingFront, reg: &TestRegistry, repo: &str) -> Client {
    client_as(front, reg, repo, PASSWORD)
}

fn client_as(front: &PagingFront, reg: &TestRegistry, repo: &str, password: &str) -> Client {
    let image = ImageRef::parse(&format!("{}/{repo}", front.host())).expect("image");
    let options = ClientOptions {
        timeouts: Timeouts {
            overall: Duration::from_secs(60),
            idle: Duration::from_secs(10),
        },
        ca_bundle: Some(reg.ca_pem.clone()),
        credentials: Some(BasicCredentials {
            username: USER.into(),
            password: Secret::new(password),
        }),
        ..ClientOptions::default()
    };
    Client::new(Endpoint::of(&image, &[]), options).expect("client")
}

/// `(method, path)`s the front answered (401 challenges left out).
fn requests(front: &PagingFront) -> HashMap<(String, String), u32> {
    front.counts()
}

fn get(path: String) -> (String, String) {
    ("GET".to_string(), path)
}

#[test]
fn a_signed_digest_verifies_with_its_key_and_with_a_list_where_only_the_second_matches() {
    let Some((reg, front)) = setup() else {
        return;
    };
    let repo = "acme/api";
    let image = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let signer = Keys::generate(Kind::P256);
    let other = Keys::generate(Kind::Ed25519);
    let signed = payload(&image.digest);
    let signature = signer.sign(&signed);
    let blobs = push_signatures(&reg, repo, &image.digest, &[(signed, signature)]);

    let c = client(&front, &reg, repo);
    let verified = verify_with_keys(&c, &image.digest, &[signer.public_key()]).expect("verified");
    assert_eq!(verified.digest, image.digest);
    assert_eq!(verified.key_fingerprint, signer.public_key().fingerprint());
    assert_eq!(verified.key_algorithm, "ECDSA P-256");
    assert_eq!(verified.layer, 1);
    assert_eq!(verified.docker_reference, "registry.example/acme/api");
    assert_eq!(
        verified.location,
        format!("{}/{repo}:{}", front.host(), sig_tag(&image.digest))
    );
    // The signature manifest and the one payload blob, each once; nothing else.
    let expected: HashMap<_, _> = [
        (
            get(format!("/v2/{repo}/manifests/{}", sig_tag(&image.digest))),
            1,
        ),
        (get(format!("/v2/{repo}/blobs/{}", blobs[0])), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(requests(&front), expected);
    assert_eq!(front.challenges(), 1);

    front.reset();
    let c = client(&front, &reg, repo);
    let keys = [other.public_key(), signer.public_key()];
    let verified = verify_with_keys(&c, &image.digest, &keys).expect("the second key verifies");
    assert_eq!(verified.key_fingerprint, signer.public_key().fingerprint());
    assert_eq!(requests(&front), expected);
}

#[test]
fn a_later_signature_layer_verifies_when_an_earlier_one_does_not() {
    let Some((reg, front)) = setup() else {
        return;
    };
    let repo = "acme/two";
    let image = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let signer = Keys::generate(Kind::P256);
    let stranger = Keys::generate(Kind::P256);
    let signed = payload(&image.digest);
    // Two layers need two payload blobs: the second payload differs by a space.
    let mut second = signed.clone();
    second.push(b' ');
    let layers = [
        (signed.clone(), stranger.sign(&signed)),
        (second.clone(), signer.sign(&second)),
    ];
    let blobs = push_signatures(&reg, repo, &image.digest, &layers);
    let c = client(&front, &reg, repo);
    let verified = verify_with_keys(&c, &image.digest, &[signer.public_key()]).expect("verified");
    assert_eq!(verified.layer, 2);
    let counts = requests(&front);
    assert_eq!(counts.len(), 3, "{counts:?}");
    for blob in &blobs {
        assert_eq!(
            counts.get(&get(format!("/v2/{repo}/blobs/{blob}"))),
            Some(&1)
        );
    }
}

#[test]
fn wrong_key_other_digest_tampered_payload_and_missing_signatures_are_refused() {
    let Some((reg, front)) = setup() else {
        return;
    };
    let signer = Keys::generate(Kind::P256);
    let wrong = Keys::generate(Kind::P256);
    let key = [signer.public_key()];

    // A wrong key.
    let repo = "acme/wrong-key";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let signed = payload(&a.digest);
    push_signatures(
        &reg,
        repo,
        &a.digest,
        &[(signed.clone(), wrong.sign(&signed))],
    );
    let err = verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).unwrap_err();
    assert!(matches!(err, VerifyError::NotVerified { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("does not verify with any of the 1 key(s)")
            && text.contains(&signer.public_key().fingerprint())
            && text.contains(&a.digest),
        "{text}"
    );
    assert_eq!(err.kind(), "verification");

    // A good signature of image B stored under A's .sig tag.
    let repo = "acme/other-digest";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let b = reg.push_image(repo, "2.0.0", "2026-02-02T03:04:05Z", "amd64");
    let for_b = payload(&b.digest);
    push_signatures(
        &reg,
        repo,
        &a.digest,
        &[(for_b.clone(), signer.sign(&for_b))],
    );
    let err = verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the signature is for another image")
            && text.contains(&format!("{} was required", a.digest))
            && text.contains(&b.digest),
        "{text}"
    );
    // B itself has no signatures.
    let err = verify_with_keys(&client(&front, &reg, repo), &b.digest, &key).unwrap_err();
    assert!(matches!(err, VerifyError::NoSignature { .. }), "{err:?}");

    // A payload changed after signing, stored under its own (correct) digest.
    let repo = "acme/changed-payload";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let signed = payload(&a.digest);
    let signature = signer.sign(&signed);
    let changed = String::from_utf8(signed)
        .expect("utf-8")
        .replace("registry.example", "registry.evil")
        .into_bytes();
    push_signatures(&reg, repo, &a.digest, &[(changed, signature)]);
    let err = verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).unwrap_err();
    assert!(
        err.to_string().contains("does not verify with any"),
        "{err}"
    );

    // A payload blob served with other bytes than its digest (a tampering mirror).
    let repo = "acme/tampered-blob";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let signed = payload(&a.digest);
    let blobs = push_signatures(
        &reg,
        repo,
        &a.digest,
        &[(signed.clone(), signer.sign(&signed))],
    );
    let tampering = reg.front_with(
        100,
        1,
        Faults {
            tamper_blobs: true,
            ..Faults::default()
        },
    );
    let err = verify_with_keys(&client(&tampering, &reg, repo), &a.digest, &key).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("not the layer's digest {}", blobs[0]))
            && text.contains("tampered or corrupted"),
        "{text}"
    );
    // Without the tampering, the same signature verifies.
    verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).expect("verified");

    // A payload layer over the 1 MiB limit is not read at all.
    let repo = "acme/huge-payload";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let mut huge = payload(&a.digest);
    huge.resize((1 << 20) + 1, b' ');
    let blobs = push_signatures(&reg, repo, &a.digest, &[(huge.clone(), signer.sign(&huge))]);
    front.reset();
    let err = verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).unwrap_err();
    assert!(
        err.to_string()
            .contains("the payload of 1048577 bytes is over the 1048576-byte limit (not read)"),
        "{err}"
    );
    assert_eq!(
        requests(&front).get(&get(format!("/v2/{repo}/blobs/{}", blobs[0]))),
        None
    );

    // No .sig tag at all: one manifest request, and the message says where it looked.
    let repo = "acme/unsigned";
    let a = reg.push_image(repo, "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    front.reset();
    let err = verify_with_keys(&client(&front, &reg, repo), &a.digest, &key).unwrap_err();
    let location = format!("{}/{repo}:{}", front.host(), sig_tag(&a.digest));
    assert_eq!(
        err.to_string(),
        format!(
            "no cosign signature found for {}: {location} does not exist (404)",
            a.digest
        )
    );
    let expected: HashMap<_, _> = [(
        get(format!("/v2/{repo}/manifests/{}", sig_tag(&a.digest))),
        1,
    )]
    .into_iter()
    .collect();
    assert_eq!(requests(&front), expected);
}

#[test]
fn no_keys_a_malformed_digest_and_a_registry_refusal_are_told_apart() {
    let Some((reg, front)) = setup() else {
        return;
    };
    let c = client(&front, &reg, "acme/api");
    let digest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    let none: [PublicKey; 0] = [];
    assert!(matches!(
        verify_with_keys(&c, digest, &none),
        Err(VerifyError::NoKeys { .. })
    ));
    let signer = Keys::generate(Kind::Ed25519);
    let err = verify_with_keys(&c, "sha256:../../v2/_catalog", &[signer.public_key()]);
    assert!(matches!(err, Err(VerifyError::Payload(_))), "{err:?}");
    assert_eq!(c.requests(), 0);
    assert_eq!(front.requests.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The registry refuses the credentials: a registry error, not a verdict.
    let c = client_as(&front, &reg, "acme/api", "wrong-SECRET-4b1d");
    let err = verify_with_keys(&c, digest, &[signer.public_key()]).unwrap_err();
    let text = format!("{err} {err:?}");
    match &err {
        VerifyError::Registry { source, .. } => assert!(
            matches!(source.as_ref(), RegistryError::Auth { status: 401, .. }),
            "{text}"
        ),
        other => panic!("not a registry error: {other:?}"),
    }
    assert_eq!(err.kind(), "registry");
    assert!(
        text.contains(&format!("reading the signatures of {digest}")),
        "{text}"
    );
    assert!(!text.contains("wrong-SECRET-4b1d"), "{text}");
}
