//! Inputs → CLI flags: every input reaches the container once through `runs.env` and
//! the script turns it into the matching flag of the real binary; inputs of the other
//! command and bad booleans are refused before tagbump runs.

use super::argocd::ARGOCD_INPUTS;
use super::attest::ATTEST_INPUTS;
use super::environments::ENVIRONMENT_INPUTS;
use super::keyless::KEYLESS_INPUTS;
use super::registry::REGISTRY_INPUTS;
use super::*;

/// What each input must turn into: (input, arguments it must add). Inputs not listed
/// here fail `every_input_reaches_the_matching_cli_flag`, so a new input cannot be
/// added to action.yml without being wired to a flag.
fn image_run_inputs(repo_url: &str, key_file: &str) -> Vec<InputCase> {
    let s = |v: &str| v.to_string();
    vec![
        ("command", s("image"), vec![s("image")]),
        ("image", s("ghcr.io/acme/api"), vec![s("ghcr.io/acme/api")]),
        ("tag", s("v2.0.0"), vec![s("--tag=v2.0.0")]),
        ("app-version", s("true"), vec![s("--app-version")]),
        ("skip-unreadable", s("true"), vec![s("--skip-unreadable")]),
        (
            "argocd-params",
            s("backend.img.name,backend.img.version\n  migrations.ref "),
            vec![
                s("--argocd-param=backend.img.name,backend.img.version"),
                s("--argocd-param=migrations.ref"),
            ],
        ),
        (
            "paths",
            s("apps/api\n  apps/web "),
            vec![s("apps/api"), s("apps/web")],
        ),
        ("dir", s("."), vec![s("--dir=.")]),
        ("repo", s(repo_url), vec![format!("--repo={repo_url}")]),
        ("via", s("git"), vec![s("--via=git")]),
        ("branch", s("main"), vec![s("--branch=main")]),
        ("commit", s("true"), vec![s("--commit")]),
        ("push", s("true"), vec![s("--push")]),
        (
            "username",
            s("deploy-bot"),
            vec![s("--username=deploy-bot")],
        ),
        (
            "ssh-key",
            s(key_file),
            vec![format!("--ssh-key={key_file}")],
        ),
        (
            "ca-bundle",
            s(key_file),
            vec![format!("--ca-bundle={key_file}")],
        ),
        (
            "message",
            s("-chore: {image} to {tag}\n\nwith \"quotes\" and $HOME"),
            vec![s(
                "--message=-chore: {image} to {tag}\n\nwith \"quotes\" and $HOME",
            )],
        ),
        (
            "author-name",
            s("Deploy Bot"),
            vec![s("--author-name=Deploy Bot")],
        ),
        (
            "author-email",
            s("bot@example.com"),
            vec![s("--author-email=bot@example.com")],
        ),
        ("committer-name", s("CI"), vec![s("--committer-name=CI")]),
        (
            "committer-email",
            s("ci@example.com"),
            vec![s("--committer-email=ci@example.com")],
        ),
        ("retry-for", s("5m"), vec![s("--retry-for=5m")]),
        ("retries", s("3"), vec![s("--retries=3")]),
        ("timeout", s("15m"), vec![s("--timeout=15m")]),
        ("io-timeout", s("30s"), vec![s("--io-timeout=30s")]),
        ("no-trailers", s("true"), vec![s("--no-trailers")]),
        ("dry-run", s("true"), vec![s("--dry-run")]),
        ("output", s("json"), vec![s("--output=json")]),
        ("no-downgrade", s("true"), vec![s("--no-downgrade")]),
        ("no-aliased", s("true"), vec![s("--no-aliased")]),
        (
            "allow-tags",
            s(r"^v\d+\."),
            vec![s(r"--allow-tags=^v\d+\.")],
        ),
        ("pr", s("true"), vec![s("--pr")]),
        (
            "pr-branch",
            s("deploy/{slug}"),
            vec![s("--pr-branch=deploy/{slug}")],
        ),
        (
            "pr-title",
            s("Deploy {tag}"),
            vec![s("--pr-title=Deploy {tag}")],
        ),
        (
            "pr-body",
            s("Changes:\n{changes}"),
            vec![s("--pr-body=Changes:\n{changes}")],
        ),
        (
            "labels",
            s("deploy, needs review\nprod"),
            vec![
                s("--label=deploy"),
                s("--label=needs review"),
                s("--label=prod"),
            ],
        ),
        (
            "reviewers",
            s("alice,bob carol"),
            vec![
                s("--reviewer=alice"),
                s("--reviewer=bob"),
                s("--reviewer=carol"),
            ],
        ),
        ("assignees", s("dave"), vec![s("--assignee=dave")]),
        ("draft", s("true"), vec![s("--draft")]),
        ("auto-merge", s("true"), vec![s("--auto-merge")]),
        (
            "merge-method",
            s("squash"),
            vec![s("--merge-method=squash")],
        ),
        ("close-superseded", s("true"), vec![s("--close-superseded")]),
        ("forge", s("github"), vec![s("--forge=github")]),
        (
            "api-url",
            s("http://127.0.0.1:9/api/v3"),
            vec![s("--api-url=http://127.0.0.1:9/api/v3")],
        ),
        ("token", s(TOKEN), vec![]),
    ]
}

