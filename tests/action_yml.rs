//! The GitHub Action (`action.yml`) is a thin, checked mapping onto the CLI.
//!
//! The action runs its `runs.args` script with `/bin/sh` inside the tagbump image; these
//! tests run that very script the way the Actions runner does (inputs with their
//! defaults → `runs.env` → `sh -c <script>`), with the freshly built binary first on
//! `PATH` behind a wrapper that records the argument vector. So "every input reaches a
//! real flag" is checked against what clap actually accepts, not against a list.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_norway::Value;
use support::ci_example::{
    action, action_command_with_first_on_path, action_env_inputs, action_inputs, mapping,
    s as str_of,
};
use support::git_server::{self, BareRepo};
use support::published;

const TOKEN: &str = "ghp_action-test-token-0123456789";

/// Inputs handed to tagbump as the variables it reads itself (secrets: never an
/// argument), with those variables.
const DIRECT_ENV: [(&str, &str); 4] = [
    ("token", "TAGBUMP_TOKEN"),
    ("github-app-id", "TAGBUMP_GITHUB_APP_ID"),
    ("github-app-key", "TAGBUMP_GITHUB_APP_KEY"),
    ("registry-password", "TAGBUMP_REGISTRY_PASSWORD"),
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tagbump_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tagbump"))
}

fn script(action: &Value) -> String {
    let args = action["runs"]["args"]
        .as_sequence()
        .expect("runs.args list");
    assert_eq!(args.len(), 2, "runs.args is [-c, script]");
    assert_eq!(str_of(&args[0]), "-c");
    str_of(&args[1])
}

/// A directory with a `tagbump` wrapper that records its arguments (NUL-separated) and
/// the TAGBUMP_TOKEN it saw, then runs the real binary.
struct Recorder {
    dir: tempfile::TempDir,
}

impl Recorder {
    fn new() -> Recorder {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir bin");
        let wrapper = bin.join("tagbump");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n: > '{argv}'\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> '{argv}'; done\nprintf '%s' \"${{TAGBUMP_TOKEN:-}}\" > '{token}'\nexec '{real}' \"$@\"\n",
                argv = dir.path().join("argv").display(),
                token = dir.path().join("token").display(),
                real = tagbump_bin().display(),
            ),
        )
        .expect("write wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Recorder { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn argv(&self) -> Vec<String> {
        let raw = std::fs::read(self.dir.path().join("argv")).unwrap_or_default();
        raw.split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    fn token_seen(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("token")).unwrap_or_default()
    }
}

/// Runs the action like the runner (see [`action_command_with_first_on_path`]) in
/// `workdir`, the recorder's `tagbump` first on `PATH`, plus `extra_env`.
fn run_action(
    recorder: &Recorder,
    given: &[(&str, &str)],
    workdir: &Path,
    extra_env: &[(&str, &str)],
) -> Output {
    let with = given
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let home = tempfile::tempdir().expect("home");
    action_command_with_first_on_path(&recorder.bin(), &with, workdir, home.path())
        .envs(extra_env.iter().copied())
        .output()
        .expect("run the action's entrypoint")
}

fn help(sub: &str) -> String {
    let out = Command::new(tagbump_bin())
        .args([sub, "--help"])
        .output()
        .expect("tagbump --help");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn config_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            (
                "apps/api/values.yaml",
                "image:\n  repository: ghcr.io/acme/api\n  tag: v1.0.0 # set by CI\n",
            ),
            (
                "apps/web/values.yaml",
                "image:\n  repository: ghcr.io/acme/web\n  tag: v3.0.0\n",
            ),
        ],
        "main",
    )
}

