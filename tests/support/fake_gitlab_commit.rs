//! `POST projects/:id/repository/commits` of [`super::fake_gitlab`]: GitLab's
//! multi-action commit on a real bare repository.
//!
//! The caller holds the fake's write lock. The actions are checked against the
//! branch's *current* tip the way `Files::MultiService` and Gitaly do, the tree is built
//! in a temporary index (`read-tree`, `update-index`, `write-tree`), the commit made with
//! `commit-tree` on that tip, and the branch moved with `update-ref NEW OLD`.

#![allow(dead_code)]

use base64::Engine as _;
use serde_json::{json, Value};

use super::fake_gitlab::Repo;
use super::forge_server::{decode, FakeResponse, RecordedRequest};

/// The user the fake's token belongs to: the committer of every commit.
pub const TOKEN_USER: (&str, &str) = ("tagbump-bot", "tagbump-bot@noreply.gitlab.example");

#[derive(Debug, Default)]
struct Action {
    action: String,
    file_path: String,
    content: Option<String>,
    encoding: Option<String>,
    last_commit_id: Option<String>,
}

#[derive(Debug, Default)]
struct Body {
    branch: String,
    message: String,
    author_name: Option<String>,
    author_email: Option<String>,
    actions: Vec<Action>,
}

fn parse(req: &RecordedRequest) -> Body {
    let mut body = Body::default();
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.contains("json"));
    if is_json {
        let v: Value = serde_json::from_str(&req.raw_body).unwrap_or(Value::Null);
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        body.branch = s(&v, "branch").unwrap_or_default();
        body.message = s(&v, "commit_message").unwrap_or_default();
        body.author_name = s(&v, "author_name");
        body.author_email = s(&v, "author_email");
        for a in v["actions"].as_array().into_iter().flatten() {
            body.actions.push(Action {
                action: s(a, "action").unwrap_or_default(),
                file_path: s(a, "file_path").unwrap_or_default(),
                content: s(a, "content"),
                encoding: s(a, "encoding"),
                last_commit_id: s(a, "last_commit_id"),
            });
        }
        return body;
    }
    for pair in req.raw_body.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")));
        if k == "actions[][action]" {
            body.actions.push(Action::default());
        }
        let current = body.actions.last_mut();
        match (k.as_str(), current) {
            ("branch", _) => body.branch = v,
            ("commit_message", _) => body.message = v,
            ("author_name", _) => body.author_name = Some(v),
            ("author_email", _) => body.author_email = Some(v),
            ("actions[][action]", Some(a)) => a.action = v,
            ("actions[][file_path]", Some(a)) => a.file_path = v,
            ("actions[][content]", Some(a)) => a.content = Some(v),
            ("actions[][encoding]", Some(a)) => a.encoding = Some(v),
            ("actions[][last_commit_id]", Some(a)) => a.last_commit_id = Some(v),
            _ => {}
        }
    }
    body
}

fn bad(text: &str) -> FakeResponse {
    FakeResponse::message(400, text)
}

/// `Files::BaseService#file_has_changed?` (GitLab ≥ 16): the last commit touching
/// `path` on the branch differs from the last one touching it at `commit_id`.
fn file_has_changed(repo: &Repo<'_>, tip: &str, path: &str, commit_id: &str) -> bool {
    let Some(on_branch) = repo.last_commit(tip, path) else {
        return false;
    };
    let Some(at_commit) = repo.last_commit(commit_id, path) else {
        return false;
    };
    on_branch != at_commit
}

