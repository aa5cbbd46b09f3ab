//! A fake GitHub / GitLab REST API on `127.0.0.1` for tests.
//!
//! [`ForgeServer::github`] and [`ForgeServer::gitlab`] start a `tiny_http`
//! server on a free loopback port in a background thread. Every request is
//! recorded ([`RecordedRequest`]: method, path + query, lower-cased headers,
//! body) and answered by:
//!
//! 1. the first queued [`ForgeServer::inject`]ed response whose method and
//!    path match (each injected response is used once), otherwise
//! 2. stateful default handlers implementing the documented endpoints:
//!    pull/merge requests live in memory ([`FakeChange`]), numbers are
//!    assigned from 1, lists filter by head / source branch, base / target
//!    branch and state, and creating a duplicate for the same head answers
//!    like the real forge (GitHub 422 "A pull request already exists",
//!    GitLab 409 "Another open merge request already exists").
//!
//! The forges' rules for pull/merge requests that tagbump must follow (issue 13), each
//! answered as the forge's documentation says:
//!
//! - GitHub "Request reviewers for a pull request": requesting the author is 422
//!   `Review cannot be requested from pull request author.` and requests nobody.
//! - GitHub GraphQL `enablePullRequestAutoMerge` on a pull request that is already
//!   mergeable ([`ForgeServer::set_mergeable_now`]): `Pull request is in clean status`;
//!   a stale `expectedHeadOid` is refused. "Merge a pull request" (`PUT …/merge`): 409
//!   `Head branch was modified. Review and try the merge again.` for a `sha` that is not
//!   the head, 405 `Pull Request is not mergeable` unless mergeable.
//! - GitHub "Get a pull request" carries `commits`; "Delete a reference" (`DELETE
//!   …/git/refs/heads/B`, 204; 422 `Reference does not exist`).
//! - GitHub "Rate limits for the REST API" › "About secondary rate limits": see
//!   [`FakeResponse::github_secondary_limit`].
//! - GitLab "Merge requests API" › "Merge a merge request": `auto_merge` from 17.11
//!   (`GET /version`, [`ForgeServer::set_gitlab_version`]; older versions ignore it as an
//!   unknown parameter and merge at once), `merge_when_pipeline_succeeds` before; 409
//!   `SHA does not match HEAD of source branch` for a stale `sha`; 405 `405 Method Not
//!   Allowed` while mergeability is still being computed right after creation
//!   ([`ForgeServer::set_not_mergeable_for`], gitlab-org/gitlab#353984); without a
//!   pipeline ([`ForgeServer::set_pipeline`]) auto-merge merges at once. "List merge
//!   request commits" and "Delete repository branch" (204).
//! - GitLab "CI/CD job token" › "Job token access": a job token is read from `JOB-TOKEN`
//!   only, and the merge request and user endpoints are not among those it may use:
//!   401 `{"message":"401 Unauthorized"}` ([`ForgeServer::set_gitlab_tokens`]).
//! - Lists are served in pages, newest first ([`pages`]): GitHub "List pull requests"
//!   answers `pull-request-simple` objects (no `merged`, `mergeable`, `commits`, …; those
//!   are only in "Get a pull request") with `Link` pages under `/repositories/{id}/pulls`;
//!   GitLab "List merge requests" offset pages with `x-next-page` and `Link`.
//!
//! Every request needs the token the server was started with (after injected answers,
//! which come first): GitHub `Authorization: Bearer TOKEN` or `token TOKEN`, else 401
//! `{"message":"Bad credentials","documentation_url":…,"status":"401"}` ("Troubleshooting
//! the REST API" › "401 Bad credentials"); GitLab `PRIVATE-TOKEN: TOKEN`, else 401
//! `{"message":"401 Unauthorized"}` ("REST API" › "Authentication"). Tests of what
//! happens without authentication opt out with [`ForgeServer::accept_any_token`].
//!
//! Request bodies are recorded as JSON. A form-encoded body (the `gitlab` crate
//! sends `application/x-www-form-urlencoded`) is turned into a JSON object of
//! strings, with `key[]` entries collected into an array under `key`.
//!
//! Only std, `tiny_http` and `serde_json` are used, so any test crate can
//! include this file.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{json, Map, Value};

#[path = "forge_server/github.rs"]
mod github;
#[path = "forge_server/github_rules.rs"]
pub mod github_rules;
#[path = "forge_server/gitlab.rs"]
mod gitlab;
#[path = "forge_server/pages.rs"]
pub mod pages;