/// An input, the value a step gives it, and the arguments it must add to tagbump's.
type InputCase = (&'static str, String, Vec<String>);

/// Runs the action (see [`run_action`]) with the inputs of `run` in `workdir`, a new
/// recorder's `tagbump` first on `PATH`.
fn run_inputs(run: &[InputCase], workdir: &Path) -> (Recorder, Output) {
    let recorder = Recorder::new();
    let given: Vec<(&str, &str)> = run.iter().map(|(n, v, _)| (*n, v.as_str())).collect();
    let out = run_action(&recorder, &given, workdir, &[]);
    (recorder, out)
}

/// Every input of `run` added its arguments to `argv`.
fn assert_inputs_reached(run: &[InputCase], argv: &[String]) {
    for (input, _, expected) in run {
        for arg in expected {
            assert!(
                argv.contains(arg),
                "input {input} must add {arg:?}; argv was {argv:?}"
            );
        }
    }
}

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
        ("repo", s(repo_url), vec![format!("--repo={repo_url}")]),
        ("dry-run", s("true"), vec![s("--dry-run")]),
        ("output", s("json"), vec![s("--output=json")]),
        ("token", s(TOKEN), vec![]),
    ]
}

#[test]
fn runs_the_published_full_image_of_this_version() {
    let action = action();
    assert_eq!(str_of(&action["runs"]["using"]), "docker");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        str_of(&action["runs"]["image"]),
        format!("docker://{}", published::image(version)),
        "action.yml runs the image the release workflow publishes for this version"
    );
    assert_eq!(
        str_of(&action["runs"]["entrypoint"]),
        "/bin/sh",
        "the script in runs.args needs the image's shell"
    );
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    let last_from = dockerfile
        .lines()
        .rfind(|l| l.starts_with("FROM "))
        .expect("a FROM line");
    assert!(
        last_from.starts_with("FROM alpine") && last_from.ends_with(" AS full"),
        "the last stage (what `docker build .` and the release's `full` image are) must have \
         /bin/sh for the action's entrypoint: {last_from}"
    );
    assert!(!str_of(&action["name"]).is_empty());
    assert!(!str_of(&action["description"]).is_empty());
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
fn the_script_survives_the_runners_command_line_quoting() {
    // The runner builds `docker run … "<arg>"` with `"` escaped as `\"`; that is only
    // lossless when the argument has no backslash.
    let script = script(&action());
    assert!(!script.contains('\\'), "no backslash in the action script");
    assert!(
        script.contains("exec tagbump \"$@\""),
        "the script ends by exec'ing tagbump"
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
    // Nothing to change (the tag is already there): exit code 3.
    let unchanged_run: Vec<InputCase> = vec![
        (
            "image",
            "ghcr.io/acme/api:v1.0.0".into(),
            vec!["ghcr.io/acme/api:v1.0.0".into()],
        ),
        (
            "repo",
            bare.file_url(),
            vec![format!("--repo={}", bare.file_url())],
        ),
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
        // Checked by `the_argocd_inputs_reach_tagbump`.
        .chain(ARGOCD_INPUTS.iter().map(|i| i.to_string()))
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
fn outputs_are_exactly_the_keys_tagbump_writes_to_github_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("apps/api")).expect("mkdir");
    std::fs::write(
        dir.path().join("apps/api/values.yaml"),
        "image:\n  repository: ghcr.io/acme/api\n  tag: v1.0.0\n",
    )
    .expect("values");
    let github_output = dir.path().join("github_output");
    let out = Command::new(tagbump_bin())
        .args(["image", "ghcr.io/acme/api:v1.1.0", "apps/api"])
        .current_dir(dir.path())
        .env("GITHUB_OUTPUT", &github_output)
        .output()
        .expect("run tagbump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let written = std::fs::read_to_string(&github_output).expect("GITHUB_OUTPUT written");
    let values: BTreeMap<String, String> = written
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let declared: BTreeSet<String> = mapping(&action()["outputs"], "outputs")
        .into_iter()
        .map(|(name, spec)| {
            assert!(
                spec.get("description").is_some(),
                "output {name} needs a description"
            );
            name
        })
        .collect();
    let keys: BTreeSet<String> = values.keys().cloned().collect();
    assert_eq!(declared, keys, "action outputs == keys tagbump writes");
    assert_eq!(values["changed"], "true");
    let files: Vec<String> = serde_json::from_str(&values["files"]).expect("files is JSON");
    assert_eq!(files, vec!["apps/api/values.yaml".to_string()]);
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
        (vec![("command", "set")], "'assignments' is required"),
        (vec![("command", "image")], "'image' is required"),
        (vec![("command", "bump")], "must be image or set"),
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

/// The Dockerfile's instructions (comments dropped, `\` continuations joined).
fn dockerfile_instructions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    let mut joined = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                joined.push(' ');
            }
            None => {
                joined.push_str(trimmed);
                joined.push('\n');
            }
        }
    }
    joined
        .lines()
        .map(|l| {
            let (op, rest) = l.split_once(' ').unwrap_or((l, ""));
            (op.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect()
}

#[test]
fn dockerfile_is_multi_stage_static_non_root_and_carries_no_secrets() {
    let ins = dockerfile_instructions();
    let froms: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].0 == "FROM").collect();
    assert!(
        froms.len() >= 2,
        "multi-stage: a build stage and a runtime stage"
    );
    let (build_from, runtime_start) = (&ins[froms[0]].1, froms[froms.len() - 1]);
    assert!(
        build_from.starts_with("rust:")
            && build_from.contains("alpine")
            && build_from.ends_with(" AS build"),
        "the build stage compiles on Alpine (musl, static): {build_from}"
    );
    let runtime = &ins[runtime_start..];
    assert!(
        runtime[0].1.starts_with("alpine:"),
        "runtime stage is Alpine: {:?}",
        runtime[0]
    );
    let run = runtime
        .iter()
        .filter(|(op, _)| op == "RUN")
        .map(|(_, r)| r.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for pkg in ["git", "ca-certificates", "util-linux-misc"] {
        assert!(
            run.contains("apk add --no-cache") && run.split_whitespace().any(|w| w == pkg),
            "the runtime installs {pkg}"
        );
    }
    assert!(
        runtime.iter().any(|(op, r)| op == "COPY"
            && r.starts_with("--from=build ")
            && r.ends_with(" /usr/local/bin/tagbump")),
        "only the binary is copied from the build stage"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(op, _)| op == "USER")
        .map(|(_, u)| u.clone())
        .expect("the runtime sets USER");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        uid != "root" && uid != "0" && !uid.is_empty(),
        "non-root USER, got {user}"
    );
    let last = |name: &str| {
        runtime
            .iter()
            .rev()
            .find(|(op, _)| op == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        last("ENTRYPOINT").as_deref(),
        Some(r#"["tagbump"]"#),
        "exec-form ENTRYPOINT"
    );
    assert_eq!(last("WORKDIR").as_deref(), Some("/github/workspace"));

    let secretish =
        regex::Regex::new(r"(?i)token|passw|secret|api_?key|credential").expect("regex");
    for (op, rest) in &ins {
        if op == "ARG" || op == "ENV" || op == "LABEL" {
            assert!(
                !secretish.is_match(rest),
                "{op} {rest}: no credentials in the image"
            );
        }
    }
    let release = ins
        .iter()
        .find(|(op, r)| op == "RUN" && r.contains("cargo build"))
        .map(|(_, r)| r.clone())
        .expect("a cargo build");
    assert!(
        release.contains("--release") && release.contains("--locked"),
        "{release}"
    );

    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).expect(".dockerignore");
    let ignored: Vec<&str> = ignore.lines().map(str::trim).collect();
    for must in ["target/", ".git/", ".env"] {
        assert!(
            ignored.contains(&must),
            ".dockerignore keeps {must} out of the build context"
        );
    }
    for keep in ["src", "Cargo.toml", "Cargo.lock"] {
        assert!(
            !ignored.iter().any(|l| l.trim_end_matches('/') == keep),
            ".dockerignore must not drop {keep}"
        );
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

/// The instructions of the stage named `name` (from its `FROM … AS name` to the next
/// `FROM`).
fn dockerfile_stage(ins: &[(String, String)], name: &str) -> Vec<(String, String)> {
    let start = ins
        .iter()
        .position(|(op, r)| {
            op == "FROM" && r.to_ascii_lowercase().ends_with(&format!(" as {name}"))
        })
        .unwrap_or_else(|| panic!("a stage named {name}"));
    let end = ins[start + 1..]
        .iter()
        .position(|(op, _)| op == "FROM")
        .map_or(ins.len(), |i| start + 1 + i);
    ins[start..end].to_vec()
}

#[test]
fn dockerfile_slim_stage_is_scratch_with_only_the_binary_a_ca_bundle_and_a_user_non_root() {
    let ins = dockerfile_instructions();
    let api = dockerfile_stage(&ins, "slim");
    assert_eq!(
        api[0].1, "scratch AS slim",
        "the slim image starts from scratch"
    );
    // The default build (no --target) is the last stage: the full image, which the
    // action's /bin/sh entrypoint needs.
    let last_from = ins
        .iter()
        .rev()
        .find(|(op, _)| op == "FROM")
        .map(|(_, r)| r.clone())
        .expect("a FROM");
    assert!(
        last_from.starts_with("alpine:") && last_from.ends_with(" AS full"),
        "the full image stays the default (last) stage: {last_from}"
    );
    for (op, rest) in &api {
        assert!(
            ["FROM", "COPY", "LABEL", "ENV", "USER", "ENTRYPOINT", "CMD"].contains(&op.as_str()),
            "nothing but files from the build stage and metadata in the slim image: {op} {rest}"
        );
    }
    let copies: Vec<&str> = api
        .iter()
        .filter(|(op, _)| op == "COPY")
        .map(|(_, r)| r.as_str())
        .collect();
    assert_eq!(
        copies,
        vec![
            "--from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
            "--from=build /rootfs/ /",
            "--from=build /usr/local/bin/tagbump /tagbump",
        ],
        "only the CA bundle, the prepared root (an empty /tmp, /etc/passwd and /etc/group) and the binary"
    );
    let build = dockerfile_stage(&ins, "build");
    assert!(
        build.iter().any(|(op, r)| op == "RUN"
            && r.contains("mkdir -p /rootfs/tmp")
            && r.contains("chmod 1777 /rootfs/tmp")
            && r.contains("tagbump:x:1001:1001:tagbump:/tmp:/sbin/nologin' > /rootfs/etc/passwd")
            && r.contains("tagbump:x:1001:' > /rootfs/etc/group")),
        "the root copied into the slim image: an empty, world-writable sticky /tmp and a \
         passwd/group entry for the user 1001"
    );
    assert!(
        build.iter().any(|(op, r)| op == "RUN"
            && r.contains("apk add")
            && r.split_whitespace().any(|w| w == "ca-certificates")),
        "the build stage installs the CA bundle it hands on"
    );
    let last = |name: &str| {
        api.iter()
            .rev()
            .find(|(op, _)| op == name)
            .map(|(_, v)| v.clone())
    };
    let user = last("USER").expect("the slim image sets USER");
    assert_eq!(user, "1001:1001", "non-root, the runner's uid");
    assert_eq!(last("ENTRYPOINT").as_deref(), Some(r#"["/tagbump"]"#));
    let env = api
        .iter()
        .filter(|(op, _)| op == "ENV")
        .map(|(_, r)| r.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for setting in [
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "TAGBUMP_VIA=api",
    ] {
        assert!(
            env.split_whitespace().any(|w| w == setting),
            "the slim image sets {setting}: {env}"
        );
    }
}

/// The registry inputs, exercised by `the_registry_inputs_reach_tagbump`.
const REGISTRY_INPUTS: [&str; 9] = [
    "pin-digest",
    "verify-digest",
    "platform",
    "strategy",
    "constraint",
    "ignore-tags",
    "registry-username",
    "registry-password",
    "insecure-registry",
];

#[test]
fn the_registry_inputs_reach_tagbump() {
    use support::registry::{TestRegistry, PASSWORD, USER};
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let base = reg.push_image("acme/api", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    reg.tag("acme/api", "2.0.0", &base);
    reg.tag("acme/api", "nightly", &base);
    let amd = reg.push_image("acme/api", "1.5.0-amd64", "2026-01-10T00:00:00Z", "amd64");
    let arm = reg.push_image("acme/api", "1.5.0-arm64", "2026-01-10T00:00:00Z", "arm64");
    let index = reg.push_index("acme/api", "1.5.0", &[(&amd, "amd64"), (&arm, "arm64")]);
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

/// The Argo CD write-back inputs, exercised by `the_argocd_inputs_reach_tagbump`.
const ARGOCD_INPUTS: [&str; 6] = [
    "argocd-app",
    "argocd-namespace",
    "argocd-app-kind",
    "helm-image-name",
    "helm-image-tag",
    "kustomize-image-name",
];

#[test]
fn the_argocd_inputs_reach_tagbump() {
    let work = tempfile::tempdir().expect("workdir");
    std::fs::create_dir_all(work.path().join("app")).expect("mkdir");
    let s = |v: &str| v.to_string();
    // Both runs bump the image in `app`.
    let run_with = |inputs: Vec<InputCase>| {
        let mut run = vec![
            (
                "image",
                s("ghcr.io/acme/api:v2.0.0"),
                vec![s("ghcr.io/acme/api:v2.0.0")],
            ),
            ("paths", s("app"), vec![s("app")]),
        ];
        run.extend(inputs);
        run
    };
    let helm_run = run_with(vec![
        (
            "argocd-app",
            s("team-a/api"),
            vec![s("--argocd-app=team-a/api")],
        ),
        (
            "argocd-namespace",
            s("gitops"),
            vec![s("--argocd-namespace=gitops")],
        ),
        (
            "argocd-app-kind",
            s("helm"),
            vec![s("--argocd-app-kind=helm")],
        ),
        (
            "helm-image-name",
            s("api.image.repository"),
            vec![s("--helm-image-name=api.image.repository")],
        ),
        (
            "helm-image-tag",
            s("api.image.tag"),
            vec![s("--helm-image-tag=api.image.tag")],
        ),
    ]);
    let kustomize_run = run_with(vec![
        ("argocd-app", s("shop"), vec![s("--argocd-app=shop")]),
        (
            "argocd-app-kind",
            s("kustomize"),
            vec![s("--argocd-app-kind=kustomize")],
        ),
        (
            "kustomize-image-name",
            s("api"),
            vec![s("--kustomize-image-name=api")],
        ),
    ]);
    let covered: BTreeSet<String> = helm_run
        .iter()
        .chain(kustomize_run.iter())
        .map(|(n, _, _)| n.to_string())
        .filter(|n| ARGOCD_INPUTS.contains(&n.as_str()))
        .collect();
    assert_eq!(
        covered,
        ARGOCD_INPUTS.iter().map(|s| s.to_string()).collect()
    );
    for run in [&helm_run, &kustomize_run] {
        let (recorder, out) = run_inputs(run, work.path());
        assert!(
            out.status.success(),
            "argv: {:?}\nstderr: {}",
            recorder.argv(),
            String::from_utf8_lossy(&out.stderr)
        );
        let argv = recorder.argv();
        assert_inputs_reached(run, &argv);
    }
    assert_eq!(
        std::fs::read_to_string(work.path().join("app/.argocd-source-team-a_api.yaml")).expect("helm file"),
        "helm:\n  parameters:\n  - name: api.image.repository\n    value: ghcr.io/acme/api\n    forcestring: true\n  - name: api.image.tag\n    value: v2.0.0\n    forcestring: true\n"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("app/.argocd-source-shop.yaml"))
            .expect("kustomize file"),
        "kustomize:\n  images:\n  - api=ghcr.io/acme/api:v2.0.0\n"
    );
}
