//! The pull requests of the fake GitHub: the endpoints the `GitHub` forge
//! (`src/forge/github.rs`) uses for `--pr`, answered from a small in-memory store whose
//! branches are the real branches of the bare repository.
//!
//! Shaped after GitHub's REST docs:
//! - "Pulls" › "List pull requests" (`GET /repos/{o}/{r}/pulls?state=&head=OWNER:BRANCH&base=`,
//!   <https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>): newest first,
//!   `pull-request-simple` objects (no `merged`, `mergeable`, `commits`, …: [`simple_json`]),
//!   in pages of `per_page` (default 30, at most 100) with a `Link` header whose URLs name
//!   the repository by id, `/repositories/{id}/pulls?…&page=N` ("Using pagination in the
//!   REST API", <https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api>;
//!   see `forge_server/pages.rs`),
//!   "Create a pull request" (`POST …/pulls`, 201; 422 "Validation Failed" when the head
//!   branch does not exist, when there are no commits between base and head, or when an
//!   open pull request for the same head and base exists: "A pull request already
//!   exists for OWNER:BRANCH."), "Get a pull request" and "Update a pull request"
//!   (`GET` / `PATCH …/pulls/{n}`: title, body, state).
//! - "Pulls" › "Review requests" › "Request reviewers for a pull request"
//!   (`POST …/pulls/{n}/requested_reviewers`, 201).
//! - "Issues" › "Labels" › "Add labels to an issue" (`POST …/issues/{n}/labels`, 200, the
//!   labels), "Assignees" › "Add assignees to an issue" (`POST …/issues/{n}/assignees`,
//!   201) and "Comments" › "Create an issue comment" (`POST …/issues/{n}/comments`, 201).
//! - GraphQL `enablePullRequestAutoMerge(input: {pullRequestId, mergeMethod,
//!   expectedHeadOid})` with the pull request's `node_id`; a pull request that is already
//!   mergeable ([`Pulls::mergeable_now`]) is refused with `Pull request is in clean status`.
//! - "Merge a pull request" (`PUT …/pulls/{n}/merge`, `merge_method`, `sha`): 409 `Head
//!   branch was modified. Review and try the merge again.` for another `sha`, 405 `Pull
//!   Request is not mergeable` when the base moved; else the base branch really moves (a
//!   merge commit, or one squashed commit) and the pull request is closed as merged.
//! - While GitHub recomputes mergeability after the base branch moved
//!   ([`FakeGitHub::recompute_mergeability_after_base_moves`](super::FakeGitHub::recompute_mergeability_after_base_moves)),
//!   "Merge a pull request" answers 405 `Base branch was modified. Review and try the
//!   merge again.` (akuity/kargo#5761) and "Get a pull request" shows `mergeable: null`
//!   ("GitHub has started a background job to compute the mergeability"), for a given
//!   number of those requests.
//! - Requesting a review from the author ([`LOGIN`], the token's user) is 422 `Review
//!   cannot be requested from pull request author.` and requests nobody ("Request
//!   reviewers for a pull request"). `commits` counts the head's commits beyond the base.
//!
//! `head.sha` and `base.sha` are the branches' real tips. Like GitHub, an open pull
//! request whose head branch no longer has any commit that its base lacks (e.g. the
//! head was force-moved to the base's tip) is closed at once ([`close_emptied`]), and
//! stays closed: GitHub does not reopen it when commits arrive later.

use serde_json::{json, Value};

use super::Shared;
use crate::support::forge_server::github_rules::{self as rules, validation_failed};
use crate::support::forge_server::pages::{self, Rules};
use crate::support::forge_server::{decode, github_user_json, FakeResponse};

/// The login of the fake's token: the author of every pull request it opens.
pub const LOGIN: &str = "tagbump-bot";

/// One pull request held by the fake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakePull {
    /// Number, from 1.
    pub number: u64,
    /// Head branch (in the served repository).
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Opened as a draft.
    pub draft: bool,
    /// Labels added.
    pub labels: Vec<String>,
    /// Requested reviewers (logins).
    pub reviewers: Vec<String>,
    /// Requested team reviewers (slugs).
    pub team_reviewers: Vec<String>,
    /// Assignees (logins).
    pub assignees: Vec<String>,
    /// Comment bodies, in order.
    pub comments: Vec<String>,
    /// Auto-merge enabled through GraphQL.
    pub auto_merge: bool,
    /// Closed by GitHub because the head branch was moved to have no commits ahead of
    /// the base (see the module docs), not by an API call.
    pub closed_by_push: bool,
    /// How many times it was updated with `PATCH`.
    pub updates: u32,
    /// Merged through "Merge a pull request".
    pub merged: bool,
    /// The merge method asked for (auto-merge or merge).
    pub merge_method: Option<String>,
}

