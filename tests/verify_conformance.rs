//! sigstore-conformance's bundle-verification cases (vendored under
//! tests/sigstore-conformance/bundle-verify, see its README), each run through
//! tagbump's library verifier (`verify::verify_bundle`) with the case's artifact,
//! identity, issuer, key and trusted root (the embedded Sigstore public-good root when
//! the case has none, as the suite uses the production instance). A case whose name
//! ends in `_fail` must be refused. The test asserts the exact outcome of every case:
//! the ones tagbump does not get right are listed in `KNOWN_WRONG` with the reason.

use std::path::Path;

use tagbump::verify::bundle::Bundle;
use tagbump::verify::{verify_bundle, Identity, PublicKey, SignedBy, TrustedRoot, VerifyError};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases whose outcome differs from the suite's expectation, and why.
///
/// Cases refused only because tagbump does not check their kind (a typed
/// `unsupported` error, so they count as right, for that reason alone):
/// `intoto-expired-certificate_fail`, `intoto-log-entry-mismatch_fail`,
/// `intoto-set-outside-signing-cert-validity_fail`,
/// `intoto-tsa-timestamp-outside-cert-validity_fail` (Rekor `intoto` 0.0.2 entries).
const KNOWN_WRONG: &[(&str, &str)] = &[(
    "intoto-with-custom-trust-root",
    "its log entry is of kind intoto 0.0.2, which tagbump does not check (refused as unsupported)",
)];

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
    assert!(dirs.len() >= 60, "{} cases", dirs.len());
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
