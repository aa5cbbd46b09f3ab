//! The dev → staging → prod examples of docs/ci.md run for real: the GitHub workflow's
//! tagbump steps through action.yml's entrypoint (`examples/github/promote.yml`), the
//! GitLab pipeline's component jobs with their inputs (`examples/gitlab/promote.gitlab-ci.yml`,
//! the component's `script:`), against the fake GitHub (`tests/support/fake_github.rs`:
//! GitHub's REST "Git database", "Repository contents" and "Pulls" pages) and the fake
//! GitLab (`tests/support/fake_gitlab.rs`: GitLab's "Commits", "Repository files" and
//! "Merge requests" API pages), each backed by a real bare repository. The only things a
//! test swaps in an example are where the config repository lives (`repo`, with the
//! fake's `forge`, `api-url` and `via: api`). Expected bytes are written by hand.

use crate::support;

use std::collections::BTreeMap;

use serde_norway::Value;
use support::ci_example::{self, action_command, entries, expand, run_script, s, script, yaml};
use support::fake_github::FakeGitHub;
use support::fake_gitlab::{self, FakeGitLab, PROJECT};
use support::git_server::BareRepo;

const TOKEN: &str = "examples-promote-token-51c0";

const CONFIG: &str = "environments:\n  dev:     { paths: [envs/dev] }\n  staging: { paths: [envs/staging], from: dev }\n  prod:    { paths: [envs/prod], from: staging, pr: true }\n";

/// A Helm values file with the api and the web image.
fn values(api: &str, web: &str) -> String {
    format!(
        "# managed by tagbump\napi:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"{api}\"\n\
         web:\n  image:\n    repository: ghcr.io/acme/web\n    tag: {web}  # pinned\n"
    )
}

fn config_repo() -> BareRepo {
    BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/dev/values.yaml", &values("1.6.0", "2.2.0")),
            ("envs/staging/values.yaml", &values("1.5.0", "2.1.0")),
            ("envs/prod/values.yaml", &values("1.4.0", "2.1.0")),
        ],
        "main",
    )
}

const SHA: &str = "4f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4";

