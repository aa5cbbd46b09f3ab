//! Real git servers and bare repositories for tests, all on 127.0.0.1 / local disk.
//!
//! - [`BareRepo`]: a bare repository in a temporary directory, seeded with one commit,
//!   with helpers to read what landed (file at a branch tip, commit log, linearity) and
//!   to simulate other writers (competing commits, a rejecting `pre-receive` hook).
//! - [`GitDaemon`]: `git daemon` serving a directory over `git://`, with push enabled.
//! - [`SmartHttpServer`]: a minimal HTTP/1.1 server that enforces Basic auth and runs
//!   `git http-backend` as CGI; counts requests and bytes, and can drop the connection
//!   in the middle of a push.
//! - `file://` URLs need nothing: [`BareRepo::file_url`].
//!
//! [`init`] (called by every constructor) isolates all git processes of the test
//! binary from the machine's configuration and puts a transparent `git` wrapper first
//! on `PATH` that records the argument vector of every `git` process the code under
//! test spawns ([`spawned_git_argv`]), so tests can prove that no secret is passed on a
//! command line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::push_hold::Hold;

struct Env {
    real_git: PathBuf,
    argv_log: PathBuf,
    _home: TempDir,
}

static ENV: OnceLock<Env> = OnceLock::new();

/// Isolates git for this test process (idempotent; every helper calls it):
///
/// - `GIT_CONFIG_NOSYSTEM=1`, `GIT_CONFIG_GLOBAL=/dev/null`, `HOME` and
///   `XDG_CONFIG_HOME` pointing to an empty temporary directory — no host config,
///   identity or credential helper leaks in (for gix in-process as well as for
///   spawned `git`);
/// - a `git` wrapper first on `PATH` that appends each invocation's arguments to a log
///   (see [`spawned_git_argv`]) and then runs the real git.
///
/// The environment is changed once, on first use, before any server thread exists.
pub fn init() {
    ENV.get_or_init(|| {
        let real_git = find_on_path("git").expect("git must be installed for these tests");
        let home = tempfile::Builder::new()
            .prefix("tagbump-test-home-")
            .tempdir()
            .expect("temp HOME");
        let bin = home.path().join("bin");
        std::fs::create_dir_all(&bin).expect("wrapper dir");
        let argv_log = home.path().join("git-argv.log");
        std::fs::write(&argv_log, "").expect("argv log");
        let wrapper = bin.join("git");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"git $*\" >> '{}'\nexec '{}' \"$@\"\n",
                argv_log.display(),
                real_git.display()
            ),
        )
        .expect("wrapper script");
        make_executable(&wrapper);
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin.clone()];
        paths.extend(std::env::split_paths(&path));
        let new_path = std::env::join_paths(paths).expect("PATH");
        // Set once, before any server or worker thread of the harness is started.
        std::env::set_var("PATH", new_path);
        std::env::set_var("HOME", home.path());
        std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        std::env::set_var("GIT_CONFIG_GLOBAL", "/dev/null");
        std::env::remove_var("GIT_SSH_COMMAND");
        std::env::remove_var("GIT_ASKPASS");
        Env {
            real_git,
            argv_log,
            _home: home,
        }
    });
}

fn env() -> &'static Env {
    init();
    ENV.get().expect("initialised")
}

/// Every `git` command line (as `git arg1 arg2 …`) spawned through `PATH` by this test
/// process so far — i.e. by the code under test; the harness runs the real binary
/// directly and is not recorded.
pub fn spawned_git_argv() -> String {
    std::fs::read_to_string(&env().argv_log).unwrap_or_default()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path).expect("metadata").permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}

/// A `Command` for the real git binary with an identity for harness commits.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new(&env().real_git);
    cmd.current_dir(dir)
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "user.name=Harness",
            "-c",
            "user.email=harness@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ]);
    cmd
}

/// Runs the real git in `dir`, panics with its stderr on failure, returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `files` (relative path, content) under `root`, creating directories.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&full, content).expect("write file");
    }
}

/// A bare repository in its own temporary directory (`<tmp>/config.git`).
pub struct BareRepo {
    dir: TempDir,
    path: PathBuf,
}

