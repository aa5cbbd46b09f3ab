//! What a test does when a tool it needs (docker-registry, sshd, actionlint) is missing.
//!
//! - Under `TAGBUMP_REQUIRE_TOOLS=1` (set by `.ci/run` and so by the project's CI) a
//!   missing tool fails the test: [`missing`] panics.
//! - Elsewhere (a developer's `cargo test` on a machine without the tool) the test may
//!   skip, but never silently: [`missing`] writes a `SKIPPED` line straight to the
//!   process's stderr — not through `eprintln!`, which libtest captures and hides for a
//!   passing test — with the number of tests of this binary skipped so far, and appends
//!   the same line to `target/tmp/skipped-tests.txt` (`CARGO_TARGET_TMPDIR`), which
//!   `.ci/run` prints and fails on.
//!
//! Standalone (no other support module), so that a test binary without `mod support`
//! can take it with `#[path = "support/tools.rs"] mod tools;`.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that turns a missing tool into a failure.
pub const REQUIRE_TOOLS: &str = "TAGBUMP_REQUIRE_TOOLS";

/// Tests of this binary skipped so far.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Whether missing tools fail the tests (`TAGBUMP_REQUIRE_TOOLS=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v.trim() == "1")
}

/// The file every skip is appended to: `skipped-tests.txt` in cargo's per-target
/// temporary directory (`target/tmp`, or `$CARGO_TARGET_DIR/tmp`).
pub fn summary_file() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt")
}

/// The current test cannot run because `tool` is missing (`why`: what is missing and
/// how to install it). Panics under `TAGBUMP_REQUIRE_TOOLS=1`; otherwise reports the
/// skip (stderr, bypassing the capture, and [`summary_file`]) and returns, and the
/// caller returns early.
pub fn missing(tool: &str, why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    if required() {
        panic!("{tool} is required ({REQUIRE_TOOLS}=1) and missing: {why}");
    }
    let n = SKIPPED.fetch_add(1, Ordering::SeqCst) + 1;
    let binary = std::env::args()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|name| match name.rsplit_once('-') {
            // cargo's `<binary>-<hash>`
            Some((binary, _)) => binary.to_string(),
            None => name,
        })
        .unwrap_or_default();
    let line = format!("SKIPPED {binary} {test}: {tool} missing: {why}");
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{line} [{n} skipped in this binary so far; all skips: {}; \
         {REQUIRE_TOOLS}=1 turns them into failures]",
        summary_file().display()
    );
    let file = summary_file();
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = writeln!(f, "{line}");
    }
}
