//! sigstore-conformance's bundle-verification cases (vendored under
//! tests/sigstore-conformance/bundle-verify, see its README), each run through
//! tagbump's library verifier (`verify::verify_bundle`) with the case's artifact,
//! identity, issuer, key and trusted root (the embedded Sigstore public-good root when
//! the case has none, as the suite uses the production instance). A case whose name
//! ends in `_fail` must be refused. The test asserts the exact outcome of every case:
//! all 70 come out as the suite expects (21 verify, 49 are refused, each for its case's
//! reason: run with `--nocapture` to see every case's message); a case tagbump got
//! wrong would be listed in `KNOWN_WRONG` with the reason.

use std::path::Path;

use tagbump::verify::bundle::Bundle;
use tagbump::verify::{verify_bundle, Identity, PublicKey, SignedBy, TrustedRoot, VerifyError};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases whose outcome differs from the suite's expectation, and why (none: every
/// case of the vendored suite comes out as it expects).
const KNOWN_WRONG: &[(&str, &str)] = &[];

fn run_case(dir: &Path) -> Result<(), String> {
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let root = match read("trusted_root.json") {
        Some(json) => TrustedRoot::from_json(&json).map_err(|e| e.to_string())?,
        None => TrustedRoot::embedded(),
    };
    let artifact = read("artifact")
        .or_else(|| std::fs::read(dir.parent().expect("parent").join("a.txt")).ok())
        .expect("artifact");
    let bundle = Bundle::from_json(&read("bundle.sigstore.json").expect("bundle"))
        .map_err(|e| e.to_string())?;
    let text = |name: &str, default: &str| {
        read(name)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let result: Result<_, VerifyError> = match read("key.pub") {
        Some(pem) => {
            let key = PublicKey::from_pem(&pem).map_err(|e| e.to_string())?;
            verify_bundle(&bundle, &artifact, SignedBy::Keys(&[key]), &root)
        }
        None => {
            let identity = Identity::new(
                &text("identity", DEFAULT_IDENTITY),
                &text("issuer", DEFAULT_ISSUER),
            )
            .map_err(|e| e.to_string())?;
            verify_bundle(&bundle, &artifact, SignedBy::Identity(&identity), &root)
        }
    };
    result.map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn sigstore_conformance_bundle_cases() {
    let base =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-conformance/bundle-verify");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .expect("cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 70, "the vendored cases");
    let mut right = 0;
    let mut report = Vec::new();
    let mut unexpected = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().expect("name").to_string_lossy().to_string();
        let must_fail = name.ends_with("_fail");
        let outcome = run_case(dir);
        let as_expected = outcome.is_err() == must_fail;
        report.push(format!(
            "{} {name}: {}",
            if as_expected { "ok  " } else { "WRONG" },
            outcome
                .as_ref()
                .err()
                .map(String::as_str)
                .unwrap_or("verified")
        ));
        let known = KNOWN_WRONG.iter().any(|(n, _)| *n == name);
        if as_expected {
            right += 1;
            if known {
                unexpected.push(format!(
                    "{name} is listed in KNOWN_WRONG but now comes out right"
                ));
            }
        } else if !known {
            unexpected.push(format!(
                "{name}: {}",
                outcome.err().unwrap_or_else(|| "verified".into())
            ));
        }
    }
    println!("{}", report.join("\n"));
    println!("conformance: {right} of {} cases as expected", dirs.len());
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(right + KNOWN_WRONG.len(), dirs.len());
}

/// A bundle checked against the artifact's SHA-256 alone (as for an image, whose
/// manifest digest is all the verifier has): the message signature is verified over
/// the digest, and another digest is refused.
#[test]
fn a_message_signature_verifies_against_the_artifacts_digest_alone() {
    use tagbump::verify::{verify_bundle_for, Artifact};
    let base =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-conformance/bundle-verify");
    let artifact = std::fs::read(base.join("a.txt")).expect("a.txt");
    let digest: [u8; 32] = {
        let hex = tagbump_sha256_hex(&artifact);
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect::<Vec<_>>()
            .try_into()
            .expect("32")
    };
    let bundle = Bundle::from_json(
        &std::fs::read(base.join("happy-path-v0.3/bundle.sigstore.json")).expect("bundle"),
    )
    .expect("parse");
    let identity = Identity::new(DEFAULT_IDENTITY, DEFAULT_ISSUER).expect("identity");
    let root = TrustedRoot::embedded();
    let ok = verify_bundle_for(
        &bundle,
        Artifact::Sha256(digest),
        SignedBy::Identity(&identity),
        &root,
    )
    .expect("verified");
    assert_eq!(ok.identity.as_deref(), Some(DEFAULT_IDENTITY));
    assert_eq!(ok.time_source, Some("tlog"));
    let mut other = digest;
    other[0] ^= 1;
    let err = verify_bundle_for(
        &bundle,
        Artifact::Sha256(other),
        SignedBy::Identity(&identity),
        &root,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("message digest is not the artifact's"),
        "{err}"
    );
}

/// The lowercase hex SHA-256 of `bytes` (the registry test support's helper).
fn tagbump_sha256_hex(bytes: &[u8]) -> String {
    crate::support::registry::sha256(bytes)["sha256:".len()..].to_string()
}

/// A real attestation signed by GitHub's own Sigstore instance (the release attestation
/// of `cli/cli` v2.96.0, as `gh attestation download gh_2.96.0_checksums.txt -R cli/cli`
/// gives it; `tests/real-bundles/README.md`): its Fulcio certificate (SAN
/// `https://dotcom.releases.github.com`) chains to GitHub's CA and its time is proven
/// by GitHub's TSA alone, so it verifies under the embedded roots — every check up to
/// the identity's issuer, which this GitHub-internal certificate does not carry — and
/// under Sigstore's public-good root alone its chain is refused.
#[test]
fn a_github_attestation_chains_and_is_timestamped_under_the_embedded_github_root() {
    use tagbump::verify::trust_root::SIGSTORE_PUBLIC_GOOD;
    use tagbump::verify::{verify_bundle_for, Artifact};
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/real-bundles/gh-2.96.0-release.sigstore.json");
    let bundle = Bundle::from_json(&std::fs::read(file).expect("bundle")).expect("parse");
    // gh_2.96.0_checksums.txt, one of the statement's subjects.
    let hex = "fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565";
    let digest: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect::<Vec<_>>()
        .try_into()
        .expect("32");
    let identity =
        Identity::new("https://dotcom.releases.github.com", "regexp:.*").expect("identity");
    let verify = |root: &TrustedRoot| {
        verify_bundle_for(
            &bundle,
            Artifact::Sha256(digest),
            SignedBy::Identity(&identity),
            root,
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        verify(&TrustedRoot::embedded()),
        "the certificate's OIDC issuer does not match: regexp:.* was required, found no issuer extension",
        "signature, TSA timestamp, chain and SAN all verified first"
    );
    let public_good = TrustedRoot::from_json(SIGSTORE_PUBLIC_GOOD.as_bytes()).expect("root");
    let refused = verify(&public_good);
    assert!(
        refused.contains("does not chain to a certificate authority of the trusted root")
            || refused.contains("RFC 3161 timestamp"),
        "{refused}"
    );
    let mut other = digest;
    other[0] ^= 1;
    let err = verify_bundle_for(
        &bundle,
        Artifact::Sha256(other),
        SignedBy::Identity(&identity),
        &TrustedRoot::embedded(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("has no subject with sha256"),
        "{err}"
    );
}