impl BareRepo {
    /// A bare repo whose `branch` (also its `HEAD`) holds one commit with `files`.
    /// Push over smart HTTP is enabled (`http.receivepack true`), and so are partial
    /// clones like GitHub's and GitLab's: `uploadpack.allowFilter` (clone with
    /// `--filter`) and `uploadpack.allowAnySHA1InWant` (the lazy fetches of missing
    /// objects ask for them by id). Turn filters off with [`BareRepo::set_config`].
    pub fn new_with(files: &[(&str, &str)], branch: &str) -> BareRepo {
        init();
        let dir = tempfile::Builder::new()
            .prefix("tagbump-bare-")
            .tempdir()
            .expect("tempdir");
        let path = dir.path().join("config.git");
        git(
            dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                &format!("--initial-branch={branch}"),
                "config.git",
            ],
        );
        git(&path, &["config", "http.receivepack", "true"]);
        git(&path, &["config", "uploadpack.allowFilter", "true"]);
        git(&path, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
        let seed = dir.path().join("seed");
        git(
            dir.path(),
            &[
                "init",
                "--quiet",
                &format!("--initial-branch={branch}"),
                "seed",
            ],
        );
        write_files(&seed, files);
        git(&seed, &["add", "--all"]);
        git(&seed, &["commit", "--quiet", "-m", "seed"]);
        git(
            &seed,
            &[
                "push",
                "--quiet",
                path.to_str().expect("utf-8 path"),
                branch,
            ],
        );
        std::fs::remove_dir_all(&seed).expect("remove seed");
        BareRepo { dir, path }
    }

    /// Sets `key` to `value` in the bare repository's config (read by every server
    /// process started afterwards, e.g. `uploadpack.allowFilter false`).
    pub fn set_config(&self, key: &str, value: &str) {
        git(&self.path, &["config", key, value]);
    }

    /// Paths changed by the tip commit of `branch` (against its first parent).
    pub fn changed_in_tip(&self, branch: &str) -> Vec<String> {
        git(
            &self.path,
            &[
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "-r",
                &format!("refs/heads/{branch}"),
            ],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Path of the bare repository.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory containing the bare repo (serve it with [`GitDaemon`] or
    /// [`SmartHttpServer`]; the repo's name there is [`BareRepo::name`]).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The repository's directory name under [`BareRepo::root`].
    pub fn name(&self) -> &'static str {
        "config.git"
    }

    /// Makes the repository also reachable as `name` (e.g. `acme/gitops.git`) under
    /// [`BareRepo::root`], with a symlink, so that a server of the root serves it at a
    /// URL whose path names an owner and a repository.
    pub fn also_as(&self, name: &str) {
        let link = self.root().join(name);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).expect("mkdir the owner's directory");
        }
        std::os::unix::fs::symlink(&self.path, &link).expect("symlink the repository");
    }

