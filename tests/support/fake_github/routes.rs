//! The endpoints of the fake GitHub (see the parent module).

use base64::Engine as _;
use serde_json::{json, Value};

use super::git::{Entry, ZERO_OID};
use super::Shared;
use crate::support::forge_server::FakeResponse;

/// The repository's REST id (in the `Link` URLs of lists: `/repositories/{id}/…`).
pub const REPO_ID: u64 = 4242;

/// The repository's GraphQL id.
pub const NODE_ID: &str = "R_kgDOfake";

fn not_found() -> FakeResponse {
    FakeResponse::json(
        404,
        json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404",
        }),
    )
}

fn unprocessable(message: &str, doc: &str) -> FakeResponse {
    FakeResponse::json(
        422,
        json!({ "message": message, "documentation_url": doc, "status": "422" }),
    )
}

fn ok(body: Value) -> FakeResponse {
    FakeResponse::json(200, body)
}

/// A GraphQL answer with errors (HTTP 200, like GitHub).
fn graphql_errors(errors: Value) -> FakeResponse {
    ok(json!({ "data": Value::Null, "errors": errors }))
}

fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode(v))
}

/// GitHub's base64: 60 characters a line.
fn base64_lines(bytes: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

pub(crate) fn route(shared: &Shared, method: &str, url: &str, body: &Value) -> FakeResponse {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if path == "/graphql" || path == "/api/graphql" {
        return if method == "POST" {
            graphql(shared, body)
        } else {
            not_found()
        };
    }
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let full_name = shared.lock().full_name.clone();
    let prefix = format!("/repos/{full_name}");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return not_found();
    };
    let git = &shared.git;
    match (method, rest) {
        ("GET", "") => ok(json!({
            "id": REPO_ID,
            "node_id": NODE_ID,
            "name": full_name.rsplit('/').next(),
            "full_name": full_name,
            "private": true,
            "default_branch": git.default_branch(),
            "allow_merge_commit": true,
            "allow_squash_merge": true,
            "allow_rebase_merge": true,
        })),
        ("GET", r) if r.starts_with("/git/ref/heads/") => {
            let branch = decode(&r["/git/ref/heads/".len()..]);
            match git.tip(&branch) {
                Some(sha) => ok(json!({
                    "ref": format!("refs/heads/{branch}"),
                    "node_id": "REF_fake",
                    "object": { "sha": sha, "type": "commit" },
                })),
                None => not_found(),
            }
        }
        ("GET", r) if r.starts_with("/git/commits/") => {
            let sha = decode(&r["/git/commits/".len()..]);
            match git.commit(&sha) {
                Some((tree, parents, message)) => ok(json!({
                    "sha": sha,
                    "tree": { "sha": tree },
                    "parents": parents.iter().map(|p| json!({ "sha": p })).collect::<Vec<_>>(),
                    "message": message,
                    "verification": { "verified": false, "reason": "unsigned" },
                })),
                None => not_found(),
            }
        }
        ("GET", r) if r.starts_with("/git/trees/") => {
            let sha = decode(&r["/git/trees/".len()..]);
            let recursive = query_param(query, "recursive").is_some();
            tree(shared, &sha, recursive)
        }
        ("GET", r) if r.starts_with("/git/blobs/") => {
            let sha = decode(&r["/git/blobs/".len()..]);
            match git.blob(&sha) {
                Some(bytes) => ok(json!({
                    "sha": sha,
                    "size": bytes.len(),
                    "content": base64_lines(&bytes),
                    "encoding": "base64",
                })),
                None => not_found(),
            }
        }
        ("GET", r) if r.starts_with("/contents/") => {
            let file = decode(&r["/contents/".len()..]);
            let reference = query_param(query, "ref").unwrap_or_else(|| git.default_branch());
            contents(shared, &reference, &file)
        }
        ("POST", "/git/refs") => create_ref(shared, body),
        ("PATCH", r) if r.starts_with("/git/refs/heads/") => {
            let branch = decode(&r["/git/refs/heads/".len()..]);
            update_ref(shared, &branch, body)
        }
        ("DELETE", r) if r.starts_with("/git/refs/heads/") => {
            let branch = decode(&r["/git/refs/heads/".len()..]);
            delete_ref(shared, &branch)
        }
        _ => not_found(),
    }
}

fn tree(shared: &Shared, sha: &str, recursive: bool) -> FakeResponse {
    let Some(mut entries) = shared.git.tree_entries(sha) else {
        return not_found();
    };
    if !recursive {
        entries.retain(|e| !e.path.contains('/'));
    }
    let truncated = shared.lock().truncate_trees;
    if truncated {
        entries.truncate(entries.len() / 2);
    }
    let tree: Vec<Value> = entries
        .iter()
        .map(|e: &Entry| {
            let mut v = json!({ "path": e.path, "mode": e.mode, "type": e.kind, "sha": e.sha });
            if let Some(size) = e.size {
                v["size"] = json!(size);
            }
            v
        })
        .collect();
    ok(json!({ "sha": sha, "tree": tree, "truncated": truncated }))
}