/// The store.
#[derive(Debug, Default)]
pub(crate) struct Pulls {
    pulls: Vec<FakePull>,
    /// Pull requests have nothing left to wait for (no required checks or reviews):
    /// auto-merge is refused as "clean status", and a merge succeeds.
    pub(crate) mergeable_now: bool,
    /// Base branch → (its tip when mergeability was last computed, how many reads and
    /// merges a recomputation lasts).
    pub(crate) recompute: std::collections::HashMap<String, (String, u32)>,
    /// Pull request → the base tip its mergeability was last computed for, and the
    /// reads and merges its recomputation still lasts.
    computing: std::collections::HashMap<u64, (String, u32)>,
}

impl Pulls {
    /// Every pull request, by number.
    pub(crate) fn all(&self) -> Vec<FakePull> {
        self.pulls.clone()
    }

    /// Adds an open pull request from `head` into `base` straight to the store (as if it
    /// had been opened earlier); its number.
    pub(crate) fn add_open(&mut self, head: &str, base: &str, title: &str) -> u64 {
        let number = self.pulls.len() as u64 + 1;
        self.pulls.push(FakePull {
            number,
            head: head.to_string(),
            base: base.to_string(),
            title: title.to_string(),
            state: "open".to_string(),
            ..FakePull::default()
        });
        number
    }
}

/// One read or merge of pull request `number`: whether GitHub is (still) recomputing
/// its mergeability because its base moved since it last computed it.
fn recomputing(shared: &Shared, number: u64) -> bool {
    let Some(base) = shared
        .lock()
        .pulls
        .pulls
        .iter()
        .find(|p| p.number == number)
        .map(|p| p.base.clone())
    else {
        return false;
    };
    let tip = shared.git.tip(&base).unwrap_or_default();
    let mut state = shared.lock();
    let pulls = &mut state.pulls;
    let Some((start_tip, steps)) = pulls.recompute.get(&base).cloned() else {
        return false;
    };
    let entry = pulls.computing.entry(number).or_insert((start_tip, 0));
    if entry.0 != tip {
        *entry = (tip, steps);
    }
    if entry.1 == 0 {
        return false;
    }
    entry.1 -= 1;
    true
}

