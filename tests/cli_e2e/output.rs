//! Output formats: the text report of a remote bump, and the one JSON object
//! printed on an error.

use super::*;

#[test]
fn text_output_of_a_remote_bump_names_the_commit() {
    let repo = demo_bare_repo();
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args(["--repo", &server.url(repo.name())])
        .env("GITHUB_TOKEN", TOKEN)
        // The fake stands for the run's GitHub host (see the token-scope tests).
        .env("GITHUB_SERVER_URL", origin(&server.url(""))));
    out.assert_code(0);
    let tip = repo.tip("main").expect("tip");
    assert!(
        out.stdout
            .contains("apps/web/values.yaml:4  frontend.image.tag  2.0.1 → 2.1.0"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("committed {} to main", &tip[..12])),
        "{}",
        out.stdout
    );
    assert_eq!(
        commit_message(&repo, "main"),
        "chore(deploy): set frontend.image.tag=2.1.0 in apps/web/values.yaml\n\n",
        "no CI environment, no trailers"
    );
    assert_eq!(
        repo.log("main", "%an <%ae>")[0],
        "tagbump <tagbump@localhost>",
        "the default identity"
    );
}

/// `--output json` prints one JSON object on error too: the error's message and kind,
/// the planned changes, and that nothing was pushed.
#[test]
fn json_output_of_a_rejected_push_has_the_error_and_the_planned_changes() {
    let repo = demo_bare_repo();
    repo.reject_pushes_with("deploys are frozen");
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", "apps/web/values.yaml", "frontend.image.tag=2.1.0"])
        .args(["--repo", &repo.file_url(), "--output", "json"]));
    out.assert_code(1);
    let json = out.json();
    assert_eq!(json["error"]["kind"], "rejected");
    let message = json["error"]["message"].as_str().expect("message");
    assert!(message.contains("deploys are frozen"), "{message}");
    assert!(
        out.stderr.contains(&format!("error: {message}")),
        "{}",
        out.stderr
    );
    assert_eq!(json["changed"], false, "nothing was changed");
    assert_eq!(json["pushed"], false);
    assert_eq!(json["commit"], Value::Null);
    assert_eq!(json["files"], serde_json::json!([]));
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "the planned change: {changes:?}");
    assert_eq!(changes[0]["path"], "frontend.image.tag");
    assert_eq!(changes[0]["old"], "2.0.1");
    assert_eq!(changes[0]["new"], "2.1.0");
    assert_eq!(repo.commit_count("main"), 1);
}
