//! A fake GitHub backed by a real bare repository ([`BareRepo`]).
//!
//! [`FakeGitHub::start`] serves one repository (`owner/name`) on a free loopback
//! port, exactly the endpoints tagbump's API mode uses, on top of git:
//!
//! - REST `GET /repos/{o}/{r}`, `git/ref/heads/{b}`, `git/commits/{sha}`,
//!   `git/trees/{sha}?recursive=1`, `git/blobs/{sha}`, `contents/{path}?ref=`
//!   (files over [`FakeGitHub::set_contents_limit`] come without content, like
//!   GitHub's 1 MB limit), `POST git/refs`, `PATCH git/refs/heads/{b}`; also under
//!   `/api/v3` (GitHub Enterprise Server).
//! - GraphQL at `/graphql` and `/api/graphql`: `createCommitOnBranch` builds the
//!   commit with git plumbing and moves the branch with `git update-ref B NEW
//!   EXPECTED` under a lock: a real compare-and-swap. A stale `expectedHeadOid` is
//!   answered like GitHub: HTTP 200, `data: null`, an error of type `STALE_DATA`,
//!   `Expected branch to point to "<oid>" but it did not.  Pull and try again.`
//!   `updateRefs` moves refs with `beforeOid` as the old value of `update-ref`.
//! - Pull requests ([`pulls`]): list / create / update, labels, reviewers, assignees,
//!   comments and GraphQL auto-merge, on the repository's real branches; an open pull
//!   request whose head no longer has commits beyond its base is closed, like GitHub
//!   does on such a push. So `--pr --via api` runs against this one server.
//!
//!   `repository(owner:, name:) { fN: object(expression: "REV:PATH") { ... on Blob
//!   { text isBinary isTruncated byteSize } } }` reads blobs with `git cat-file`
//!   (see `objects.rs`: binary = NUL or not UTF-8, text cut over 512 KiB).
//!
//! Every request needs `Authorization: Bearer TOKEN` or `token TOKEN` (else 401
//! "Bad credentials") and is recorded ([`Recorded`]). One-shot responses can be
//! injected (429 with `Retry-After`, 5xx, a redirect), trees truncated, and
//! `updateRefs` switched off (older Enterprise Server). GitHub App authentication
//! ([`FakeGitHub::enable_app`], [`app`]) verifies the app's JWT with its public key.
//! Each request is served on its
//! own thread, so concurrent clients really race.

#[path = "fake_github/app.rs"]
pub mod app;
#[path = "fake_github/git.rs"]
pub mod git;
#[path = "fake_github/objects.rs"]
mod objects;
#[path = "fake_github/pulls.rs"]
pub mod pulls;
#[path = "fake_github/routes.rs"]
mod routes;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::Value;

use self::git::Git;
use super::forge_server::FakeResponse;
use super::git_server::BareRepo;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query as sent.
    pub url: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The body as JSON (`Null` if empty or not JSON).
    pub body: Value,
}

impl Recorded {
    /// `METHOD path` (without the query).
    pub fn line(&self) -> String {
        let path = self.url.split('?').next().unwrap_or(&self.url);
        format!("{} {path}", self.method)
    }
}

struct Injection {
    method: String,
    path_contains: String,
    response: FakeResponse,
}

/// Something another writer does just before the fake serves a request.
struct Meanwhile {
    method: String,
    path_contains: String,
    body_contains: String,
    action: Box<dyn FnOnce() + Send>,
}

/// What the fake knows and how it misbehaves.
pub(crate) struct State {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    pub(crate) full_name: String,
    pub(crate) token: String,
    pub(crate) requests: Vec<Recorded>,
    injections: VecDeque<Injection>,
    pub(crate) truncate_trees: bool,
    pub(crate) verified: bool,
    pub(crate) update_refs: bool,
    pub(crate) contents_limit: u64,
    pub(crate) app: Option<app::FakeApp>,
    pub(crate) pulls: pulls::Pulls,
    meanwhile: Vec<Meanwhile>,
}

/// Shared between the accept loop and the request threads.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// Held while a branch is checked and moved.
    pub(crate) ref_lock: Mutex<()>,
    pub(crate) git: Git,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake GitHub. Stops when dropped.