fn set_run_inputs(repo_url: &str) -> Vec<InputCase> {
    let s = |v: &str| v.to_string();
    vec![
        ("command", s("set"), vec![s("set")]),
        (
            "assignments",
            s("apps/api/values.yaml image.tag=v2.0.0\napps/web/values.yaml image.tag=v3.1.0 podAnnotations.\"app.kubernetes.io/version\"=3.1.0\n"),
            vec![
                s("apps/api/values.yaml"),
                s("image.tag=v2.0.0"),
                s("apps/web/values.yaml"),
                s("image.tag=v3.1.0"),
                s("podAnnotations.\"app.kubernetes.io/version\"=3.1.0"),
            ],
        ),
        ("create", s("true"), vec![s("--create")]),
        ("document", s("0"), vec![s("--document=0")]),
        // Accepted by every command (issue 22), here by `set`.
        ("no-pr", s("true"), vec![s("--no-pr")]),
        ("repo", s(repo_url), vec![format!("--repo={repo_url}")]),
        ("dry-run", s("true"), vec![s("--dry-run")]),
        ("output", s("json"), vec![s("--output=json")]),
        ("token", s(TOKEN), vec![]),
    ]
}

#[test]
fn every_input_is_handed_to_the_container_through_runs_env_exactly_once() {
    let action = action();
    let declared: BTreeSet<String> = action_inputs(&action).into_keys().collect();
    let mapped = action_env_inputs(&action);
    let mut seen = BTreeSet::new();
    for (var, input) in &mapped {
        assert!(
            declared.contains(input),
            "runs.env {var} refers to undeclared input {input}"
        );
        assert!(seen.insert(input.clone()), "input {input} is mapped twice");
        if let Some((_, expected)) = DIRECT_ENV.iter().find(|(i, _)| i == input) {
            assert_eq!(
                var, expected,
                "input {input} goes to tagbump as the variable it reads itself"
            );
        } else {
            assert!(
                var.starts_with("TAGBUMP_INPUT_"),
                "{var}: inputs other than the token use the TAGBUMP_INPUT_ prefix, so they never \
                 collide with variables tagbump reads itself"
            );
        }
    }
    assert_eq!(
        seen, declared,
        "every declared input must reach the container"
    );
}

#[test]
fn the_script_is_the_images_entrypoint_not_runs_args() {
    // Runners with container hooks (Actions Runner Controller, kubernetes mode) split
    // `runs.args` on spaces: a script there would arrive in pieces. The image's
    // ENTRYPOINT is not touched by them.
    let action = action();
    assert!(
        action["runs"].get("args").is_none(),
        "no runs.args: the logic lives in the image's entrypoint"
    );
    assert!(action["runs"].get("entrypoint").is_none());
    let script = script();
    assert!(script.starts_with("#!/bin/sh\n"), "a POSIX sh script");
    assert!(
        script.contains("\nset -euf\n"),
        "unset variables fail, and globbing is off (set -f)"
    );
    assert!(
        script.trim_end().ends_with("exec tagbump \"$@\""),
        "the script ends by exec'ing tagbump"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo_root().join(support::ci_example::ACTION_ENTRYPOINT))
        .expect("entrypoint")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o111,
        0o111,
        "executable: the image runs it directly"
    );
}

