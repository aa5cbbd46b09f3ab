//! Write-back benchmark: one tag bump in a large config repository served over smart HTTP,
//! `tagbump --repo` against the tutorials' recipe (`git clone --depth 1` + edit +
//! `git commit` + `git push`).
//!
//! For 1 000 and 10 000 apps (`apps/app-<n>/values.yaml`, ~20 lines each) with 3 000
//! commits of history (generated with `git fast-import`), each method bumps one app's
//! tag five times. Reported per method: median wall time, and the bytes that crossed the
//! wire, measured by a counting TCP proxy in front of the harness's
//! [`SmartHttpServer`](git_server::SmartHttpServer): request bytes (client → server,
//! including the pushed pack) and response bytes (server → client, i.e. what was
//! fetched), HTTP headers included, plus the number of HTTP requests.
//!
//! Methods:
//! - `tagbump (token)`: `tagbump set apps/../apps/app-N/values.yaml … --repo http://… `
//!   with `TAGBUMP_TOKEN`. The `..` in the path makes the CLI check out the whole tip
//!   (it cannot tell in advance which files such a path needs), i.e. the full shallow
//!   clone every write-back made before sparse clones (over plain `http://` with a
//!   token: `git clone --depth 1`);
//! - `tagbump (anon)`: the same against an anonymous endpoint, where tagbump clones
//!   in-process with gix;
//! - `tagbump sparse (set one file)`: `tagbump set apps/app-N/values.yaml …` with the
//!   token: a blob-less partial clone with only that file checked out (`git clone
//!   --filter=blob:none --no-checkout` + sparse checkout);
//! - `recipe`: `git clone --depth 1 http://x-access-token:TOKEN@…`, rewrite the
//!   `tag:` line, `git commit -am`, `git push origin HEAD:main`;
//! - `tagbump API (set one file)`: `tagbump set apps/app-N/values.yaml … --via api
//!   --forge github` against the fake GitHub of `tests/support/fake_github.rs`, which
//!   serves the same bare repository through REST + GraphQL (a test server on
//!   loopback, not GitHub: its latency and its JSON are not GitHub's). Bytes through
//!   the same kind of counting proxy; the request count is the fake's own log (the
//!   API client keeps connections alive, so connections ≠ requests).
//!
//! Run: `cargo bench --bench writeback` (about 1–3 minutes; uses the bench-profile
//! `tagbump` binary cargo builds alongside). Without `--bench` on the command line (e.g.
//! `cargo test --all-targets`), it only prints how to run it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufWriter, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::fake_github::FakeGitHub;
use support::git_server::{self, SmartHttpServer};