fn not_found() -> FakeResponse {
    FakeResponse::json(
        404,
        json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404" }),
    )
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn list(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn add_unique(to: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !to.contains(&item) {
            to.push(item);
        }
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode(v))
}

/// A pull request as "Get a pull request" shows it (the full `pull-request` object: the
/// simple one plus `merged` and `commits`, the fields the forge reads from it).
fn pull_json(shared: &Shared, full_name: &str, pull: &FakePull) -> Value {
    let sha = |branch: &str| shared.git.tip(branch).unwrap_or_default();
    let mut json = simple_json(shared, full_name, pull);
    json["merged"] = Value::Bool(pull.merged);
    json["commits"] = Value::from(
        shared
            .git
            .commits_between(&sha(&pull.base), &sha(&pull.head)),
    );
    json
}

/// A pull request as "List pull requests" shows it: `pull-request-simple`, without
/// `merged`, `mergeable`, `mergeable_state`, `commits`, `additions`, `deletions`,
/// `changed_files`, `comments` and `review_comments`.
fn simple_json(shared: &Shared, full_name: &str, pull: &FakePull) -> Value {
    let sha = |branch: &str| shared.git.tip(branch).unwrap_or_default();
    simple_json_with(full_name, pull, &sha)
}

/// [`simple_json`] with the branch tips from `sha`.
fn simple_json_with(full_name: &str, pull: &FakePull, sha: &dyn Fn(&str) -> String) -> Value {
    let owner = full_name.split('/').next().unwrap_or_default();
    json!({
        "url": format!("https://api.github.test/repos/{full_name}/pulls/{}", pull.number),
        "id": 5000 + pull.number,
        "node_id": node_id(pull.number),
        "html_url": format!("https://github.test/{full_name}/pull/{}", pull.number),
        "number": pull.number,
        "state": pull.state,
        "locked": false,
        "title": pull.title,
        "body": pull.body,
        "draft": pull.draft,
        "labels": pull.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
        "user": github_user_json("https://api.github.test", LOGIN),
        "merged_at": if pull.merged { json!("2026-01-01T00:00:00Z") } else { Value::Null },
        "head": { "label": format!("{owner}:{}", pull.head), "ref": pull.head, "sha": sha(&pull.head) },
        "base": { "label": format!("{owner}:{}", pull.base), "ref": pull.base, "sha": sha(&pull.base) },
    })
}

fn node_id(number: u64) -> String {
    format!("PR_kwDOfake{number}")
}

/// Answers a pull-request request (path and query as sent); `None`: not one of these
/// endpoints, for the repository routes.
pub(crate) fn route(
    shared: &Shared,
    method: &str,
    url: &str,
    body: &Value,
) -> Option<FakeResponse> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if method == "POST" && (path == "/graphql" || path == "/api/graphql") {
        let graphql = text(body, "query").unwrap_or_default();
        return graphql
            .contains("enablePullRequestAutoMerge")
            .then(|| enable_auto_merge(shared, body));
    }
    let enterprise = path.starts_with("/api/v3/");
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let full_name = shared.lock().full_name.clone();
    // The `Link` of a list names the repository by id.
    if method == "GET" && path == format!("/repositories/{}/pulls", super::routes::REPO_ID) {
        return Some(list_pulls(shared, &full_name, query, enterprise));
    }
    let rest = path.strip_prefix(&format!("/repos/{full_name}"))?;
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["pulls"]) => Some(list_pulls(shared, &full_name, query, enterprise)),
        ("POST", ["pulls"]) => Some(create(shared, &full_name, body)),
        (_, [kind @ ("pulls" | "issues"), number, tail @ ..]) => {
            let number = number.parse::<u64>().ok()?;
            Some(one(shared, &full_name, method, kind, number, tail, body))
        }
        _ => None,
    }
}

/// "List pull requests": filtered by `state` (default `open`), `head` (`OWNER:BRANCH`)
/// and `base`, newest first, one page of it.
fn list_pulls(shared: &Shared, full_name: &str, query: &str, enterprise: bool) -> FakeResponse {
    let owner = full_name.split('/').next().unwrap_or_default();
    let state = query_param(query, "state").unwrap_or_else(|| "open".to_string());
    let head = query_param(query, "head");
    let base = query_param(query, "base");
    let (pulls, url) = {
        let state = shared.lock();
        (state.pulls.all(), state.url.clone())
    };
    let tips = shared.git.branch_tips(None);
    let sha = |branch: &str| tips.get(branch).cloned().unwrap_or_default();
    let shown: Vec<Value> = pulls
        .iter()
        .rev()
        .filter(|p| state == "all" || p.state == state)
        .filter(|p| {
            head.as_deref()
                .is_none_or(|h| h == format!("{owner}:{}", p.head))
        })
        .filter(|p| base.as_deref().is_none_or(|b| b == p.base))
        .map(|p| simple_json_with(full_name, p, &sha))
        .collect();
    let prefix = if enterprise { "/api/v3" } else { "" };
    let link_base = format!(
        "{url}{prefix}/repositories/{}/pulls",
        super::routes::REPO_ID
    );
    pages::page(Rules::GitHub, shown, &pages::pairs(query), &link_base)
}