use self::github::github;
#[allow(unused_imports)] // used by the fake GitHub of `fake_github`, not by every test crate
pub use self::github::github_user_json;
use self::gitlab::gitlab;
#[path = "forge_server/silent.rs"]
mod silent;
#[allow(unused_imports)] // not every test crate hangs an API host
pub use self::silent::SilentServer;

/// Which API the server imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// GitHub REST v3 at the server root, plus `POST /graphql`.
    GitHub,
    /// GitLab REST v4 under `/api/v4`.
    GitLab,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query exactly as sent.
    pub url: String,
    /// The path part of `url`, still percent-encoded.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (see the module docs for form bodies); `Null` when empty.
    pub body: Value,
    /// The body as sent.
    pub raw_body: String,
}

impl RecordedRequest {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name, decoded.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `"METHOD path"`, handy for asserting on the sequence of calls.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A canned response.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`Content-Type: application/json` is always sent).
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl FakeResponse {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> FakeResponse {
        FakeResponse {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// A `{"message": …}` error response, the shape both forges use.
    pub fn message(status: u16, message: &str) -> FakeResponse {
        FakeResponse::json(status, json!({ "message": message }))
    }

    /// GitHub's secondary rate limit ("Rate limits for the REST API" › "Exceeding the
    /// rate limit": a 403 or 429 whose message says so, `retry-after` present or not,
    /// `x-ratelimit-remaining` not 0).
    pub fn github_secondary_limit(status: u16, retry_after: Option<u64>) -> FakeResponse {
        let response = FakeResponse::json(
            status,
            json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            }),
        )
        .with_header("x-ratelimit-remaining", "4990");
        match retry_after {
            Some(secs) => response.with_header("retry-after", &secs.to_string()),
            None => response,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> FakeResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A pull request (GitHub) or merge request (GitLab) held by the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FakeChange {
    /// PR number / MR iid.
    pub number: u64,
    /// `owner/name` or `group/project`.
    pub repo: String,
    /// Owner of the head branch's repository (GitHub `head.label` prefix).
    pub head_owner: String,
    /// Source branch.
    pub head: String,
    /// Target branch.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body / description.
    pub body: String,
    /// `open`/`closed` (GitHub) or `opened`/`closed` (GitLab).
    pub state: String,
    /// GitHub draft flag (GitLab drafts are recognised by title).
    pub draft: bool,
    /// Labels.
    pub labels: Vec<String>,
    /// Requested reviewers (GitHub logins or GitLab user ids as text).
    pub reviewers: Vec<String>,
    /// GitHub requested team reviewers.
    pub team_reviewers: Vec<String>,
    /// Assignees (GitHub logins or GitLab user ids as text).
    pub assignees: Vec<String>,
    /// Comments / notes, in order.
    pub comments: Vec<String>,
    /// Auto-merge (GitHub) / merge when pipeline succeeds (GitLab) enabled.
    pub auto_merge: bool,
    /// GitLab `remove_source_branch`.
    pub remove_source_branch: bool,
    /// The head branch's tip.
    pub head_sha: String,
    /// Commits on the head branch beyond the base.
    pub commits: u64,
    /// `merged` (GitHub: closed and merged; GitLab state `merged`).
    pub merged: bool,
    /// The merge method / `squash` asked for, and the `sha` sent with a merge.
    pub merge_method: Option<String>,
    /// The `sha` sent with the merge or `expectedHeadOid` with auto-merge.
    pub merge_sha: Option<String>,
    /// GitLab: which auto-merge parameter was used (`auto_merge` or
    /// `merge_when_pipeline_succeeds`).
    pub auto_merge_param: Option<String>,
}

/// The head commit every seeded or created change starts with.
pub const HEAD_SHA: &str = "1111111111111111111111111111111111111111";

struct Injection {
    method: String,
    path_contains: String,
    response: FakeResponse,
}

struct State {
    flavor: Flavor,
    base_url: String,
    requests: Vec<RecordedRequest>,
    injections: VecDeque<Injection>,
    changes: Vec<FakeChange>,
    next_number: u64,
    users: Vec<(String, u64)>,
    /// GitHub: the login that opens pull requests (the token's user).
    login: String,
    /// GitHub: `enablePullRequestAutoMerge` answers "clean status" (nothing to wait for).
    mergeable_now: bool,
    /// GitHub repository settings `allow_merge_commit`, `allow_squash_merge`,
    /// `allow_rebase_merge`.
    allow: [bool; 3],
    /// Branches deleted through the API.
    deleted_branches: Vec<String>,
    /// GitLab `GET /version`.
    gitlab_version: String,
    /// GitLab: how many merge calls after a creation are answered 405.
    not_mergeable_for: u32,
    not_mergeable_left: u32,
    /// GitLab: the merge request has a pipeline to wait for.
    pipeline: bool,
    /// The token every request must carry; `None`: any or none is accepted.
    token: Option<String>,
    /// GitLab: a CI/CD job token accepted in `JOB-TOKEN` on the endpoints it may use.
    job_token: Option<String>,
}

/// The running fake forge. Stops when dropped.
pub struct ForgeServer {
    flavor: Flavor,
    url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ForgeServer {
    /// A fake GitHub accepting `token`; its API base is [`ForgeServer::url`].
    pub fn github(token: &str) -> ForgeServer {
        ForgeServer::start(Flavor::GitHub, token)
    }

    /// A fake GitLab accepting `token` in `PRIVATE-TOKEN`; its API base is
    /// `<url>/api/v4`. `GET /api/v4/user` answers with user `tagbump-bot` (id 1).
    pub fn gitlab(token: &str) -> ForgeServer {
        ForgeServer::start(Flavor::GitLab, token)
    }

    /// Accepts any token, or none (for tests of what a client sends, or does without
    /// authentication).
    pub fn accept_any_token(&self) {
        self.lock().token = None;
    }

    fn start(flavor: Flavor, token: &str) -> ForgeServer {
        let server = match tiny_http::Server::http("127.0.0.1:0") {
            Ok(server) => Arc::new(server),
            Err(e) => panic!("cannot start the fake forge: {e}"),
        };
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .unwrap_or_else(|| panic!("the fake forge is not on an IP socket"));
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            flavor,
            base_url: url.clone(),
            requests: Vec::new(),
            injections: VecDeque::new(),
            changes: Vec::new(),
            next_number: 1,
            users: vec![("tagbump-bot".to_string(), 1)],
            login: "tagbump-bot".to_string(),
            mergeable_now: false,
            allow: [true, true, true],
            deleted_branches: Vec::new(),
            gitlab_version: "17.11.0-ee".to_string(),
            not_mergeable_for: 0,
            not_mergeable_left: 0,
            pipeline: true,
            token: Some(token.to_string()),
            job_token: None,
        }));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let server = server.clone();
            let state = state.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || loop {
                match server.recv() {
                    Ok(request) => serve(&state, request),
                    Err(_) if stopping.load(Ordering::SeqCst) => break,
                    Err(_) => continue,
                }
            })
        };
        ForgeServer {
            flavor,
            url,
            state,
            server,
            stopping,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The API base to hand to the client: the root for GitHub, `/api/v4` for GitLab.
    pub fn api_base(&self) -> String {
        match self.flavor {
            Flavor::GitHub => self.url.clone(),
            Flavor::GitLab => format!("{}/api/v4", self.url),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Requests with this method whose path contains `path_contains`.
    pub fn requests_to(&self, method: &str, path_contains: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .collect()
    }

    /// Forgets the recorded requests (state and injections are kept).
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Queues a one-shot response for the next request with `method` (or `*`)
    /// whose path contains `path_contains`.
    pub fn inject(&self, method: &str, path_contains: &str, response: FakeResponse) {
        self.lock().injections.push_back(Injection {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            response,
        });
    }

    /// Injected responses not used yet.
    pub fn pending_injections(&self) -> usize {
        self.lock().injections.len()
    }

    /// Seeds an open pull/merge request from a branch of `repo` itself; returns its number.
    pub fn add_change(&self, repo: &str, head: &str, base: &str, title: &str) -> u64 {
        let owner = repo.split('/').next().unwrap_or(repo).to_string();
        self.add_change_from(repo, &owner, head, base, title)
    }

    /// Seeds an open pull request whose head lives in `head_owner`'s fork.
    pub fn add_change_from(
        &self,
        repo: &str,
        head_owner: &str,
        head: &str,
        base: &str,
        title: &str,
    ) -> u64 {
        let mut state = self.lock();
        let number = state.next_number;
        state.next_number += 1;
        let open = match state.flavor {
            Flavor::GitHub => "open",
            Flavor::GitLab => "opened",
        };
        state.changes.push(FakeChange {
            number,
            repo: repo.to_string(),
            head_owner: head_owner.to_string(),
            head: head.to_string(),
            base: base.to_string(),
            title: title.to_string(),
            state: open.to_string(),
            head_sha: HEAD_SHA.to_string(),
            commits: 1,
            ..FakeChange::default()
        });
        number
    }

    /// All pull/merge requests, in creation order.
    pub fn changes(&self) -> Vec<FakeChange> {
        self.lock().changes.clone()
    }

    /// The pull/merge request with this number.
    pub fn change(&self, number: u64) -> Option<FakeChange> {
        self.lock()
            .changes
            .iter()
            .find(|c| c.number == number)
            .cloned()
    }

    /// GitHub: pull requests are already mergeable, so auto-merge cannot be enabled
    /// ("clean status") and `PUT …/merge` succeeds.
    pub fn set_mergeable_now(&self, on: bool) {
        self.lock().mergeable_now = on;
    }

    /// GitHub: which merge methods the repository allows (merge commit, squash, rebase).
    pub fn set_allowed_merge_methods(&self, merge: bool, squash: bool, rebase: bool) {
        self.lock().allow = [merge, squash, rebase];
    }

    /// Sets the head tip and the number of commits beyond the base of a change (what
    /// someone pushing to its branch would change).
    pub fn set_head(&self, number: u64, sha: &str, commits: u64) {
        if let Some(c) = self.lock().changes.iter_mut().find(|c| c.number == number) {
            c.head_sha = sha.to_string();
            c.commits = commits;
        }
    }

    /// Branches deleted through the API, in order.
    pub fn deleted_branches(&self) -> Vec<String> {
        self.lock().deleted_branches.clone()
    }

    /// GitLab: what `GET /version` says.
    pub fn set_gitlab_version(&self, version: &str) {
        self.lock().gitlab_version = version.to_string();
    }

    /// GitLab: the first `n` merge calls after each creation are answered 405.
    pub fn set_not_mergeable_for(&self, n: u32) {
        self.lock().not_mergeable_for = n;
    }

    /// GitLab: whether merge requests have a pipeline (without one, auto-merge merges at
    /// once).
    pub fn set_pipeline(&self, on: bool) {
        self.lock().pipeline = on;
    }

    /// GitLab: check tokens like GitLab does: `personal` in `PRIVATE-TOKEN`, `job` in
    /// `JOB-TOKEN` and only on the endpoints a job token may use.
    pub fn set_gitlab_tokens(&self, personal: &str, job: &str) {
        let mut state = self.lock();
        state.token = Some(personal.to_string());
        state.job_token = Some(job.to_string());
    }

    /// Registers a GitLab user for `GET /users?username=`.
    pub fn add_user(&self, username: &str, id: u64) {
        self.lock().users.push((username.to_string(), id));
    }
}

impl Drop for ForgeServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(state: &Mutex<State>, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut raw_body = String::new();
    let _ = request.as_reader().read_to_string(&mut raw_body);
    let content_type = headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body = parse_body(&content_type, &raw_body);
    let (path, query_text) = url.split_once('?').unwrap_or((&url, ""));
    let recorded = RecordedRequest {
        method: method.clone(),
        url: url.clone(),
        path: path.to_string(),
        query: parse_pairs(query_text),
        headers,
        body,
        raw_body,
    };

    let response = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state.requests.push(recorded.clone());
        let injected = state
            .injections
            .iter()
            .position(|i| {
                (i.method == "*" || i.method.eq_ignore_ascii_case(&method))
                    && recorded.path.contains(&i.path_contains)
            })
            .and_then(|i| state.injections.remove(i));
        match injected {
            Some(injection) => injection.response,
            None => match state.flavor {
                Flavor::GitHub => github(&mut state, &recorded),
                Flavor::GitLab => gitlab(&mut state, &recorded),
            },
        }
    };

    let mut reply =
        tiny_http::Response::from_string(response.body).with_status_code(response.status);
    let mut all_headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    all_headers.extend(response.headers);
    for (name, value) in all_headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            reply.add_header(header);
        }
    }
    let _ = request.respond(reply);
}

/// A request body as JSON: JSON as it is, a form body as an object of strings (`key[]`
/// entries collected into an array under `key`), `Null` when empty.
pub fn parse_body(content_type: &str, raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Null;
    }
    if content_type.contains("application/x-www-form-urlencoded") {
        let mut object = Map::new();
        for (key, value) in parse_pairs(raw) {
            if let Some(key) = key.strip_suffix("[]") {
                let entry = object
                    .entry(key.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(Value::String(value));
                }
            } else {
                object.insert(key, Value::String(value));
            }
        }
        return Value::Object(object);
    }
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    pages::pairs(text)
}

/// Percent-decodes (invalid escapes are kept as they are).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect()
}

fn not_found() -> FakeResponse {
    FakeResponse::message(404, "Not Found")
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn string_list(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn push_unique(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}
