//! The fake GitHub of [`super::ForgeServer::github`]: REST pull requests, issues
//! (labels, assignees, comments), "Get a repository", "Delete a reference", and GraphQL
//! `enablePullRequestAutoMerge`, with the rules named in the parent module's docs.

use serde_json::{json, Value};

use super::github_rules as rules;
use super::pages::{self, Rules};
use super::{
    not_found, push_unique, segments, str_field, string_list, FakeChange, FakeResponse,
    RecordedRequest, State, HEAD_SHA,
};

/// A user as GitHub shows the author of a pull request (the "simple user" schema).
pub fn github_user_json(base_url: &str, login: &str) -> Value {
    let url = |tail: &str| format!("{base_url}/users/{login}{tail}");
    json!({
        "login": login, "id": 1, "node_id": "U_fake1", "type": "User", "site_admin": false,
        "avatar_url": format!("{base_url}/avatars/{login}"), "gravatar_id": "",
        "url": url(""), "html_url": format!("{base_url}/{login}"),
        "followers_url": url("/followers"), "following_url": url("/following{/other_user}"),
        "gists_url": url("/gists{/gist_id}"), "starred_url": url("/starred{/owner}{/repo}"),
        "subscriptions_url": url("/subscriptions"), "organizations_url": url("/orgs"),
        "repos_url": url("/repos"), "events_url": url("/events{/privacy}"),
        "received_events_url": url("/received_events"),
    })
}

/// The id GitHub gives repository `owner/name` (stable, for `/repositories/{id}/…`).
pub fn repo_id(full_name: &str) -> u64 {
    full_name.bytes().fold(1_000_003_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 1_000_000_000
}

/// "Get a pull request" (the full `pull-request` object).
fn github_pull_json(base_url: &str, login: &str, c: &FakeChange) -> Value {
    let mut json = github_pull_simple_json(base_url, login, c);
    json["merged"] = json!(c.merged);
    json["commits"] = json!(c.commits);
    json
}

/// A list item: "List pull requests" answers `pull-request-simple`, which has no
/// `merged`, `mergeable`, `mergeable_state`, `commits`, `additions`, `deletions`,
/// `changed_files`, `comments` or `review_comments`
/// (<https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>).
fn github_pull_simple_json(base_url: &str, login: &str, c: &FakeChange) -> Value {
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
        "merged_at": if c.merged { json!("2026-01-01T00:00:00Z") } else { Value::Null },
        "user": github_user_json(base_url, login),
        "head": {
            "ref": c.head,
            "sha": c.head_sha,
            "label": format!("{}:{}", c.head_owner, c.head),
        },
        "base": {
            "ref": c.base,
            "sha": "2222222222222222222222222222222222222222",
            "label": format!("{owner}:{}", c.base),
        },
    })
}

pub(super) fn github(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let seg = segments(&req.path);
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let base_url = state.base_url.clone();
    let login = state.login.clone();
    let (mergeable_now, allow) = (state.mergeable_now, state.allow);
    if let Some(token) = &state.token {
        let sent = req.header("authorization");
        if sent != Some(&format!("Bearer {token}")) && sent != Some(&format!("token {token}")) {
            return bad_credentials();
        }
    }
    match (req.method.as_str(), seg.as_slice()) {
        ("POST", ["graphql"]) => github_graphql(state, req),
        // "Get a repository": the merge settings a default merge method follows.
        ("GET", ["repos", owner, name]) => FakeResponse::json(
            200,
            json!({
                "id": repo_id(&format!("{owner}/{name}")),
                "full_name": format!("{owner}/{name}"),
                "default_branch": "main",
                "allow_merge_commit": allow[0],
                "allow_squash_merge": allow[1],
                "allow_rebase_merge": allow[2],
            }),
        ),
        // "Delete a reference": 204, or 422 "Reference does not exist".
        ("DELETE", ["repos", owner, name, "git", "refs", "heads", branch @ ..]) => {
            let repo = format!("{owner}/{name}");
            let branch = branch.join("/");
            let exists = state
                .changes
                .iter()
                .any(|c| c.repo == repo && c.head == branch)
                && !state.deleted_branches.contains(&branch);
            if !exists {
                return FakeResponse::json(
                    422,
                    json!({ "message": "Reference does not exist", "documentation_url": "https://docs.github.com/rest/git/refs#delete-a-reference" }),
                );
            }
            state.deleted_branches.push(branch);
            FakeResponse {
                status: 204,
                headers: Vec::new(),
                body: String::new(),
            }
        }
        ("GET", ["repos", owner, name, "pulls"]) => {
            list_pulls(state, req, &format!("{owner}/{name}"))
        }
        // The `Link` of a list names the repository by id.
        ("GET", ["repositories", id, "pulls"]) => {
            let repo = state
                .changes
                .iter()
                .map(|c| c.repo.clone())
                .find(|r| repo_id(r).to_string() == *id);
            match repo {
                Some(repo) => list_pulls(state, req, &repo),
                None => not_found(),
            }
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
                return rules::already_exists(&head_owner, &head);
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
                head_sha: HEAD_SHA.to_string(),
                commits: 1,
                ..FakeChange::default()
            };
            let json = github_pull_json(&base_url, &login, &change);
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
                    let reviewers = string_list(&req.body, "reviewers");
                    if let Some(refusal) = rules::author_as_reviewer(&reviewers, &login) {
                        return refusal;
                    }
                    push_unique(&mut change.reviewers, reviewers);
                    push_unique(
                        &mut change.team_reviewers,
                        string_list(&req.body, "team_reviewers"),
                    );
                    let json = github_pull_json(&base_url, &login, change);
                    return FakeResponse::json(201, json);
                }
                // "Merge a pull request".
                ("PUT", "pulls", ["merge"]) => {
                    let sha = str_field(&req.body, "sha");
                    let mergeable = mergeable_now && change.state == "open";
                    if let Some(refusal) = rules::merge_refusal(sha, &change.head_sha, mergeable) {
                        return refusal;
                    }
                    change.state = "closed".to_string();
                    change.merged = true;
                    change.merge_method = str_field(&req.body, "merge_method").map(str::to_string);
                    change.merge_sha = str_field(&req.body, "sha").map(str::to_string);
                    return rules::merged("3333333333333333333333333333333333333333");
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
                    let json = github_pull_json(&base_url, &login, change);
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
            let json = github_pull_json(&base_url, &login, change);
            FakeResponse::json(200, json)
        }
        _ => not_found(),
    }
}