/// "Create a pull request".
fn create(shared: &Shared, full_name: &str, body: &Value) -> FakeResponse {
    let owner = full_name.split('/').next().unwrap_or_default();
    let (Some(title), Some(head), Some(base)) =
        (text(body, "title"), text(body, "head"), text(body, "base"))
    else {
        return validation_failed(json!({ "resource": "PullRequest", "code": "missing_field" }));
    };
    let head = head
        .strip_prefix(&format!("{owner}:"))
        .unwrap_or(head)
        .to_string();
    let (Some(head_tip), Some(base_tip)) = (shared.git.tip(&head), shared.git.tip(base)) else {
        let field = if shared.git.tip(&head).is_none() {
            "head"
        } else {
            "base"
        };
        return validation_failed(
            json!({ "resource": "PullRequest", "field": field, "code": "invalid" }),
        );
    };
    if shared.git.is_ancestor(&head_tip, &base_tip) {
        return validation_failed(json!({ "resource": "PullRequest", "code": "custom",
            "message": format!("No commits between {base} and {head}") }));
    }
    let mut state = shared.lock();
    if state
        .pulls
        .pulls
        .iter()
        .any(|p| p.state == "open" && p.head == head && p.base == base)
    {
        return rules::already_exists(owner, &head);
    }
    let pull = FakePull {
        number: state.pulls.pulls.len() as u64 + 1,
        head,
        base: base.to_string(),
        title: title.to_string(),
        body: text(body, "body").unwrap_or_default().to_string(),
        state: "open".to_string(),
        draft: body.get("draft").and_then(Value::as_bool).unwrap_or(false),
        ..FakePull::default()
    };
    state.pulls.pulls.push(pull.clone());
    drop(state);
    FakeResponse::json(201, pull_json(shared, full_name, &pull))
}

/// `…/pulls/{n}[/…]` and `…/issues/{n}/…` of one pull request.
fn one(
    shared: &Shared,
    full_name: &str,
    method: &str,
    kind: &str,
    number: u64,
    tail: &[&str],
    body: &Value,
) -> FakeResponse {
    let computing = matches!(
        (method, kind, tail),
        ("GET", "pulls", []) | ("PUT", "pulls", ["merge"])
    ) && recomputing(shared, number);
    let mut state = shared.lock();
    let mergeable_now = state.pulls.mergeable_now;
    let Some(pull) = state.pulls.pulls.iter_mut().find(|p| p.number == number) else {
        return not_found();
    };
    let status = match (method, kind, tail) {
        ("GET", "pulls", []) => {
            let pull = pull.clone();
            drop(state);
            let mut json = pull_json(shared, full_name, &pull);
            let (mergeable, mergeable_state) = if computing {
                (Value::Null, "unknown")
            } else if mergeable_now && pull.state == "open" {
                (Value::Bool(true), "clean")
            } else {
                (Value::Bool(false), "blocked")
            };
            json["mergeable"] = mergeable;
            json["mergeable_state"] = Value::from(mergeable_state);
            return FakeResponse::json(200, json);
        }
        ("PUT", "pulls", ["merge"]) if computing => return rules::base_modified(),
        ("PATCH", "pulls", []) => {
            if let Some(title) = text(body, "title") {
                pull.title = title.to_string();
            }
            if let Some(text) = text(body, "body") {
                pull.body = text.to_string();
            }
            if let Some(s) = text(body, "state") {
                pull.state = s.to_string();
            }
            pull.updates += 1;
            200
        }
        ("POST", "pulls", ["requested_reviewers"]) => {
            if let Some(refusal) = rules::author_as_reviewer(&list(body, "reviewers"), LOGIN) {
                return refusal;
            }
            add_unique(&mut pull.reviewers, list(body, "reviewers"));
            add_unique(&mut pull.team_reviewers, list(body, "team_reviewers"));
            201
        }
        ("PUT", "pulls", ["merge"]) => {
            let pull = pull.clone();
            drop(state);
            return merge(shared, &pull, body);
        }
        ("POST", "issues", ["labels"]) => {
            add_unique(&mut pull.labels, list(body, "labels"));
            let labels: Vec<Value> = pull
                .labels
                .iter()
                .enumerate()
                .map(
                    |(i, l)| json!({ "id": i + 1, "name": l, "color": "ededed", "default": false }),
                )
                .collect();
            return FakeResponse::json(200, Value::Array(labels));
        }
        ("POST", "issues", ["assignees"]) => {
            add_unique(&mut pull.assignees, list(body, "assignees"));
            201
        }
        ("POST", "issues", ["comments"]) => {
            let comment = text(body, "body").unwrap_or_default().to_string();
            pull.comments.push(comment.clone());
            let id = 7000 + pull.comments.len();
            return FakeResponse::json(201, json!({ "id": id, "body": comment }));
        }
        _ => return not_found(),
    };
    let pull = pull.clone();
    drop(state);
    FakeResponse::json(status, pull_json(shared, full_name, &pull))
}

