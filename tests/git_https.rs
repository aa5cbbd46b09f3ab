//! End-to-end specification of HTTPS remotes signed by a private CA (`--ca-bundle`,
//! `TAGBUMP_CA_BUNDLE`): the real `tagbump` binary talks to a real TLS server on
//! 127.0.0.1.
//!
//! Each test generates its own certificate authority and a server certificate for
//! `127.0.0.1` and `localhost`, and puts a TLS-terminating proxy (rustls) in front of
//! the harness's smart HTTP git server (`git http-backend` behind Basic auth). The
//! plain HTTP port is never given to `tagbump`: everything it does goes through TLS.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use support::cli::{self, home, run, Run};
use support::git_server::{self, BareRepo, SmartHttpServer};
use support::test_ca::TestCa;
use tempfile::TempDir;

/// The token the git server accepts; distinctive so that a leak is easy to spot.
const TOKEN: &str = "tok-SECRET-https-4e1b";

const VALUES: &str = "\
image:
  repository: ghcr.io/acme/api
  tag: v1
";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
";

// ---------------------------------------------------------------- private CA

/// A throw-away certificate authority and a server certificate it signed.
struct Pki {
    /// Holds `ca.pem`.
    dir: TempDir,
    /// The CA certificate (PEM): what `--ca-bundle` points to.
    ca_pem: PathBuf,
    /// The server side: the leaf certificate (SANs `127.0.0.1`, `localhost`) and its key.
    server: Arc<ServerConfig>,
}

impl Pki {
    fn generate() -> Pki {
        let ca = TestCa::new("tagbump test CA");
        let leaf = ca.localhost_server();

        let dir = tempfile::Builder::new()
            .prefix("tagbump-https-ca-")
            .tempdir()
            .expect("tempdir");
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca.cert.pem()).expect("write ca.pem");

        let chain: Vec<CertificateDer<'static>> = vec![leaf.cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.serialize_der()));
        let server =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server certificate accepted by rustls");
        Pki {
            dir,
            ca_pem,
            server: Arc::new(server),
        }
    }
}

// ---------------------------------------------------------------- TLS proxy

/// At most this many proxied connections at a time; further ones wait to be accepted.
const MAX_CONNECTIONS: usize = 16;
/// How long one side of a connection is waited for before the other side is looked at.
const POLL: Duration = Duration::from_millis(5);

/// Counters shared between the proxy and its connection threads.
#[derive(Default)]
struct ProxyState {
    stop: AtomicBool,
    /// Connections whose TLS handshake completed.
    handshakes: AtomicU64,
    /// Connections that ended without a completed handshake (e.g. the client refused
    /// the certificate).
    failed_handshakes: AtomicU64,
    active: Mutex<usize>,
    slot_freed: Condvar,
}

/// Accepts TLS on `127.0.0.1:<port>` with the [`Pki`]'s server certificate and forwards
/// the decrypted bytes to a plain TCP backend, one thread per connection (at most
/// [`MAX_CONNECTIONS`]). Stops, and joins every thread, on drop.
struct TlsProxy {
    state: Arc<ProxyState>,
    port: u16,
    accept: Option<JoinHandle<()>>,
}

