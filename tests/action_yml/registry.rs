//! The registry inputs, run against a real registry.

use super::*;

/// The registry inputs, exercised by `the_registry_inputs_reach_tagbump`.
pub(super) const REGISTRY_INPUTS: [&str; 11] = [
    "pin-digest",
    "verify-digest",
    "verify-key",
    "platform",
    "strategy",
    "constraint",
    "ignore-tags",
    "registry-concurrency",
    "registry-username",
    "registry-password",
    "insecure-registry",
];

#[test]
fn the_registry_inputs_reach_tagbump() {
    use support::cosign::{openssl_available, sign_and_push, Keys, Kind};
    use support::registry::{TestRegistry, PASSWORD, USER};
    if !openssl_available() {
        return;
    }
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let base = reg.push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    reg.tag("acme/api", "2.0.0", &base);
    reg.tag("acme/api", "nightly", &base);
    let amd = reg.push_image("acme/api", "1.5.0-amd64", "2026-01-10T00:00:00Z", "amd64");
    let arm = reg.push_image("acme/api", "1.5.0-arm64", "2026-01-10T00:00:00Z", "arm64");
    let index = reg.push_index("acme/api", "1.5.0", &[(&amd, "amd64"), (&arm, "arm64")]);
    let (signer, stranger) = (Keys::generate(Kind::P256), Keys::generate(Kind::Ed25519));
    sign_and_push(&reg, "acme/api", &index.digest, &signer);
    let (signer_pub, stranger_pub) = (
        signer.public_path().display().to_string(),
        stranger.public_path().display().to_string(),
    );
    let host = reg.token_host();
    let work = tempfile::tempdir().expect("workdir");
    std::fs::write(
        work.path().join("values.yaml"),
        format!("image:\n  repository: {host}/acme/api\n  tag: 1.4.0\n  digest: \"\"\n"),
    )
    .expect("values");
    let ca = reg.ca_pem.display().to_string();
    let image = format!("{host}/acme/api");
    let s = |v: &str| v.to_string();
    let chosen_run: Vec<InputCase> = vec![
        ("image", image.clone(), vec![image.clone()]),
        ("paths", s("values.yaml"), vec![s("values.yaml")]),
        ("strategy", s("semver"), vec![s("--strategy=semver")]),
        ("constraint", s("1.x"), vec![s("--constraint=1.x")]),
        (
            "ignore-tags",
            s("2.*, nightly"),
            vec![s("--ignore-tags=2.*"), s("--ignore-tags=nightly")],
        ),
        ("pin-digest", s("true"), vec![s("--pin-digest")]),
        (
            "registry-concurrency",
            s("4"),
            vec![s("--registry-concurrency=4")],
        ),
        (
            "platform",
            s("linux/arm64"),
            vec![s("--platform=linux/arm64")],
        ),
        (
            "registry-username",
            s(USER),
            vec![format!("--registry-username={USER}")],
        ),
        ("registry-password", s(PASSWORD), vec![]),
        (
            "insecure-registry",
            s("registry.lan\nother.lan:5000"),
            vec![
                s("--insecure-registry=registry.lan"),
                s("--insecure-registry=other.lan:5000"),
            ],
        ),
        ("ca-bundle", ca.clone(), vec![format!("--ca-bundle={ca}")]),
        ("output", s("json"), vec![s("--output=json")]),
    ];
    let pinned = format!("{image}:1.5.0@{}", index.digest);
    let verify_run: Vec<InputCase> = vec![
        ("image", pinned.clone(), vec![pinned.clone()]),
        ("verify-digest", s("true"), vec![s("--verify-digest")]),
        (
            "verify-key",
            format!("{stranger_pub}\n {signer_pub}\n"),
            vec![
                format!("--verify-key={stranger_pub}"),
                format!("--verify-key={signer_pub}"),
            ],
        ),
        (
            "registry-username",
            s(USER),
            vec![format!("--registry-username={USER}")],
        ),
        ("registry-password", s(PASSWORD), vec![]),
        ("ca-bundle", ca.clone(), vec![format!("--ca-bundle={ca}")]),
        ("dry-run", s("true"), vec![s("--dry-run")]),
    ];
    let declared: BTreeSet<String> = chosen_run
        .iter()
        .chain(verify_run.iter())
        .map(|(n, _, _)| n.to_string())
        .filter(|n| REGISTRY_INPUTS.contains(&n.as_str()))
        .collect();
    assert_eq!(
        declared,
        REGISTRY_INPUTS.iter().map(|s| s.to_string()).collect()
    );

    for run in [&chosen_run, &verify_run] {
        let (recorder, out) = run_inputs(run, work.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "argv: {:?}\nstdout: {stdout}\nstderr: {stderr}",
            recorder.argv()
        );
        let argv = recorder.argv();
        assert_inputs_reached(run, &argv);
        assert!(
            argv.iter().all(|a| !a.contains(PASSWORD)),
            "the password is never an argument: {argv:?}"
        );
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    }
    // The first run wrote 1.5.0 (the highest 1.x not ignored) and the arm64 child's digest.
    assert_eq!(
        std::fs::read_to_string(work.path().join("values.yaml")).expect("values"),
        format!(
            "image:\n  repository: {host}/acme/api\n  tag: 1.5.0\n  digest: \"{}\"\n",
            arm.digest
        )
    );
}
