//! Running the real `tagbump` binary in tests: a clean environment and what it printed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use super::git_server;

/// A `tagbump` command with a clean environment: only `PATH` (which starts with the
/// harness's recording `git` wrapper), a throw-away `HOME`, and git isolated from the
/// machine's configuration. Each test adds exactly the variables it is about.
pub fn tagbump(home: &Path) -> Command {
    clean_command(
        env!("CARGO_BIN_EXE_tagbump"),
        std::env::var_os("PATH").unwrap_or_default(),
        home,
    )
}

/// `program` with a clean environment: only `PATH` = `path`, `HOME` = `home`, git
/// isolated from the machine's configuration, the C locale, no stdin.
pub fn clean_command(program: impl AsRef<OsStr>, path: impl AsRef<OsStr>, home: &Path) -> Command {
    git_server::init();
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

/// What a finished run printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing both outputs when it differs.
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs the command to completion.
pub fn run(cmd: &mut Command) -> Run {
    finished(cmd.output().expect("the tagbump binary runs"))
}

/// What a finished (e.g. spawned and awaited) process printed.
pub fn finished(out: Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A throw-away `HOME`.
pub fn home() -> TempDir {
    tempfile::Builder::new()
        .prefix("tagbump-test-home-")
        .tempdir()
        .expect("temp HOME")
}
