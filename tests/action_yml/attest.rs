//! The attestation inputs (`verify-attestation`, one type per line, `provenance-source`,
//! `provenance-ref`) reach tagbump's flags. The run is refused before any registry
//! request (a type that is not a URI: invalid input, exit 2), which shows that tagbump
//! read them; the verification itself is tested in cli_attest.

use super::*;

/// The attestation inputs, exercised by `the_attestation_inputs_reach_tagbump`.
pub(super) const ATTEST_INPUTS: [&str; 3] =
    ["verify-attestation", "provenance-source", "provenance-ref"];

#[test]
fn the_attestation_inputs_reach_tagbump() {
    let work = tempfile::tempdir().expect("workdir");
    std::fs::write(
        work.path().join("values.yaml"),
        "image:\n  repository: registry.example/acme/api\n  tag: 1.4.0\n",
    )
    .expect("values");
    // A public key file (its content is never reached: the run stops at the types).
    std::fs::write(
        work.path().join("cosign.pub"),
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n-----END PUBLIC KEY-----\n",
    )
    .expect("key");
    let s = |v: &str| v.to_string();
    let run: Vec<InputCase> = vec![
        (
            "image",
            s("registry.example/acme/api:1.5.0"),
            vec![s("registry.example/acme/api:1.5.0")],
        ),
        ("paths", s("values.yaml"), vec![s("values.yaml")]),
        (
            "verify-key",
            s("cosign.pub"),
            vec![s("--verify-key=cosign.pub")],
        ),
        (
            "verify-attestation",
            s("https://slsa.dev/provenance/v1\n  \nnot a uri\n"),
            vec![
                s("--verify-attestation=https://slsa.dev/provenance/v1"),
                s("--verify-attestation=not a uri"),
            ],
        ),
        (
            "provenance-source",
            s("https://github.com/acme/api"),
            vec![s("--provenance-source=https://github.com/acme/api")],
        ),
        (
            "provenance-ref",
            s("refs/heads/main"),
            vec![s("--provenance-ref=refs/heads/main")],
        ),
        ("dry-run", s("true"), vec![s("--dry-run")]),
    ];
    let (recorder, out) = run_inputs(&run, work.path());
    assert_inputs_reached(&run, &recorder.argv());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("--verify-attestation takes a predicate type URI"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("values.yaml")).expect("values"),
        "image:\n  repository: registry.example/acme/api\n  tag: 1.4.0\n"
    );
}
