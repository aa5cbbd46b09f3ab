//! Contention benchmark: 50 pipelines bump 50 different apps on one branch, all at
//! once, with tagbump's default settings — the normal case in a GitOps config repo.
//!
//! For each transport (git daemon, smart HTTP through `git http-backend`, `file://`),
//! a fresh bare repository with 50 apps is bumped twice: once by 50 `tagbump image`
//! processes one after the other, once by 50 processes started together. Reported:
//! total wall time of each, the parallel/sequential ratio, how many attempts the
//! parallel runs needed (mean and max, from their logs), and whether every bump landed
//! as exactly one commit in a linear history.
//!
//! A second table: 20 processes started together, each `tagbump set` on its own app
//! (defaults), landing over smart HTTP with git (`--via git`) vs. through the fake
//! GitHub's API (`--via api`, `tests/support/fake_github.rs`: REST + GraphQL over the
//! same kind of bare repository, with a real compare-and-swap on the branch; a test
//! server on loopback, not GitHub). Reported: total wall time, attempts, and whether
//! all landed.
//!
//! Run: `cargo bench --bench contention` (about a minute). Without `--bench` on the
//! command line (e.g. `cargo test --all-targets`), it only prints how to run it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::fake_github::FakeGitHub;
use support::git_server::{self, BareRepo, GitDaemon, SmartHttpServer};

const APPS: usize = 50;
/// Writers in the API-vs-git table.
const WRITERS: usize = 20;
const TOKEN: &str = "bench-token-contention";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("contention: run with `cargo bench --bench contention`");
        return;
    }
    git_server::init();
    let binary = env!("CARGO_BIN_EXE_tagbump");
    println!("tagbump binary: {binary}");
    println!("{APPS} processes per run, default settings (--retry-for 3m)\n");
    println!(
        "| transport | 50 sequential | 50 parallel | parallel / sequential | attempts (mean / max) | landed |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    for transport in ["git daemon", "smart HTTP", "file://"] {
        let sequential = run(binary, transport, false);
        let parallel = run(binary, transport, true);
        println!(
            "| {transport} | {:.2} s | {:.2} s | {:.2} | {:.1} / {} | {} |",
            sequential.wall.as_secs_f64(),
            parallel.wall.as_secs_f64(),
            parallel.wall.as_secs_f64() / sequential.wall.as_secs_f64(),
            parallel.mean_attempts,
            parallel.max_attempts,
            if sequential.all_landed && parallel.all_landed {
                "all, linear, one commit each"
            } else {
                "NO"
            }
        );
    }

    println!("\n{WRITERS} concurrent `tagbump set` runs, default settings\n");
    println!("| landing | {WRITERS} parallel, total wall | attempts (mean / max) | landed |");
    println!("|---|---:|---:|---|");
    for via in ["git", "api"] {
        let figures = writers(binary, via);
        println!(
            "| {} | {:.2} s | {:.1} / {} | {} |",
            if via == "api" {
                "API (`--via api`, fake GitHub)"
            } else {
                "git (`--via git`, smart HTTP)"
            },
            figures.wall.as_secs_f64(),
            figures.mean_attempts,
            figures.max_attempts,
            if figures.all_landed {
                "all, linear, one commit each"
            } else {
                "NO"
            }
        );
    }
}

struct Figures {
    wall: Duration,
    mean_attempts: f64,
    max_attempts: u32,
    all_landed: bool,
}