#[test]
fn github_workflow_bumps_dev_promotes_to_staging_then_to_prod_as_a_pull_request() {
    let bare = config_repo();
    let github = FakeGitHub::start(&bare, "acme/gitops", TOKEN);
    let url = format!("{}/acme/gitops.git", github.url());
    let workflow = yaml("github/promote.yml");
    let work = tempfile::tempdir().expect("work");
    let home = tempfile::tempdir().expect("home");
    let summary = work.path().join("summary.md");
    // Runs the tagbump steps of `job` as the runner would, for an event with `to`.
    let run_job = |job: &str, to: &str| {
        for step in workflow["jobs"][job]["steps"].as_sequence().expect("steps") {
            assert_eq!(
                s(&step["uses"]),
                support::published::action_ref(concat!("v", env!("CARGO_PKG_VERSION_MAJOR")))
            );
            let mut with: BTreeMap<String, String> = entries(&step["with"])
                .into_iter()
                .map(|(k, v)| (k, s(v)))
                .collect();
            for value in with.values_mut() {
                for (expr, v) in [
                    ("github.sha", SHA),
                    ("secrets.CONFIG_REPO_TOKEN", TOKEN),
                    ("inputs.to", to),
                ] {
                    *value = value.replace(&format!("${{{{ {expr} }}}}"), v);
                }
                assert!(!value.contains("${{"), "unexpected expression in {value}");
                *value = value.replace("https://github.com/acme/gitops-config.git", &url);
            }
            with.insert("forge".into(), "github".into());
            with.insert("api-url".into(), github.url().to_string());
            with.insert("via".into(), "api".into());
            let out = action_command(&with, work.path(), home.path())
                .env("GITHUB_STEP_SUMMARY", &summary)
                .output()
                .expect("run the action");
            ci_example::assert_ok(&out, &format!("{job}: {}", s(&step["name"])), &[TOKEN]);
        }
    };

    // A push to main: dev runs the new build.
    run_job("dev", "");
    assert_eq!(
        bare.read_file("main", "envs/dev/values.yaml"),
        Some(values(SHA, "2.2.0"))
    );

    // Promote to staging: what dev runs, pushed to main; the summary shows it.
    std::fs::write(&summary, "").expect("summary");
    run_job("promote", "staging");
    assert_eq!(
        bare.read_file("main", "envs/staging/values.yaml"),
        Some(values(SHA, "2.2.0"))
    );
    assert_eq!(
        std::fs::read_to_string(&summary).expect("summary"),
        format!(
            "| Image | dev | staging | prod | In sync |\n\
             |---|---|---|---|---|\n\
             | `ghcr.io/acme/api` | `{SHA}` | `{SHA}` | `1.4.0` | **no** |\n\
             | `ghcr.io/acme/web` | `2.2.0` | `2.2.0` | `2.1.0` | **no** |\n"
        )
    );

    // Promote to prod: a pull request (prod says `pr: true`), main untouched.
    run_job("promote", "prod");
    let branch = "tagbump/promote-staging-to-prod";
    assert_eq!(
        bare.read_file(branch, "envs/prod/values.yaml"),
        Some(values(SHA, "2.2.0"))
    );
    assert_eq!(
        bare.read_file("main", "envs/prod/values.yaml"),
        Some(values("1.4.0", "2.1.0"))
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(
        (pulls[0].head.as_str(), pulls[0].title.as_str()),
        (branch, "chore(deploy): promote staging to prod")
    );
}

#[test]
fn gitlab_pipeline_bumps_dev_promotes_to_staging_then_to_prod_as_a_merge_request() {
    let bare = config_repo();
    let gitlab = FakeGitLab::start(&bare);
    let url = format!("{}/{PROJECT}.git", gitlab.url());
    let pipeline = yaml("gitlab/promote.gitlab-ci.yml");
    let includes = pipeline["include"].as_sequence().expect("include").clone();
    let predefined: BTreeMap<String, String> = [
        ("GITLAB_CI", "true"),
        ("CI_REGISTRY_IMAGE", "ghcr.io/acme/api"),
        ("CI_COMMIT_SHORT_SHA", "4f1e2d3c"),
        ("TAGBUMP_TOKEN", fake_gitlab::TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let home = tempfile::tempdir().expect("home");
    // Runs the job the component adds for the include named `job`.
    let run = |job: &str| {
        let include = includes
            .iter()
            .find(|i| s(&i["inputs"]["job-name"]) == job)
            .expect("the include of the job");
        assert!(s(&include["component"]).ends_with(concat!("/tagbump@", env!("CARGO_PKG_VERSION"))));
        let mut inputs: Vec<(String, Value)> = entries(&include["inputs"])
            .into_iter()
            .map(|(k, v)| {
                let v = if k == "repo" {
                    Value::from(url.clone())
                } else {
                    v.clone()
                };
                (k, v)
            })
            .collect();
        inputs.push(("via".into(), Value::from("api")));
        let extra = format!(
            "{}\n--forge=gitlab\n--api-url={}",
            inputs
                .iter()
                .find(|(k, _)| k == "extra-args")
                .map(|(_, v)| s(v))
                .unwrap_or_default(),
            gitlab.api_base()
        );
        inputs.retain(|(k, _)| k != "extra-args");
        inputs.push((
            "extra-args".into(),
            Value::from(extra.trim_start().to_string()),
        ));
        let given: Vec<(&str, Value)> = inputs
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let (name, job_def) = crate::examples::component_job(&given);
        assert_eq!(name, job);
        let mut env = predefined.clone();
        for (k, v) in entries(&job_def["variables"]) {
            let value = match v.get("value") {
                Some(raw) if v["expand"].as_bool() == Some(false) => s(raw),
                Some(raw) => expand(&s(raw), &env),
                None => expand(&s(v), &env),
            };
            env.insert(k, value);
        }
        let work = tempfile::tempdir().expect("build dir");
        let out = run_script(&script(&job_def), &env, work.path(), home.path());
        ci_example::assert_ok(&out, job, &[fake_gitlab::TOKEN]);
        out
    };
    assert_eq!(s(&pipeline["promote-staging"]["when"]), "manual");
    assert_eq!(s(&pipeline["promote-prod"]["when"]), "manual");

    run("deploy-dev");
    assert_eq!(
        bare.read_file("main", "envs/dev/values.yaml"),
        Some(values("4f1e2d3c", "2.2.0"))
    );
    run("promote-staging");
    assert_eq!(
        bare.read_file("main", "envs/staging/values.yaml"),
        Some(values("4f1e2d3c", "2.2.0"))
    );
    run("promote-prod");
    let branch = "tagbump/promote-staging-to-prod";
    assert_eq!(
        bare.read_file(branch, "envs/prod/values.yaml"),
        Some(values("4f1e2d3c", "2.2.0"))
    );
    assert_eq!(
        bare.read_file("main", "envs/prod/values.yaml"),
        Some(values("1.4.0", "2.1.0"))
    );
    let mrs = gitlab.merge_requests();
    assert_eq!(mrs.len(), 1, "{mrs:?}");
    let out = run("status");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "| Image | dev | staging | prod | In sync |\n\
         |---|---|---|---|---|\n\
         | `ghcr.io/acme/api` | `4f1e2d3c` | `4f1e2d3c` | `1.4.0` | **no** |\n\
         | `ghcr.io/acme/web` | `2.2.0` | `2.2.0` | `2.1.0` | **no** |\n"
    );
}

#[test]
fn docs_ci_shows_exactly_the_examples_these_tests_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    let docs = read("docs/ci.md");
    let github = read("examples/github/promote.yml");
    let jobs = &github[github.find("jobs:\n").expect("jobs")..];
    assert!(
        docs.contains(&format!("```yaml\n{jobs}```\n")),
        "docs/ci.md shows the jobs of examples/github/promote.yml"
    );
    let gitlab = read("examples/gitlab/promote.gitlab-ci.yml");
    let body = &gitlab[gitlab.find("stages:").expect("stages")..];
    assert!(
        docs.contains(&format!("```yaml\n{body}```\n")),
        "docs/ci.md shows examples/gitlab/promote.gitlab-ci.yml"
    );
}

/// `$(params.NAME)` and `$(context.…)` replaced from `vars` (Tekton's substitution).
fn tekton_subst(text: &str, vars: &BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\(([^()]+)\)").expect("regex");
    re.replace_all(text, |c: &regex::Captures| {
        vars.get(&c[1])
            .cloned()
            .unwrap_or_else(|| panic!("no value for $({})", &c[1]))
    })
    .into_owned()
}

#[test]
fn tekton_promote_task_promotes_then_prints_every_environment() {
    let bare = BareRepo::new_with(
        &[
            (".tagbump.yaml", &CONFIG.replace(", pr: true", "")),
            ("envs/dev/values.yaml", &values("1.6.0", "2.2.0")),
            ("envs/staging/values.yaml", &values("1.5.0", "2.1.0")),
            ("envs/prod/values.yaml", &values("1.4.0", "2.1.0")),
        ],
        "main",
    );
    let http = support::git_server::SmartHttpServer::start(bare.root(), TOKEN);
    let (outputs, results) = run_tekton_promote(
        &[
            ("repo", http.url(bare.name())),
            ("to", "staging".to_string()),
            ("from", "dev".to_string()),
        ],
        &["ghcr.io/acme/api"],
    );
    // Only the api was named: web stays.
    assert_eq!(
        bare.read_file("main", "envs/staging/values.yaml"),
        Some(values("1.6.0", "2.1.0"))
    );
    assert_eq!(
        git_log_subject(&bare),
        "chore(deploy): promote dev to staging"
    );
    let read = |name: &str| std::fs::read_to_string(results.path().join(name)).unwrap_or_default();
    assert_eq!(read("changed"), "true");
    assert_eq!(Some(read("commit-sha")), bare.tip("main"));
    assert_eq!(
        String::from_utf8_lossy(&outputs[1].stdout),
        "IMAGE             dev              staging          prod             IN SYNC\n\
         ghcr.io/acme/api  1.6.0 (1 place)  1.6.0 (1 place)  1.4.0 (1 place)  no\n\
         ghcr.io/acme/web  2.2.0 (1 place)  2.1.0 (1 place)  2.1.0 (1 place)  no\n"
    );
}

/// The task's defaults: `from` left empty is the target's `from`, every image both
/// reference is promoted; `no-pr: "true"` pushes to the branch although prod says
/// `pr: true` (and a smart HTTP remote has no forge to open one on).
#[test]
fn tekton_promote_task_defaults_to_the_targets_from_and_no_pr_pushes_to_the_branch() {
    let bare = BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/dev/values.yaml", &values("1.6.0", "2.2.0")),
            ("envs/staging/values.yaml", &values("1.5.0", "2.1.0")),
            ("envs/prod/values.yaml", &values("1.4.0", "2.0.0")),
        ],
        "main",
    );
    assert!(CONFIG.contains("from: staging, pr: true"), "{CONFIG}");
    let http = support::git_server::SmartHttpServer::start(bare.root(), TOKEN);
    let (_, results) = run_tekton_promote(
        &[
            ("repo", http.url(bare.name())),
            ("to", "prod".to_string()),
            ("no-pr", "true".to_string()),
        ],
        &[],
    );
    assert_eq!(
        bare.read_file("main", "envs/prod/values.yaml"),
        Some(values("1.5.0", "2.1.0"))
    );
    assert_eq!(
        git_log_subject(&bare),
        "chore(deploy): promote staging to prod"
    );
    let read = |name: &str| std::fs::read_to_string(results.path().join(name)).unwrap_or_default();
    assert_eq!(
        (read("changed"), read("pushed")),
        ("true".into(), "true".into())
    );
    assert_eq!(read("pr-url"), "");
}

