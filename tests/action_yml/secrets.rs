//! Secrets: the token and the GitHub App key reach tagbump through its variables,
//! never as arguments, and are never printed.

use super::*;

#[test]
fn the_token_is_never_part_of_the_arguments() {
    let action = action();
    let args = serde_norway::to_string(&action["runs"]["args"]).expect("serialize args");
    assert!(
        !args.contains("inputs.token"),
        "runs.args must not use inputs.token"
    );
    assert!(
        !args.contains("TAGBUMP_TOKEN"),
        "the script must not read the token"
    );
    assert!(
        !args.contains("inputs.github-app-key") && !args.contains("TAGBUMP_GITHUB_APP_KEY"),
        "the script must not read the GitHub App key"
    );
    assert!(!args.contains("${{"), "no expressions in runs.args at all");
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