/// The highest `attempt N` each run logged.
fn attempts(outputs: &[Output]) -> Vec<u32> {
    outputs
        .iter()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter_map(|l| l.strip_prefix("tagbump: attempt "))
                .filter_map(|l| l.split(':').next()?.parse::<u32>().ok())
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// A bare repository with `apps` apps.
fn seeded(apps: usize) -> BareRepo {
    let seeded: Vec<(String, String)> = (0..apps)
        .map(|n| {
            (
                format!("apps/app{n}/values.yaml"),
                format!("image:\n  repository: ghcr.io/acme/app{n}\n  tag: v0\n"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = seeded
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    BareRepo::new_with(&pairs, "main")
}

/// `WRITERS` processes at once, each `tagbump set` on its own app, landing `via` git
/// (smart HTTP) or the (fake) GitHub API.
fn writers(binary: &str, via: &str) -> Figures {
    let repo = seeded(WRITERS);
    let (_http, _github, url, api) = if via == "api" {
        let github = FakeGitHub::start_at(repo.path(), "acme/config", TOKEN);
        let url = format!("{}/acme/config.git", github.url());
        let api = github.url().to_string();
        (None, Some(github), url, Some(api))
    } else {
        let server = SmartHttpServer::start(repo.root(), TOKEN);
        let url = server.url(repo.name());
        (Some(server), None, url, None)
    };
    let home = tempfile::tempdir().expect("home");
    let start = Instant::now();
    let children: Vec<Child> = (0..WRITERS)
        .map(|n| {
            let mut cmd = Command::new(binary);
            cmd.args([
                "set",
                &format!("apps/app{n}/values.yaml"),
                &format!("image.tag=v{}", n + 1),
                "--repo",
                &url,
                "--via",
                via,
            ]);
            if let Some(api) = &api {
                cmd.args(["--forge", "github", "--api-url", api]);
            }
            cmd.env("HOME", home.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("TAGBUMP_TOKEN", TOKEN)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("tagbump starts")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("tagbump finishes"))
        .collect();
    let wall = start.elapsed();
    let attempts = attempts(&outputs);
    let all_ok = outputs.iter().all(|o| o.status.success());
    if !all_ok {
        for o in outputs.iter().filter(|o| !o.status.success()) {
            eprintln!("{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let all_landed = all_ok && repo.commit_count("main") == WRITERS + 1 && repo.is_linear("main");
    Figures {
        wall,
        mean_attempts: f64::from(attempts.iter().sum::<u32>()) / attempts.len() as f64,
        max_attempts: attempts.iter().copied().max().unwrap_or(0),
        all_landed,
    }
}

fn run(binary: &str, transport: &str, parallel: bool) -> Figures {
    let repo = seeded(APPS);
    let (_http, _daemon, url) = match transport {
        "smart HTTP" => {
            let server = SmartHttpServer::start(repo.root(), TOKEN);
            let url = server.url(repo.name());
            (Some(server), None, url)
        }
        "git daemon" => {
            let daemon = GitDaemon::start(repo.root());
            let url = daemon.url(repo.name());
            (None, Some(daemon), url)
        }
        _ => (None, None, repo.file_url()),
    };
    let home = tempfile::tempdir().expect("home");
    let spawn = |n: usize| -> Child {
        Command::new(binary)
            .args([
                "image",
                &format!("ghcr.io/acme/app{n}:v1"),
                &format!("apps/app{n}"),
                "--repo",
                &url,
            ])
            .env("HOME", home.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("TAGBUMP_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tagbump starts")
    };
    let start = Instant::now();
    let outputs: Vec<Output> = if parallel {
        let children: Vec<Child> = (0..APPS).map(spawn).collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("tagbump finishes"))
            .collect()
    } else {
        (0..APPS)
            .map(|n| spawn(n).wait_with_output().expect("tagbump finishes"))
            .collect()
    };
    let wall = start.elapsed();
    let attempts = attempts(&outputs);
    let all_ok = outputs.iter().all(|o| o.status.success());
    let all_landed = all_ok && repo.commit_count("main") == APPS + 1 && repo.is_linear("main");
    Figures {
        wall,
        mean_attempts: f64::from(attempts.iter().sum::<u32>()) / attempts.len() as f64,
        max_attempts: attempts.iter().copied().max().unwrap_or(0),
        all_landed,
    }
}
