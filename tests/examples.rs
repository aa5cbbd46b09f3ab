//! The CI examples under `examples/` run for real.
//!
//! Each test extracts the part of an example that a CI system would execute — the
//! GitHub step's inputs (run through action.yml's entrypoint like the runner does), the
//! GitLab job's `script:` (with `extends:` and variables resolved), the Jenkinsfile's
//! `sh '''…'''`, the Tekton step's `command`/`args`/`env` with `$(params.…)`
//! substituted — and executes it with the freshly built `tagbump` first on `PATH`,
//! against a real git smart-HTTP server on 127.0.0.1 that requires the token. The only
//! thing a test swaps in an example is where the config repository (and, for pull
//! requests, the forge API) lives.
//!
//! Every run then checks the config repository's `main`: the new tag in the right
//! file, the other app untouched, and the commit's message, author and CI trailers as
//! the example configures them.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_norway::Value;
use support::ci_example::{
    self, action_command, entries, example, expand, image_entrypoint, run_script, s, script,
    serve_as_acme_gitops_config, yaml,
};
use support::forge_server::ForgeServer;
use support::git_server::{self, BareRepo, SmartHttpServer};
use support::published;

const TOKEN: &str = "examples-token-5f3c9a";
const SOURCE_SHA: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const WEB_VALUES: &str = "image:\n  repository: registry.example.com/acme/web\n  tag: \"7.0.0\"\n";

fn api_values(image_repo: &str) -> String {
    format!("replicaCount: 2\nimage:\n  repository: {image_repo}\n  tag: \"1.0.0\" # written by CI\n  pullPolicy: IfNotPresent\n")
}

/// The GitOps config repository, served over smart HTTP as `acme/gitops-config.git`
/// (Basic auth, password = [`TOKEN`]).
struct ConfigRepo {
    bare: BareRepo,
    http: SmartHttpServer,
    image_repo: String,
    home: tempfile::TempDir,
}

impl ConfigRepo {
    fn new(image_repo: &str) -> ConfigRepo {
        let api = api_values(image_repo);
        let bare = BareRepo::new_with(
            &[
                ("apps/api/values.yaml", api.as_str()),
                (
                    "apps/api/values-production.yaml",
                    "image:\n  tag: \"1.0.0\"\n",
                ),
                ("apps/web/values.yaml", WEB_VALUES),
            ],
            "main",
        );
        let http = serve_as_acme_gitops_config(&bare, TOKEN);
        ConfigRepo {
            bare,
            http,
            image_repo: image_repo.to_string(),
            home: tempfile::tempdir().expect("home"),
        }
    }

    fn url(&self) -> String {
        self.http.url("acme/gitops-config.git")
    }

    /// A clean environment for the CI job: tagbump first on PATH, no host git config.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
        ci_example::command(program, cwd, self.home.path())
    }

    /// The api image tag on `main` is `tag`, nothing else in the file moved, and the
    /// other app is untouched.
    fn assert_api_tag(&self, tag: &str) {
        let expected = api_values(&self.image_repo).replace("\"1.0.0\"", &format!("\"{tag}\""));
        assert_eq!(
            self.bare
                .read_file("main", "apps/api/values.yaml")
                .as_deref(),
            Some(expected.as_str()),
            "apps/api/values.yaml on main"
        );
        self.assert_web_untouched();
    }

    fn assert_web_untouched(&self) {
        assert_eq!(
            self.bare
                .read_file("main", "apps/web/values.yaml")
                .as_deref(),
            Some(WEB_VALUES),
            "the other app is untouched"
        );
    }

    /// (author, full message) of the tip of `main`.
    fn last_commit(&self) -> (String, String) {
        let author = self.bare.log("main", "%an <%ae>")[0].clone();
        let message = git_server::git(self.bare.path(), &["log", "-1", "--format=%B", "main"]);
        (author, message.trim_end().to_string())
    }
}

/// The job succeeded and the token is not in its log.
fn assert_ok(out: &Output, what: &str) {
    ci_example::assert_ok(out, what, &[TOKEN]);
}

// ---------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------