/// Several repositories in `repo`, one per line (a YAML block scalar in the
/// PipelineRun): each is promoted on its own, the results count them, and the status
/// step prints each repository's table under its URL.
#[test]
fn tekton_promote_task_with_several_repo_lines_promotes_each() {
    let seed = |dev_api: &str| {
        BareRepo::new_with(
            &[
                (".tagbump.yaml", &CONFIG.replace(", pr: true", "")),
                ("envs/dev/values.yaml", &values(dev_api, "2.2.0")),
                ("envs/staging/values.yaml", &values("1.5.0", "2.1.0")),
                ("envs/prod/values.yaml", &values("1.4.0", "2.1.0")),
            ],
            "main",
        )
    };
    let (one, two) = (seed("1.6.0"), seed("1.7.0"));
    let (h1, h2) = (
        support::git_server::SmartHttpServer::start(one.root(), TOKEN),
        support::git_server::SmartHttpServer::start(two.root(), TOKEN),
    );
    let (u1, u2) = (h1.url(one.name()), h2.url(two.name()));
    let (outputs, results) = run_tekton_promote(
        &[
            ("repo", format!("{u1}\n{u2}\n")),
            ("to", "staging".to_string()),
        ],
        &[],
    );
    assert_eq!(
        one.read_file("main", "envs/staging/values.yaml"),
        Some(values("1.6.0", "2.2.0"))
    );
    assert_eq!(
        two.read_file("main", "envs/staging/values.yaml"),
        Some(values("1.7.0", "2.2.0"))
    );
    let read = |name: &str| std::fs::read_to_string(results.path().join(name)).unwrap_or_default();
    assert_eq!(
        (read("changed"), read("pushed"), read("commit-sha")),
        ("true".into(), "true".into(), String::new()),
        "over both repositories; each one's commit is in its JSON report"
    );
    let table = |api: &str| {
        format!(
            "IMAGE             dev              staging          prod             IN SYNC\n\
             ghcr.io/acme/api  {api} (1 place)  {api} (1 place)  1.4.0 (1 place)  no\n\
             ghcr.io/acme/web  2.2.0 (1 place)  2.2.0 (1 place)  2.1.0 (1 place)  no\n"
        )
    };
    assert_eq!(
        String::from_utf8_lossy(&outputs[1].stdout),
        format!("{u1}:\n{}\n{u2}:\n{}", table("1.6.0"), table("1.7.0"))
    );
}

