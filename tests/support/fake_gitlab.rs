//! A fake GitLab REST v4 repository API backed by a real bare repository.
//!
//! [`FakeGitLab::start`] serves one project (`group/config`, id 1) on
//! `http://127.0.0.1:PORT/api/v4` from a [`BareRepo`], with the endpoints tagbump's
//! `gitlab_repo` uses and GitLab's semantics:
//!
//! - `GET projects/:id` (`default_branch` = the bare repo's `HEAD`);
//! - `GET|DELETE projects/:id/repository/branches/:b`, `POST …/branches` (`branch`,
//!   `ref`; 400 `Branch already exists`);
//! - `GET projects/:id/repository/tree?ref=&path=&recursive=` from `git ls-tree`, in pages
//!   of [`FakeGitLab::set_page_size`] entries: keyset (`pagination=keyset`, `Link:
//!   <…page_token=…>; rel="next"`) or, with [`FakeGitLab::offset_pagination_only`] (like
//!   gitlab-org/gitlab#427205), offset pages with `x-next-page`/`x-total-pages`; a path
//!   that is not a directory is 404 `404 Tree Not Found`;
//! - `GET projects/:id/repository/files/:path?ref=`: base64 `content`, `blob_id`,
//!   `last_commit_id` (`git log -1 --format=%H REF -- PATH`);
//! - `POST projects/:id/repository/commits` (form or JSON): actions `create`, `update`,
//!   `delete` checked like `Files::MultiService` *on the branch's current tip* (a stale
//!   `last_commit_id` → 400 `The file has changed since you started editing it: PATH`),
//!   the tree built with git plumbing in a temporary index, the branch moved with `git
//!   update-ref refs/heads/B NEW OLD` (a real compare-and-swap: a concurrent push makes it
//!   fail → 400 `… Please refresh and try again.`), all under one lock;
//! - `GET projects/:id/repository/commits/:sha/signature`: 404 unless
//!   [`FakeGitLab::sign_commits`] was set.
//!
//! - merge requests, users and version ([`super::fake_gitlab_mr`]), so that `--pr --via
//!   api` runs against this one server.
//!
//! Without the right `PRIVATE-TOKEN` every request is 401 `{"message":"401
//! Unauthorized"}`. The CI/CD job token [`JOB_TOKEN`] is read from `JOB-TOKEN` only, and
//! only on the endpoints GitLab's "CI/CD job token" page lists for it (reads of the
//! project, branches, commits, files and tree); anything else with it is 401 too. An
//! unknown project is 404 `404 Project Not Found`. Every request is
//! recorded, and one-shot responses can be injected (429 with `Retry-After`, 5xx, a
//! redirect) exactly as with [`super::forge_server::ForgeServer::inject`].

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use base64::Engine as _;
use serde_json::{json, Value};

use super::forge_server::{decode, FakeResponse, RecordedRequest};
use super::git_server::{git_command, BareRepo};

/// The project's path (`:id` may also be `1`).
pub const PROJECT: &str = "group/config";
/// The token the fake accepts, user `tagbump-bot`.
pub const TOKEN: &str = "glpat-FAKE-SECRET-7788";
/// The CI/CD job token the fake accepts in `JOB-TOKEN`, on the job token's endpoints.
pub const JOB_TOKEN: &str = "job-FAKE-SECRET-7788";

struct Injection {
    method: String,
    path_contains: String,
    response: FakeResponse,
}

struct State {
    requests: Vec<RecordedRequest>,
    injections: VecDeque<Injection>,
    page_size: usize,
    keyset: bool,
    signed: bool,
    signed_commits: HashSet<String>,
    mrs: super::fake_gitlab_mr::Mrs,
}

struct Shared {
    url: String,
    repo: PathBuf,
    state: Mutex<State>,
    /// Held while a commit or branch change is computed and written.
    write: Mutex<()>,
}