/// Runs action.yml like the runner: inputs (given, else default) → `runs.env` →
/// the `action` image's entrypoint script in `workdir`.
fn run_action(
    repo: &ConfigRepo,
    with: &BTreeMap<String, String>,
    workdir: &Path,
    env: &[(&str, String)],
) -> Output {
    let mut cmd = action_command(with, workdir, repo.home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the action")
}

/// `${{ expr }}` → value from `ctx`; unknown expressions fail the test.
fn github_expr(text: &str, ctx: &BTreeMap<&str, &str>) -> String {
    let re = regex::Regex::new(r"\$\{\{\s*([^}]+?)\s*\}\}").expect("regex");
    re.replace_all(text, |c: &regex::Captures| {
        let expr = &c[1];
        ctx.get(expr)
            .unwrap_or_else(|| panic!("no test value for ${{{{ {expr} }}}}"))
            .to_string()
    })
    .into_owned()
}

/// The tagbump steps of the workflow, by their `id:`; each names the published action
/// at the major tag a release of this version moves (`OWNER/tagbump@vMAJOR`).
fn tagbump_steps(workflow: &Value) -> BTreeMap<String, Value> {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let mut steps = BTreeMap::new();
    for (_, job) in entries(&workflow["jobs"]) {
        for step in job["steps"].as_sequence().into_iter().flatten() {
            let uses = step.get("uses").map(s).unwrap_or_default();
            if uses.starts_with(&published::action_ref("")) {
                assert_eq!(uses, published::action_ref(&format!("v{major}")));
                steps.insert(s(&step["id"]), step.clone());
            }
        }
    }
    steps
}

fn github_outputs(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn github_workflow_pushes_staging_and_opens_a_production_pull_request() {
    let repo = ConfigRepo::new("ghcr.io/acme/api");
    let forge = ForgeServer::github(TOKEN);
    let workflow = yaml("github/workflow.yml");
    let steps = tagbump_steps(&workflow);
    assert_eq!(
        steps.keys().cloned().collect::<Vec<_>>(),
        vec!["bump".to_string(), "pr".to_string()],
        "the workflow pushes with the published action, and opens a pull request with it"
    );
    let tag = "sha-1a2b3c4";
    let ctx: BTreeMap<&str, &str> = [
        ("needs.build.outputs.tag", tag),
        ("secrets.CONFIG_REPO_TOKEN", TOKEN),
    ]
    .into_iter()
    .collect();
    let work = tempfile::tempdir().expect("workspace");
    let runner_env = |output: &Path| {
        vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_SERVER_URL", "https://github.com".to_string()),
            ("GITHUB_REPOSITORY", "acme/api".to_string()),
            ("GITHUB_SHA", SOURCE_SHA.to_string()),
            ("GITHUB_RUN_ID", "4242".to_string()),
            ("GITHUB_OUTPUT", output.display().to_string()),
        ]
    };

    // 1. Staging: push to main.
    let step = &steps["bump"];
    let mut with: BTreeMap<String, String> = entries(&step["with"])
        .into_iter()
        .map(|(k, v)| (k, github_expr(&s(v), &ctx)))
        .collect();
    assert_eq!(with["repo"], "https://github.com/acme/gitops-config.git");
    with.insert("repo".into(), repo.url());
    let output = work.path().join("staging.out");
    let out = run_action(&repo, &with, work.path(), &runner_env(&output));
    assert_ok(&out, "the staging step");
    repo.assert_api_tag(tag);
    let (author, message) = repo.last_commit();
    assert_eq!(
        author,
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    assert_eq!(
        message,
        format!(
            "chore(staging): bump ghcr.io/acme/api to {tag}\n\n\
             Source-Commit: acme/api@{SOURCE_SHA}\n\
             Pipeline: https://github.com/acme/api/actions/runs/4242"
        )
    );
    let outputs = github_outputs(&output);
    assert_eq!(outputs["changed"], "true");
    assert_eq!(Some(outputs["commit-sha"].clone()), repo.bare.tip("main"));
    assert_eq!(outputs["branch"], "main");
    assert_eq!(outputs["files"], r#"["apps/api/values.yaml"]"#);

    // 2. Production: a pull request (the forge API is the fake GitHub).
    let step = &steps["pr"];
    let mut with: BTreeMap<String, String> = entries(&step["with"])
        .into_iter()
        .map(|(k, v)| (k, github_expr(&s(v), &ctx)))
        .collect();
    with.insert("repo".into(), repo.url());
    with.insert("forge".into(), "github".into());
    with.insert("api-url".into(), forge.api_base());
    let main_before = repo.bare.tip("main");
    let output = work.path().join("production.out");
    let out = run_action(&repo, &with, work.path(), &runner_env(&output));
    assert_ok(&out, "the production step");
    assert_eq!(repo.bare.tip("main"), main_before, "a PR leaves main alone");
    let outputs = github_outputs(&output);
    let branch = outputs["branch"].clone();
    assert!(branch.starts_with("tagbump/"), "PR branch {branch}");
    assert_eq!(
        repo.bare
            .read_file(&branch, "apps/api/values-production.yaml")
            .as_deref(),
        Some(format!("image:\n  tag: \"{tag}\"\n").as_str())
    );
    assert_eq!(outputs["pr-number"], "1");
    assert!(!outputs["pr-url"].is_empty());
    let created: Vec<_> = forge
        .requests_to("POST", "/pulls")
        .into_iter()
        .filter(|r| r.path.ends_with("/repos/acme/gitops-config/pulls"))
        .collect();
    assert_eq!(created.len(), 1, "one pull request opened");
    assert_eq!(
        created[0].body["title"],
        format!("Deploy api {tag} to production").as_str()
    );
    assert_eq!(created[0].body["head"], branch.as_str());
    assert_eq!(created[0].body["base"], "main");
    let all = forge
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect::<String>();
    for wanted in ["deploy", "production", "alice"] {
        assert!(all.contains(wanted), "{wanted} sent to the forge: {all}");
    }
}

// ---------------------------------------------------------------------------------------
// GitLab CI
// ---------------------------------------------------------------------------------------

/// A GitLab job with `extends:` resolved against the included template.
fn gitlab_job(name: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let pipeline = yaml("gitlab/.gitlab-ci.yml");
    let template = yaml("gitlab/tagbump.gitlab-ci.yml");
    let include = &pipeline["include"][0];
    assert!(
        s(&include["file"]).ends_with("examples/gitlab/tagbump.gitlab-ci.yml"),
        "the pipeline includes the template"
    );
    let job = &pipeline[name];
    assert!(job.is_mapping(), "job {name} exists");
    let mut variables = BTreeMap::new();
    let mut script = Vec::new();
    let mut layers = Vec::new();
    if let Some(parent) = job.get("extends") {
        let parent = &template[s(parent).as_str()];
        assert!(parent.is_mapping(), "extends names a template job");
        layers.push(parent.clone());
    }
    layers.push(job.clone());
    for layer in layers {
        for (k, v) in entries(&layer["variables"]) {
            variables.insert(k, s(v));
        }
        if let Some(lines) = layer.get("script").and_then(Value::as_sequence) {
            script = lines.iter().map(s).collect();
        }
        if layer.get("image").is_some() {
            assert_eq!(
                image_entrypoint(&layer),
                Some(vec![String::new()]),
                "{name}: the image's tagbump ENTRYPOINT must be reset for GitLab's shell"
            );
        }
    }
    (variables, script)
}

/// Runs a GitLab job's script the way the runner does: predefined and project-level
/// CI/CD variables, then the file's global and job variables (expanded), all lines in
/// one `sh -e` session.
fn run_gitlab_job(repo: &ConfigRepo, name: &str, predefined: &BTreeMap<String, String>) -> Output {
    let (job_vars, script) = gitlab_job(name);
    let mut env = predefined.clone();
    let global = yaml("gitlab/.gitlab-ci.yml");
    for (k, v) in entries(&global["variables"]) {
        // Project-level CI/CD variables win over the file's variables.
        if !env.contains_key(&k) {
            let value = expand(&s(v), &env);
            env.insert(k, value);
        }
    }
    for (k, v) in job_vars {
        let value = expand(&v, &env);
        env.insert(k, value);
    }
    let work = tempfile::tempdir().expect("build dir");
    run_script(&script, &env, work.path(), repo.home.path())
}

#[test]
fn gitlab_jobs_bump_staging_through_the_template_and_production_with_a_plain_script() {
    let repo = ConfigRepo::new("registry.gitlab.example.com/acme/api");
    let short = "1a2b3c4d";
    let predefined: BTreeMap<String, String> = [
        ("GITLAB_CI", "true".to_string()),
        (
            "CI_REGISTRY_IMAGE",
            "registry.gitlab.example.com/acme/api".into(),
        ),
        ("CI_COMMIT_SHA", SOURCE_SHA.into()),
        ("CI_COMMIT_SHORT_SHA", short.into()),
        ("CI_PROJECT_PATH", "acme/api".into()),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example.com/acme/api/-/pipelines/77".into(),
        ),
        // Always present in a job; it cannot push, and tagbump prefers TAGBUMP_TOKEN.
        ("CI_JOB_TOKEN", "job-token-that-cannot-push".into()),
        // Project-level CI/CD variables.
        ("TAGBUMP_TOKEN", TOKEN.into()),
        ("CONFIG_REPO_URL", repo.url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let trailers = format!(
        "Source-Commit: acme/api@{SOURCE_SHA}\nPipeline: https://gitlab.example.com/acme/api/-/pipelines/77"
    );

    let out = run_gitlab_job(&repo, "deploy-staging", &predefined);
    assert_ok(&out, "deploy-staging");
    repo.assert_api_tag(short);
    let (author, message) = repo.last_commit();
    assert_eq!(author, "GitLab CI <gitlab-ci@example.com>");
    assert_eq!(
        message,
        format!(
            "chore(staging): bump registry.gitlab.example.com/acme/api to {short}\n\n{trailers}"
        )
    );

    let out = run_gitlab_job(&repo, "deploy-production", &predefined);
    assert_ok(&out, "deploy-production");
    assert_eq!(
        repo.bare
            .read_file("main", "apps/api/values-production.yaml")
            .as_deref(),
        Some(format!("image:\n  tag: \"{short}\"\n").as_str())
    );
    repo.assert_api_tag(short);
    let (author, message) = repo.last_commit();
    assert_eq!(author, "GitLab CI <gitlab-ci@example.com>");
    assert!(
        message.starts_with("chore(production): set ") && message.contains(short),
        "production commit message: {message}"
    );
    assert!(message.ends_with(&trailers), "trailers in {message}");
    assert_eq!(
        repo.bare.commit_count("main"),
        3,
        "seed + staging + production"
    );
}

/// The job that the catalog component `templates/tagbump.yml` adds, for `inputs`: its
/// `spec:inputs` header checked (required inputs given, no unknown input, `options`
/// respected, booleans as booleans) and `$[[ inputs.NAME ]]` interpolated the way GitLab
/// does (docs.gitlab.com/ci/inputs/: "Define inputs", "Set input values").
pub(crate) fn component_job(inputs: &[(&str, Value)]) -> (String, Value) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/tagbump.yml"),
    )
    .expect("templates/tagbump.yml");
    let (header, body) = text
        .split_once("\n---\n")
        .expect("a spec header, then `---`, then the jobs");
    let header: Value = serde_norway::from_str(header).expect("spec header");
    let spec = &header["spec"]["inputs"];
    let given: BTreeMap<&str, &Value> = inputs.iter().map(|(k, v)| (*k, v)).collect();
    for name in given.keys() {
        assert!(spec.get(*name).is_some(), "input {name} is not declared");
    }
    let mut values = BTreeMap::new();
    for (name, decl) in entries(spec) {
        let value = match (given.get(name.as_str()), decl.get("default")) {
            (Some(v), _) => (*v).clone(),
            (None, Some(default)) => default.clone(),
            (None, None) => panic!("required input {name} not given"),
        };
        // Only string inputs: a boolean or number used as a whole variable value is
        // inserted as that type, which GitLab versions before mid-2024 reject ("variable
        // definition must be either a string or a hash").
        match decl.get("type").map(s).as_deref() {
            None | Some("string") => assert!(value.is_string(), "{name} must be a string"),
            Some(other) => panic!("{name}: input type {other}; use a string with options"),
        }
        if let Some(options) = decl.get("options").and_then(Value::as_sequence) {
            assert!(
                options.contains(&value),
                "{name}: {value:?} not in {options:?}"
            );
        }
        values.insert(name, s(&value));
    }
    // Interpolated in each string of the parsed configuration (keys included), so a value
    // with `: ` or quotes stays one string.
    let jobs: Value = serde_norway::from_str(body).expect("the component's jobs");
    // A variable whose value may hold `$` (the commit message template) is not expanded.
    for (_, job) in entries(&jobs) {
        for (var, value) in entries(&job["variables"]) {
            if s(&value["value"]).contains("inputs.message") || var.ends_with("_MESSAGE") {
                assert_eq!(
                    value["expand"].as_bool(),
                    Some(false),
                    "{var}: `expand: false`, or GitLab expands `$` in the message"
                );
            }
        }
    }
    let jobs = interpolate(jobs, &values);
    let (name, job) = entries(&jobs).into_iter().next().expect("one job");
    (name, job.clone())
}

fn interpolate(value: Value, inputs: &BTreeMap<String, String>) -> Value {
    let re = regex::Regex::new(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]").expect("regex");
    let text = |t: &str| {
        re.replace_all(t, |c: &regex::Captures| {
            inputs
                .get(&c[1])
                .unwrap_or_else(|| panic!("undeclared input {} used", &c[1]))
                .clone()
        })
        .into_owned()
    };
    match value {
        Value::String(t) => Value::String(text(&t)),
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(|v| interpolate(v, inputs)).collect())
        }
        Value::Mapping(map) => Value::Mapping(
            map.into_iter()
                .map(|(k, v)| (interpolate(k, inputs), interpolate(v, inputs)))
                .collect(),
        ),
        other => other,
    }
}