/// Runs the steps of the `tagbump-promote` task as Tekton would: its params' defaults,
/// then `params` and `images` as a PipelineRun passes them, `$(…)` substituted, the
/// token from the Secret. Returns each step's output and the results directory.
fn run_tekton_promote(
    params: &[(&str, String)],
    images: &[&str],
) -> (Vec<std::process::Output>, tempfile::TempDir) {
    let task = yaml("/tekton/task/tagbump-promote/0.1/tagbump-promote.yaml");
    assert_eq!(
        s(&task["spec"]["params"]
            .as_sequence()
            .expect("params")
            .iter()
            .find(|p| s(&p["name"]) == "tagbump-image")
            .expect("tagbump-image")["default"]),
        support::published::image(env!("CARGO_PKG_VERSION"))
    );
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut arrays: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in task["spec"]["params"].as_sequence().expect("params") {
        match p.get("default") {
            Some(Value::Sequence(items)) => {
                arrays.insert(s(&p["name"]), items.iter().map(s).collect());
            }
            Some(v) => {
                vars.insert(format!("params.{}", s(&p["name"])), s(v));
            }
            None => {}
        }
    }
    for (name, value) in params {
        let declared = task["spec"]["params"].as_sequence().expect("params");
        assert!(
            declared.iter().any(|p| s(&p["name"]) == *name),
            "the task has no param {name}"
        );
        vars.insert(format!("params.{name}"), value.clone());
    }
    if !images.is_empty() {
        arrays.insert(
            "images".into(),
            images.iter().map(|i| i.to_string()).collect(),
        );
    }
    vars.insert("context.taskRun.name".into(), "promote-run-x1".into());
    let results = tempfile::tempdir().expect("/tekton/results");
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("workingDir");
    let mut outputs = Vec::new();
    for step in task["spec"]["steps"].as_sequence().expect("steps") {
        let command: Vec<String> = step["command"]
            .as_sequence()
            .expect("command")
            .iter()
            .map(s)
            .collect();
        assert_eq!(command, ["tagbump"], "no shell");
        let mut args = Vec::new();
        for arg in step["args"].as_sequence().expect("args") {
            let arg = s(arg);
            match arg
                .strip_prefix("$(params.")
                .and_then(|r| r.strip_suffix("[*])"))
            {
                Some(name) => args.extend(arrays[name].iter().cloned()),
                None => args.push(tekton_subst(&arg, &vars)),
            }
        }
        let mut cmd = support::cli::clean_command(
            env!("CARGO_BIN_EXE_tagbump"),
            std::env::var_os("PATH").unwrap_or_default(),
            home.path(),
        );
        cmd.current_dir(work.path()).args(&args);
        let envs = entries(&task["spec"]["stepTemplate"])
            .into_iter()
            .filter(|(k, _)| k == "env")
            .flat_map(|(_, v)| v.as_sequence().cloned().unwrap_or_default())
            .chain(step["env"].as_sequence().cloned().unwrap_or_default());
        for env in envs {
            let name = s(&env["name"]);
            match env.get("value") {
                Some(value) => {
                    cmd.env(&name, tekton_subst(&s(value), &vars));
                }
                None => {
                    let key = s(&env["valueFrom"]["secretKeyRef"]["key"]);
                    assert_eq!(
                        s(&env["valueFrom"]["secretKeyRef"]["name"]),
                        "$(params.token-secret)"
                    );
                    if key == "token" {
                        cmd.env(&name, TOKEN);
                    } else {
                        assert_eq!(
                            env["valueFrom"]["secretKeyRef"]["optional"].as_bool(),
                            Some(true)
                        );
                    }
                }
            }
        }
        cmd.env("TAGBUMP_TEKTON_RESULTS_DIR", results.path());
        let out = cmd.output().expect("run the step");
        ci_example::assert_ok(&out, &s(&step["name"]), &[TOKEN]);
        outputs.push(out);
    }
    (outputs, results)
}

fn git_log_subject(bare: &BareRepo) -> String {
    support::git_server::git(bare.path(), &["log", "-1", "--format=%s", "main"])
        .trim()
        .to_string()
}
