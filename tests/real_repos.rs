//! The real-repository run, repeatable (issue 19): the `tagbump` binary over trimmed copies
//! of real chart and config files (`tests/real-repos/<owner>_<repo>/`, sources, commits and
//! licences in its `README.md`), each case checked by `tests/real-repos/oracle.py`, an
//! oracle that reads the files with PyYAML and shares nothing with tagbump's parser: the
//! places found (a PyYAML scan for the image's repository name finds exactly the places'
//! scalars plus the mentions the case lists as not updated), the exact bytes (everything
//! outside the edited scalars' spans is unchanged, every other file byte-identical) and the
//! absence of wrong edits (every other scalar keeps its value, tag and style; the edited ones
//! hold the new value with the right type).
//!
//! Each case (`tests/real-repos/cases.yaml`) runs `tagbump ARGS -C <copy> --output json` in
//! a temporary copy of its repository directory. The oracle needs `python3` with PyYAML
//! (`TAGBUMP_PYTHON` names another interpreter; `.ci/run` points it at its venv, which pins
//! PyYAML); without it the test goes through `tools::missing`: it fails under
//! `TAGBUMP_REQUIRE_TOOLS=1` and never skips silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::tools;

/// The cases in `cases.yaml`: the run fails, rather than checks fewer, when some go missing.
const CASES: usize = 34;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real-repos")
}

/// The interpreter for the oracle, when it can import PyYAML.
fn python() -> Option<String> {
    let python = std::env::var("TAGBUMP_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&python)
        .args(["-c", "import yaml"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

struct Case {
    name: String,
    repo: String,
    args: Vec<String>,
}

fn cases(python: &str) -> Vec<Case> {
    let out = Command::new(python)
        .arg(data().join("oracle.py"))
        .arg("--list")
        .arg(data().join("cases.yaml"))
        .stdin(Stdio::null())
        .output()
        .expect("run the oracle");
    assert!(
        out.status.success(),
        "oracle --list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("one JSON object a line");
            let text = |key: &str| v[key].as_str().expect("a string").to_string();
            Case {
                name: text("name"),
                repo: text("repo"),
                args: v["args"]
                    .as_array()
                    .expect("args")
                    .iter()
                    .map(|a| a.as_str().expect("a string").to_string())
                    .collect(),
            }
        })
        .collect()
}

/// Runs one case; `tamper` may change the edited copy before the oracle sees it. Returns
/// the oracle's exit status and output (its counts as JSON on success).
fn run_case(python: &str, case: &Case, tamper: impl FnOnce(&Path)) -> (bool, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let original = data().join(&case.repo);
    assert!(original.is_dir(), "{} is missing", original.display());
    let work = tmp.path().join("repo");
    copy_tree(&original, &work);
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let out = Command::new(env!("CARGO_BIN_EXE_tagbump"))
        .args(&case.args)
        .arg("-C")
        .arg(&work)
        .args(["--output", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run tagbump");
    let report = tmp.path().join("report.json");
    std::fs::write(&report, &out.stdout).expect("write the report");
    tamper(&work);
    let code = out.status.code().expect("tagbump exited, not killed");
    let oracle = Command::new(python)
        .arg(data().join("oracle.py"))
        .arg(data().join("cases.yaml"))
        .arg(&case.name)
        .arg(&original)
        .arg(&work)
        .arg(&report)
        .arg(code.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run the oracle");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&oracle.stdout),
        String::from_utf8_lossy(&oracle.stderr)
    );
    let shown = if oracle.status.success() {
        text
    } else {
        format!(
            "{text}\ntagbump {} exited {code}\nstdout:\n{}\nstderr:\n{}",
            case.args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    (oracle.status.success(), shown)
}

#[test]
fn every_real_repository_case_passes_the_pyyaml_oracle() {
    let Some(python) = python() else {
        return tools::missing(
            "python3 with PyYAML",
            "the real-repository oracle reads YAML with PyYAML (pip install PyYAML, or \
             TAGBUMP_PYTHON=<an interpreter that has it>)",
        );
    };
    let cases = cases(&python);
    assert_eq!(cases.len(), CASES, "cases in tests/real-repos/cases.yaml");
    let mut failures = Vec::new();
    let mut totals = [0u64; 4];
    for case in &cases {
        let (ok, out) = run_case(&python, case, |_| {});
        if !ok {
            failures.push(format!("{}:\n{out}", case.name));
            continue;
        }
        let counts: Value = serde_json::from_str(out.trim()).expect("the oracle's counts");
        for (total, key) in totals
            .iter_mut()
            .zip(["files", "scalars", "places", "mentions"])
        {
            *total += counts[key].as_u64().expect("a count");
        }
    }
    eprintln!(
        "real repositories: {} cases, {} files compared, {} scalars compared, {} places edited, {} mentions found by the scan",
        cases.len(),
        totals[0],
        totals[1],
        totals[2],
        totals[3]
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Not vacuous: places were edited and mentions found.
    assert!(totals[2] > 0 && totals[3] > 0, "{totals:?}");
}

/// The oracle is not satisfied by any output: an edit it was not told about (a changed
/// comment, a changed scalar elsewhere, a file tagbump should not have touched) fails it.
#[test]
fn the_oracle_catches_wrong_edits() {
    let Some(python) = python() else {
        return tools::missing(
            "python3 with PyYAML",
            "the real-repository oracle reads YAML with PyYAML (pip install PyYAML, or \
             TAGBUMP_PYTHON=<an interpreter that has it>)",
        );
    };
    let cases = cases(&python);
    let case = cases
        .iter()
        .find(|c| c.name == "podinfo-whole-repo")
        .expect("the podinfo case");
    let edit = |rel: &str, from: &str, to: &str| {
        let (rel, from, to) = (rel.to_string(), from.to_string(), to.to_string());
        move |work: &Path| {
            let path = work.join(&rel);
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(text.contains(&from), "{rel} holds {from:?}");
            std::fs::write(&path, text.replacen(&from, &to, 1)).expect("write");
        }
    };
    let wrong = [
        (
            edit(
                "charts/podinfo/values.yaml",
                "# failure conditions",
                "#failure conditions",
            ),
            "bytes outside the edited scalars differ",
        ),
        (
            edit("charts/podinfo/values.yaml", "tag: 8.8.0", "tag: 8.8.1"),
            "redis.tag (document 0) changed",
        ),
        (
            edit(
                "charts/podinfo/values.yaml",
                "replicaCount: 1",
                "replicaCount: \"1\"",
            ),
            "replicaCount (document 0) changed",
        ),
        (
            edit(
                "deploy/secure/frontend/deployment.yaml",
                "secure-port",
                "6.14.2",
            ),
            "deploy/secure/frontend/deployment.yaml changed",
        ),
        (
            edit(
                "kustomize/deployment.yaml",
                "podinfo:6.14.2",
                "podinfo:6.14.3",
            ),
            "holds str 'ghcr.io/stefanprodan/podinfo:6.14.3'",
        ),
    ];
    for (tamper, why) in wrong {
        let (ok, out) = run_case(&python, case, tamper);
        assert!(!ok, "the oracle passed a wrong edit ({why}):\n{out}");
        assert!(out.contains(why), "expected {why:?} in:\n{out}");
    }
}