impl TlsProxy {
    fn start(config: Arc<ServerConfig>, backend_port: u16) -> TlsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(ProxyState::default());
        let accept_state = Arc::clone(&state);
        let accept = std::thread::spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            for stream in listener.incoming() {
                if accept_state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = stream else { continue };
                {
                    let mut active = accept_state.active.lock().expect("lock");
                    while *active >= MAX_CONNECTIONS {
                        active = accept_state.slot_freed.wait(active).expect("wait");
                    }
                    *active += 1;
                }
                let st = Arc::clone(&accept_state);
                let config = Arc::clone(&config);
                workers.retain(|w| !w.is_finished());
                workers.push(std::thread::spawn(move || {
                    proxy_connection(client, backend_port, config, &st);
                    *st.active.lock().expect("lock") -= 1;
                    st.slot_freed.notify_one();
                }));
            }
            for worker in workers {
                let _ = worker.join();
            }
        });
        TlsProxy {
            state,
            port,
            accept: Some(accept),
        }
    }

    /// `https://127.0.0.1:<port>/<name>`.
    fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }

    fn handshakes(&self) -> u64 {
        self.state.handshakes.load(Ordering::SeqCst)
    }

    fn failed_handshakes(&self) -> u64 {
        self.state.failed_handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Shuttles bytes both ways between a TLS client and the plain backend until both
/// sides are done, either fails, or the proxy stops. `std` has no `select`, so each
/// side is read with a short timeout in turn; writes block.
fn proxy_connection(
    client: TcpStream,
    backend_port: u16,
    config: Arc<ServerConfig>,
    state: &ProxyState,
) {
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let Ok(mut backend) = TcpStream::connect(("127.0.0.1", backend_port)) else {
        return;
    };
    if client.set_read_timeout(Some(POLL)).is_err() || backend.set_read_timeout(Some(POLL)).is_err()
    {
        return;
    }
    let mut tls = StreamOwned::new(conn, client);
    let mut buf = vec![0u8; 64 * 1024];
    let mut client_done = false;
    let mut backend_done = false;
    let mut handshaken = false;
    // The backend closes last (it answers, then hangs up), so its end ends the loop.
    while !backend_done && !state.stop.load(Ordering::SeqCst) {
        if !client_done {
            match tls.read(&mut buf) {
                Ok(0) => {
                    client_done = true;
                    let _ = backend.shutdown(Shutdown::Write);
                }
                Ok(n) => {
                    if backend.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(_) => break,
            }
            if !handshaken && !tls.conn.is_handshaking() {
                handshaken = true;
                state.handshakes.fetch_add(1, Ordering::SeqCst);
            }
        }
        if handshaken && !backend_done {
            match backend.read(&mut buf) {
                Ok(0) => {
                    backend_done = true;
                    tls.conn.send_close_notify();
                    if tls.flush().is_err() {
                        break;
                    }
                    // The server answers one request per connection: once it closed,
                    // nothing the client still sends can be delivered.
                    client_done = true;
                }
                Ok(n) => {
                    if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                        break;
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(_) => break,
            }
        }
    }
    if !handshaken {
        state.failed_handshakes.fetch_add(1, Ordering::SeqCst);
    }
    let _ = tls.sock.shutdown(Shutdown::Both);
    let _ = backend.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------- fixture

/// A config repository served over HTTPS (token required) by a server whose
/// certificate only the fixture's private CA vouches for.
struct HttpsRemote {
    repo: BareRepo,
    // Field order = drop order: the proxy stops before its backend.
    proxy: TlsProxy,
    server: SmartHttpServer,
    pki: Pki,
    url: String,
    seed_tip: String,
}

impl HttpsRemote {
    fn start() -> HttpsRemote {
        let repo = BareRepo::new_with(
            &[
                ("apps/api/values.yaml", VALUES),
                ("apps/worker/deployment.yaml", DEPLOYMENT),
                ("README.md", "config repo\n"),
            ],
            "main",
        );
        let server = SmartHttpServer::start(repo.root(), TOKEN);
        let pki = Pki::generate();
        let proxy = TlsProxy::start(Arc::clone(&pki.server), backend_port(&server));
        let url = proxy.url(repo.name());
        let seed_tip = repo.tip("main").expect("seed commit");
        HttpsRemote {
            repo,
            proxy,
            server,
            pki,
            url,
            seed_tip,
        }
    }

    /// The remote's `main` has exactly one commit on top of the seed, changing
    /// exactly `files`.
    fn assert_one_new_commit_changing(&self, files: &[&str]) {
        let tip = self.repo.tip("main").expect("tip");
        assert_ne!(tip, self.seed_tip, "nothing was pushed");
        assert_eq!(
            git_server::git(self.repo.path(), &["rev-parse", "main^"]).trim(),
            self.seed_tip,
            "the new commit sits directly on the seed"
        );
        assert_eq!(self.repo.commit_count("main"), 2);
        let mut changed = self.repo.changed_in_tip("main");
        changed.sort();
        assert_eq!(changed, files);
    }

    /// `set apps/api/values.yaml image.tag=v2` landed: that one value changed, in one
    /// commit on the seed.
    fn assert_api_tag_moved_to_v2(&self) {
        assert_eq!(
            self.repo
                .read_file("main", "apps/api/values.yaml")
                .as_deref(),
            Some(VALUES.replace("tag: v1", "tag: v2").as_str())
        );
        self.assert_one_new_commit_changing(&["apps/api/values.yaml"]);
    }

    fn assert_unchanged(&self) {
        assert_eq!(
            self.repo.tip("main").as_deref(),
            Some(self.seed_tip.as_str())
        );
        assert_eq!(self.repo.commit_count("main"), 1);
    }
}

/// The plain HTTP port of the harness server (from its URL).
fn backend_port(server: &SmartHttpServer) -> u16 {
    server
        .url("")
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .expect("port in the server URL")
}

// ---------------------------------------------------------------- running tagbump

/// The shared clean-environment `tagbump` command, with the token.
fn tagbump(home: &Path) -> Command {
    let mut cmd = cli::tagbump(home);
    cmd.env("TAGBUMP_TOKEN", TOKEN);
    cmd
}

/// The token never shows up in what tagbump printed.
trait NoToken {
    fn assert_no_token(&self) -> &Self;
}

impl NoToken for Run {
    fn assert_no_token(&self) -> &Run {
        assert!(
            !self.stdout.contains(TOKEN) && !self.stderr.contains(TOKEN),
            "the token leaked\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The `http.sslCAInfo` setting handed to a `git` spawned by `tagbump`, for `ca`.
fn ssl_ca_info(ca: &Path) -> String {
    format!("http.sslCAInfo={}", ca.display())
}

/// Every `git` command line that was given `ca` as its CA bundle.
fn git_calls_trusting(ca: &Path) -> Vec<String> {
    let needle = ssl_ca_info(ca);
    git_server::spawned_git_argv()
        .lines()
        .filter(|line| line.contains(&needle))
        .map(str::to_string)
        .collect()
}

fn assert_pushed_through_git_trusting(ca: &Path) {
    let calls = git_calls_trusting(ca);
    assert!(
        calls.iter().any(|c| c.contains(" clone ")),
        "the clone ran with {}: {calls:#?}",
        ssl_ca_info(ca)
    );
    assert!(
        calls.iter().any(|c| c.contains(" push ")),
        "the push ran with {}: {calls:#?}",
        ssl_ca_info(ca)
    );
}

// ---------------------------------------------------------------- specification

#[test]
fn set_over_https_with_ca_bundle_flag_commits_and_pushes_through_tls() {
    let remote = HttpsRemote::start();
    let home = home();

    run(tagbump(home.path())
        .args(["set", "apps/api/values.yaml", "image.tag=v2"])
        .args(["--repo", &remote.url])
        .arg("--ca-bundle")
        .arg(&remote.pki.ca_pem))
    .assert_code(0)
    .assert_no_token();

    remote.assert_api_tag_moved_to_v2();
    assert_pushed_through_git_trusting(&remote.pki.ca_pem);
    assert!(
        remote.proxy.handshakes() > 0,
        "the clone and the push went through TLS"
    );
    assert_eq!(remote.proxy.failed_handshakes(), 0);
}

/// Runs `tagbump <args> --repo <url>` without any CA bundle and checks that it fails
/// on certificate verification: exit 1, the message says so and names the remote,
/// not a single HTTP request (so neither the token) reached the git server, and the
/// remote is unchanged.
fn assert_refused_without_ca(args: &[&str]) {
    let remote = HttpsRemote::start();
    let home = home();

    let out = run(tagbump(home.path())
        .args(args)
        .args(["--repo", &remote.url]));
    out.assert_code(1).assert_no_token();

    let stderr = out.stderr.to_ascii_lowercase();
    assert!(
        stderr.contains("certificate") || stderr.contains("ssl"),
        "the error names the certificate problem:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&remote.url),
        "the error names the remote:\n{}",
        out.stderr
    );
    assert_eq!(
        remote.server.requests(),
        0,
        "no request got past the TLS handshake"
    );
    remote.assert_unchanged();
}

#[test]
fn https_without_the_ca_fails_on_certificate_verification_and_leaves_the_remote_alone() {
    // With paths: a sparse clone, made by the git binary.
    assert_refused_without_ca(&["set", "apps/api/values.yaml", "image.tag=v2"]);
}

#[test]
fn https_without_the_ca_fails_on_certificate_verification_in_a_full_clone_too() {
    // Without paths and without a CA bundle: the in-process (gix) clone.
    assert_refused_without_ca(&["image", "ghcr.io/acme/api:1.5.0"]);
}

#[test]
fn ca_bundle_from_the_environment_works_like_the_flag() {
    let remote = HttpsRemote::start();
    let home = home();

    run(tagbump(home.path())
        .args(["set", "apps/api/values.yaml", "image.tag=v2"])
        .args(["--repo", &remote.url])
        .env("TAGBUMP_CA_BUNDLE", &remote.pki.ca_pem))
    .assert_code(0)
    .assert_no_token();

    remote.assert_api_tag_moved_to_v2();
    assert_pushed_through_git_trusting(&remote.pki.ca_pem);
}

#[test]
fn relative_ca_bundle_path_is_resolved_against_the_working_directory() {
    let remote = HttpsRemote::start();
    let home = home();

    run(tagbump(home.path())
        .current_dir(remote.pki.dir.path())
        .args(["set", "apps/api/values.yaml", "image.tag=v2"])
        .args(["--repo", &remote.url, "--ca-bundle", "ca.pem"]))
    .assert_code(0)
    .assert_no_token();

    remote.assert_api_tag_moved_to_v2();
    // git runs in a temporary directory, so it must be handed the absolute path.
    assert_pushed_through_git_trusting(&remote.pki.ca_pem);
}

#[test]
fn image_bump_without_paths_makes_a_full_clone_over_https_with_the_ca() {
    let remote = HttpsRemote::start();
    let home = home();

    run(tagbump(home.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", &remote.url])
        .arg("--ca-bundle")
        .arg(&remote.pki.ca_pem))
    .assert_code(0)
    .assert_no_token();

    assert_eq!(
        remote
            .repo
            .read_file("main", "apps/worker/deployment.yaml")
            .as_deref(),
        Some(DEPLOYMENT.replace("api:1.4.2", "api:1.5.0").as_str())
    );
    assert_eq!(
        remote
            .repo
            .read_file("main", "apps/api/values.yaml")
            .as_deref(),
        Some(VALUES.replace("tag: v1", "tag: 1.5.0").as_str())
    );
    remote.assert_one_new_commit_changing(&["apps/api/values.yaml", "apps/worker/deployment.yaml"]);
    let calls = git_calls_trusting(&remote.pki.ca_pem);
    let clone = calls
        .iter()
        .find(|c| c.contains(" clone "))
        .unwrap_or_else(|| panic!("a git clone trusting the CA: {calls:#?}"));
    assert!(
        !clone.contains("--filter"),
        "without paths the clone is a full (not partial) clone: {clone}"
    );
    assert_pushed_through_git_trusting(&remote.pki.ca_pem);
}
