//! Running the CI examples (`examples/`, `templates/`, `action.yml`) the way their CI
//! systems do, shared by `tests/examples.rs` and `tests/examples_scheduled.rs`: reading
//! an example, picking its scalars and mappings, a clean job environment with the freshly
//! built `tagbump` first on `PATH`, action.yml run like the GitHub runner runs it, GitLab
//! variable expansion and job scripts, and the check every job log must pass.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use serde_norway::Value;

use super::cli::clean_command;
use super::git_server;

/// A file under `examples/`, or, for a path starting with `/`, under the repository root
/// (the GitLab component in `templates/`, the Tekton task in its catalog layout).
pub fn example(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let full = match path.strip_prefix('/') {
        Some(rooted) => root.join(rooted),
        None => root.join("examples").join(path),
    };
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

/// [`example`] parsed as YAML.
pub fn yaml(path: &str) -> Value {
    serde_norway::from_str(&example(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The repository's `action.yml`.
pub fn action() -> Value {
    yaml("/action.yml")
}

/// A scalar as the CI system hands it on: strings as they are, booleans and numbers
/// printed, null as the empty string.
pub fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

/// A mapping's entries with their keys as strings; nothing for a non-mapping.
pub fn entries(v: &Value) -> Vec<(String, &Value)> {
    v.as_mapping()
        .map(|m| m.iter().map(|(k, v)| (s(k), v)).collect())
        .unwrap_or_default()
}

/// A mapping's entries with their keys as strings; fails the test where `v` (named
/// `what`) is not a mapping.
pub fn mapping<'a>(v: &'a Value, what: &str) -> Vec<(String, &'a Value)> {
    assert!(v.is_mapping(), "{what} must be a mapping");
    entries(v)
}

/// action.yml's declared inputs with their defaults (empty where none).
pub fn action_inputs(action: &Value) -> BTreeMap<String, String> {
    mapping(&action["inputs"], "inputs")
        .into_iter()
        .map(|(k, spec)| (k, spec.get("default").map(s).unwrap_or_default()))
        .collect()
}

/// action.yml's `runs.env` as (variable, input name): every value must be exactly
/// `${{ inputs.NAME }}`.
pub fn action_env_inputs(action: &Value) -> Vec<(String, String)> {
    mapping(&action["runs"]["env"], "runs.env")
        .into_iter()
        .map(|(var, value)| {
            let value = s(value);
            let input = value
                .trim()
                .strip_prefix("${{ inputs.")
                .and_then(|rest| rest.strip_suffix(" }}"))
                .unwrap_or_else(|| {
                    panic!("runs.env {var} must be `${{{{ inputs.NAME }}}}`, is {value:?}")
                })
                .to_string();
            (var, input)
        })
        .collect()
}

/// A clean environment for a CI job in `cwd`: tagbump first on `PATH`, `HOME` = `home`,
/// no host git configuration, the C locale, no stdin.
pub fn command(program: impl AsRef<OsStr>, cwd: &Path, home: &Path) -> Command {
    command_with_first_on_path(tagbump_dir(), program, cwd, home)
}

/// The directory of the freshly built `tagbump`.
fn tagbump_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tagbump"))
        .parent()
        .expect("binary dir")
}

/// [`command`] with `first` (e.g. a recording `tagbump` wrapper) first on `PATH`.
pub fn command_with_first_on_path(
    first: &Path,
    program: impl AsRef<OsStr>,
    cwd: &Path,
    home: &Path,
) -> Command {
    let first = first.to_path_buf();
    let path = std::env::join_paths(std::iter::once(first).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut cmd = clean_command(program, path, home);
    cmd.current_dir(cwd);
    cmd
}

/// The script the `action` image runs as its ENTRYPOINT (Dockerfile: `COPY
/// action/entrypoint.sh /usr/local/bin/tagbump-action`).
pub const ACTION_ENTRYPOINT: &str = "action/entrypoint.sh";

/// action.yml as the GitHub runner runs it for a step `with:` these inputs: inputs
/// (given, else default; an undeclared input fails the test) → `runs.env` → the
/// `action` image's ENTRYPOINT, [`ACTION_ENTRYPOINT`], with no arguments (action.yml
/// has neither `runs.entrypoint` nor `runs.args`), in `cwd`.
pub fn action_command(with: &BTreeMap<String, String>, cwd: &Path, home: &Path) -> Command {
    action_command_with_first_on_path(tagbump_dir(), with, cwd, home)
}

/// [`action_command`] with `first` (e.g. a recording `tagbump` wrapper) first on `PATH`.
pub fn action_command_with_first_on_path(
    first: &Path,
    with: &BTreeMap<String, String>,
    cwd: &Path,
    home: &Path,
) -> Command {
    let action = action();
    let mut values = action_inputs(&action);
    for (k, v) in with {
        assert!(
            values.contains_key(k),
            "input {k:?} is given but action.yml does not declare it"
        );
        values.insert(k.clone(), v.clone());
    }
    assert!(
        action["runs"].get("args").is_none() && action["runs"].get("entrypoint").is_none(),
        "the action runs its image's own ENTRYPOINT, without runs.args"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(ACTION_ENTRYPOINT);
    let mut cmd = command_with_first_on_path(first, "sh", cwd, home);
    cmd.arg(script);
    for (var, input) in action_env_inputs(&action) {
        cmd.env(var, &values[&input]);
    }
    cmd
}

/// Replaces `$NAME` / `${NAME}` from `vars`, unknown names by nothing (GitLab's
/// variable expansion).
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\{(\w+)\}|\$(\w+)").expect("regex");
    re.replace_all(text, |c: &regex::Captures| {
        let name = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        vars.get(name).cloned().unwrap_or_default()
    })
    .into_owned()
}

/// A GitLab job's `image: entrypoint:` (`Some([""])` where the job resets it).
pub fn image_entrypoint(job: &Value) -> Option<Vec<String>> {
    job["image"]["entrypoint"]
        .as_sequence()
        .map(|e| e.iter().map(s).collect())
}

/// A GitLab job's `script:` lines.
pub fn script(job: &Value) -> Vec<String> {
    job["script"]
        .as_sequence()
        .expect("script")
        .iter()
        .map(s)
        .collect()
}

/// Runs a GitLab job's script lines the way the runner does: all in one `sh -e`
/// session in `cwd`, with `env`.
pub fn run_script(
    script: &[String],
    env: &BTreeMap<String, String>,
    cwd: &Path,
    home: &Path,
) -> Output {
    command("sh", cwd, home)
        .arg("-ec")
        .arg(script.join("\n"))
        .envs(env)
        .output()
        .expect("run the job script")
}

/// Serves `bare` over smart HTTP as `acme/gitops-config.git` (Basic auth, password
/// `token`), the config repository every example names.
pub fn serve_as_acme_gitops_config(
    bare: &git_server::BareRepo,
    token: &str,
) -> git_server::SmartHttpServer {
    bare.also_as("acme/gitops-config.git");
    git_server::SmartHttpServer::start(bare.root(), token)
}

/// The job succeeded, and none of `secrets` is in its log.
pub fn assert_ok(out: &Output, what: &str, secrets: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({})\nstdout: {stdout}\nstderr: {stderr}",
        out.status,
    );
    let all = format!("{stdout}{stderr}");
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "{what}: a secret leaked into the job log"
        );
    }
}
