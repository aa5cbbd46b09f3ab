//! Issue 20 item 4, kept so: the library without default features is the editor, the
//! search and the plan. None of the CLI's crates (argument parsing, signals), the
//! network clients, git or an async runtime is in its dependency tree.
//!
//! `cargo tree` resolves from Cargo.toml and Cargo.lock alone (no build), offline;
//! `.ci/run` also checks that the library compiles this way.

use std::collections::BTreeSet;
use std::process::Command;

/// Crates that only the features bring in.
const ONLY_WITH_FEATURES: &[&str] = &[
    "clap",
    "clap_complete",
    "anyhow",
    "signal-hook",
    "nix",
    "reqwest",
    "gix",
    "octocrab",
    "gitlab",
    "tokio",
];

/// The crate names of `cargo tree -p tagbump -e normal` with `args`.
fn tree(args: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "tagbump",
            "-e",
            "normal",
            "--offline",
            "--locked",
        ])
        .args(["--prefix", "none"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_library_without_default_features_has_no_cli_network_git_or_runtime_crates() {
    let crates = tree(&["--no-default-features"]);
    assert!(
        crates.contains("tagbump-yaml") && crates.contains("regex"),
        "the editor and the search are still there: {crates:?}"
    );
    let present: Vec<&str> = ONLY_WITH_FEATURES
        .iter()
        .copied()
        .filter(|name| crates.contains(*name))
        .collect();
    assert!(
        present.is_empty(),
        "`cargo tree -p tagbump -e normal --no-default-features` has {present:?}"
    );
}

#[test]
fn the_default_features_are_everything_the_cli_needs() {
    let crates = tree(&[]);
    let missing: Vec<&str> = ONLY_WITH_FEATURES
        .iter()
        .copied()
        .filter(|name| !crates.contains(*name))
        // Process groups and signals are unix-only dependencies.
        .filter(|name| cfg!(unix) || !matches!(*name, "nix" | "signal-hook"))
        .collect();
    assert!(missing.is_empty(), "the default build lacks {missing:?}");
}
