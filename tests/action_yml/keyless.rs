//! The keyless verification inputs (`verify-identity`, `verify-issuer`,
//! `trusted-root`) reach tagbump's flags. The run is refused before any registry
//! request (the trusted root file does not exist: invalid input, exit 2), which shows
//! that tagbump read all three; the verification itself is tested in cli_keyless.

use super::*;

/// The keyless inputs, exercised by `the_keyless_inputs_reach_tagbump`.
pub(super) const KEYLESS_INPUTS: [&str; 3] = ["verify-identity", "verify-issuer", "trusted-root"];

#[test]
fn the_keyless_inputs_reach_tagbump() {
    let work = tempfile::tempdir().expect("workdir");
    std::fs::write(
        work.path().join("values.yaml"),
        "image:\n  repository: registry.example/acme/api\n  tag: 1.4.0\n",
    )
    .expect("values");
    let s = |v: &str| v.to_string();
    let identity = "regexp:https://github.com/acme/api/\\.github/workflows/.*@refs/tags/v.*";
    let run: Vec<InputCase> = vec![
        (
            "image",
            s("registry.example/acme/api:1.5.0"),
            vec![s("registry.example/acme/api:1.5.0")],
        ),
        ("paths", s("values.yaml"), vec![s("values.yaml")]),
        (
            "verify-identity",
            s(identity),
            vec![format!("--verify-identity={identity}")],
        ),
        (
            "verify-issuer",
            s("https://token.actions.githubusercontent.com"),
            vec![s(
                "--verify-issuer=https://token.actions.githubusercontent.com",
            )],
        ),
        (
            "trusted-root",
            s("no-such-root.json"),
            vec![s("--trusted-root=no-such-root.json")],
        ),
        ("dry-run", s("true"), vec![s("--dry-run")]),
    ];
    let (recorder, out) = run_inputs(&run, work.path());
    assert_inputs_reached(&run, &recorder.argv());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("trusted root file no-such-root.json"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("values.yaml")).expect("values"),
        "image:\n  repository: registry.example/acme/api\n  tag: 1.4.0\n"
    );
}
