//! Running the binary for the snapshot tests: a copy of the demo config repository
//! ([`Demo`]), one run's exit code and output ([`Ran`]) with the hand-written checks that
//! sit beside each snapshot, and the help text.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-config-repo");

/// A copy of the demo config repository (`<tmp>/demo`).
pub struct Demo {
    _dir: TempDir,
    pub root: PathBuf,
}

impl Demo {
    pub fn new() -> Demo {
        let dir = tempfile::Builder::new()
            .prefix("tagbump-snap-")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().join("demo");
        copy_dir(Path::new(DEMO), &root);
        Demo { _dir: dir, root }
    }

    pub fn write(&self, rel: &str, content: &str) {
        let full = self.root.join(rel);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
    }

    /// Runs `tagbump ARGS -C <copy>`: what it printed, with the copy's location replaced
    /// by `[DEMO]`.
    pub fn run(&self, args: &[&str]) -> Ran {
        let out = tagbump()
            .args(args)
            .arg("-C")
            .arg(&self.root)
            .output()
            .expect("run tagbump");
        let canonical = self.root.canonicalize().expect("canonical root");
        let normalise = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes)
                .replace(&*canonical.to_string_lossy(), "[DEMO]")
                .replace(&*self.root.to_string_lossy(), "[DEMO]")
        };
        Ran {
            code: out.status.code(),
            stdout: normalise(&out.stdout),
            stderr: normalise(&out.stderr),
        }
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).expect("read back")
    }
}

/// One run of the binary.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The snapshot text: exit code, stdout, stderr.
    pub fn transcript(&self) -> String {
        transcript(self.code, &self.stdout, &self.stderr)
    }

    /// stdout as JSON (`--output json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// Exit 0 and nothing on stderr.
    pub fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "{}", self.transcript());
        assert!(self.stderr.is_empty(), "{}", self.stderr);
    }

    /// The change lines of the text report (`FILE:LINE  PATH  OLD → NEW…`).
    pub fn change_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.contains(" → ") && !l.starts_with(['-', '+', ' ']))
            .collect()
    }

    /// Failed with `code`, nothing on stdout, one `error: …` line on stderr that contains
    /// every one of `phrases`.
    pub fn assert_error(&self, code: i32, phrases: &[&str]) {
        assert_eq!(self.code, Some(code), "{}", self.transcript());
        assert!(self.stdout.is_empty(), "{}", self.stdout);
        assert_eq!(self.stderr.lines().count(), 1, "{}", self.stderr);
        assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
        for phrase in phrases {
            assert!(
                self.stderr.contains(phrase),
                "{phrase:?} in {}",
                self.stderr
            );
        }
    }

    /// `--output json` of a failure: exit `code`, nothing done, `error.kind` = `kind`, the
    /// message also on stderr.
    pub fn assert_json_error(&self, code: i32, kind: &str, phrase: &str) {
        assert_eq!(self.code, Some(code), "{}", self.transcript());
        let report = self.json();
        assert_eq!(report["changed"], false);
        assert_eq!(report["files"], serde_json::json!([]));
        assert_eq!(report["pushed"], false);
        assert_eq!(report["error"]["kind"], kind);
        let message = report["error"]["message"].as_str().expect("a message");
        assert!(message.contains(phrase), "{message}");
        assert_eq!(self.stderr, format!("error: {message}\n"));
    }
}

/// The JSON report's `(file, path, old, new)` of each change.
pub fn changes(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let text = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
    report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                text(&c["file"]),
                text(&c["path"]),
                text(&c["old"]),
                text(&c["new"]),
            )
        })
        .collect()
}

pub fn owned(items: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    items
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// The binary with a clean environment (no CI variables, no tokens, no git config).
pub fn tagbump() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagbump"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

pub fn transcript(code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let code = code.map_or_else(|| "signal".to_string(), |c| c.to_string());
    let mut text = format!("exit code: {code}\n");
    if !stdout.is_empty() {
        text.push_str("----- stdout\n");
        text.push_str(stdout);
    }
    if !stderr.is_empty() {
        text.push_str("----- stderr\n");
        text.push_str(stderr);
    }
    text
}

pub fn help(args: &[&str]) -> String {
    let out = tagbump().args(args).output().expect("run tagbump");
    assert_eq!(out.status.code(), Some(0), "{args:?} succeeds");
    assert!(out.stderr.is_empty(), "help goes to stdout");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
