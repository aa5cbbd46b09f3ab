//! Cosign public keys and simple-signing payloads (issue 21, the foundation), against
//! keys and signatures made by another implementation: OpenSSL's command line, per test.
//!
//! OpenSSL signs as cosign does for a key pair (cosign's `specs/SIGNATURE_SPEC.md`,
//! § Signature Schemes): over the payload bytes themselves, ECDSA signatures ASN.1 DER,
//! base64 as in the `dev.cosignproject.cosign/signature` annotation (`openssl base64 -A`).

use crate::support::cosign::{openssl, openssl_available, payload, Keys, Kind};
use tagbump::verify::{KeyAlgorithm, PublicKey, SimpleSigning, VerifyError};

const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const OTHER_DIGEST: &str =
    "sha256:0aeb4e0a9ad2e29a4ed1b7cb0f0a5bd0e6f3c3a1b2d4e5f60718293a4b5c6d7e";

const ALL: [Kind; 5] = [
    Kind::P256,
    Kind::P384,
    Kind::Ed25519,
    Kind::Rsa2048,
    Kind::Rsa2048Pss,
];

#[test]
fn signatures_made_by_openssl_verify_for_each_key_type() {
    if !openssl_available() {
        return;
    }
    for kind in ALL {
        let keys = Keys::generate(kind);
        let key = keys.public_key();
        let expected = match kind {
            Kind::P256 => KeyAlgorithm::EcdsaP256,
            Kind::P384 => KeyAlgorithm::EcdsaP384,
            Kind::Ed25519 => KeyAlgorithm::Ed25519,
            Kind::Rsa2048 | Kind::Rsa2048Pss => KeyAlgorithm::Rsa { bits: 2048 },
        };
        assert_eq!(key.algorithm(), expected);
        let payload = payload(DIGEST);
        let signature = keys.sign(&payload);
        key.verify_base64(&payload, &signature)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.name()));
        let signed = SimpleSigning::check(&payload, DIGEST).expect("the payload signs DIGEST");
        assert_eq!(signed.docker_reference(), "registry.example/acme/api");
        assert_eq!(signed.digest(), DIGEST);
    }
}

#[test]
fn the_fingerprint_is_the_sha256_of_the_spki_der() {
    if !openssl_available() {
        return;
    }
    let keys = Keys::generate(Kind::P256);
    std::fs::write(keys.path("key.der"), keys.spki_der()).expect("der");
    let out = openssl(keys.dir(), &["dgst", "-sha256", "-r", "key.der"]);
    let hex = String::from_utf8(out).expect("hex");
    let hex = hex.split_whitespace().next().expect("a digest");
    assert_eq!(keys.public_key().fingerprint(), format!("SHA256:{hex}"));
    assert_eq!(keys.public_key().spki_der(), keys.spki_der().as_slice());
}

