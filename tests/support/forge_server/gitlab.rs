//! The fake GitLab of [`super::ForgeServer::gitlab`]: users, version, merge requests,
//! notes, commits, merge and branch deletion, with the rules and the token check named
//! in the parent module's docs.

use serde_json::{json, Value};

use super::{
    not_found, push_unique, segments, str_field, string_list, FakeChange, FakeResponse,
    RecordedRequest, State, HEAD_SHA,
};

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
        "sha": c.head_sha,
        "web_url": format!("{base_url}/{}/-/merge_requests/{}", c.repo, c.number),
    })
}

fn gitlab_user_json(username: &str, id: u64) -> Value {
    json!({ "id": id, "username": username, "name": username, "state": "active" })
}

pub(super) fn gitlab(state: &mut State, req: &RecordedRequest) -> FakeResponse {
    let seg = segments(&req.path);
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let base_url = state.base_url.clone();
    let ["api", "v4", rest @ ..] = seg.as_slice() else {
        return not_found();
    };
    if let Some(personal) = &state.token {
        let job_endpoint = matches!(
            (req.method.as_str(), rest),
            ("GET", ["projects", _])
                | ("GET", ["projects", _, "repository", "branches", ..])
                | ("GET", ["projects", _, "repository", "commits", ..])
                | ("GET", ["projects", _, "repository", "files", ..])
        );
        let job = state.job_token.as_deref();
        let authorised = req.header("private-token") == Some(personal.as_str())
            || (job_endpoint && job.is_some() && req.header("job-token") == job);
        if !authorised {
            return FakeResponse::message(401, "401 Unauthorized");
        }
    }
    let version = state.gitlab_version.clone();
    let (pipeline, not_mergeable_for) = (state.pipeline, state.not_mergeable_for);
    match (req.method.as_str(), rest) {
        ("GET", ["version"]) => {
            FakeResponse::json(200, json!({ "version": version, "revision": "fake" }))
        }
        ("DELETE", ["projects", project, "repository", "branches", branch]) => {
            let exists = state
                .changes
                .iter()
                .any(|c| c.repo == *project && c.head == *branch)
                && !state.deleted_branches.iter().any(|b| b == branch);
            if !exists {
                return FakeResponse::message(404, "404 Branch Not Found");
            }
            state.deleted_branches.push(branch.to_string());
            FakeResponse {
                status: 204,
                headers: Vec::new(),
                body: String::new(),
            }
        }
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
        // "List merge requests": newest first (`order_by=created_at`, `sort=desc`), in
        // offset pages ([`pages`]).
        ("GET", ["projects", project, "merge_requests"]) => {
            let want_state = req.query_param("state").unwrap_or("all");
            let source = req.query_param("source_branch");
            let target = req.query_param("target_branch");
            let list: Vec<Value> = state
                .changes
                .iter()
                .rev()
                .filter(|c| c.repo == *project)
                .filter(|c| want_state == "all" || c.state == want_state)
                .filter(|c| source.is_none_or(|s| c.head == s))
                .filter(|c| target.is_none_or(|t| c.base == t))
                .map(|c| gitlab_mr_json(&base_url, c))
                .collect();
            let link_base = format!(
                "{base_url}/api/v4/projects/{}/merge_requests",
                super::pages::encode(project)
            );
            super::pages::page(super::pages::Rules::GitLab, list, &req.query, &link_base)
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
                head_sha: HEAD_SHA.to_string(),
                commits: 1,
                ..FakeChange::default()
            };
            state.not_mergeable_left = not_mergeable_for;
            let json = gitlab_mr_json(&base_url, &change);
            state.changes.push(change);
            FakeResponse::json(201, json)
        }
        (method, ["projects", project, "merge_requests", iid, tail @ ..]) => {
            let mut left_405 = state.not_mergeable_left;
            let response = gitlab_one(
                state,
                req,
                &base_url,
                &version,
                pipeline,
                method,
                project,
                iid,
                tail,
                &mut left_405,
            );
            state.not_mergeable_left = left_405;
            response
        }
        _ => FakeResponse::message(404, "404 Not found"),
    }
}

#[allow(clippy::too_many_arguments)]
fn gitlab_one(
    state: &mut State,
    req: &RecordedRequest,
    base_url: &str,
    version: &str,
    pipeline: bool,
    method: &str,
    project: &str,
    iid: &str,
    tail: &[&str],
    left_405: &mut u32,
) -> FakeResponse {
    {
        {
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
                ("GET", ["commits"]) => {
                    let commits: Vec<Value> = (1..=change.commits)
                        .map(|i| {
                            let id = if i == 1 {
                                change.head_sha.clone()
                            } else {
                                format!("{i:040}")
                            };
                            json!({ "id": id, "short_id": &id[..8], "title": "commit" })
                        })
                        .collect();
                    return FakeResponse::json(200, Value::Array(commits));
                }
                ("PUT", ["merge"]) => {
                    if state_left_405(left_405) {
                        return FakeResponse::message(405, "405 Method Not Allowed");
                    }
                    let flag = |key: &str| {
                        str_field(&req.body, key) == Some("true")
                            || req.body.get(key) == Some(&Value::Bool(true))
                    };
                    if let Some(sha) = str_field(&req.body, "sha") {
                        if sha != change.head_sha {
                            return FakeResponse::message(
                                409,
                                &format!(
                                    "SHA does not match HEAD of source branch: {}",
                                    change.head_sha
                                ),
                            );
                        }
                        change.merge_sha = Some(sha.to_string());
                    }
                    // Before 17.11 `auto_merge` is an unknown parameter, ignored.
                    let knows_auto_merge = version_at_least(version, 17, 11);
                    let param = if knows_auto_merge && flag("auto_merge") {
                        Some("auto_merge")
                    } else if flag("merge_when_pipeline_succeeds") {
                        Some("merge_when_pipeline_succeeds")
                    } else {
                        None
                    };
                    change.merge_method =
                        str_field(&req.body, "squash").map(|s| format!("squash={s}"));
                    match param {
                        Some(param) if pipeline => {
                            change.auto_merge = true;
                            change.auto_merge_param = Some(param.to_string());
                        }
                        // No pipeline to wait for: merged at once.
                        other => {
                            change.auto_merge_param = other.map(str::to_string);
                            change.state = "merged".to_string();
                            change.merged = true;
                        }
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
            let json = gitlab_mr_json(base_url, change);
            FakeResponse::json(200, json)
        }
    }
}

/// Uses up one of the 405 answers GitLab gives right after creation.
fn state_left_405(left: &mut u32) -> bool {
    if *left > 0 {
        *left -= 1;
        true
    } else {
        false
    }
}

/// `17.11.0-ee` ≥ 17.11.
fn version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
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