#[test]
fn every_input_reaches_the_matching_cli_flag() {
    let bare = config_repo();
    let work = tempfile::tempdir().expect("workdir");
    let key = work.path().join("key.pem");
    std::fs::write(&key, "not a real key\n").expect("key file");
    let key = key.display().to_string();
    let image_run = image_run_inputs(&bare.file_url(), &key);
    let set_run = set_run_inputs(&bare.file_url());
    // Nothing to change in either repository (the tag is already there): exit code 3.
    let other = config_repo();
    let unchanged_run: Vec<InputCase> = vec![
        (
            "image",
            "ghcr.io/acme/api:v1.0.0".into(),
            vec!["ghcr.io/acme/api:v1.0.0".into()],
        ),
        (
            "repo",
            format!("{}\n  {}\n", bare.file_url(), other.file_url()),
            vec![
                format!("--repo={}", bare.file_url()),
                format!("--repo={}", other.file_url()),
            ],
        ),
        ("jobs", "2".into(), vec!["--jobs=2".into()]),
        (
            "fail-if-unchanged",
            "true".into(),
            vec!["--fail-if-unchanged".into()],
        ),
    ];

    // Coverage: every declared input is exercised by one of the runs (--flux-policy by
    // `the_flux_policy_input_reaches_tagbump`).
    let declared: BTreeSet<String> = action_inputs(&action()).into_keys().collect();
    let exercised: BTreeSet<String> = image_run
        .iter()
        .chain(set_run.iter())
        .chain(unchanged_run.iter())
        .map(|(name, _, _)| name.to_string())
        .chain(["flux-policy".to_string()])
        // Checked by `the_github_app_inputs_reach_tagbump_through_its_variables`.
        .chain(["github-app-id".to_string(), "github-app-key".to_string()])
        // Checked by `the_registry_inputs_reach_tagbump` (against a real registry).
        .chain(REGISTRY_INPUTS.iter().map(|i| i.to_string()))
        // Checked by `the_keyless_inputs_reach_tagbump`.
        .chain(KEYLESS_INPUTS.iter().map(|i| i.to_string()))
        // Checked by `the_attestation_inputs_reach_tagbump`.
        .chain(ATTEST_INPUTS.iter().map(|i| i.to_string()))
        // Checked by `the_argocd_inputs_reach_tagbump`.
        .chain(ARGOCD_INPUTS.iter().map(|i| i.to_string()))
        // Checked by `environments::promote_inputs_reach_tagbump_promote_…`.
        .chain(ENVIRONMENT_INPUTS.iter().map(|i| i.to_string()))
        .collect();
    assert_eq!(
        exercised, declared,
        "map every action input to its CLI flag in this test"
    );

    // Each flag exists in the CLI's own help.
    let image_help = help("image");
    let set_help = help("set");
    for (run, help) in [
        (&image_run, &image_help),
        (&set_run, &set_help),
        (&unchanged_run, &image_help),
    ] {
        for (input, _, expected) in run.iter() {
            for arg in expected.iter().filter(|a| a.starts_with("--")) {
                let flag = arg.split('=').next().unwrap_or(arg);
                assert!(
                    help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                    "input {input} maps to {flag}, which `tagbump` does not document"
                );
            }
        }
    }

    for run in [&image_run, &set_run] {
        let (recorder, out) = run_inputs(run, work.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "the real binary accepts every flag the action builds\nargv: {:?}\nstdout: {stdout}\nstderr: {stderr}",
            recorder.argv()
        );
        let argv = recorder.argv();
        assert_inputs_reached(run, &argv);
        assert!(
            argv.iter().all(|a| !a.contains(TOKEN)),
            "the token must not appear in the argument vector: {argv:?}"
        );
        assert_eq!(
            recorder.token_seen(),
            TOKEN,
            "the token arrives as TAGBUMP_TOKEN"
        );
        // A dry run with --output json: the JSON report shows what would change.
        let report: serde_json::Value =
            serde_json::from_str(&stdout).expect("--output json prints one JSON object");
        assert!(
            report["diff"]
                .as_str()
                .unwrap_or_default()
                .contains("+  tag: v2.0.0"),
            "the dry-run diff shows the new tag: {stdout}"
        );
    }
    let (recorder, out) = run_inputs(&unchanged_run, work.path());
    assert_eq!(
        out.status.code(),
        Some(3),
        "fail-if-unchanged: exit code 3 when the tag is already there; {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_inputs_reached(&unchanged_run, &recorder.argv());

    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").as_deref(),
        Some("image:\n  repository: ghcr.io/acme/api\n  tag: v1.0.0 # set by CI\n"),
        "dry runs push nothing"
    );
    assert!(
        !git_server::spawned_git_argv().contains(TOKEN),
        "no git command line carried the token"
    );
}