/// The fake; stops when dropped.
pub struct FakeGitLab {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl FakeGitLab {
    /// Serves `repo` (4 worker threads, pages of 3 tree entries).
    pub fn start(repo: &BareRepo) -> FakeGitLab {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind fake GitLab"));
        let port = server.server_addr().to_ip().expect("IP socket").port();
        let shared = Arc::new(Shared {
            url: format!("http://127.0.0.1:{port}"),
            repo: repo.path().to_path_buf(),
            state: Mutex::new(State {
                requests: Vec::new(),
                injections: VecDeque::new(),
                page_size: 3,
                keyset: true,
                signed: false,
                signed_commits: HashSet::new(),
                mrs: super::fake_gitlab_mr::Mrs::default(),
            }),
            write: Mutex::new(()),
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let threads = (0..4)
            .map(|_| {
                let (server, shared, stopping) = (server.clone(), shared.clone(), stopping.clone());
                std::thread::spawn(move || loop {
                    match server.recv() {
                        Ok(request) => serve(&shared, request),
                        Err(_) if stopping.load(Ordering::SeqCst) => break,
                        Err(_) => continue,
                    }
                })
            })
            .collect();
        FakeGitLab {
            shared,
            server,
            stopping,
            threads,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// `http://127.0.0.1:PORT/api/v4`.
    pub fn api_base(&self) -> String {
        format!("{}/api/v4", self.shared.url)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tree entries per page (at most what the client asks for).
    pub fn set_page_size(&self, size: usize) {
        self.lock().page_size = size.max(1);
    }

    /// Ignores `pagination=keyset`: offset pages with `x-next-page` only, no `Link`.
    pub fn offset_pagination_only(&self) {
        self.lock().keyset = false;
    }

    /// Commits created from now on are reported as signed and verified.
    pub fn sign_commits(&self) {
        self.lock().signed = true;
    }

    /// Every merge request, by iid.
    pub fn merge_requests(&self) -> Vec<super::fake_gitlab_mr::FakeMr> {
        self.lock().mrs.mrs.clone()
    }

    /// What `GET /version` says.
    pub fn set_version(&self, version: &str) {
        self.lock().mrs.version = version.to_string();
    }

    /// Whether merge requests have a pipeline (without one, auto-merge merges at once).
    pub fn set_pipeline(&self, on: bool) {
        self.lock().mrs.pipeline = on;
    }

    /// The first `n` merge calls after each creation are answered 405.
    pub fn set_not_mergeable_for(&self, n: u32) {
        self.lock().mrs.not_mergeable_for = n;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Requests with `method` whose path contains `path_contains`.
    pub fn requests_to(&self, method: &str, path_contains: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .collect()
    }

    /// Queues a one-shot response for the next `method` (or `*`) request whose path
    /// contains `path_contains`.
    pub fn inject(&self, method: &str, path_contains: &str, response: FakeResponse) {
        self.lock().injections.push_back(Injection {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            response,
        });
    }
}

impl Drop for FakeGitLab {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for _ in &self.threads {
            self.server.unblock();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            let name = h.field.as_str().as_str().to_ascii_lowercase();
            (name, h.value.as_str().to_string())
        })
        .collect();
    let mut raw_body = String::new();
    let _ = request.as_reader().read_to_string(&mut raw_body);
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let recorded = RecordedRequest {
        method: method.clone(),
        url: url.clone(),
        path: path.to_string(),
        query: pairs(query),
        headers,
        body: Value::Null,
        raw_body,
    };
    let injected = {
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        state.requests.push(recorded.clone());
        let position = state.injections.iter().position(|i| {
            (i.method == "*" || i.method == method) && recorded.path.contains(&i.path_contains)
        });
        position
            .and_then(|i| state.injections.remove(i))
            .map(|i| i.response)
    };
    let response = injected.unwrap_or_else(|| handle(shared, &recorded));
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

/// Decoded `k=v&…` pairs (`+` is a space).
fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn message(status: u16, text: &str) -> FakeResponse {
    FakeResponse::message(status, text)
}

/// The reads GitLab's "CI/CD job token" page lists for a job token.
fn job_token_endpoint(method: &str, seg: &[&str]) -> bool {
    method == "GET"
        && matches!(
            seg,
            ["api", "v4", "projects", _]
                | [
                    "api",
                    "v4",
                    "projects",
                    _,
                    "repository",
                    "branches" | "commits" | "files" | "tree",
                    ..
                ]
        )
}

fn handle(shared: &Shared, req: &RecordedRequest) -> FakeResponse {
    let segments: Vec<String> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let personal = req.header("private-token") == Some(TOKEN);
    let job = req.header("job-token") == Some(JOB_TOKEN) && job_token_endpoint(&req.method, &seg);
    if !(personal || job) {
        return message(401, "401 Unauthorized");
    }
    if let ["api", "v4", rest @ ..] = seg.as_slice() {
        let state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(response) = super::fake_gitlab_mr::instance_route(&state.mrs, req, rest) {
            return response;
        }
    }
    let ["api", "v4", "projects", id, rest @ ..] = seg.as_slice() else {
        return message(404, "404 Not Found");
    };
    if *id != PROJECT && *id != "1" {
        return message(404, "404 Project Not Found");
    }
    let repo = Repo(&shared.repo);
    let q = |name: &str| {
        req.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if rest.first() == Some(&"merge_requests") {
        let _write = shared.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(response) =
            super::fake_gitlab_mr::route(&mut state.mrs, &repo, &shared.url, req, rest)
        {
            return response;
        }
    }
    match (req.method.as_str(), rest) {
        ("GET", []) => json_ok(json!({
            "id": 1,
            "path_with_namespace": PROJECT,
            "default_branch": repo.head_branch(),
        })),
        ("GET", ["repository", "branches", branch]) => match repo.tip(branch) {
            Some(tip) => json_ok(json!({"name": branch, "commit": {"id": tip}})),
            None => message(404, "404 Branch Not Found"),
        },
        ("POST", ["repository", "branches"]) => {
            let form = pairs(&req.raw_body);
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let (Some(branch), Some(target)) = (get("branch"), get("ref")) else {
                return message(400, "branch is missing, ref is missing");
            };
            let _write = shared.write.lock().unwrap_or_else(|e| e.into_inner());
            if repo.tip(&branch).is_some() {
                return message(400, "Branch already exists");
            }
            let Some(commit) = repo.resolve(&target) else {
                return message(400, "Invalid reference name: ref");
            };
            match repo.update_ref(&branch, &commit, Some(&"0".repeat(40))) {
                Ok(()) => {
                    FakeResponse::json(201, json!({"name": branch, "commit": {"id": commit}}))
                }
                Err(_) => message(400, "Branch already exists"),
            }
        }
        ("DELETE", ["repository", "branches", branch]) => {
            let _write = shared.write.lock().unwrap_or_else(|e| e.into_inner());
            match repo.tip(branch) {
                Some(tip) => match repo.delete_ref(branch, &tip) {
                    Ok(()) => FakeResponse {
                        status: 204,
                        headers: Vec::new(),
                        body: String::new(),
                    },
                    Err(e) => message(400, &e),
                },
                None => message(404, "404 Branch Not Found"),
            }
        }
        ("GET", ["repository", "tree"]) => tree(shared, &repo, req),
        ("GET", ["repository", "files", path]) => {
            let reference = q("ref").unwrap_or("HEAD");
            let Some(commit) = repo.resolve(reference) else {
                return message(404, "404 Commit Not Found");
            };
            match repo.blob(&commit, path) {
                Some((blob_id, bytes)) => json_ok(json!({
                    "file_name": path.rsplit('/').next().unwrap_or(path),
                    "file_path": path,
                    "size": bytes.len(),
                    "encoding": "base64",
                    "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
                    "ref": reference,
                    "blob_id": blob_id,
                    "commit_id": commit,
                    "last_commit_id": repo.last_commit(&commit, path),
                })),
                None => message(404, "404 File Not Found"),
            }
        }
        ("POST", ["repository", "commits"]) => {
            let _write = shared.write.lock().unwrap_or_else(|e| e.into_inner());
            let response = super::fake_gitlab_commit::create_commit(&repo, req);
            if response.status == 201 {
                let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.signed {
                    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
                    if let Some(id) = body.get("id").and_then(Value::as_str) {
                        state.signed_commits.insert(id.to_string());
                    }
                }
            }
            response
        }
        ("GET", ["repository", "commits", sha, "signature"]) => {
            let state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.signed_commits.contains(*sha) {
                json_ok(json!({
                    "signature_type": "SSH",
                    "verification_status": "verified",
                    "commit_source": "gitaly",
                }))
            } else {
                message(404, "404 Signature Not Found")
            }
        }
        _ => message(404, "404 Not Found"),
    }
}

fn json_ok(body: Value) -> FakeResponse {
    FakeResponse::json(200, body)
}

fn tree(shared: &Shared, repo: &Repo<'_>, req: &RecordedRequest) -> FakeResponse {
    let q = |name: &str| {
        req.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (page_size, keyset) = {
        let state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        (state.page_size, state.keyset)
    };
    let Some(commit) = repo.resolve(q("ref").unwrap_or("HEAD")) else {
        return message(404, "404 Tree Not Found");
    };
    let path = q("path").unwrap_or("").trim_matches('/');
    let recursive = q("recursive") == Some("true");
    let Some(entries) = repo.ls_tree(&commit, path, recursive) else {
        return message(404, "404 Tree Not Found");
    };
    let per_page: usize = q("per_page").and_then(|p| p.parse().ok()).unwrap_or(20);
    let size = per_page.clamp(1, 100).min(page_size);
    let base = format!("{}{}", shared.url, req.path);
    let keep: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "page" && k != "page_token")
        .cloned()
        .collect();
    let link = |extra: (&str, String)| {
        let mut all = keep.clone();
        all.push((extra.0.to_string(), extra.1));
        let query: Vec<String> = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("<{base}?{}>; rel=\"next\"", query.join("&"))
    };
    let json_page = |page: &[Value]| Value::Array(page.to_vec()).to_string();
    if keyset && q("pagination") == Some("keyset") {
        let start = match q("page_token") {
            Some(token) => entries
                .iter()
                .position(|e| e["path"].as_str().is_some_and(|p| p > token))
                .unwrap_or(entries.len()),
            None => 0,
        };
        let page = &entries[start..(start + size).min(entries.len())];
        let mut headers = Vec::new();
        if start + size < entries.len() {
            let last = page.last().and_then(|e| e["path"].as_str()).unwrap_or("");
            headers.push(("Link".to_string(), link(("page_token", last.to_string()))));
        }
        return FakeResponse {
            status: 200,
            headers,
            body: json_page(page),
        };
    }
    let page_no: usize = q("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let total_pages = entries.len().div_ceil(size).max(1);
    let start = ((page_no - 1) * size).min(entries.len());
    let page = &entries[start..(start + size).min(entries.len())];
    let next = if page_no < total_pages {
        (page_no + 1).to_string()
    } else {
        String::new()
    };
    FakeResponse {
        status: 200,
        headers: vec![
            ("x-page".to_string(), page_no.to_string()),
            ("x-per-page".to_string(), size.to_string()),
            ("x-next-page".to_string(), next),
            ("x-total-pages".to_string(), total_pages.to_string()),
            ("x-total".to_string(), entries.len().to_string()),
        ],
        body: json_page(page),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Git plumbing on the bare repository.
pub(crate) struct Repo<'a>(pub(crate) &'a Path);

impl Repo<'_> {
    /// Runs git; `Err(stderr)` on failure.
    pub(crate) fn run(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        let mut cmd = git_command(self.0);
        cmd.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input).map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    pub(crate) fn text(&self, args: &[&str]) -> Option<String> {
        self.run(args, &[], None)
            .ok()
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    fn head_branch(&self) -> String {
        self.text(&["symbolic-ref", "--short", "HEAD"])
            .unwrap_or_default()
    }

    pub(crate) fn tip(&self, branch: &str) -> Option<String> {
        self.text(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
    }

    /// A branch name or commit id → commit id.
    pub(crate) fn resolve(&self, reference: &str) -> Option<String> {
        if reference.starts_with('-') {
            return None;
        }
        self.tip(reference).or_else(|| {
            self.text(&[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{reference}^{{commit}}"),
            ])
        })
    }

    /// `(blob id, bytes)` of a regular file at `commit`.
    pub(crate) fn blob(&self, commit: &str, path: &str) -> Option<(String, Vec<u8>)> {
        let spec = format!("{commit}:{path}");
        if self.text(&["cat-file", "-t", &spec]).as_deref() != Some("blob") {
            return None;
        }
        let id = self.text(&["rev-parse", &spec])?;
        let bytes = self.run(&["cat-file", "blob", &id], &[], None).ok()?;
        Some((id, bytes))
    }

    pub(crate) fn last_commit(&self, commit: &str, path: &str) -> Option<String> {
        self.text(&["log", "-1", "--format=%H", commit, "--", path])
            .filter(|s| !s.is_empty())
    }

    /// Tree entries as GitLab lists them, sorted by path; `None` if `path` is not a
    /// directory at `commit`.
    fn ls_tree(&self, commit: &str, path: &str, recursive: bool) -> Option<Vec<Value>> {
        let treeish = if path.is_empty() {
            format!("{commit}^{{tree}}")
        } else {
            format!("{commit}:{path}")
        };
        if self.text(&["cat-file", "-t", &treeish]).as_deref() != Some("tree") {
            return None;
        }
        let mut args = vec!["ls-tree", "-z"];
        if recursive {
            args.extend(["-r", "-t"]);
        }
        args.push(&treeish);
        let out = self.run(&args, &[], None).ok()?;
        let mut entries: Vec<Value> = out
            .split(|b| *b == 0)
            .filter(|l| !l.is_empty())
            .filter_map(|line| {
                let line = String::from_utf8_lossy(line);
                let (meta, name) = line.split_once('\t')?;
                let mut meta = meta.split(' ');
                let (mode, kind, id) = (meta.next()?, meta.next()?, meta.next()?);
                let full = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}/{name}")
                };
                Some(json!({
                    "id": id,
                    "name": full.rsplit('/').next().unwrap_or(&full),
                    "type": kind,
                    "path": full,
                    "mode": mode,
                }))
            })
            .collect();
        entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        Some(entries)
    }

    /// `git update-ref refs/heads/B NEW OLD` (`OLD` all zeros: must not exist).
    pub(crate) fn update_ref(
        &self,
        branch: &str,
        new: &str,
        old: Option<&str>,
    ) -> Result<(), String> {
        let name = format!("refs/heads/{branch}");
        let mut args = vec!["update-ref", name.as_str(), new];
        if let Some(old) = old {
            args.push(old);
        }
        self.run(&args, &[], None).map(|_| ())
    }

    fn delete_ref(&self, branch: &str, old: &str) -> Result<(), String> {
        let name = format!("refs/heads/{branch}");
        self.run(&["update-ref", "-d", &name, old], &[], None)
            .map(|_| ())
    }
}