const TOKEN: &str = "bench-token-0000";
const HISTORY: usize = 3_000;
const RUNS: usize = 5;
const SIZES: [usize; 2] = [1_000, 10_000];

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("writeback: run with `cargo bench --bench writeback`");
        return;
    }
    git_server::init();
    let binary = env!("CARGO_BIN_EXE_tagbump");
    println!("tagbump binary: {binary}");
    println!("scratch directory: {}", scratch().display());
    println!("history: {HISTORY} commits; {RUNS} runs per method; bytes include HTTP headers\n");

    let mut rows = Vec::new();
    for apps in SIZES {
        let started = Instant::now();
        let repo = SyntheticRepo::build(apps);
        println!(
            "built {apps} apps / {} commits in {:.1} s (pack {:.1} MB)",
            HISTORY + 1,
            started.elapsed().as_secs_f64(),
            repo.pack_bytes() as f64 / 1e6
        );
        let target = apps * 4242 / 10_000;
        let file = format!("apps/app-{target}/values.yaml");

        let token_server = SmartHttpServer::start(repo.root(), TOKEN);
        let anon_server = SmartHttpServer::start_anonymous(repo.root());
        let token_proxy = CountingProxy::start(&token_server.url(""), Some(TOKEN));
        let anon_proxy = CountingProxy::start(&anon_server.url(""), None);
        let github = FakeGitHub::start_at(&repo.bare(), "acme/config", TOKEN);
        let api_proxy = CountingProxy::start(&format!("{}/", github.url()), Some(TOKEN));

        // A path the CLI cannot pre-judge: full checkout of the tip (the old behaviour).
        let full_file = format!("apps/../{file}");
        let methods: [(&str, &CountingProxy); 5] = [
            ("tagbump (token)", &token_proxy),
            ("tagbump (anon)", &anon_proxy),
            ("tagbump sparse (set one file)", &token_proxy),
            ("recipe", &token_proxy),
            (API_METHOD, &api_proxy),
        ];
        for (name, proxy) in methods {
            let mut samples = Vec::new();
            for run in 0..RUNS {
                let tag = format!("bench-{apps}-{}-{run}", name.replace([' ', '(', ')'], ""));
                let before_tip = repo.tip();
                let before = proxy.snapshot();
                let api_before = github.requests().len() as u64;
                let started = Instant::now();
                match name {
                    "recipe" => recipe(&proxy.url("config.git"), &file, &tag),
                    API_METHOD => tagbump_api(binary, &proxy.url(""), &file, &tag),
                    "tagbump sparse (set one file)" => {
                        tagbump(binary, &proxy.url("config.git"), &file, &tag, proxy.token())
                    }
                    _ => tagbump(
                        binary,
                        &proxy.url("config.git"),
                        &full_file,
                        &tag,
                        proxy.token(),
                    ),
                }
                let elapsed = started.elapsed();
                let after = proxy.snapshot();
                assert_ne!(repo.tip(), before_tip, "{name} pushed a commit");
                assert!(
                    repo.file_at_tip(&file).contains(&format!("tag: {tag}"))
                        || repo.file_at_tip(&file).contains(&format!("tag: \"{tag}\"")),
                    "{name} wrote the tag"
                );
                let requests = if name == API_METHOD {
                    let log = github.requests();
                    if run == 0 {
                        let lines: Vec<String> = log[api_before as usize..]
                            .iter()
                            .map(|r| r.line())
                            .collect();
                        println!("  {apps} apps, API requests: {}", lines.join(", "));
                    }
                    log.len() as u64 - api_before
                } else {
                    after.connections - before.connections
                };
                samples.push(Sample {
                    elapsed,
                    up: after.up - before.up,
                    down: after.down - before.down,
                    requests,
                });
            }
            rows.push(Row::new(apps, name, &samples));
        }
    }

    println!();
    println!(
        "| apps   | method                        | median wall | fetched (resp.) | sent (req.) | HTTP requests |"
    );
    println!(
        "|-------:|-------------------------------|------------:|----------------:|------------:|--------------:|"
    );
    for r in &rows {
        println!(
            "| {:>6} | {:<29} | {:>9.0} ms | {:>12.1} KB | {:>8.1} KB | {:>13} |",
            r.apps,
            r.method,
            r.median.as_secs_f64() * 1e3,
            r.down as f64 / 1e3,
            r.up as f64 / 1e3,
            r.requests
        );
    }
    println!();
    for method in [
        "tagbump (token)",
        "tagbump (anon)",
        "tagbump sparse (set one file)",
        "recipe",
        API_METHOD,
    ] {
        let find = |apps| rows.iter().find(|r| r.apps == apps && r.method == method);
        if let (Some(small), Some(large)) = (find(SIZES[0]), find(SIZES[1])) {
            println!(
                "{method}: fetched {:.1} KB at {} apps → {:.1} KB at {} apps (×{:.1})",
                small.down as f64 / 1e3,
                SIZES[0],
                large.down as f64 / 1e3,
                SIZES[1],
                large.down as f64 / small.down.max(1) as f64
            );
        }
    }

    let find = |apps, method| {
        rows.iter()
            .find(|r: &&Row| r.apps == apps && r.method == method)
    };
    if let (Some(api), Some(recipe), Some(sparse)) = (
        find(SIZES[1], API_METHOD),
        find(SIZES[1], "recipe"),
        find(SIZES[1], "tagbump sparse (set one file)"),
    ) {
        println!(
            "at {} apps the API fetches {:.2} % of the recipe's depth-1 clone ({:.2} % of the sparse clone); wall {:.0} ms vs. {:.0} ms (sparse)",
            SIZES[1],
            100.0 * api.down as f64 / recipe.down.max(1) as f64,
            100.0 * api.down as f64 / sparse.down.max(1) as f64,
            api.median.as_secs_f64() * 1e3,
            sparse.median.as_secs_f64() * 1e3,
        );
    }
}

/// The API row's name.
const API_METHOD: &str = "tagbump API (set one file)";

struct Sample {
    elapsed: Duration,
    up: u64,
    down: u64,
    requests: u64,
}