/// Creates the commit; see the module docs.
pub(crate) fn create_commit(repo: &Repo<'_>, req: &RecordedRequest) -> FakeResponse {
    let body = parse(req);
    if body.branch.is_empty() || body.message.is_empty() || body.actions.is_empty() {
        return bad("branch is missing, commit_message is missing, actions is missing");
    }
    let Some(tip) = repo.tip(&body.branch) else {
        return bad("You can only create or edit files when you are on a branch");
    };
    // Validation, as Files::MultiService#validate! and Gitaly's index checks.
    let mut contents = Vec::new();
    for action in &body.actions {
        let path = action.file_path.as_str();
        if path.is_empty() || path.starts_with('/') || path.split('/').any(|s| s == "..") {
            return bad(&format!("invalid path: '{path}'"));
        }
        let exists = repo.blob(&tip, path).is_some();
        if matches!(action.action.as_str(), "update" | "delete") {
            if let Some(id) = &action.last_commit_id {
                if file_has_changed(repo, &tip, path, id) {
                    return bad(&format!(
                        "The file has changed since you started editing it: {path}"
                    ));
                }
            }
        }
        match (action.action.as_str(), exists) {
            ("create", true) => return bad("A file with this name already exists"),
            ("update" | "delete", false) => return bad("A file with this name doesn't exist"),
            ("create" | "update" | "delete", _) => {}
            (other, _) => return bad(&format!("Unknown action '{other}'")),
        }
        let bytes = match (&action.content, action.encoding.as_deref()) {
            (None, _) => None,
            (Some(text), Some("base64")) => {
                match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                    Ok(bytes) => Some(bytes),
                    Err(_) => return bad("content is not valid base64"),
                }
            }
            (Some(text), _) => Some(text.clone().into_bytes()),
        };
        if action.action != "delete" && bytes.is_none() {
            return bad("content is missing");
        }
        contents.push(bytes);
    }
    let index = match tempfile::NamedTempFile::new() {
        Ok(file) => file.into_temp_path(),
        Err(e) => return FakeResponse::message(500, &format!("temp index: {e}")),
    };
    let index_path = index.to_string_lossy().to_string();
    let _ = std::fs::remove_file(&index_path);
    let env = [("GIT_INDEX_FILE", index_path.as_str())];
    let fail = |e: String| FakeResponse::message(500, &format!("git failed: {e}"));
    if let Err(e) = repo.run(&["read-tree", &tip], &env, None) {
        return fail(e);
    }
    for (action, bytes) in body.actions.iter().zip(&contents) {
        let path = action.file_path.as_str();
        let result = match bytes {
            Some(bytes) => repo
                .run(&["hash-object", "-w", "--stdin"], &[], Some(bytes))
                .and_then(|oid| {
                    let oid = String::from_utf8_lossy(&oid).trim().to_string();
                    let info = format!("100644,{oid},{path}");
                    repo.run(&["update-index", "--add", "--cacheinfo", &info], &env, None)
                }),
            None => {
                let line = format!("0 {}\t{path}\n", "0".repeat(40));
                repo.run(
                    &["update-index", "--index-info"],
                    &env,
                    Some(line.as_bytes()),
                )
            }
        };
        if let Err(e) = result {
            return fail(e);
        }
    }
    let tree = match repo.run(&["write-tree"], &env, None) {
        Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
        Err(e) => return fail(e),
    };
    let author_name = body.author_name.as_deref().unwrap_or(TOKEN_USER.0);
    let author_email = body.author_email.as_deref().unwrap_or(TOKEN_USER.1);
    let commit_env = [
        ("GIT_AUTHOR_NAME", author_name),
        ("GIT_AUTHOR_EMAIL", author_email),
        ("GIT_COMMITTER_NAME", TOKEN_USER.0),
        ("GIT_COMMITTER_EMAIL", TOKEN_USER.1),
    ];
    let commit = match repo.run(
        &["commit-tree", &tree, "-p", &tip, "-F", "-"],
        &commit_env,
        Some(body.message.as_bytes()),
    ) {
        Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
        Err(e) => return fail(e),
    };
    if repo.update_ref(&body.branch, &commit, Some(&tip)).is_err() {
        return bad(&format!(
            "Could not update refs/heads/{}. Please refresh and try again.",
            body.branch
        ));
    }
    FakeResponse::json(
        201,
        json!({
            "id": commit,
            "short_id": &commit[..8.min(commit.len())],
            "title": body.message.lines().next().unwrap_or(""),
            "message": body.message,
            "parent_ids": [tip],
            "author_name": author_name,
            "author_email": author_email,
            "committer_name": TOKEN_USER.0,
            "committer_email": TOKEN_USER.1,
        }),
    )
}