fn run_component_job(
    repo: &ConfigRepo,
    job: &Value,
    predefined: &BTreeMap<String, String>,
) -> Output {
    assert_eq!(
        image_entrypoint(job),
        Some(vec![String::new()]),
        "the image's tagbump ENTRYPOINT must be reset for GitLab's shell"
    );
    run_component_job_in(
        repo,
        job,
        &job_env(job, predefined),
        tempfile::tempdir().expect("build dir").path(),
    )
}

/// The job's variables expanded over the `predefined` ones, as GitLab does:
/// `NAME: value`, or `NAME: { value:, expand: false }` (kept as written).
fn job_env(job: &Value, predefined: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env = predefined.clone();
    for (k, v) in entries(&job["variables"]) {
        let value = match v.get("value") {
            Some(raw) if v["expand"].as_bool() == Some(false) => s(raw),
            Some(raw) => expand(&s(raw), &env),
            None => expand(&s(v), &env),
        };
        env.insert(k, value);
    }
    env
}

/// The component's job script with the job's variables `env`, in the build directory
/// `work` (where a glob would match).
fn run_component_job_in(
    repo: &ConfigRepo,
    job: &Value,
    env: &BTreeMap<String, String>,
    work: &Path,
) -> Output {
    let out = run_script(&script(job), env, work, repo.home.path());
    if let Some(dotenv) = env.get("TAGBUMP_DOTENV") {
        let report = std::fs::read_to_string(work.join(dotenv)).expect("dotenv report");
        assert!(report.starts_with("TAGBUMP_CHANGED="), "{report}");
    }
    out
}

