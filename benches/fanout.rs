//! Fan-out benchmark: one bump landed in 10 config repositories.
//!
//! For each server (smart HTTP through `git http-backend`, `git daemon`), and each
//! with and without a server that takes its time (a `pre-receive` hook that sleeps
//! 500 ms: a remote whose push checks take a while, as a forge's do), 10 fresh bare
//! repositories are bumped:
//!
//! - **10 processes, one after the other**: `tagbump image … --repo URL` per repository
//!   (what a script around tagbump does today);
//! - **one process, `--jobs 1`**: `--repo` ×10, one repository after the other;
//! - **one process, default `--jobs 4`**, and **`--jobs 10`**.
//!
//! Reported: the wall time of each (the median of a few rounds), its ratio to the
//! sequential processes, and whether every repository got exactly one commit with the
//! new tag. Servers on loopback: the figures show what overlapping the repositories
//! saves, not a real forge's latency.
//!
//! Run: `cargo bench --bench fanout` (or `cargo bench --profile dev --bench fanout`,
//! which skips the release build: the time is git's, not tagbump's). Without `--bench`
//! on the command line (e.g. `cargo test --all-targets`), it only prints how to run it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};

const REPOS: usize = 10;
const ROUNDS: usize = 3;
const TOKEN: &str = "bench-token-fanout";
const FILE: &str = "apps/api/values.yaml";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("fanout: run with `cargo bench --bench fanout`");
        return;
    }
    git_server::init();
    let binary = env!("CARGO_BIN_EXE_tagbump");
    println!("tagbump binary: {binary}");
    println!("{REPOS} repositories per run, median of {ROUNDS} rounds\n");
    println!(
        "| server | push hook | 10 processes, sequential | --jobs 1 | --jobs 4 (default) | --jobs 10 | landed |"
    );
    println!("|---|---|---:|---:|---:|---:|---|");
    for server in ["smart HTTP", "git daemon"] {
        for slow in [false, true] {
            let ways = [Way::Processes, Way::Jobs(1), Way::Jobs(4), Way::Jobs(10)];
            let mut cells = Vec::new();
            let mut landed = true;
            let mut base = None;
            for way in ways {
                let mut walls = Vec::new();
                for _ in 0..ROUNDS {
                    let (wall, ok) = round(binary, server, slow, way);
                    walls.push(wall);
                    landed &= ok;
                }
                walls.sort();
                let median = walls[ROUNDS / 2];
                let base = *base.get_or_insert(median);
                cells.push(format!(
                    "{:.2} s ({:.2})",
                    median.as_secs_f64(),
                    median.as_secs_f64() / base.as_secs_f64()
                ));
            }
            println!(
                "| {server} | {} | {} | {} |",
                if slow { "sleeps 500 ms" } else { "none" },
                cells.join(" | "),
                if landed { "all, one commit each" } else { "NO" }
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Way {
    /// One `tagbump` process per repository, one after the other.
    Processes,
    /// One process, `--repo` ×10, `--jobs N`.
    Jobs(usize),
}

/// Fresh repositories behind `server`; bumps them as `way` says. Returns the wall time
/// and whether each repository got exactly one commit with the new tag.
fn round(binary: &str, server: &str, slow: bool, way: Way) -> (Duration, bool) {
    let root = tempfile::tempdir().expect("server root");
    let repos: Vec<BareRepo> = (0..REPOS)
        .map(|i| {
            let values = format!(
                "# repository {i}\nimage:\n  repository: ghcr.io/acme/api\n  tag: \"1.4.2\"\n"
            );
            BareRepo::new_with(&[(FILE, &values)], "main")
        })
        .collect();
    for (i, bare) in repos.iter().enumerate() {
        if slow {
            slow_hook(bare.path());
        }
        std::os::unix::fs::symlink(bare.path(), root.path().join(format!("r{i}.git")))
            .expect("serve the repository");
    }
    let (urls, _http, _daemon): (Vec<String>, _, _) = match server {
        "smart HTTP" => {
            let http = SmartHttpServer::start(root.path(), TOKEN);
            let urls = (0..REPOS).map(|i| http.url(&format!("r{i}.git"))).collect();
            (urls, Some(http), None)
        }
        _ => {
            let daemon = GitDaemon::start(root.path());
            let urls = (0..REPOS)
                .map(|i| daemon.url(&format!("r{i}.git")))
                .collect();
            (urls, None, Some(daemon))
        }
    };
    let home = tempfile::tempdir().expect("home");
    let started = Instant::now();
    match way {
        Way::Processes => {
            for url in &urls {
                bump(binary, home.path(), std::slice::from_ref(url), &[]);
            }
        }
        Way::Jobs(n) => bump(binary, home.path(), &urls, &["--jobs", &n.to_string()]),
    }
    let wall = started.elapsed();
    let landed = repos.iter().all(|bare| {
        bare.commit_count("main") == 2
            && bare
                .read_file("main", FILE)
                .is_some_and(|v| v.contains("tag: \"1.5.0\""))
    });
    (wall, landed)
}

/// A `pre-receive` hook that takes 500 ms.
fn slow_hook(repo: &Path) {
    let hook = repo.join("hooks").join("pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nsleep 0.5\n").expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn bump(binary: &str, home: &Path, urls: &[String], extra: &[&str]) {
    let mut cmd =
        support::cli::clean_command(binary, std::env::var_os("PATH").unwrap_or_default(), home);
    cmd.args(["image", "ghcr.io/acme/api:1.5.0"]);
    for url in urls {
        cmd.arg("--repo").arg(url);
    }
    let out = cmd
        .args(extra)
        .env("TAGBUMP_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .output()
        .expect("run tagbump");
    assert!(
        out.status.success(),
        "tagbump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