/// "Merge a pull request", on the real branches.
fn merge(shared: &Shared, pull: &FakePull, body: &Value) -> FakeResponse {
    let _moving = shared.ref_lock.lock().unwrap_or_else(|e| e.into_inner());
    let head = shared.git.tip(&pull.head).unwrap_or_default();
    let base = shared.git.tip(&pull.base).unwrap_or_default();
    let mergeable = shared.lock().pulls.mergeable_now
        && pull.state == "open"
        && !head.is_empty()
        && shared.git.is_ancestor(&base, &head);
    if let Some(refusal) = rules::merge_refusal(text(body, "sha"), &head, mergeable) {
        return refusal;
    }
    let method = text(body, "merge_method").unwrap_or("merge").to_string();
    let moved = shared
        .git
        .merge_commit(&base, &head, &method)
        .and_then(|commit| {
            shared
                .git
                .update_ref(&format!("refs/heads/{}", pull.base), &commit, &base)
                .map(|()| commit)
        });
    let commit = match moved {
        Ok(commit) => commit,
        Err(e) => {
            return FakeResponse::json(
                405,
                json!({ "message": e, "documentation_url": rules::DOC_MERGE }),
            )
        }
    };
    let mut state = shared.lock();
    if let Some(p) = state
        .pulls
        .pulls
        .iter_mut()
        .find(|p| p.number == pull.number)
    {
        p.state = "closed".to_string();
        p.merged = true;
        p.merge_method = Some(method);
    }
    rules::merged(&commit)
}

/// GraphQL `enablePullRequestAutoMerge` (the variable holds the pull request's node id).
fn enable_auto_merge(shared: &Shared, body: &Value) -> FakeResponse {
    let id = body
        .pointer("/variables/pullRequestId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expected = body
        .pointer("/variables/expectedHeadOid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let method = body
        .pointer("/variables/mergeMethod")
        .and_then(Value::as_str)
        .map(str::to_string);
    let head_of = |branch: &str| shared.git.tip(branch).unwrap_or_default();
    let mut state = shared.lock();
    let mergeable_now = state.pulls.mergeable_now;
    match state
        .pulls
        .pulls
        .iter_mut()
        .find(|p| node_id(p.number) == id)
    {
        Some(pull) => {
            let head = head_of(&pull.head);
            if let Some(refusal) =
                rules::auto_merge_refusal(mergeable_now, expected.as_deref(), &head)
            {
                return refusal;
            }
            pull.auto_merge = true;
            pull.merge_method = method;
            FakeResponse::json(
                200,
                json!({ "data": { "enablePullRequestAutoMerge": { "pullRequest": { "number": pull.number } } } }),
            )
        }
        None => FakeResponse::json(
            200,
            json!({ "data": { "enablePullRequestAutoMerge": null }, "errors": [{ "type": "NOT_FOUND",
                "message": format!("Could not resolve to a node with the global id of '{id}'") }] }),
        ),
    }
}

/// What GitHub does on a push: an open pull request whose head has no commits beyond
/// its base (the head is the base's tip or behind it) is closed.
pub(crate) fn close_emptied(shared: &Shared) {
    let open: Vec<(u64, String, String)> = shared
        .lock()
        .pulls
        .pulls
        .iter()
        .filter(|p| p.state == "open")
        .map(|p| (p.number, p.head.clone(), p.base.clone()))
        .collect();
    if open.is_empty() {
        return;
    }
    // One `for-each-ref` for every branch, and one per base for the heads it contains.
    let tips = shared.git.branch_tips(None);
    let mut merged: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        std::collections::HashMap::new();
    for (number, head, base) in open {
        let emptied = match (tips.get(&head), tips.contains_key(&base)) {
            (Some(_), true) => merged
                .entry(base.clone())
                .or_insert_with(|| shared.git.branch_tips(Some(&base)))
                .contains_key(&head),
            // A deleted head branch closes the pull request too.
            (None, _) => true,
            (Some(_), false) => false,
        };
        if emptied {
            let mut state = shared.lock();
            if let Some(pull) = state.pulls.pulls.iter_mut().find(|p| p.number == number) {
                pull.state = "closed".to_string();
                pull.closed_by_push = true;
            }
        }
    }
}