#[test]
fn gitlab_catalog_component_adds_a_job_that_bumps_with_its_inputs() {
    let repo = ConfigRepo::new("registry.gitlab.example.com/acme/api");
    let predefined: BTreeMap<String, String> = [
        ("GITLAB_CI", "true"),
        ("CI_REGISTRY_IMAGE", "registry.gitlab.example.com/acme/api"),
        ("CI_COMMIT_SHA", SOURCE_SHA),
        ("CI_COMMIT_SHORT_SHA", "5e6f7a8b"),
        ("CI_PROJECT_PATH", "acme/api"),
        ("TAGBUMP_TOKEN", TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    // Only the required inputs: every optional flag is left out, tagbump's defaults apply.
    let (name, job) = component_job(&[
        (
            "image",
            Value::from("$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"),
        ),
        ("repo", Value::from(repo.url())),
    ]);
    assert_eq!(name, "tagbump");
    assert_eq!(s(&job["stage"]), "deploy");
    assert_eq!(
        s(&job["image"]["name"]),
        published::image(env!("CARGO_PKG_VERSION")),
        "the component runs the image of its own version"
    );
    assert_eq!(
        s(&job["artifacts"]["reports"]["dotenv"]),
        s(&job["variables"]["TAGBUMP_DOTENV"]),
        "the dotenv report tagbump writes is the one the job declares"
    );
    let out = run_component_job(&repo, &job, &predefined);
    assert_ok(&out, "component job, defaults");
    repo.assert_api_tag("5e6f7a8b");

    // Every input: a message with `: ` and quotes reaches tagbump verbatim.
    let (name, job) = component_job(&[
        ("job-name", Value::from("bump-api")),
        ("stage", Value::from("release")),
        ("image", Value::from("$CI_REGISTRY_IMAGE:v2.0.0")),
        ("repo", Value::from(repo.url())),
        ("paths", Value::from("apps/api")),
        ("branch", Value::from("main")),
        (
            "message",
            Value::from("chore(deploy): \"{image}\" to {tag}"),
        ),
        ("merge-request", Value::from("false")),
        ("via", Value::from("git")),
        ("extra-args", Value::from("--no-downgrade")),
    ]);
    assert_eq!(
        (name.as_str(), s(&job["stage"]).as_str()),
        ("bump-api", "release")
    );
    let out = run_component_job(&repo, &job, &predefined);
    assert_ok(&out, "component job, all inputs");
    repo.assert_api_tag("v2.0.0");
    let (_, message) = repo.last_commit();
    assert!(
        message.starts_with("chore(deploy): \"registry.gitlab.example.com/acme/api\" to v2.0.0"),
        "{message}"
    );
}

/// Several `repo` lines: the change lands in each repository on its own; the dotenv
/// report counts them, and one repository that fails makes the job fail with exit code
/// 5 while the others still land.
#[test]
fn gitlab_component_with_several_repo_lines_lands_in_each() {
    let (one, two) = (
        ConfigRepo::new("registry.gitlab.example.com/acme/api"),
        ConfigRepo::new("registry.gitlab.example.com/acme/api"),
    );
    let predefined: BTreeMap<String, String> = [
        ("GITLAB_CI", "true"),
        ("CI_REGISTRY_IMAGE", "registry.gitlab.example.com/acme/api"),
        ("TAGBUMP_TOKEN", TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let run = |repos: String| {
        let (_, job) = component_job(&[
            ("image", Value::from("$CI_REGISTRY_IMAGE:v4.0.0")),
            ("repo", Value::from(repos)),
        ]);
        let work = tempfile::tempdir().expect("build dir");
        let out = run_component_job_in(&one, &job, &job_env(&job, &predefined), work.path());
        let dotenv = std::fs::read_to_string(work.path().join("tagbump.env")).expect("dotenv");
        (out, dotenv)
    };
    let (out, dotenv) = run(format!("{}\n{}\n", one.url(), two.url()));
    assert_ok(&out, "component job, two repositories");
    one.assert_api_tag("v4.0.0");
    two.assert_api_tag("v4.0.0");
    assert_eq!(
        dotenv,
        "TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=true\nTAGBUMP_TARGETS=2\n\
         TAGBUMP_TARGETS_CHANGED=2\nTAGBUMP_TARGETS_FAILED=0\n"
    );

    let gone = tempfile::tempdir().expect("tempdir");
    let three = ConfigRepo::new("registry.gitlab.example.com/acme/api");
    let missing = format!("file://{}", gone.path().join("gone.git").display());
    let (out, dotenv) = run(format!("{}\n{missing}\n", three.url()));
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    three.assert_api_tag("v4.0.0");
    assert!(dotenv.contains("TAGBUMP_TARGETS_FAILED=1\n"), "{dotenv}");
}

/// A directory with a `tagbump` that records its arguments (NUL-separated) in `argv`.
fn argv_recorder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("recorder");
    let bin = dir.path().join("tagbump");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\n: > '{argv}'\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> '{argv}'; done\n",
            argv = dir.path().join("argv").display()
        ),
    )
    .expect("write recorder");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn recorded_argv(dir: &Path) -> Vec<String> {
    std::fs::read(dir.join("argv"))
        .expect("tagbump was run")
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn gitlab_component_lists_are_one_item_per_line_never_globbed_and_the_message_keeps_its_dollar() {
    let repo = ConfigRepo::new("registry.gitlab.example.com/acme/api");
    let (_, job) = component_job(&[
        ("image", Value::from("$CI_REGISTRY_IMAGE:v3")),
        ("repo", Value::from(repo.url())),
        ("paths", Value::from("apps/*\napps/my api\n")),
        (
            "extra-args",
            Value::from("--label=deploy now\n--no-downgrade"),
        ),
        ("message", Value::from("chore: $HOME {tag}")),
        (
            "verify-key",
            Value::from("keys/cosign.pub\nkeys/release *.pub\n"),
        ),
        // Both reach tagbump; --no-pr wins (tests/cli_promote_remote.rs).
        ("merge-request", Value::from("true")),
        ("no-merge-request", Value::from("true")),
    ]);
    let recorder = argv_recorder();
    let predefined: BTreeMap<String, String> = [
        ("CI_REGISTRY_IMAGE", "registry.gitlab.example.com/acme/api"),
        ("HOME", "/home/should-not-appear"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut env = job_env(&job, &predefined);
    let path = format!(
        "{}:{}",
        recorder.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.insert("PATH".into(), path);
    // The build directory has something `apps/*` would match if the shell globbed.
    let work = tempfile::tempdir().expect("build dir");
    std::fs::create_dir_all(work.path().join("apps/x")).expect("mkdir");
    let out = run_script(&script(&job), &env, work.path(), repo.home.path());
    assert_ok(&out, "component job");
    assert_eq!(
        recorded_argv(recorder.path()),
        [
            "image".to_string(),
            format!("--repo={}", repo.url()),
            "--via=auto".into(),
            "--message=chore: $HOME {tag}".into(),
            "--pr".into(),
            "--no-pr".into(),
            "--verify-key=keys/cosign.pub".into(),
            "--verify-key=keys/release *.pub".into(),
            "--label=deploy now".into(),
            "--no-downgrade".into(),
            "--".into(),
            "registry.gitlab.example.com/acme/api:v3".into(),
            "apps/*".into(),
            "apps/my api".into(),
        ]
    );
}

#[test]
fn gitlab_mirror_publishes_the_component_from_the_semver_tag_the_release_pushes() {
    // docs.gitlab.com, "CI/CD components" › "Publish a new release": a job with the
    // `release:` keyword, in a tag pipeline, for a tag in semantic versioning; the
    // project has a root README and the components in templates/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("README.md").is_file() && root.join("templates/tagbump.yml").is_file());
    let pipeline = yaml("/.gitlab-ci.yml");
    let rule = s(&pipeline["workflow"]["rules"][0]["if"]);
    let pattern = rule
        .strip_prefix("$CI_COMMIT_TAG =~ /")
        .and_then(|r| r.strip_suffix('/'))
        .unwrap_or_else(|| panic!("the pipeline runs for tags only: {rule}"));
    let tag_rule = regex::Regex::new(pattern).expect("GitLab's regex is RE2, as Rust's");
    let version = env!("CARGO_PKG_VERSION");
    assert!(tag_rule.is_match(version), "{version} is published");
    assert!(!tag_rule.is_match(&format!("v{version}")), "v-tags are not");
    assert!(!tag_rule.is_match("main"));
    let releases: Vec<(String, &Value)> = entries(&pipeline)
        .into_iter()
        .filter(|(_, job)| job.get("release").is_some())
        .collect();
    assert_eq!(releases.len(), 1, "one release job");
    let (name, job) = &releases[0];
    assert_eq!(s(&job["release"]["tag_name"]), "$CI_COMMIT_TAG", "{name}");
    let stages: Vec<String> = pipeline["stages"]
        .as_sequence()
        .expect("stages")
        .iter()
        .map(s)
        .collect();
    assert_eq!(
        stages.last().map(String::as_str),
        Some(s(&job["stage"]).as_str()),
        "the release comes after the check of the component's image"
    );
    // The GitHub release pushes exactly that tag: the version without `v`.
    let release = example("/.github/workflows/release.yml");
    assert!(
        release.contains("\"$pinned:refs/tags/$VERSION\""),
        "release.yml pushes the tag {version}"
    );
    // Users include the component at that version.
    let docs = example("/docs/ci.md") + &example("/templates/tagbump.yml");
    assert!(docs.contains(&format!("/tagbump/tagbump/tagbump@{version}")));
}

// ---------------------------------------------------------------------------------------
// Jenkins
// ---------------------------------------------------------------------------------------

#[test]
fn jenkins_stage_runs_tagbump_in_its_image_with_the_token_from_credentials() {
    let jenkinsfile = example("jenkins/Jenkinsfile");
    let stage = jenkinsfile
        .split("stage('Update config repo')")
        .nth(1)
        .expect("an 'Update config repo' stage");
    assert!(
        stage.contains(".inside('--entrypoint=')"),
        "the tagbump image runs via docker.image(…).inside with its ENTRYPOINT reset"
    );
    assert!(
        stage.contains("string(credentialsId: 'config-repo-token', variable: 'TAGBUMP_SECRET')"),
        "the token comes from withCredentials"
    );

    // `environment { NAME = '…' }`
    let env_re = regex::Regex::new(r"(?m)^\s*([A-Z_]+)\s*=\s*'([^']*)'\s*$").expect("regex");
    let block = jenkinsfile
        .split("environment {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("environment block");
    let mut env: BTreeMap<String, String> = env_re
        .captures_iter(block)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert_eq!(env["IMAGE"], "harbor.example.com/acme/api");

    let repo = ConfigRepo::new(&env["IMAGE"]);
    env.insert("CONFIG_REPO".into(), repo.url());
    let short = "1a2b3c4";
    for (k, v) in [
        ("IMAGE_TAG", short.to_string()),
        ("BUILD_NUMBER", "42".to_string()),
        ("JENKINS_URL", "https://jenkins.example.com/".to_string()),
        (
            "BUILD_URL",
            "https://jenkins.example.com/job/api/42/".to_string(),
        ),
        ("GIT_COMMIT", SOURCE_SHA.to_string()),
        (
            "GIT_URL",
            "https://git.example.com/acme/api.git".to_string(),
        ),
    ] {
        env.insert(k.into(), v);
    }
    let out = run_jenkins_token_steps(&repo, stage, &env);
    assert_ok(&out, "the Jenkins sh step");
    repo.assert_api_tag(short);
    let (author, message) = repo.last_commit();
    assert_eq!(author, "Jenkins <jenkins@example.com>");
    assert_eq!(
        message,
        format!(
            "chore(deploy): bump harbor.example.com/acme/api to {short} (build 42)\n\n\
             Source-Commit: https://git.example.com/acme/api.git@{SOURCE_SHA}\n\
             Pipeline: https://jenkins.example.com/job/api/42/"
        )
    );
}

/// The single-quoted `sh '''…'''` steps of Groovy `text`, in order (no Groovy
/// interpolation: the shell expands the variables).
fn sh_blocks(text: &str) -> Vec<String> {
    text.split("sh '''")
        .skip(1)
        .map(|rest| {
            rest.split("'''")
                .next()
                .expect("a closed sh '''…''' step")
                // Groovy: a backslash before the end of a line continues the line.
                .replace("\\\n", "")
        })
        .collect()
}

/// Runs `sh -ec script` like a Jenkins `sh` step (with `env`, in `cwd`) under strace:
/// the output, and every program started (its execve line, with all arguments).
fn traced_sh(
    repo: &ConfigRepo,
    script: &str,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> (Output, String) {
    let log = cwd.join("execve.log");
    let out = repo
        .command("strace", cwd)
        .args(["-f", "-qq", "-e", "trace=execve", "-s", "65536", "-o"])
        .arg(&log)
        .args(["sh", "-ec", script])
        .envs(env)
        .output()
        .unwrap_or_else(|e| {
            panic!("strace is needed to see every child's arguments (.ci/run installs it): {e}")
        });
    let trace = std::fs::read_to_string(&log).expect("strace log");
    let execs: String = trace
        .lines()
        .filter(|l| l.contains("execve("))
        .collect::<Vec<_>>()
        .join("\n");
    (out, execs)
}

/// The Jenkins token steps of `groovy` (a stage, or the library): the first `sh` step
/// writes the token on the agent, the second runs tagbump in the container. Checks what
/// the Docker Pipeline plugin would put on command lines (every variable of a step in
/// `.inside` becomes `docker exec --env NAME=VALUE`: the token must not be one), and
/// that no process either step starts has the token in its arguments. `env`: the
/// container step's variables, without the token.
fn run_jenkins_token_steps(
    repo: &ConfigRepo,
    groovy: &str,
    env: &BTreeMap<String, String>,
) -> Output {
    let credentials = groovy.find("withCredentials(").expect("withCredentials");
    let inside = groovy.find(".inside(").expect(".inside");
    assert!(
        credentials < inside && !groovy[inside..].contains("withCredentials("),
        "withCredentials must not wrap a step inside .inside: docker exec --env would \
         put the token on the agent's process list"
    );
    let steps = sh_blocks(groovy);
    assert_eq!(
        steps.len(),
        2,
        "one step writes the token, one runs tagbump"
    );
    let workspace = tempfile::tempdir().expect("workspace");
    let tmp = workspace.path().join("ws@tmp");
    std::fs::create_dir_all(&tmp).expect("@tmp");
    let token_file = tmp.join("tagbump-token");
    let token_env: BTreeMap<String, String> = [
        ("TAGBUMP_SECRET".to_string(), TOKEN.to_string()),
        (
            "TAGBUMP_TOKEN_FILE".to_string(),
            token_file.display().to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let (out, execs) = traced_sh(repo, &steps[0], &token_env, workspace.path());
    assert_ok(&out, "the step that writes the token");
    assert!(
        !execs.contains(TOKEN),
        "a process had the token in its arguments:\n{execs}"
    );
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&token_file).expect("token file written");
    assert_eq!(
        meta.permissions().mode() & 0o077,
        0,
        "only the agent's user reads it"
    );
    assert_eq!(std::fs::read_to_string(&token_file).expect("token"), TOKEN);

    let mut container_env = env.clone();
    container_env.insert(
        "TAGBUMP_TOKEN_FILE".into(),
        token_file.display().to_string(),
    );
    for (name, value) in &container_env {
        assert!(
            !value.contains(TOKEN),
            "{name} would be a `docker exec --env` argument holding the token"
        );
    }
    let (out, execs) = traced_sh(repo, &steps[1], &container_env, workspace.path());
    assert!(
        execs
            .lines()
            .any(|l| l.contains("/tagbump\", [\"tagbump\"")),
        "strace saw tagbump start:\n{execs}"
    );
    assert!(
        !execs.contains(TOKEN),
        "a process had the token in its arguments:\n{execs}"
    );
    assert!(!token_file.exists(), "the token file is removed once read");
    out
}

// ---------------------------------------------------------------------------------------
// Tekton
// ---------------------------------------------------------------------------------------

/// Replaces `$(params.x)`, `$(context.…)` and `$(tasks.…)` references.
fn tekton_subst(text: &str, vars: &BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\(([^()]+)\)").expect("regex");
    re.replace_all(text, |c: &regex::Captures| {
        vars.get(&c[1])
            .cloned()
            .unwrap_or_else(|| panic!("no value for $({})", &c[1]))
    })
    .into_owned()
}

#[derive(Clone, Debug)]
enum Param {
    Str(String),
    Array(Vec<String>),
}

/// The arguments of the `tagbump(...)` call in a Jenkinsfile, evaluated: `'literal'`,
/// `env.NAME`, and `"…${env.NAME}…${env.NAME.take(N)}…"` (the Groovy the example uses).
fn jenkins_call_args(
    jenkinsfile: &str,
    env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let call = jenkinsfile
        .split("tagbump(")
        .nth(1)
        .and_then(|rest| rest.split("\n        )").next())
        .expect("a tagbump(...) call");
    let arg =
        regex::Regex::new(r#"^\s*(\w+): (?:'([^']*)'|"([^"]*)"|env\.(\w+)),?\s*$"#).expect("regex");
    let interp = regex::Regex::new(r"\$\{env\.(\w+)(?:\.take\((\d+)\))?\}").expect("regex");
    let mut args = BTreeMap::new();
    for line in call.lines().filter(|l| !l.trim().is_empty()) {
        let c = arg
            .captures(line)
            .unwrap_or_else(|| panic!("cannot read the argument {line:?}"));
        let value = if let Some(lit) = c.get(2) {
            lit.as_str().to_string()
        } else if let Some(gstring) = c.get(3) {
            interp
                .replace_all(gstring.as_str(), |i: &regex::Captures| {
                    let v = env[&i[1]].clone();
                    match i.get(2) {
                        Some(n) => v.chars().take(n.as_str().parse().expect("n")).collect(),
                        None => v,
                    }
                })
                .into_owned()
        } else {
            env[&c[4]].clone()
        };
        args.insert(c[1].to_string(), value);
    }
    args
}

#[test]
fn jenkins_shared_library_step_bumps_with_its_arguments() {
    let library = example("/jenkins/vars/tagbump.groovy");
    let jenkinsfile = example("jenkins/Jenkinsfile.library");
    assert!(
        jenkinsfile.contains("@Library('tagbump@v"),
        "the pipeline loads the library"
    );
    let repo = ConfigRepo::new("harbor.example.com/acme/api");
    let env: BTreeMap<String, String> = [
        ("IMAGE", "harbor.example.com/acme/api".to_string()),
        ("CONFIG_REPO", repo.url()),
        ("GIT_COMMIT", SOURCE_SHA.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let args = jenkins_call_args(&jenkinsfile, &env);
    assert_eq!(args["image"], "harbor.example.com/acme/api:1a2b3c4");

    // `inputs`: each TAGBUMP_INPUT_* is one argument, or its default.
    let entry =
        regex::Regex::new(r#"^\s*"(TAGBUMP_INPUT_\w+)=\$\{args\.(\w+)(?: \?: '([^']*)')?\}",$"#)
            .expect("regex");
    let block = library
        .split("def inputs = [")
        .nth(1)
        .and_then(|rest| rest.split("\n  ]").next())
        .expect("the inputs list");
    let mut step_env: BTreeMap<String, String> = BTreeMap::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let c = entry
            .captures(line)
            .unwrap_or_else(|| panic!("an input is one argument or its default: {line:?}"));
        let value = args
            .get(&c[2])
            .cloned()
            .or_else(|| c.get(3).map(|d| d.as_str().to_string()))
            .unwrap_or_else(|| panic!("required argument {} missing", &c[2]));
        step_env.insert(c[1].to_string(), value);
    }
    for used in args.keys() {
        assert!(
            block.contains(&format!("args.{used}"))
                || ["credentialsId", "tagbumpImage"].contains(&used.as_str()),
            "the step ignores the argument {used}"
        );
    }
    assert!(
        library.contains(&format!(
            "string(credentialsId: args.credentialsId ?: '{}', variable: 'TAGBUMP_SECRET')",
            args["credentialsId"]
        )),
        "the token comes from withCredentials"
    );
    for script in sh_blocks(&library) {
        assert!(
            !script.contains("${args"),
            "no Groovy interpolation in the shell script"
        );
    }
    let out = run_jenkins_token_steps(&repo, &library, &step_env);
    assert_ok(&out, "the library step");
    repo.assert_api_tag("1a2b3c4");
    let (_, message) = repo.last_commit();
    assert_eq!(
        message,
        "chore(deploy): \"harbor.example.com/acme/api\" to 1a2b3c4"
    );
}

const TEKTON_TASK: &str = "/tekton/task/tagbump/0.1/tagbump.yaml";
const TEKTON_PIPELINE: &str = "/tekton/task/tagbump/0.1/samples/pipeline.yaml";

#[test]
fn tekton_task_wired_after_the_build_pushes_the_new_tag() {
    let task = yaml(TEKTON_TASK);
    let pipeline = yaml(TEKTON_PIPELINE);
    let repo = ConfigRepo::new("harbor.example.com/acme/api");
    let short = "1a2b3c4";

    // The PipelineRun's parameters, and what the tasks before ours produced.
    let mut pipeline_vars: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in [
        (
            "git_url",
            "https://git.example.com/acme/api.git".to_string(),
        ),
        ("image", "harbor.example.com/acme/api".to_string()),
        ("image_tag", short.to_string()),
        ("git_infra_url", repo.url()),
    ] {
        pipeline_vars.insert(format!("params.{name}"), value);
    }
    for p in pipeline["spec"]["params"]
        .as_sequence()
        .expect("pipeline params")
    {
        let key = format!("params.{}", s(&p["name"]));
        if let Some(default) = p.get("default") {
            pipeline_vars.entry(key).or_insert_with(|| s(default));
        }
    }
    pipeline_vars.insert("tasks.clone.results.commit".into(), SOURCE_SHA.into());
    // Substituted by Tekton in a Pipeline (not in a Task: see the test below).
    pipeline_vars.insert(
        "context.pipelineRun.name".into(),
        "build-and-bump-run-x7k2p".into(),
    );

    // The pipeline task that references our Task.
    let task_name = s(&task["metadata"]["name"]);
    let pipeline_task = pipeline["spec"]["tasks"]
        .as_sequence()
        .expect("tasks")
        .iter()
        .find(|t| s(&t["taskRef"]["name"]) == task_name)
        .expect("the pipeline runs the tagbump task")
        .clone();
    assert_eq!(
        pipeline_task["runAfter"]
            .as_sequence()
            .map(|r| r.iter().map(s).collect::<Vec<_>>()),
        Some(vec!["docker".to_string()]),
        "tagbump runs after the image was pushed"
    );

    // Task params: defaults, then the pipeline's values.
    let mut params: BTreeMap<String, Param> = BTreeMap::new();
    for p in task["spec"]["params"].as_sequence().expect("task params") {
        let name = s(&p["name"]);
        match p.get("default") {
            Some(Value::Sequence(items)) => {
                params.insert(name, Param::Array(items.iter().map(s).collect()));
            }
            Some(v) => {
                params.insert(name, Param::Str(s(v)));
            }
            None => {}
        }
    }
    for p in pipeline_task["params"].as_sequence().expect("params") {
        let name = s(&p["name"]);
        let value = match &p["value"] {
            Value::Sequence(items) => Param::Array(
                items
                    .iter()
                    .map(|i| tekton_subst(&s(i), &pipeline_vars))
                    .collect(),
            ),
            v => Param::Str(tekton_subst(&s(v), &pipeline_vars)),
        };
        params.insert(name, value);
    }
    for required in ["repo", "branch", "image", "tag", "paths"] {
        assert!(params.contains_key(required), "param {required} is set");
    }
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &params {
        if let Param::Str(v) = value {
            vars.insert(format!("params.{name}"), v.clone());
        }
    }
    vars.insert(
        "context.taskRun.name".into(),
        "build-and-bump-run-x7k2p-manifests".into(),
    );

    let steps = task["spec"]["steps"].as_sequence().expect("steps");
    assert_eq!(steps.len(), 1, "one step");
    let step = &steps[0];
    assert_eq!(s(&step["image"]), "$(params.tagbump-image)");
    let command: Vec<String> = step["command"]
        .as_sequence()
        .expect("command (no shell needed)")
        .iter()
        .map(s)
        .collect();
    assert_eq!(command, vec!["tagbump".to_string()]);
    let mut args = Vec::new();
    for arg in step["args"].as_sequence().expect("args") {
        let arg = s(arg);
        if let Some(name) = arg
            .strip_prefix("$(params.")
            .and_then(|r| r.strip_suffix("[*])"))
        {
            match &params[name] {
                Param::Array(items) => args.extend(items.iter().cloned()),
                Param::Str(_) => panic!("{name} is used as an array"),
            }
        } else {
            args.push(tekton_subst(&arg, &vars));
        }
    }
    assert!(
        args.contains(&"apps/api".to_string()),
        "paths expanded: {args:?}"
    );

    // The Secret `git-auth` (key `token`; no `username`).
    let secret: BTreeMap<(&str, &str), &str> =
        [(("git-auth", "token"), TOKEN)].into_iter().collect();
    let work = tempfile::tempdir().expect("workingDir");
    let mut cmd = repo.command(&command[0], work.path());
    cmd.args(&args);
    for env in step["env"].as_sequence().expect("env") {
        let name = s(&env["name"]);
        if let Some(value) = env.get("value") {
            cmd.env(&name, tekton_subst(&s(value), &vars));
        } else {
            let key_ref = &env["valueFrom"]["secretKeyRef"];
            let secret_name = tekton_subst(&s(&key_ref["name"]), &vars);
            let key = s(&key_ref["key"]);
            match secret.get(&(secret_name.as_str(), key.as_str())) {
                Some(v) => {
                    cmd.env(&name, v);
                }
                None => assert_eq!(
                    key_ref["optional"].as_bool(),
                    Some(true),
                    "{name}: missing secret keys must be optional"
                ),
            }
        }
    }
    // The verify-key param reaches tagbump as TAGBUMP_VERIFY_KEY (one file per line),
    // empty by default: no signature lookups.
    let verify_env = step["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .find(|e| s(&e["name"]) == "TAGBUMP_VERIFY_KEY")
        .map(|e| s(&e["value"]));
    assert_eq!(verify_env.as_deref(), Some("$(params.verify-key)"));
    assert!(matches!(&params["verify-key"], Param::Str(v) if v.is_empty()));
    // Likewise the keyless params, each empty by default (an empty variable is unset).
    for (param, var) in [
        ("verify-identity", "TAGBUMP_VERIFY_IDENTITY"),
        ("verify-issuer", "TAGBUMP_VERIFY_ISSUER"),
        ("trusted-root", "TAGBUMP_TRUSTED_ROOT"),
        ("verify-attestation", "TAGBUMP_VERIFY_ATTESTATION"),
        ("provenance-source", "TAGBUMP_PROVENANCE_SOURCE"),
        ("provenance-ref", "TAGBUMP_PROVENANCE_REF"),
    ] {
        let value = step["env"]
            .as_sequence()
            .expect("env")
            .iter()
            .find(|e| s(&e["name"]) == var)
            .map(|e| s(&e["value"]));
        assert_eq!(value, Some(format!("$(params.{param})")), "{var}");
        assert!(
            matches!(&params[param], Param::Str(v) if v.is_empty()),
            "{param}"
        );
    }
    // Tekton mounts /tekton/results in every step; here a directory stands in for it.
    let results = tempfile::tempdir().expect("/tekton/results");
    cmd.env("TAGBUMP_TEKTON_RESULTS_DIR", results.path());
    let out = cmd.output().expect("run the step");
    assert_ok(&out, "the Tekton step");
    repo.assert_api_tag(short);
    let declared: Vec<String> = task["spec"]["results"]
        .as_sequence()
        .expect("the task declares results")
        .iter()
        .map(|r| s(&r["name"]))
        .collect();
    let read = |name: &str| {
        std::fs::read_to_string(results.path().join(name))
            .unwrap_or_else(|e| panic!("result {name} written: {e}"))
    };
    for name in &declared {
        read(name);
    }
    assert_eq!(read("changed"), "true");
    assert_eq!(read("commit-sha"), repo.bare.tip("main").expect("main"));
    let (author, message) = repo.last_commit();
    assert_eq!(author, "Tekton Pipeline <pipeline@k8s.local>");
    assert_eq!(
        message,
        format!(
            "chore(deploy): bump harbor.example.com/acme/api to {short}\n\n\
             Source-Commit: {SOURCE_SHA}\n\
             Pipeline: build-and-bump-run-x7k2p"
        )
    );
}

/// Every `$(context.…)` reference in `text`.
fn context_refs(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\$\((context\.[\w.-]+)\)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[test]
fn tekton_task_uses_only_the_context_variables_tekton_substitutes_in_a_task() {
    // Tekton's "Variable substitutions supported by Tasks and Pipelines"
    // (tekton.dev/docs/pipelines/variables): a Task gets context.taskRun.{name,namespace,
    // uid} and context.task.{name,retry-count}; context.pipelineRun.* and
    // context.pipeline.* are substituted in Pipelines only, and stay literal text in a
    // Task, which ended up in the commit's Pipeline trailer.
    const IN_A_TASK: [&str; 5] = [
        "context.taskRun.name",
        "context.taskRun.namespace",
        "context.taskRun.uid",
        "context.task.name",
        "context.task.retry-count",
    ];
    const IN_A_PIPELINE: [&str; 5] = [
        "context.pipelineRun.name",
        "context.pipelineRun.namespace",
        "context.pipelineRun.uid",
        "context.pipeline.name",
        "context.pipelineTask.retries",
    ];
    let pipeline = example(TEKTON_PIPELINE);
    // What Tekton substitutes into: the steps (descriptions may quote a Pipeline's
    // reference).
    let task_yaml = yaml(TEKTON_TASK);
    let steps = serde_norway::to_string(&task_yaml["spec"]["steps"]).expect("steps");
    for used in context_refs(&steps) {
        assert!(
            IN_A_TASK.contains(&used.as_str()),
            "{TEKTON_TASK}: $({used}) is not substituted in a Task"
        );
    }
    for used in context_refs(&pipeline) {
        assert!(
            IN_A_PIPELINE.contains(&used.as_str()),
            "{TEKTON_PIPELINE}: $({used}) is not substituted in a Pipeline"
        );
    }
    assert!(
        pipeline.contains("value: $(context.pipelineRun.name)"),
        "the sample Pipeline hands its run's name to the Task"
    );
}

// ---------------------------------------------------------------------------------------
// Static checks of the examples' shape
// ---------------------------------------------------------------------------------------

#[test]
fn examples_never_hard_code_a_token() {
    let token_like =
        regex::Regex::new(r"(ghp_|glpat-|github_pat_)[A-Za-z0-9_]{10,}").expect("regex");
    for path in [
        "github/workflow.yml",
        "gitlab/.gitlab-ci.yml",
        "gitlab/tagbump.gitlab-ci.yml",
        "jenkins/Jenkinsfile",
        TEKTON_TASK,
        TEKTON_PIPELINE,
        "/templates/tagbump.yml",
        "/jenkins/vars/tagbump.groovy",
        "jenkins/Jenkinsfile.library",
    ] {
        let text = example(path);
        assert!(
            !token_like.is_match(&text),
            "{path} contains something like a token"
        );
    }
    let gitlab = yaml("gitlab/.gitlab-ci.yml");
    assert!(
        entries(&gitlab["variables"])
            .iter()
            .all(|(k, _)| k != "TAGBUMP_TOKEN"),
        "GitLab: the token is a masked CI/CD variable, not a file variable"
    );
}
