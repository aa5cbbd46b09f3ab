//! `command: promote` and `command: status`: the inputs `to`, `from`, `config`, `no-pr`
//! (and `image` naming images to promote) reach `tagbump promote` / `tagbump status`,
//! the promotion lands in a real repository, and the status table goes to stdout and
//! the job summary (`$GITHUB_STEP_SUMMARY`, GitHub's "Adding a job summary" page).
//! Expected bytes are written by hand.

use super::*;

/// The inputs only these two commands use (exercised here for the coverage check of
/// `every_input_reaches_the_matching_cli_flag`).
pub const ENVIRONMENT_INPUTS: [&str; 4] = ["to", "from", "config", "no-pr"];

const CONFIG: &str = "environments:\n  dev: { paths: [envs/dev] }\n  staging: { paths: [envs/staging], from: dev }\n  prod: { paths: [envs/prod], from: staging, pr: true }\n";

fn values(api: &str, web: &str) -> String {
    format!(
        "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"{api}\"\n\
         web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: {web}\n"
    )
}

fn environments_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/dev/values.yaml", &values("1.7.0", "2.2.0")),
            ("envs/staging/values.yaml", &values("1.6.0", "2.1.0")),
            ("envs/prod/values.yaml", &values("1.5.0", "2.0.0")),
        ],
        "main",
    )
}

#[test]
fn promote_inputs_reach_tagbump_promote_and_the_promotion_lands() {
    let bare = environments_repo();
    let url = bare.file_url();
    let work = tempfile::tempdir().expect("workdir");
    let s = |v: &str| v.to_string();
    let run: Vec<InputCase> = vec![
        ("command", s("promote"), vec![s("promote")]),
        ("to", s("prod"), vec![s("--to=prod")]),
        ("from", s("staging"), vec![s("--from=staging")]),
        ("no-pr", s("true"), vec![s("--no-pr")]),
        ("image", s("ghcr.io/acme/api"), vec![s("ghcr.io/acme/api")]),
        ("repo", url.clone(), vec![format!("--repo={url}")]),
        ("output", s("json"), vec![s("--output=json")]),
    ];
    let (recorder, out) = run_inputs(&run, work.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let argv = recorder.argv();
    assert_inputs_reached(&run, &argv);
    assert_eq!(argv.first().map(String::as_str), Some("promote"));
    let dashes = argv.iter().position(|a| a == "--").expect("--");
    assert_eq!(&argv[dashes + 1..], ["ghcr.io/acme/api"], "{argv:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["promotion"]["from"], "staging");
    assert_eq!(
        bare.read_file("main", "envs/prod/values.yaml").as_deref(),
        Some(values("1.6.0", "2.0.0").as_str()),
        "only the api promoted: {stderr}"
    );
    assert_eq!(
        git_server::git(bare.path(), &["log", "-1", "--format=%B", "main"]),
        "chore(deploy): promote staging to prod\n\n- ghcr.io/acme/api 1.5.0 → 1.6.0\n\n"
    );
}

#[test]
fn status_writes_its_table_to_stdout_and_the_job_summary() {
    let bare = environments_repo();
    let url = bare.file_url();
    let work = tempfile::tempdir().expect("workdir");
    // The environments file of this machine (staging and prod only).
    let config = work.path().join("envs.yaml");
    std::fs::write(
        &config,
        "environments:\n  staging: { paths: [envs/staging] }\n  prod: { paths: [envs/prod], from: staging }\n",
    )
    .expect("config");
    let summary = work.path().join("summary.md");
    std::fs::write(&summary, "# Deploy\n").expect("summary");
    let config = config.display().to_string();
    let recorder = Recorder::new();
    let out = run_action(
        &recorder,
        &[
            ("command", "status"),
            ("repo", &url),
            ("config", &config),
            ("branch", "main"),
        ],
        work.path(),
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        recorder.argv(),
        [
            "status".to_string(),
            format!("--config={config}"),
            format!("--repo={url}"),
            "--branch=main".to_string(),
            "--output=markdown".to_string(),
        ]
    );
    let table = "| Image | staging | prod | In sync |\n\
                 |---|---|---|---|\n\
                 | `ghcr.io/acme/api` | `1.6.0` | `1.5.0` | **no** |\n\
                 | `ghcr.io/acme/web` | `2.1.0` | `2.0.0` | **no** |\n";
    assert_eq!(String::from_utf8_lossy(&out.stdout), table);
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("# Deploy\n{table}")
    );

    // `output` given: that format on stdout only, the summary untouched.
    let recorder = Recorder::new();
    let out = run_action(
        &recorder,
        &[("command", "status"), ("repo", &url), ("output", "json")],
        work.path(),
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["environments"],
        serde_json::json!(["dev", "staging", "prod"])
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("# Deploy\n{table}")
    );
    assert_eq!(bare.commit_count("main"), 1, "status writes nothing");
}

/// Several `repo` lines: each repository's table under its URL, in the job summary too;
/// `no-pr` is passed (and ignored by status) as for every command.
#[test]
fn status_of_several_repositories_shows_each_under_its_url() {
    let (one, two) = (environments_repo(), environments_repo());
    let (u1, u2) = (one.file_url(), two.file_url());
    let work = tempfile::tempdir().expect("workdir");
    let summary = work.path().join("summary.md");
    let recorder = Recorder::new();
    let repos = format!("{u1}\n{u2}\n");
    let out = run_action(
        &recorder,
        &[("command", "status"), ("repo", &repos), ("no-pr", "true")],
        work.path(),
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        recorder.argv(),
        [
            "status".to_string(),
            "--no-pr".to_string(),
            format!("--repo={u1}"),
            format!("--repo={u2}"),
            "--output=markdown".to_string(),
        ]
    );
    let table = "| Image | dev | staging | prod | In sync |\n\
                 |---|---|---|---|---|\n\
                 | `ghcr.io/acme/api` | `1.7.0` | `1.6.0` | `1.5.0` | **no** |\n\
                 | `ghcr.io/acme/web` | `2.2.0` | `2.1.0` | `2.0.0` | **no** |\n";
    let expected = format!("### {u1}\n\n{table}\n### {u2}\n\n{table}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), expected);
}

#[test]
fn environment_inputs_of_the_wrong_command_are_refused_before_tagbump_runs() {
    let work = tempfile::tempdir().expect("workdir");
    for (given, complaint) in [
        (vec![("command", "promote")], "'to' is required"),
        (
            vec![("image", "ghcr.io/acme/api:v2"), ("to", "prod")],
            "belong to command: promote",
        ),
        (
            vec![("command", "status"), ("to", "prod")],
            "belong to command: promote",
        ),
        (
            vec![("command", "promote"), ("to", "prod"), ("tag", "v2")],
            "belong to command: image",
        ),
    ] {
        let recorder = Recorder::new();
        let out = run_action(&recorder, &given, work.path(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{given:?}: {stderr}");
        assert!(stderr.contains(complaint), "{given:?}: {stderr}");
        assert!(recorder.argv().is_empty(), "tagbump never ran");
    }
}