pub struct FakeGitHub {
    url: String,
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeGitHub {
    /// Serves `repo` as `full_name` (`owner/name`), accepting `token`.
    pub fn start(repo: &BareRepo, full_name: &str, token: &str) -> FakeGitHub {
        FakeGitHub::start_at(repo.path(), full_name, token)
    }

    /// Serves the bare repository at `path` (e.g. one built by a benchmark) as
    /// `full_name`, accepting `token`.
    pub fn start_at(path: &Path, full_name: &str, token: &str) -> FakeGitHub {
        let server = match tiny_http::Server::http("127.0.0.1:0") {
            Ok(server) => Arc::new(server),
            Err(e) => panic!("cannot start the fake GitHub: {e}"),
        };
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .unwrap_or_else(|| panic!("the fake GitHub is not on an IP socket"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                url: format!("http://127.0.0.1:{port}"),
                full_name: full_name.to_string(),
                token: token.to_string(),
                requests: Vec::new(),
                injections: VecDeque::new(),
                truncate_trees: false,
                verified: true,
                update_refs: true,
                contents_limit: 1024 * 1024,
                app: None,
                pulls: pulls::Pulls::default(),
                meanwhile: Vec::new(),
            }),
            ref_lock: Mutex::new(()),
            git: Git::new(path),
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let server = server.clone();
            let shared = shared.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || loop {
                match server.recv() {
                    Ok(request) => {
                        let shared = shared.clone();
                        std::thread::spawn(move || serve(&shared, request));
                    }
                    Err(_) if stopping.load(Ordering::SeqCst) => break,
                    Err(_) => continue,
                }
            })
        };
        FakeGitHub {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            server,
            stopping,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, also the github.com-style API base.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A GitHub Enterprise Server style API base: `<url>/api/v3`.
    pub fn enterprise_api_base(&self) -> String {
        format!("{}/api/v3", self.url)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// `METHOD path` of every request so far.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Recorded::line).collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Queues a one-shot response for the next request with `method` (or `*`) whose
    /// path contains `path_contains`; it is answered before authentication.
    pub fn inject(&self, method: &str, path_contains: &str, response: FakeResponse) {
        self.shared.lock().injections.push_back(Injection {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            response,
        });
    }

    /// Runs `action` once, just before serving the next request with `method` whose
    /// path contains `path_contains` and whose body contains `body_contains` (e.g. a
    /// GraphQL mutation's name): another writer acting between a client's look and its
    /// write.
    pub fn meanwhile(
        &self,
        method: &str,
        path_contains: &str,
        body_contains: &str,
        action: impl FnOnce() + Send + 'static,
    ) {
        self.shared.lock().meanwhile.push(Meanwhile {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            body_contains: body_contains.to_string(),
            action: Box::new(action),
        });
    }

    /// A one-shot 429 with `Retry-After: secs`.
    pub fn inject_rate_limit(&self, method: &str, path_contains: &str, secs: u64) {
        let response = FakeResponse::message(429, "API rate limit exceeded")
            .with_header("Retry-After", &secs.to_string());
        self.inject(method, path_contains, response);
    }

    /// A one-shot server error.
    pub fn inject_server_error(&self, method: &str, path_contains: &str, status: u16) {
        self.inject(
            method,
            path_contains,
            FakeResponse::message(status, "Server Error"),
        );
    }

    /// A one-shot `302 Found` to `location`.
    pub fn inject_redirect(&self, method: &str, path_contains: &str, location: &str) {
        let response = FakeResponse::message(302, "Found").with_header("Location", location);
        self.inject(method, path_contains, response);
    }

    /// Injected responses not used yet.
    pub fn pending_injections(&self) -> usize {
        self.shared.lock().injections.len()
    }

    /// Tree listings answer half their entries with `truncated: true`.
    pub fn truncate_trees(&self, on: bool) {
        self.shared.lock().truncate_trees = on;
    }

    /// Whether created commits are reported as signed (`signature.isValid`).
    pub fn set_verified(&self, on: bool) {
        self.shared.lock().verified = on;
    }

    /// Whether GraphQL knows `updateRefs` (older Enterprise Servers do not).
    pub fn set_update_refs(&self, on: bool) {
        self.shared.lock().update_refs = on;
    }

    /// Serves GitHub App authentication (see [`app`]): the JWT of `app_id`, verified
    /// with `public_key_der` (PKCS#1 `RSAPublicKey`), gets installation
    /// `installation_id` of the repository and, from its `access_tokens`, the fake's one
    /// accepted token.
    pub fn enable_app(&self, app_id: u64, public_key_der: Vec<u8>, installation_id: u64) {
        self.shared.lock().app = Some(app::FakeApp {
            app_id,
            public_key_der,
            installation_id,
        });
    }

    /// Every pull request, by number (see [`pulls`]).
    pub fn pulls(&self) -> Vec<pulls::FakePull> {
        self.shared.lock().pulls.all()
    }

    /// Adds an open pull request from branch `head` into `base` straight to the fake's
    /// state (no HTTP call), as if opened earlier; its number.
    pub fn add_open_pull(&self, head: &str, base: &str, title: &str) -> u64 {
        self.shared.lock().pulls.add_open(head, base, title)
    }

    /// Opens pull requests from new branches `heads` into `base`, straight in the fake's
    /// state and the repository (no HTTP call): each branch holds one commit on top of
    /// `base`, as tagbump leaves a bot branch. Their numbers.
    pub fn seed_open_pulls(&self, heads: &[String], base: &str) -> Vec<u64> {
        let git = &self.shared.git;
        let tip = git
            .tip(base)
            .unwrap_or_else(|| panic!("no branch {base} to seed pull requests on"));
        let commit = git
            .empty_commit_on(&tip, "an older bump")
            .unwrap_or_else(|| panic!("cannot make a commit on {base}"));
        git.create_branches(heads, &commit)
            .unwrap_or_else(|e| panic!("cannot create the branches: {e}"));
        heads
            .iter()
            .map(|head| self.add_open_pull(head, base, "an older bump"))
            .collect()
    }

    /// Pull requests have nothing left to wait for: auto-merge is refused as "clean
    /// status" and "Merge a pull request" succeeds (see [`pulls`]).
    pub fn set_mergeable_now(&self, on: bool) {
        self.shared.lock().pulls.mergeable_now = on;
    }

    /// From now on, whenever `base` has moved since GitHub last computed a pull
    /// request's mergeability (for a start: since now), it recomputes it in the
    /// background: the next `steps` reads of that pull request ("Get a pull request":
    /// `mergeable: null`) and merges ("Merge a pull request": 405 `Base branch was
    /// modified. Review and try the merge again.`) happen while it runs (see
    /// [`pulls`]).
    pub fn recompute_mergeability_after_base_moves(&self, base: &str, steps: u32) {
        let tip = self.shared.git.tip(base).unwrap_or_default();
        self.shared
            .lock()
            .pulls
            .recompute
            .insert(base.to_string(), (tip, steps));
    }

    /// Files larger than this come from `contents/` without content.
    pub fn set_contents_limit(&self, bytes: u64) {
        self.shared.lock().contents_limit = bytes;
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_string();
    let authorization = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let mut raw = String::new();
    let _ = request.as_reader().read_to_string(&mut raw);
    let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let recorded = Recorded {
        method: method.clone(),
        url: url.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
    };
    let meanwhile = {
        let mut state = shared.lock();
        let path = url.split('?').next().unwrap_or(&url);
        state
            .meanwhile
            .iter()
            .position(|m| {
                m.method.eq_ignore_ascii_case(&method)
                    && path.contains(&m.path_contains)
                    && raw.contains(&m.body_contains)
            })
            .map(|i| state.meanwhile.remove(i))
    };
    if let Some(meanwhile) = meanwhile {
        (meanwhile.action)();
    }
    let injected = {
        let mut state = shared.lock();
        state.requests.push(recorded);
        let path = url.split('?').next().unwrap_or(&url);
        state
            .injections
            .iter()
            .position(|i| {
                (i.method == "*" || i.method.eq_ignore_ascii_case(&method))
                    && path.contains(&i.path_contains)
            })
            .and_then(|i| state.injections.remove(i))
    };
    let path = url.split('?').next().unwrap_or(&url);
    let response = match injected {
        Some(injection) => injection.response,
        None => match app::route(shared, &method, path, authorization.as_deref(), &body) {
            Some(response) => response,
            None => {
                let token = shared.lock().token.clone();
                let accepted = authorization.as_deref().is_some_and(|value| {
                    value == format!("Bearer {token}") || value == format!("token {token}")
                });
                if accepted {
                    let response = pulls::route(shared, &method, &url, &body)
                        .unwrap_or_else(|| routes::route(shared, &method, &url, &body));
                    pulls::close_emptied(shared);
                    response
                } else {
                    FakeResponse::json(
                        401,
                        serde_json::json!({
                            "message": "Bad credentials",
                            "documentation_url": "https://docs.github.com/rest",
                            "status": "401",
                        }),
                    )
                }
            }
        },
    };
    let mut reply =
        tiny_http::Response::from_string(response.body).with_status_code(response.status);
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    headers.extend(response.headers);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            reply.add_header(header);
        }
    }
    let _ = request.respond(reply);
}
