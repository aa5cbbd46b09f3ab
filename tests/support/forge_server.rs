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
}

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
    /// A fake GitHub; its API base is [`ForgeServer::url`].
    pub fn github() -> ForgeServer {
        ForgeServer::start(Flavor::GitHub)
    }

    /// A fake GitLab; its API base is `<url>/api/v4`. `GET /api/v4/user`
    /// answers with user `tagbump-bot` (id 1).
    pub fn gitlab() -> ForgeServer {
        ForgeServer::start(Flavor::GitLab)
    }

    fn start(flavor: Flavor) -> ForgeServer {
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

fn parse_body(content_type: &str, raw: &str) -> Value {
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
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
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

// ---------------------------------------------------------------- GitHub

fn github_pull_json(base_url: &str, c: &FakeChange) -> Value {
    let owner = c.repo.split('/').next().unwrap_or("");
    json!({
        "url": format!("{base_url}/repos/{}/pulls/{}", c.repo, c.number),
        "id": 1000 + c.number,
        "node_id": format!("PR_node_{}", c.number),
        "number": c.number,
        "html_url": format!("{base_url}/{}/pull/{}", c.repo, c.number),
        "state": c.state,
        "title": c.title,
        "body": c.body,
        "draft": c.draft,
        "locked": false,
        "head": {
            "ref": c.head,
            "sha": "1111111111111111111111111111111111111111",
            "label": format!("{}:{}", c.head_owner, c.head),
        },
        "base": {
            "ref": c.base,
            "sha": "2222222222222222222222222222222222222222",
            "label": format!("{owner}:{}", c.base),
        },
    })
}

fn github(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let seg = segments(&req.path);
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let base_url = state.base_url.clone();
    match (req.method.as_str(), seg.as_slice()) {
        ("POST", ["graphql"]) => github_graphql(state, req),
        ("GET", ["repos", owner, name, "pulls"]) => {
            let repo = format!("{owner}/{name}");
            let want_state = req.query_param("state").unwrap_or("open");
            let head = req.query_param("head").map(|h| match h.split_once(':') {
                Some((o, b)) => (o.to_string(), b.to_string()),
                None => (owner.to_string(), h.to_string()),
            });
            let base = req.query_param("base");
            let list: Vec<Value> = state
                .changes
                .iter()
                .filter(|c| c.repo == repo)
                .filter(|c| want_state == "all" || c.state == want_state)
                .filter(|c| {
                    head.as_ref()
                        .is_none_or(|(o, b)| c.head_owner == *o && c.head == *b)
                })
                .filter(|c| base.is_none_or(|b| c.base == b))
                .map(|c| github_pull_json(&base_url, c))
                .collect();
            FakeResponse::json(200, Value::Array(list))
        }
        ("POST", ["repos", owner, name, "pulls"]) => {
            let repo = format!("{owner}/{name}");
            let (Some(title), Some(head), Some(base)) = (
                str_field(&req.body, "title"),
                str_field(&req.body, "head"),
                str_field(&req.body, "base"),
            ) else {
                return FakeResponse::message(422, "Validation Failed");
            };
            let (head_owner, head) = match head.split_once(':') {
                Some((o, b)) => (o.to_string(), b.to_string()),
                None => (owner.to_string(), head.to_string()),
            };
            if state.changes.iter().any(|c| {
                c.repo == repo
                    && c.state == "open"
                    && c.head_owner == head_owner
                    && c.head == head
                    && c.base == base
            }) {
                return FakeResponse::json(
                    422,
                    json!({
                        "message": "Validation Failed",
                        "errors": [{
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": format!("A pull request already exists for {head_owner}:{head}."),
                        }],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                    }),
                );
            }
            let number = state.next_number;
            state.next_number += 1;
            let change = FakeChange {
                number,
                repo,
                head_owner,
                head,
                base: base.to_string(),
                title: title.to_string(),
                body: str_field(&req.body, "body").unwrap_or("").to_string(),
                state: "open".to_string(),
                draft: req
                    .body
                    .get("draft")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ..FakeChange::default()
            };
            let json = github_pull_json(&base_url, &change);
            state.changes.push(change);
            FakeResponse::json(201, json)
        }
        (method, ["repos", owner, name, kind, number, rest @ ..])
            if *kind == "pulls" || *kind == "issues" =>
        {
            let repo = format!("{owner}/{name}");
            let Some(change) = number.parse::<u64>().ok().and_then(|n| {
                state
                    .changes
                    .iter_mut()
                    .find(|c| c.repo == repo && c.number == n)
            }) else {
                return not_found();
            };
            match (method, *kind, rest) {
                ("GET", "pulls", []) => {}
                ("PATCH", "pulls", []) => {
                    if let Some(title) = str_field(&req.body, "title") {
                        change.title = title.to_string();
                    }
                    if let Some(body) = str_field(&req.body, "body") {
                        change.body = body.to_string();
                    }
                    if let Some(s) = str_field(&req.body, "state") {
                        change.state = s.to_string();
                    }
                }
                ("POST", "pulls", ["requested_reviewers"]) => {
                    push_unique(&mut change.reviewers, string_list(&req.body, "reviewers"));
                    push_unique(
                        &mut change.team_reviewers,
                        string_list(&req.body, "team_reviewers"),
                    );
                    let json = github_pull_json(&base_url, change);
                    return FakeResponse::json(201, json);
                }
                ("POST", "issues", ["labels"]) => {
                    push_unique(&mut change.labels, string_list(&req.body, "labels"));
                    let labels: Vec<Value> = change
                        .labels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| json!({ "id": i + 1, "name": l, "color": "ededed", "default": false }))
                        .collect();
                    return FakeResponse::json(200, Value::Array(labels));
                }
                ("POST", "issues", ["assignees"]) => {
                    push_unique(&mut change.assignees, string_list(&req.body, "assignees"));
                    let json = github_pull_json(&base_url, change);
                    return FakeResponse::json(201, json);
                }
                ("POST", "issues", ["comments"]) => {
                    let body = str_field(&req.body, "body").unwrap_or("").to_string();
                    change.comments.push(body.clone());
                    return FakeResponse::json(
                        201,
                        json!({ "id": 9000 + change.comments.len(), "body": body }),
                    );
                }
                _ => return not_found(),
            }
            let json = github_pull_json(&base_url, change);
            FakeResponse::json(200, json)
        }
        _ => not_found(),
    }
}

fn github_graphql(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let query = str_field(&req.body, "query").unwrap_or("");
    if !query.contains("enablePullRequestAutoMerge") {
        return FakeResponse::json(
            200,
            json!({ "errors": [{ "message": "the fake forge only knows enablePullRequestAutoMerge" }] }),
        );
    }
    let node_id = req
        .body
        .get("variables")
        .and_then(Value::as_object)
        .and_then(|vars| vars.values().find_map(Value::as_str))
        .unwrap_or("")
        .to_string();
    match state
        .changes
        .iter_mut()
        .find(|c| format!("PR_node_{}", c.number) == node_id)
    {
        Some(change) => {
            change.auto_merge = true;
            FakeResponse::json(
                200,
                json!({ "data": { "enablePullRequestAutoMerge": { "pullRequest": { "number": change.number } } } }),
            )
        }
        None => FakeResponse::json(
            200,
            json!({
                "data": { "enablePullRequestAutoMerge": null },
                "errors": [{ "message": format!("Could not resolve to a node with the global id of '{node_id}'") }],
            }),
        ),
    }
}

// ---------------------------------------------------------------- GitLab

fn gitlab_mr_json(base_url: &str, c: &FakeChange) -> Value {
    json!({
        "id": 5000 + c.number,
        "iid": c.number,
        "project_id": 1,
        "source_project_id": 1,
        "target_project_id": 1,
        "title": c.title,
        "description": c.body,
        "state": c.state,
        "source_branch": c.head,
        "target_branch": c.base,
        "draft": c.title.starts_with("Draft:"),
        "labels": c.labels,
        "merge_when_pipeline_succeeds": c.auto_merge,
        "web_url": format!("{base_url}/{}/-/merge_requests/{}", c.repo, c.number),
    })
}

fn gitlab_user_json(username: &str, id: u64) -> Value {
    json!({ "id": id, "username": username, "name": username, "state": "active" })
}

fn gitlab(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let seg = segments(&req.path);
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let base_url = state.base_url.clone();
    let ["api", "v4", rest @ ..] = seg.as_slice() else {
        return not_found();
    };
    match (req.method.as_str(), rest) {
        ("GET", ["user"]) => FakeResponse::json(200, gitlab_user_json("tagbump-bot", 1)),
        ("GET", ["users"]) => {
            let wanted = req.query_param("username");
            let users: Vec<Value> = state
                .users
                .iter()
                .filter(|(name, _)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(name)))
                .map(|(name, id)| gitlab_user_json(name, *id))
                .collect();
            FakeResponse::json(200, Value::Array(users))
        }
        ("GET", ["projects", project, "merge_requests"]) => {
            let want_state = req.query_param("state").unwrap_or("all");
            let source = req.query_param("source_branch");
            let target = req.query_param("target_branch");
            let list: Vec<Value> = state
                .changes
                .iter()
                .filter(|c| c.repo == *project)
                .filter(|c| want_state == "all" || c.state == want_state)
                .filter(|c| source.is_none_or(|s| c.head == s))
                .filter(|c| target.is_none_or(|t| c.base == t))
                .map(|c| gitlab_mr_json(&base_url, c))
                .collect();
            FakeResponse::json(200, Value::Array(list))
        }
        ("POST", ["projects", project, "merge_requests"]) => {
            let (Some(source), Some(target), Some(title)) = (
                str_field(&req.body, "source_branch"),
                str_field(&req.body, "target_branch"),
                str_field(&req.body, "title"),
            ) else {
                return FakeResponse::json(
                    400,
                    json!({ "error": "source_branch, target_branch, title are missing" }),
                );
            };
            if let Some(existing) = state.changes.iter().find(|c| {
                c.repo == *project && c.state == "opened" && c.head == source && c.base == target
            }) {
                return FakeResponse::json(
                    409,
                    json!({ "message": [format!("Another open merge request already exists for this source branch: !{}", existing.number)] }),
                );
            }
            let number = state.next_number;
            state.next_number += 1;
            let ids = |key: &str| {
                let mut list = string_list(&req.body, key);
                if let Some(single) = str_field(&req.body, key.trim_end_matches('s')) {
                    list.push(single.to_string());
                }
                list
            };
            let change = FakeChange {
                number,
                repo: project.to_string(),
                head_owner: project.split('/').next().unwrap_or("").to_string(),
                head: source.to_string(),
                base: target.to_string(),
                title: title.to_string(),
                body: str_field(&req.body, "description")
                    .unwrap_or("")
                    .to_string(),
                state: "opened".to_string(),
                labels: split_labels(str_field(&req.body, "labels")),
                reviewers: ids("reviewer_ids"),
                assignees: ids("assignee_ids"),
                remove_source_branch: str_field(&req.body, "remove_source_branch") == Some("true")
                    || req.body.get("remove_source_branch") == Some(&Value::Bool(true)),
                ..FakeChange::default()
            };
            let json = gitlab_mr_json(&base_url, &change);
            state.changes.push(change);
            FakeResponse::json(201, json)
        }
        (method, ["projects", project, "merge_requests", iid, tail @ ..]) => {
            let Some(change) = iid.parse::<u64>().ok().and_then(|n| {
                state
                    .changes
                    .iter_mut()
                    .find(|c| c.repo == *project && c.number == n)
            }) else {
                return FakeResponse::message(404, "404 Not found");
            };
            match (method, tail) {
                ("GET", []) => {}
                ("PUT", []) => {
                    if let Some(title) = str_field(&req.body, "title") {
                        change.title = title.to_string();
                    }
                    if let Some(description) = str_field(&req.body, "description") {
                        change.body = description.to_string();
                    }
                    if let Some(labels) = str_field(&req.body, "labels") {
                        change.labels = split_labels(Some(labels));
                    }
                    if let Some(labels) = str_field(&req.body, "add_labels") {
                        push_unique(&mut change.labels, split_labels(Some(labels)));
                    }
                    match str_field(&req.body, "state_event") {
                        Some("close") => change.state = "closed".to_string(),
                        Some("reopen") => change.state = "opened".to_string(),
                        _ => {}
                    }
                }
                ("PUT", ["merge"]) => {
                    let wanted = str_field(&req.body, "merge_when_pipeline_succeeds")
                        == Some("true")
                        || req.body.get("merge_when_pipeline_succeeds") == Some(&Value::Bool(true));
                    if wanted {
                        change.auto_merge = true;
                    } else {
                        change.state = "merged".to_string();
                    }
                }
                ("POST", ["notes"]) => {
                    let body = str_field(&req.body, "body").unwrap_or("").to_string();
                    change.comments.push(body.clone());
                    return FakeResponse::json(
                        201,
                        json!({ "id": 7000 + change.comments.len(), "body": body }),
                    );
                }
                _ => return FakeResponse::message(404, "404 Not found"),
            }
            let json = gitlab_mr_json(&base_url, change);
            FakeResponse::json(200, json)
        }
        _ => FakeResponse::message(404, "404 Not found"),
    }
}

fn split_labels(labels: Option<&str>) -> Vec<String> {
    labels
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A TCP server that accepts every connection and never sends a byte: an API
/// host that hangs (overloaded, or a firewall that lets the handshake through).
/// Connections are held open until the server is dropped.
pub struct SilentServer {
    port: u16,
    accepted: Arc<Mutex<Vec<std::net::TcpStream>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    /// Listens on a free loopback port.
    pub fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot start the silent server: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("silent server address: {e}"))
            .port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let accepted = accepted.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        accepted
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(stream);
                    }
                }
            })
        };
        SilentServer {
            port,
            accepted,
            stopping,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
