//! Secrets: the token and the GitHub App key reach tagbump through its variables,
//! never as arguments, and are never printed.

use super::*;

#[test]
fn the_token_is_never_part_of_the_arguments() {
    // The code, without its comments (which name the variables it leaves alone).
    let script: String = script()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !script.contains("inputs.token") && !script.contains("${{"),
        "no expressions in the entrypoint"
    );
    for secret in [
        "TAGBUMP_TOKEN",
        "TAGBUMP_GITHUB_APP_KEY",
        "TAGBUMP_REGISTRY_PASSWORD",
    ] {
        assert!(
            !script.contains(secret),
            "the entrypoint must not read {secret}: tagbump reads it itself"
        );
    }
    let action = action();
    for (var, input) in action_env_inputs(&action) {
        if ["token", "github-app-key", "registry-password"].contains(&input.as_str()) {
            assert!(
                !var.starts_with("TAGBUMP_INPUT_"),
                "{input} goes to tagbump's own variable, not the script's"
            );
        }
    }
}

#[test]
fn the_github_app_inputs_reach_tagbump_through_its_variables() {
    let bare = config_repo();
    let work = tempfile::tempdir().expect("workdir");
    let secret_line = "R0lUSFVCLUFQUC1LRVktTUFURVJJQUwtZG8tbm90LXByaW50";
    let pem =
        format!("-----BEGIN RSA PRIVATE KEY-----\n{secret_line}\n-----END RSA PRIVATE KEY-----\n");
    let recorder = Recorder::new();
    let out = run_action(
        &recorder,
        &[
            ("image", "ghcr.io/acme/api:v2.0.0"),
            ("repo", &bare.file_url()),
            ("dry-run", "true"),
            ("github-app-id", "42"),
            ("github-app-key", &pem),
        ],
        work.path(),
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // tagbump read both variables: the app ID (else it would ask for one) and the key,
    // which it parsed and refused without printing it.
    assert!(!out.status.success());
    assert!(
        stderr.contains("TAGBUMP_GITHUB_APP_KEY")
            && stderr.contains("unusable GitHub App private key"),
        "{stderr}"
    );
    let argv = recorder.argv();
    assert!(
        argv.iter()
            .all(|a| !a.contains(secret_line) && !a.contains("github-app")),
        "the App goes through the environment only: {argv:?}"
    );
    assert!(!stdout.contains(secret_line) && !stderr.contains(secret_line));
}