    /// `file://` URL of the repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// Content of `path` at the tip of `branch`, `None` if absent.
    pub fn read_file(&self, branch: &str, path: &str) -> Option<String> {
        let out = git_command(&self.path)
            .args(["show", &format!("refs/heads/{branch}:{path}")])
            .output()
            .expect("git show");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Tip commit of `branch`, `None` if it does not exist.
    pub fn tip(&self, branch: &str) -> Option<String> {
        let out = git_command(&self.path)
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/heads/{branch}"),
            ])
            .output()
            .expect("git rev-parse");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `git log --format=<format> <branch>`, newest first, one entry per commit.
    pub fn log(&self, branch: &str, format: &str) -> Vec<String> {
        git(
            &self.path,
            &[
                "log",
                &format!("--format={format}"),
                &format!("refs/heads/{branch}"),
            ],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Number of commits reachable from `branch`.
    pub fn commit_count(&self, branch: &str) -> usize {
        git(
            &self.path,
            &["rev-list", "--count", &format!("refs/heads/{branch}")],
        )
        .trim()
        .parse()
        .expect("count")
    }

    /// True if every commit on `branch` has at most one parent (no merges).
    pub fn is_linear(&self, branch: &str) -> bool {
        git(
            &self.path,
            &["rev-list", "--parents", &format!("refs/heads/{branch}")],
        )
        .lines()
        .all(|line| line.split_whitespace().count() <= 2)
    }

    /// All branch names.
    pub fn branches(&self) -> Vec<String> {
        git(
            &self.path,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads/"],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Pushes a commit by somebody else to `branch` that writes `files`: what a
    /// concurrent pipeline would do. Returns the new tip.
    pub fn commit_files(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        let work = tempfile::Builder::new()
            .prefix("tagbump-other-writer-")
            .tempdir()
            .expect("tempdir");
        let url = self.file_url();
        git(
            work.path(),
            &["clone", "--quiet", "--branch", branch, &url, "w"],
        );
        let w = work.path().join("w");
        write_files(&w, files);
        git(&w, &["add", "--all"]);
        git(&w, &["commit", "--quiet", "-m", message]);
        git(&w, &["push", "--quiet", "origin", branch]);
        self.tip(branch).expect("tip after push")
    }

    /// Installs a `pre-receive` hook that prints `message` and rejects every push.
    pub fn reject_pushes_with(&self, message: &str) {
        let hook = self.path.join("hooks").join("pre-receive");
        std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir hooks");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho '{}' >&2\nexit 1\n",
                message.replace('\'', "")
            ),
        )
        .expect("write hook");
        make_executable(&hook);
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn wait_until_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("server on port {port} did not come up");
}

/// `git daemon` serving every repository under a directory over `git://`, with push
/// (`receive-pack`) enabled. Killed on drop.
pub struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    /// Starts the daemon for `root` (e.g. [`BareRepo::root`]) and waits until it accepts
    /// connections.
    pub fn start(root: &Path) -> GitDaemon {
        GitDaemon::start_with(root, &["--informative-errors", "--enable=receive-pack"])
    }

    /// A daemon as `git daemon --export-all` runs without further options: no pushes
    /// (`receive-pack` is off by default) and, unless `informative` (then
    /// `--informative-errors`), every refusal said as "access denied or repository not
    /// exported" (git-daemon(1)).
    pub fn start_read_only(root: &Path, informative: bool) -> GitDaemon {
        let extra: &[&str] = if informative {
            &["--informative-errors"]
        } else {
            &[]
        };
        GitDaemon::start_with(root, extra)
    }

    fn start_with(root: &Path, extra: &[&str]) -> GitDaemon {
        init();
        let port = free_port();
        let mut child = Command::new(&env().real_git)
            .args(["daemon", "--reuseaddr", "--export-all"])
            .args(extra)
            .args([
                &format!("--base-path={}", root.display()),
                "--listen=127.0.0.1",
                &format!("--port={port}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git daemon");
        wait_until_listening(port, &mut child);
        GitDaemon { child, port }
    }

    /// `git://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counters and knobs shared between a [`SmartHttpServer`] and its worker threads.
#[derive(Default)]
struct HttpState {
    /// `None`: no authentication required.
    token: Option<String>,
    root: PathBuf,
    requests: AtomicU64,
    unauthorized: AtomicU64,
    bytes_sent: AtomicU64,
    /// If non-zero: close the socket after reading this many body bytes of a
    /// `git-receive-pack` POST (fault injection).
    drop_push_after: AtomicUsize,
    /// How many of the next pushes `drop_push_after` applies to.
    drop_pushes: AtomicUsize,
    /// Fault injection: this many next pushes are carried out by `git http-backend`,
    /// then the connection is closed without a response (the push landed, the client
    /// cannot know).
    lose_push_responses: AtomicUsize,
    /// Fault injection: this many next connections are closed as soon as accepted.
    close_connections: AtomicUsize,
    /// If set: every request is answered `302 Found` to this base URL + the request
    /// target (a moved repository, or a hostile redirect).
    redirect_to: Mutex<Option<String>>,
    /// The decoded `user:password` of every `Authorization: Basic` header received.
    credentials_seen: Mutex<Vec<String>>,
    /// If set: the next receive-pack ref advertisement waits on this hold.
    hold_advertisement: Mutex<Option<Arc<Hold>>>,
    /// Connections being handled right now.
    in_flight: AtomicU64,
    stop: AtomicBool,
}

/// Smart HTTP git server: Basic auth (any username, password must equal the token;
/// otherwise 401 with `WWW-Authenticate: Basic realm="git"`) in front of
/// `git http-backend`. One request per connection (`Connection: close`). Stops on drop.
pub struct SmartHttpServer {
    state: Arc<HttpState>,
    port: u16,
    accept: Option<JoinHandle<()>>,
}

impl SmartHttpServer {
    /// Serves every repository under `root` at `http://127.0.0.1:<port>/<name>`,
    /// requiring Basic auth with password `token` for every request.
    pub fn start(root: &Path, token: &str) -> SmartHttpServer {
        Self::start_with(root, Some(token.to_string()))
    }

    /// Like [`SmartHttpServer::start`], but without authentication (a public repository
    /// that also accepts anonymous pushes).
    pub fn start_anonymous(root: &Path) -> SmartHttpServer {
        Self::start_with(root, None)
    }

    fn start_with(root: &Path, token: Option<String>) -> SmartHttpServer {
        init();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(HttpState {
            token,
            root: root.to_path_buf(),
            ..HttpState::default()
        });
        let accept_state = Arc::clone(&state);
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let to_close = &accept_state.close_connections;
                if to_close
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    drop(stream);
                    continue;
                }
                let st = Arc::clone(&accept_state);
                st.in_flight.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = handle_connection(stream, &st);
                    st.in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        SmartHttpServer {
            state,
            port,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Requests received so far (including rejected ones).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Connections being handled right now (0: every request so far has been answered,
    /// dropped, or failed, and every `git http-backend` it started has exited).
    pub fn in_flight(&self) -> u64 {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// The next receive-pack ref advertisement (`GET …/info/refs?service=git-receive-pack`,
    /// the first request of a push, before any object is sent) waits on `hold` before
    /// it is answered (see [`Hold`]); rejected, it is answered `403`.
    pub fn hold_next_push_advertisement(&self, hold: &Arc<Hold>) {
        *self.state.hold_advertisement.lock().expect("lock") = Some(Arc::clone(hold));
    }

    /// Requests answered with 401 so far.
    pub fn unauthorized(&self) -> u64 {
        self.state.unauthorized.load(Ordering::SeqCst)
    }

    /// Response body bytes sent so far (what clients fetched).
    pub fn bytes_sent(&self) -> u64 {
        self.state.bytes_sent.load(Ordering::SeqCst)
    }

    /// Fault injection: from now on, every push (`git-receive-pack` POST) has its
    /// connection closed after `bytes` bytes of the request body were read, before
    /// `git http-backend` sees anything. `0` turns it off.
    pub fn drop_pushes_after(&self, bytes: usize) {
        self.state.drop_push_after.store(bytes, Ordering::SeqCst);
        self.state.drop_pushes.store(usize::MAX, Ordering::SeqCst);
    }

    /// Fault injection: like [`SmartHttpServer::drop_pushes_after`], for the next `n`
    /// pushes only.
    pub fn drop_next_pushes_after(&self, n: usize, bytes: usize) {
        self.state.drop_push_after.store(bytes, Ordering::SeqCst);
        self.state.drop_pushes.store(n, Ordering::SeqCst);
    }

    /// Fault injection: the next `n` pushes are applied to the repository, then the
    /// connection is closed without an answer.
    pub fn lose_next_push_responses(&self, n: usize) {
        self.state.lose_push_responses.store(n, Ordering::SeqCst);
    }

    /// Answers every request with `302 Found` to `base` + the request's path and query.
    pub fn redirect_everything_to(&self, base: &str) {
        *self.state.redirect_to.lock().expect("lock") = Some(base.to_string());
    }

    /// The decoded `user:password` of every Basic `Authorization` header received.
    pub fn credentials_seen(&self) -> Vec<String> {
        self.state.credentials_seen.lock().expect("lock").clone()
    }

    /// Fault injection: the next `n` connections are closed right after they are
    /// accepted, before a byte is read (an overloaded server or a flaky network).
    pub fn close_next_connections(&self, n: usize) {
        self.state.close_connections.store(n, Ordering::SeqCst);
    }
}

impl Drop for SmartHttpServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in input.trim().bytes() {
        if c == b'=' {
            break;
        }
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn write_response(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// Reads a request body of `len` bytes (or chunked when `len` is `None`), stopping at
/// `limit` bytes if given. Returns the body and whether the limit cut it short.
fn read_body(
    reader: &mut BufReader<TcpStream>,
    len: Option<usize>,
    limit: Option<usize>,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut body = Vec::new();
    let cap = limit.unwrap_or(usize::MAX);
    match len {
        Some(n) => {
            let take = n.min(cap);
            body.resize(take, 0);
            reader.read_exact(&mut body)?;
            Ok((body, take < n))
        }
        None => loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                return Ok((body, false));
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
            body.extend_from_slice(&chunk);
            if body.len() >= cap {
                body.truncate(cap);
                return Ok((body, true));
            }
        },
    }
}

fn handle_connection(stream: TcpStream, state: &HttpState) -> std::io::Result<()> {
    if state.stop.load(Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    state.requests.fetch_add(1, Ordering::SeqCst);
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers: HashMap<String, String> = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }

    if let Some(raw) = headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
    {
        state
            .credentials_seen
            .lock()
            .expect("lock")
            .push(String::from_utf8_lossy(&raw).into_owned());
    }
    let redirect = state.redirect_to.lock().expect("lock").clone();
    if let Some(base) = redirect {
        return write_response(
            &mut out,
            "302 Found",
            &[("Location".into(), format!("{base}{target}"))],
            b"moved\n",
        );
    }

    let authorized = state.token.is_none()
        || headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(base64_decode)
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|creds| {
                creds
                    .split_once(':')
                    .map(|(_, pass)| Some(pass) == state.token.as_deref())
            })
            .unwrap_or(false);
    let user = headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|creds| creds.split_once(':').map(|(u, _)| u.to_string()))
        .unwrap_or_default();
    if !authorized {
        state.unauthorized.fetch_add(1, Ordering::SeqCst);
        return write_response(
            &mut out,
            "401 Unauthorized",
            &[("WWW-Authenticate".into(), "Basic realm=\"git\"".into())],
            b"authentication required\n",
        );
    }

    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    if method == "GET"
        && path.ends_with("/info/refs")
        && query.split('&').any(|kv| kv == "service=git-receive-pack")
    {
        let hold = state.hold_advertisement.lock().expect("lock").take();
        if let Some(hold) = hold {
            if !hold.wait_here() {
                return write_response(&mut out, "403 Forbidden", &[], b"push refused\n");
            }
        }
    }
    if headers
        .get("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let content_length = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let has_body = content_length.is_some() || chunked;
    let drop_after = state.drop_push_after.load(Ordering::SeqCst);
    let is_push = method == "POST" && path.ends_with("/git-receive-pack");
    let limit = (is_push
        && drop_after > 0
        && state
            .drop_pushes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok())
    .then_some(drop_after);
    let body = if has_body {
        let (body, cut) = read_body(
            &mut reader,
            if chunked { None } else { content_length },
            limit,
        )?;
        if cut || limit.is_some() {
            // Fault injection: vanish in the middle of the push.
            let _ = out.shutdown(Shutdown::Both);
            return Ok(());
        }
        body
    } else {
        Vec::new()
    };

    let mut cgi = Command::new(&env().real_git);
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &state.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", &path)
        .env("QUERY_STRING", &query)
        .env("REMOTE_USER", if user.is_empty() { "git" } else { &user })
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = headers.get("content-type") {
        cgi.env("CONTENT_TYPE", ct);
    }
    if let Some(enc) = headers.get("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", enc);
    }
    if let Some(proto) = headers.get("git-protocol") {
        cgi.env("HTTP_GIT_PROTOCOL", proto);
    }
    let mut child = cgi.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut output)?;
    let _ = feeder.join();
    child.wait()?;

    if is_push
        && state
            .lose_push_responses
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        // Fault injection: the push was applied; the answer never arrives.
        let _ = out.shutdown(Shutdown::Both);
        return Ok(());
    }
    let (head, body) = split_cgi(&output);
    let mut status = "200 OK".to_string();
    let mut response_headers = Vec::new();
    for line in String::from_utf8_lossy(head).lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("status") {
                status = value.trim().to_string();
            } else {
                response_headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
    }
    state
        .bytes_sent
        .fetch_add(body.len() as u64, Ordering::SeqCst);
    write_response(&mut out, &status, &response_headers, body)
}

fn split_cgi(output: &[u8]) -> (&[u8], &[u8]) {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(pos) = output.windows(len).position(|w| w == sep) {
            return (&output[..pos], &output[pos + len..]);
        }
    }
    (output, &[])
}
