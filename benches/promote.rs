//! Promotion benchmark: 20 images across 3 environments (dev → staging → prod).
//!
//! A config repository shaped like the real ones: per environment a Helm values file with
//! 10 image maps, a kustomization with 5 `images` entries (with digests) and a Deployment
//! with 5 containers, 20 images in all, plus 200 unrelated files under `other/` (what a
//! config repository holds besides the environments). dev runs the new tags; staging and
//! prod the old ones. Each round promotes dev → staging, then staging → prod (20 images
//! changed each time, one commit each), on a fresh repository:
//!
//! - **through the GitHub API**: the fake GitHub of the tests
//!   (`tests/support/fake_github.rs`), `--via api`: its request count;
//! - **through git**: smart HTTP (`git http-backend`), `--via git`: the HTTP requests the
//!   server saw.
//!
//! Reported: the median wall time of each promotion (a process run, as CI runs it), the
//! requests it made, and whether every file came out as written by hand below. Servers on
//! loopback: the figures count round trips and show tagbump's own cost, not a real
//! forge's latency.
//!
//! Run: `cargo bench --bench promote`. Without `--bench` on the command line (e.g.
//! `cargo test --all-targets`), it only prints how to run it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::fake_github::FakeGitHub;
use support::git_server::{self, BareRepo, SmartHttpServer};

const ROUNDS: usize = 5;
const TOKEN: &str = "bench-token-promote";
const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// The tag environment `env` runs of image `i` (dev the newest).
fn tag(env: &str, i: usize) -> String {
    match env {
        "dev" => format!("2.{i}.1"),
        "staging" => format!("2.{i}.0"),
        _ => format!("1.{i}.9"),
    }
}

fn digest(env: &str, i: usize) -> String {
    let seed = match env {
        "dev" => 'd',
        "staging" => 'e',
        _ => 'f',
    };
    format!("sha256:{}{:02}", seed.to_string().repeat(62), i)
}

/// The files of `env` with the tags of `tags_of` (the env itself, or the one promoted into it).
fn env_files(env: &str, tags_of: &str) -> Vec<(String, String)> {
    let mut values = String::from("# Helm values\nreplicaCount: 2\n");
    for i in 0..10 {
        values.push_str(&format!(
            "svc{i}:\n  image:\n    repository: ghcr.io/acme/svc{i}\n    tag: \"{}\"\n    pullPolicy: IfNotPresent\n",
            tag(tags_of, i)
        ));
    }
    let mut kustomization = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\nimages:\n",
    );
    for i in 10..15 {
        kustomization.push_str(&format!(
            "  - name: ghcr.io/acme/svc{i}\n    newTag: {}\n    digest: {}\n",
            tag(tags_of, i),
            digest(tags_of, i)
        ));
    }
    let mut deployment = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: workers\nspec:\n  template:\n    spec:\n      containers:\n",
    );
    for i in 15..20 {
        deployment.push_str(&format!(
            "        - name: svc{i}\n          image: ghcr.io/acme/svc{i}:{}\n",
            tag(tags_of, i)
        ));
    }
    vec![
        (format!("envs/{env}/values.yaml"), values),
        (format!("envs/{env}/kustomization.yaml"), kustomization),
        (format!("envs/{env}/deployment.yaml"), deployment),
    ]
}

fn config_repo() -> BareRepo {
    let mut files: Vec<(String, String)> = vec![(
        ".tagbump.yaml".into(),
        "environments:\n  dev: { paths: [envs/dev] }\n  staging: { paths: [envs/staging], from: dev }\n  prod: { paths: [envs/prod], from: staging }\n".into(),
    )];
    for env in ENVS {
        files.extend(env_files(env, env));
    }
    for i in 0..200 {
        files.push((
            format!("other/app{i}/values.yaml"),
            format!("image:\n  repository: ghcr.io/acme/other{i}\n  tag: \"0.{i}.0\"\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    BareRepo::new_with(&refs, "main")
}

/// Every file of `env` holds what `tags_of` ran before (the kustomization's digests too).
fn promoted(bare: &BareRepo, env: &str, tags_of: &str) -> bool {
    env_files(env, tags_of)
        .iter()
        .all(|(path, want)| bare.read_file("main", path).as_deref() == Some(want.as_str()))
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("promote: run with `cargo bench --bench promote`");
        return;
    }
    git_server::init();
    let binary = env!("CARGO_BIN_EXE_tagbump");
    println!("tagbump binary: {binary}");
    println!("20 images in 3 environments, 209 files; median of {ROUNDS} rounds\n");
    println!("| way | promotion | wall time | requests | files as expected |");
    println!("|---|---|---:|---:|---|");
    for way in ["GitHub API (fake)", "git, smart HTTP"] {
        let mut rows: Vec<(Vec<Duration>, Vec<u64>, bool)> = vec![(vec![], vec![], true); 2];
        for _ in 0..ROUNDS {
            let bare = config_repo();
            let home = tempfile::tempdir().expect("home");
            let api = (way == "GitHub API (fake)")
                .then(|| FakeGitHub::start(&bare, "acme/gitops", TOKEN));
            let http = api
                .is_none()
                .then(|| SmartHttpServer::start(bare.root(), TOKEN));
            // staging runs dev's tags once promoted, so prod then gets dev's too.
            for (row, (to, from)) in [("staging", "dev"), ("prod", "dev")].iter().enumerate() {
                let before = match (&api, &http) {
                    (Some(f), _) => f.requests().len() as u64,
                    (_, Some(h)) => h.requests(),
                    _ => 0,
                };
                let mut cmd = support::cli::clean_command(
                    binary,
                    std::env::var_os("PATH").unwrap_or_default(),
                    home.path(),
                );
                cmd.args(["promote", "--to", to, "--no-pr"]);
                match (&api, &http) {
                    (Some(f), _) => cmd
                        .arg("--repo")
                        .arg(format!("{}/acme/gitops.git", f.url()))
                        .args(["--via", "api", "--forge", "github", "--api-url", f.url()]),
                    (_, Some(h)) => cmd
                        .arg("--repo")
                        .arg(h.url(bare.name()))
                        .args(["--via", "git"]),
                    _ => unreachable!(),
                };
                let started = Instant::now();
                let out = cmd
                    .env("TAGBUMP_TOKEN", TOKEN)
                    .stdout(Stdio::null())
                    .output()
                    .expect("run tagbump");
                let wall = started.elapsed();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let after = match (&api, &http) {
                    (Some(f), _) => f.requests().len() as u64,
                    (_, Some(h)) => h.requests(),
                    _ => 0,
                };
                rows[row].0.push(wall);
                rows[row].1.push(after - before);
                rows[row].2 &= promoted(&bare, to, from) && bare.commit_count("main") == row + 2;
            }
        }
        for (row, label) in ["dev → staging", "staging → prod"].iter().enumerate() {
            let (walls, requests, ok) = &mut rows[row];
            walls.sort();
            requests.sort();
            println!(
                "| {way} | {label} | {:.3} s | {} | {} |",
                walls[ROUNDS / 2].as_secs_f64(),
                requests[ROUNDS / 2],
                if *ok { "yes, one commit" } else { "NO" }
            );
        }
    }
}
