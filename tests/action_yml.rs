//! The GitHub Action (`action.yml`) is a thin, checked mapping onto the CLI.
//!
//! The action runs the `action` image, whose ENTRYPOINT is action/entrypoint.sh; these
//! tests run that very script the way the Actions runner does (inputs with their
//! defaults → `runs.env` → the entrypoint, no arguments), with the freshly built binary first on
//! `PATH` behind a wrapper that records the argument vector. So "every input reaches a
//! real flag" is checked against what clap actually accepts, not against a list.

use crate::support;

// Along its seams, in submodules of this one test binary; the harness stays here.
#[path = "action_yml/argocd.rs"]
mod argocd;
#[path = "action_yml/attest.rs"]
mod attest;
#[path = "action_yml/environments.rs"]
mod environments;
#[path = "action_yml/image.rs"]
mod image;
#[path = "action_yml/inputs.rs"]
mod inputs;
#[path = "action_yml/keyless.rs"]
mod keyless;
#[path = "action_yml/outputs.rs"]
mod outputs;
#[path = "action_yml/registry.rs"]
mod registry;
#[path = "action_yml/secrets.rs"]
mod secrets;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The `action` image's entrypoint script (what `runs.args` held before it moved into
/// the image).
fn script() -> String {
    std::fs::read_to_string(repo_root().join(support::ci_example::ACTION_ENTRYPOINT))
        .expect("the action's entrypoint script")
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