#[test]
fn a_signature_by_another_key_is_refused() {
    if !openssl_available() {
        return;
    }
    for kind in ALL {
        let signer = Keys::generate(kind);
        let other = Keys::generate(kind).public_key();
        let payload = payload(DIGEST);
        let e = other
            .verify_base64(&payload, &signer.sign(&payload))
            .unwrap_err();
        assert!(matches!(e, VerifyError::BadSignature { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&other.fingerprint()) && msg.contains(other.algorithm().name()),
            "{msg}"
        );
        assert!(
            !msg.contains("docker-manifest-digest"),
            "no payload in: {msg}"
        );
        assert_eq!(e.kind(), "verification");
    }
}

#[test]
fn a_tampered_payload_or_signature_is_refused() {
    if !openssl_available() {
        return;
    }
    for kind in ALL {
        let keys = Keys::generate(kind);
        let key = keys.public_key();
        let payload = payload(DIGEST);
        let signature = keys.sign(&payload);
        // The digest in the payload changed after signing.
        let tampered = String::from_utf8(payload.clone())
            .unwrap()
            .replace(DIGEST, OTHER_DIGEST)
            .into_bytes();
        let e = key.verify_base64(&tampered, &signature).unwrap_err();
        assert!(matches!(e, VerifyError::BadSignature { .. }), "{e:?}");
        // One byte more.
        let mut longer = payload.clone();
        longer.push(b' ');
        assert!(key.verify_base64(&longer, &signature).is_err());
        // The signature changed.
        let mut raw = tagbump::verify::key::decode_signature(&signature).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(key.verify(&payload, &raw).is_err());
        let e = key.verify_base64(&payload, "not base64!").unwrap_err();
        assert!(matches!(e, VerifyError::SignatureEncoding(_)), "{e:?}");
    }
}

#[test]
fn a_valid_signature_for_another_digest_is_refused() {
    if !openssl_available() {
        return;
    }
    let keys = Keys::generate(Kind::P256);
    let payload = payload(OTHER_DIGEST);
    keys.public_key()
        .verify_base64(&payload, &keys.sign(&payload))
        .expect("the signature itself is good");
    let e = SimpleSigning::check(&payload, DIGEST).unwrap_err();
    assert!(matches!(e, VerifyError::DigestMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "the signature is for another image: {DIGEST} was required, the payload names \"{OTHER_DIGEST}\""
        )
    );
}

#[test]
fn private_keys_are_refused_with_a_hint() {
    if !openssl_available() {
        return;
    }
    let keys = Keys::generate(Kind::P256);
    // PKCS#8 (what `openssl genpkey` writes) and SEC1 (what `openssl ec` writes).
    openssl(keys.dir(), &["ec", "-in", "key.pem", "-out", "sec1.pem"]);
    // cosign's encrypted key file, as `cosign generate-key-pair` labels it.
    let cosign = b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n\
eyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9fQ==\n\
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
    let pkcs8 = std::fs::read(keys.path("key.pem")).unwrap();
    let sec1 = std::fs::read(keys.path("sec1.pem")).unwrap();
    // A private key next to a public one is refused as well.
    let both = [keys.public_pem(), pkcs8.clone()].concat();
    for (pem, label) in [
        (&pkcs8, "PRIVATE KEY"),
        (&sec1, "EC PRIVATE KEY"),
        (&cosign.to_vec(), "ENCRYPTED SIGSTORE PRIVATE KEY"),
        (&both, "PRIVATE KEY"),
    ] {
        let e = PublicKey::from_pem(pem).unwrap_err();
        assert!(matches!(e, VerifyError::PrivateKey { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("`{label}`")) && msg.contains("pass the .pub"),
            "{msg}"
        );
        assert!(
            !msg.contains("MII") && !msg.contains("eyJ"),
            "no key bytes in: {msg}"
        );
    }
}

#[test]
fn truncated_or_padded_der_is_refused() {
    if !openssl_available() {
        return;
    }
    for kind in [Kind::P256, Kind::Ed25519, Kind::Rsa2048] {
        let keys = Keys::generate(kind);
        let der = keys.spki_der();
        PublicKey::from_spki_der(&der).expect("the DER itself reads");
        let truncated = &der[..der.len() - 1];
        let e = PublicKey::from_spki_der(truncated).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let padded = [der.as_slice(), &[0]].concat();
        let e = PublicKey::from_spki_der(&padded).unwrap_err();
        assert!(
            e.to_string()
                .contains("1 trailing byte(s) after the SubjectPublicKeyInfo"),
            "{e}"
        );
        // The same through PEM (OpenSSL encodes the padded DER).
        std::fs::write(keys.path("padded.der"), &padded).unwrap();
        let b64 = openssl(keys.dir(), &["base64", "-in", "padded.der"]);
        let pem = [
            b"-----BEGIN PUBLIC KEY-----\n".as_slice(),
            &b64,
            b"-----END PUBLIC KEY-----\n",
        ]
        .concat();
        let e = PublicKey::from_pem(&pem).unwrap_err();
        assert!(matches!(e, VerifyError::MalformedKey(_)), "{e:?}");
    }
}

#[test]
fn unsupported_curves_and_small_rsa_keys_are_refused_by_name() {
    if !openssl_available() {
        return;
    }
    for (genpkey, named) in [
        (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"][..],
            "ECDSA P-521 (secp521r1)",
        ),
        (
            &[
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:secp256k1",
            ][..],
            "ECDSA secp256k1",
        ),
        (&["-algorithm", "ED448"][..], "Ed448"),
        (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"][..],
            "RSA with a 1024-bit modulus",
        ),
        (
            &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"][..],
            "RSASSA-PSS-only key",
        ),
        (
            &[
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-pkeyopt",
                "ec_param_enc:explicit",
            ][..],
            "explicit or implicit curve parameters",
        ),
    ] {
        let keys = Keys::generate_with(Kind::P256, genpkey);
        let e = PublicKey::from_pem(&keys.public_pem()).unwrap_err();
        assert!(
            matches!(e, VerifyError::UnsupportedKey { .. }),
            "{named}: {e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains(named) && msg.contains("supported: ECDSA P-256 or P-384, Ed25519, RSA"),
            "{msg}"
        );
    }
}

#[test]
fn what_is_not_one_public_key_is_refused() {
    if !openssl_available() {
        return;
    }
    let keys = Keys::generate(Kind::P256);
    openssl(
        keys.dir(),
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/CN=signer",
            "-days",
            "1",
            "-out",
            "cert.pem",
        ],
    );
    let cert = std::fs::read(keys.path("cert.pem")).unwrap();
    let two = [keys.public_pem(), Keys::generate(Kind::P256).public_pem()].concat();
    for (pem, found) in [
        (cert, "a CERTIFICATE"),
        (two, "2 PUBLIC KEY blocks"),
        (
            b"ssh-ed25519 AAAAC3Nza user@host\n".to_vec(),
            "no PEM block",
        ),
        (
            b"-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n".to_vec(),
            "unreadable PEM",
        ),
    ] {
        let e = PublicKey::from_pem(&pem).unwrap_err();
        assert!(matches!(e, VerifyError::NotPublicKey { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "not a cosign public key: a PEM `PUBLIC KEY` block is required, found "
            ) && msg.contains(found),
            "{msg}"
        );
    }
}