struct Row {
    apps: usize,
    method: &'static str,
    median: Duration,
    up: u64,
    down: u64,
    requests: u64,
}

impl Row {
    fn new(apps: usize, method: &'static str, samples: &[Sample]) -> Row {
        fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
            v.sort_unstable();
            v[v.len() / 2]
        }
        Row {
            apps,
            method,
            median: median(samples.iter().map(|s| s.elapsed).collect()),
            up: median(samples.iter().map(|s| s.up).collect()),
            down: median(samples.iter().map(|s| s.down).collect()),
            requests: median(samples.iter().map(|s| s.requests).collect()),
        }
    }
}

// ---------------------------------------------------------------- the two methods

/// Where repositories and clones live: tmpfs (`/dev/shm`) when available, so that the
/// figures measure the tools and the transfer rather than the disk (checking out 10 000
/// files costs seconds on a slow disk, whichever tool does it).
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let usable = tempfile::Builder::new()
        .prefix("writeback-probe-")
        .tempdir_in(shm)
        .is_ok();
    if usable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn isolated(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("TMPDIR", scratch())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

fn check(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tagbump(binary: &str, url: &str, file: &str, tag: &str, token: Option<&str>) {
    let mut cmd = isolated(binary);
    cmd.args(["set", file, &format!("image.tag={tag}"), "--repo", url]);
    if let Some(token) = token {
        cmd.env("TAGBUMP_TOKEN", token);
    }
    check(&mut cmd, "tagbump");
}

/// `tagbump set FILE image.tag=TAG` through the (fake) GitHub API at `base`.
fn tagbump_api(binary: &str, base: &str, file: &str, tag: &str) {
    let base = base.trim_end_matches('/');
    let mut cmd = isolated(binary);
    cmd.args(["set", file, &format!("image.tag={tag}")])
        .args(["--repo", &format!("{base}/acme/config.git")])
        .args(["--via", "api", "--forge", "github", "--api-url", base])
        .env("TAGBUMP_TOKEN", TOKEN);
    check(&mut cmd, "tagbump --via api");
}

/// What the tutorials do: shallow clone with the token in the URL, `sed`, commit, push.
fn recipe(url: &str, file: &str, tag: &str) {
    let work = tempfile::Builder::new()
        .prefix("writeback-recipe-")
        .tempdir_in(scratch())
        .expect("tempdir");
    let authed = url.replacen("http://", &format!("http://x-access-token:{TOKEN}@"), 1);
    check(
        isolated("git")
            .current_dir(work.path())
            .args(["clone", "--quiet", "--depth", "1", &authed, "repo"]),
        "git clone --depth 1",
    );
    let repo = work.path().join("repo");
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).expect("values file");
    let edited: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("tag:") {
                format!("  tag: \"{tag}\"\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, edited).expect("write values");
    check(
        isolated("git").current_dir(&repo).args([
            "-c",
            "user.name=CI",
            "-c",
            "user.email=ci@example.invalid",
            "commit",
            "--quiet",
            "-am",
            &format!("bump to {tag}"),
        ]),
        "git commit",
    );
    check(
        isolated("git")
            .current_dir(&repo)
            .args(["push", "--quiet", "origin", "HEAD:main"]),
        "git push",
    );
}

// ---------------------------------------------------------------- the synthetic repo

/// A fast-import `data` command.
fn data(w: &mut impl Write, bytes: &str) {
    write!(w, "data {}\n{bytes}\n", bytes.len()).expect("write stream");
}

/// A fast-import commit header for the `i`-th commit (ten minutes apart).
fn header(w: &mut impl Write, i: usize) {
    let t = 1_700_000_000u64 + i as u64 * 600;
    write!(
        w,
        "commit refs/heads/main\nauthor CI <ci@example.invalid> {t} +0000\ncommitter CI <ci@example.invalid> {t} +0000\n"
    )
    .expect("write stream");
}

struct SyntheticRepo {
    dir: tempfile::TempDir,
}

fn values(n: usize, tag: &str) -> String {
    format!(
        "# Values for app-{n}, owned by team-{team}.\n\
         replicaCount: {replicas}\n\
         image:\n  registry: ghcr.io\n  repository: acme/app-{n}\n  tag: \"{tag}\"\n  pullPolicy: IfNotPresent\n\
         service:\n  type: ClusterIP\n  port: {port}\n\
         resources:\n  limits:\n    cpu: {cpu}m\n    memory: {mem}Mi\n  requests:\n    cpu: 50m\n    memory: 64Mi\n\
         podAnnotations:\n  team: team-{team}\n\
         env:\n  LOG_LEVEL: info\n",
        team = n % 37,
        replicas = 1 + n % 5,
        port = 8000 + n % 1000,
        cpu = 100 + n % 400,
        mem = 128 + n % 256,
    )
}

impl SyntheticRepo {
    /// A bare repo `config.git`: one commit adding `apps` apps, then `HISTORY` commits
    /// each bumping one app's tag.
    fn build(apps: usize) -> SyntheticRepo {
        let dir = tempfile::Builder::new()
            .prefix("writeback-bench-")
            .tempdir_in(scratch())
            .expect("tempdir");
        git_server::git(
            dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "config.git",
            ],
        );
        let bare = dir.path().join("config.git");
        git_server::git(&bare, &["config", "http.receivepack", "true"]);
        // Partial clones, as on GitHub / GitLab.
        git_server::git(&bare, &["config", "uploadpack.allowFilter", "true"]);
        git_server::git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
        let mut child = git_server::git_command(&bare)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("git fast-import");
        {
            let stdin = child.stdin.take().expect("stdin");
            let mut w = BufWriter::new(stdin);
            header(&mut w, 0);
            data(&mut w, &format!("add {apps} apps"));
            for n in 0..apps {
                writeln!(w, "M 100644 inline apps/app-{n}/values.yaml").expect("write stream");
                data(&mut w, &values(n, "1.0.0"));
            }
            for i in 1..=HISTORY {
                let n = (i * 7919) % apps;
                let tag = format!("1.{}.{i}", n % 50);
                header(&mut w, i);
                data(&mut w, &format!("chore(deploy): bump app-{n} to {tag}"));
                writeln!(w, "M 100644 inline apps/app-{n}/values.yaml").expect("write stream");
                data(&mut w, &values(n, &tag));
            }
            w.flush().expect("flush stream");
        }
        let status = child.wait().expect("fast-import");
        assert!(status.success(), "git fast-import failed");
        SyntheticRepo { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn bare(&self) -> PathBuf {
        self.dir.path().join("config.git")
    }

    fn tip(&self) -> String {
        git_server::git(&self.bare(), &["rev-parse", "refs/heads/main"])
    }

    fn file_at_tip(&self, file: &str) -> String {
        git_server::git(&self.bare(), &["show", &format!("refs/heads/main:{file}")])
    }

    fn pack_bytes(&self) -> u64 {
        std::fs::read_dir(self.bare().join("objects/pack"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

// ---------------------------------------------------------------- the byte counter

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
    stop: AtomicBool,
}

#[derive(Clone, Copy)]
struct Snapshot {
    up: u64,
    down: u64,
    connections: u64,
}

/// A TCP proxy on 127.0.0.1 that counts the bytes going each way. The harness server
/// answers one request per connection, so connections = HTTP requests.
struct CountingProxy {
    port: u16,
    token: Option<&'static str>,
    counters: Arc<Counters>,
}

impl CountingProxy {
    /// `upstream` is an `http://127.0.0.1:PORT/` URL that needs `token` (if any).
    fn start(upstream: &str, token: Option<&'static str>) -> CountingProxy {
        let upstream_addr = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("host:port")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if c.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream_addr) else {
                    continue;
                };
                c.connections.fetch_add(1, Ordering::SeqCst);
                let c_up = Arc::clone(&c);
                let c_down = Arc::clone(&c);
                let (client_r, server_w) = (
                    client.try_clone().expect("clone client"),
                    server.try_clone().expect("clone server"),
                );
                std::thread::spawn(move || pump(client_r, server_w, &c_up.up));
                std::thread::spawn(move || pump(server, client, &c_down.down));
            }
        });
        CountingProxy {
            port,
            token,
            counters,
        }
    }

    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// The token this endpoint needs.
    fn token(&self) -> Option<&'static str> {
        self.token
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            up: self.counters.up.load(Ordering::SeqCst),
            down: self.counters.down.load(Ordering::SeqCst),
            connections: self.counters.connections.load(Ordering::SeqCst),
        }
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.counters.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: &AtomicU64) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