fn contents(shared: &Shared, reference: &str, file: &str) -> FakeResponse {
    let git = &shared.git;
    let commit = match git.tip(reference) {
        Some(tip) => tip,
        None if git.object_type(reference).as_deref() == Some("commit") => reference.to_string(),
        None => {
            return FakeResponse::json(
                404,
                json!({ "message": format!("No commit found for the ref {reference}"), "status": "404" }),
            )
        }
    };
    let Some(entry) = git.entry_at(&commit, file) else {
        return not_found();
    };
    let name = entry
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&entry.path)
        .to_string();
    match (entry.kind.as_str(), entry.mode.as_str()) {
        ("tree", _) => ok(Value::Array(
            git.dir_entries(&commit, file)
                .iter()
                .map(|e| {
                    let kind = if e.kind == "tree" { "dir" } else { "file" };
                    json!({ "type": kind, "path": e.path, "sha": e.sha })
                })
                .collect(),
        )),
        ("blob", "120000") => ok(json!({
            "type": "symlink", "name": name, "path": entry.path, "sha": entry.sha,
            "target": String::from_utf8_lossy(&git.blob(&entry.sha).unwrap_or_default()),
        })),
        ("blob", _) => {
            let limit = shared.lock().contents_limit;
            let bytes = git.blob(&entry.sha).unwrap_or_default();
            let (content, encoding) = if bytes.len() as u64 > limit {
                (String::new(), "none")
            } else {
                (base64_lines(&bytes), "base64")
            };
            ok(json!({
                "type": "file", "name": name, "path": entry.path, "sha": entry.sha,
                "size": bytes.len(), "content": content, "encoding": encoding,
            }))
        }
        _ => ok(json!({ "type": "submodule", "name": name, "path": entry.path, "sha": entry.sha })),
    }
}

fn create_ref(shared: &Shared, body: &Value) -> FakeResponse {
    let (Some(name), Some(sha)) = (
        body.get("ref").and_then(Value::as_str),
        body.get("sha").and_then(Value::as_str),
    ) else {
        return unprocessable(
            "Invalid request.",
            "https://docs.github.com/rest/git/refs#create-a-reference",
        );
    };
    let _guard = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
    match shared.git.update_ref(name, sha, ZERO_OID) {
        Ok(()) => FakeResponse::json(
            201,
            json!({ "ref": name, "object": { "sha": sha, "type": "commit" } }),
        ),
        Err(_) => unprocessable(
            "Reference already exists",
            "https://docs.github.com/rest/git/refs#create-a-reference",
        ),
    }
}

/// REST "Delete a reference": 204 No Content, or 422 "Reference does not exist".
fn delete_ref(shared: &Shared, branch: &str) -> FakeResponse {
    let doc = "https://docs.github.com/rest/git/refs#delete-a-reference";
    let _guard = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
    if shared.git.tip(branch).is_none() {
        return unprocessable("Reference does not exist", doc);
    }
    match shared.git.delete_ref(&format!("refs/heads/{branch}")) {
        Ok(()) => FakeResponse::json(204, Value::Null),
        Err(e) => unprocessable(&e, doc),
    }
}

fn update_ref(shared: &Shared, branch: &str, body: &Value) -> FakeResponse {
    let doc = "https://docs.github.com/rest/git/refs#update-a-reference";
    let Some(sha) = body.get("sha").and_then(Value::as_str) else {
        return unprocessable("Invalid request.", doc);
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let _guard = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tip) = shared.git.tip(branch) else {
        return unprocessable("Reference does not exist", doc);
    };
    if !force && !shared.git.is_ancestor(&tip, sha) {
        return unprocessable("Update is not a fast forward", doc);
    }
    match shared.git.force_ref(&format!("refs/heads/{branch}"), sha) {
        Ok(()) => ok(
            json!({ "ref": format!("refs/heads/{branch}"), "object": { "sha": sha, "type": "commit" } }),
        ),
        Err(e) => unprocessable(&e, doc),
    }
}