/// GitHub's 401 for a missing or wrong token ("Troubleshooting the REST API" ›
/// "401 Bad credentials").
pub fn bad_credentials() -> FakeResponse {
    FakeResponse::json(
        401,
        json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }),
    )
}

/// "List pull requests": `state` (default `open`), `head` (`OWNER:BRANCH`), `base`;
/// newest first (the default `sort=created`, `direction=desc`), in pages ([`pages`]).
fn list_pulls(state: &State, req: &RecordedRequest, repo: &str) -> FakeResponse {
    let owner = repo.split('/').next().unwrap_or_default();
    let want_state = req.query_param("state").unwrap_or("open");
    let head = req.query_param("head").map(|h| match h.split_once(':') {
        Some((o, b)) => (o.to_string(), b.to_string()),
        None => (owner.to_string(), h.to_string()),
    });
    let base = req.query_param("base");
    let list: Vec<Value> = state
        .changes
        .iter()
        .rev()
        .filter(|c| c.repo == repo)
        .filter(|c| want_state == "all" || c.state == want_state)
        .filter(|c| {
            head.as_ref()
                .is_none_or(|(o, b)| c.head_owner == *o && c.head == *b)
        })
        .filter(|c| base.is_none_or(|b| c.base == b))
        .map(|c| github_pull_simple_json(&state.base_url, &state.login, c))
        .collect();
    let link_base = format!("{}/repositories/{}/pulls", state.base_url, repo_id(repo));
    pages::page(Rules::GitHub, list, &req.query, &link_base)
}

fn github_graphql(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let query = str_field(&req.body, "query").unwrap_or("");
    if !query.contains("enablePullRequestAutoMerge") {
        return FakeResponse::json(
            200,
            json!({ "errors": [{ "message": "the fake forge only knows enablePullRequestAutoMerge" }] }),
        );
    }
    let vars = req.body.get("variables").cloned().unwrap_or(Value::Null);
    let node_id = str_field(&vars, "pullRequestId")
        .map(str::to_string)
        .or_else(|| {
            vars.as_object()
                .and_then(|v| v.values().find_map(Value::as_str))
                .map(str::to_string)
        })
        .unwrap_or_default();
    let mergeable_now = state.mergeable_now;
    let expected = str_field(&vars, "expectedHeadOid");
    let Some(change) = state
        .changes
        .iter_mut()
        .find(|c| format!("PR_node_{}", c.number) == node_id)
    else {
        return FakeResponse::json(
            200,
            json!({
                "data": { "enablePullRequestAutoMerge": null },
                "errors": [{ "message": format!("Could not resolve to a node with the global id of '{node_id}'") }],
            }),
        );
    };
    if let Some(refusal) = rules::auto_merge_refusal(mergeable_now, expected, &change.head_sha) {
        return refusal;
    }
    change.auto_merge = true;
    change.merge_method = str_field(&vars, "mergeMethod").map(str::to_string);
    change.merge_sha = expected.map(str::to_string);
    FakeResponse::json(
        200,
        json!({ "data": { "enablePullRequestAutoMerge": { "pullRequest": { "number": change.number } } } }),
    )
}