#[test]
fn inputs_of_the_other_command_and_bad_booleans_are_refused_before_tagbump_runs() {
    let work = tempfile::tempdir().expect("workdir");
    for (given, complaint) in [
        (
            vec![
                ("command", "set"),
                ("image", "ghcr.io/acme/api:v2"),
                ("assignments", "a.yaml x=1"),
            ],
            "belong to command: image",
        ),
        (
            vec![
                ("image", "ghcr.io/acme/api:v2"),
                ("assignments", "a.yaml x=1"),
            ],
            "belongs to command: set",
        ),
        (
            vec![
                ("command", "set"),
                ("flux-policy", "flux-system:api"),
                ("assignments", "a.yaml x=1"),
            ],
            "belong to command: image",
        ),
        (
            vec![
                ("command", "set"),
                ("app-version", "true"),
                ("assignments", "a.yaml x=1"),
            ],
            "'app-version' belongs to command: image",
        ),
        (
            vec![
                ("command", "set"),
                ("skip-unreadable", "true"),
                ("assignments", "a.yaml x=1"),
            ],
            "'skip-unreadable' belongs to command: image",
        ),
        (vec![("command", "set")], "'assignments' is required"),
        (vec![("command", "image")], "'image' is required"),
        (
            vec![("command", "bump")],
            "must be image, set, promote or status",
        ),
        (
            vec![("image", "ghcr.io/acme/api:v2"), ("dry-run", "yes please")],
            "expected true or false",
        ),
    ] {
        let recorder = Recorder::new();
        let out = run_action(&recorder, &given, work.path(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{given:?}: usage error exit code; {stderr}"
        );
        assert!(
            stderr.contains(complaint),
            "{given:?}: expected {complaint:?} in {stderr}"
        );
        assert!(
            recorder.argv().is_empty(),
            "{given:?}: tagbump must not run"
        );
    }
}

#[test]
fn the_flux_policy_input_reaches_tagbump() {
    let bare = BareRepo::new_with(
        &[(
            "apps/api/values.yaml",
            "image: ghcr.io/acme/api:v1.0.0 # {\"$imagepolicy\": \"flux-system:api\"}\nsidecar: ghcr.io/acme/api:v1.0.0\n",
        )],
        "main",
    );
    let work = tempfile::tempdir().expect("workdir");
    let recorder = Recorder::new();
    let url = bare.file_url();
    let given = [
        ("image", "ghcr.io/acme/api:v2.0.0"),
        ("flux-policy", "flux-system:api"),
        ("repo", url.as_str()),
        ("dry-run", "true"),
        ("output", "json"),
    ];
    let out = run_action(&recorder, &given, work.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        recorder
            .argv()
            .contains(&"--flux-policy=flux-system:api".to_string()),
        "{:?}",
        recorder.argv()
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    let kinds: Vec<(&str, &str)> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap_or_default(),
                c["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(kinds, vec![("image", "flux-marker")]);
}