fn graphql(shared: &Shared, body: &Value) -> FakeResponse {
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let input = body
        .pointer("/variables/input")
        .cloned()
        .unwrap_or(Value::Null);
    if query.contains("createCommitOnBranch") {
        create_commit_on_branch(shared, &input)
    } else if query.contains("updateRefs") {
        if !shared.lock().update_refs {
            return ok(json!({ "errors": [{
                "path": ["mutation UpdateRefs", "updateRefs"],
                "extensions": { "code": "undefinedField", "typeName": "Mutation", "fieldName": "updateRefs" },
                "message": "Field 'updateRefs' doesn't exist on type 'Mutation'",
            }]}));
        }
        update_refs(shared, &input)
    } else if let Some(response) = super::objects::answer(shared, query, body) {
        response
    } else {
        graphql_errors(json!([{ "message": "the fake GitHub does not know this query" }]))
    }
}

fn create_commit_on_branch(shared: &Shared, input: &Value) -> FakeResponse {
    let full_name = shared.lock().full_name.clone();
    let text = |pointer: &str| {
        input
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let repo = text("/branch/repositoryNameWithOwner");
    if repo != full_name {
        return graphql_errors(
            json!([{ "type": "NOT_FOUND", "path": ["createCommitOnBranch"],
            "message": format!("Could not resolve to a Repository with the name '{repo}'.") }]),
        );
    }
    let branch = text("/branch/branchName");
    let expected = text("/expectedHeadOid");
    let stale = || {
        graphql_errors(
            json!([{ "type": "STALE_DATA", "path": ["createCommitOnBranch"],
            "locations": [{ "line": 1, "column": 80 }],
            "message": format!("Expected branch to point to \"{expected}\" but it did not.  Pull and try again.") }]),
        )
    };
    let Some(tip) = shared.git.tip(&branch) else {
        return graphql_errors(
            json!([{ "type": "NOT_FOUND", "path": ["createCommitOnBranch"],
            "message": format!("Could not resolve to a Ref named 'refs/heads/{branch}'.") }]),
        );
    };
    if tip != expected {
        return stale();
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut additions = Vec::new();
    for addition in input
        .pointer("/fileChanges/additions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = addition
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let contents = addition
            .get("contents")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Ok(bytes) = engine.decode(contents) else {
            return graphql_errors(
                json!([{ "type": "UNPROCESSABLE", "message": "contents is not valid base64" }]),
            );
        };
        additions.push((path.to_string(), bytes));
    }
    let deletions: Vec<String> = input
        .pointer("/fileChanges/deletions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("path").and_then(Value::as_str).map(str::to_string))
        .collect();
    let headline = text("/message/headline");
    let body = text("/message/body");
    let message = if body.is_empty() {
        format!("{headline}\n")
    } else {
        format!("{headline}\n\n{body}\n")
    };
    let commit = match shared
        .git
        .create_commit(&expected, &additions, &deletions, &message)
    {
        Ok(commit) => commit,
        Err(e) => {
            return graphql_errors(
                json!([{ "type": "UNPROCESSABLE", "path": ["createCommitOnBranch"], "message": e }]),
            )
        }
    };
    {
        // The compare-and-swap: git refuses if the branch is no longer at `expected`.
        let _guard = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
        if shared
            .git
            .update_ref(&format!("refs/heads/{branch}"), &commit, &expected)
            .is_err()
        {
            return stale();
        }
    }
    let signature = if shared.lock().verified {
        json!({ "isValid": true })
    } else {
        Value::Null
    };
    ok(
        json!({ "data": { "createCommitOnBranch": { "commit": { "oid": commit, "signature": signature } } } }),
    )
}

fn update_refs(shared: &Shared, input: &Value) -> FakeResponse {
    if input.get("repositoryId").and_then(Value::as_str) != Some(NODE_ID) {
        return graphql_errors(
            json!([{ "type": "NOT_FOUND", "message": "Could not resolve to a node with the global id." }]),
        );
    }
    let _guard = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
    for update in input
        .get("refUpdates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |name: &str| {
            update
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (name, after, before) = (field("name"), field("afterOid"), field("beforeOid"));
        let force = update
            .get("force")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let current = shared.git.tip(name.trim_start_matches("refs/heads/"));
        let fast_forward = current
            .as_deref()
            .is_none_or(|c| shared.git.is_ancestor(c, &after));
        let result = if !force && !fast_forward {
            Err("not a fast forward".to_string())
        } else if before.is_empty() {
            shared.git.force_ref(&name, &after)
        } else {
            shared.git.update_ref(&name, &after, &before)
        };
        if result.is_err() {
            // GitHub answers a failed `beforeOid` check with a generic error.
            return graphql_errors(
                json!([{ "path": ["updateRefs"], "locations": [{ "line": 1, "column": 40 }],
                "message": "Something went wrong while executing your query. Please include `0000:FAKE` when reporting this issue." }]),
            );
        }
    }
    ok(json!({ "data": { "updateRefs": { "clientMutationId": Value::Null } } }))
}
