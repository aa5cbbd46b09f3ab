//! Merge requests of [`super::fake_gitlab`], on the real branches of its bare repository,
//! so that `--pr --via api` runs against that one server.
//!
//! Shaped after GitLab's REST v4 documentation ("Merge requests API", "Notes API",
//! "Users API", "Version API"):
//! - `GET /user`, `GET /users?username=` (users `tagbump-bot` id 1 and `alice` id 42),
//!   `GET /version` ([`Mrs::version`], default `17.11.0-ee`).
//! - `GET projects/:id/merge_requests?state=&source_branch=&target_branch=` (newest first,
//!   offset pages: `forge_server/pages.rs`), `POST …`
//!   (form body; 409 `Another open merge request already exists for this source branch`;
//!   the source branch must exist), `PUT …/:iid` (`title`, `description`, `add_labels`,
//!   `state_event=close`), `POST …/:iid/notes`, `GET …/:iid/commits` (the real commits of
//!   the source branch beyond the target).
//! - "Merge a merge request" (`PUT …/:iid/merge`): `auto_merge` from 17.11 (older
//!   versions ignore it as an unknown parameter and merge at once),
//!   `merge_when_pipeline_succeeds` before; 409 `SHA does not match HEAD of source
//!   branch: <sha>` when `sha` is not the real tip; 405 `405 Method Not Allowed` for the
//!   first [`Mrs::not_mergeable_for`] calls after a creation (GitLab is still computing
//!   mergeability, gitlab-org/gitlab#353984); without a pipeline ([`Mrs::pipeline`])
//!   the merge happens at once: a real merge commit on the target branch.

#![allow(dead_code)]

use serde_json::{json, Value};

use super::fake_gitlab::{Repo, PROJECT};
use super::forge_server::{pages, parse_body, FakeResponse, RecordedRequest};

/// One merge request held by the fake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeMr {
    pub iid: u64,
    pub source: String,
    pub target: String,
    pub title: String,
    pub description: String,
    /// `opened`, `closed` or `merged`.
    pub state: String,
    pub labels: Vec<String>,
    /// Reviewer user ids, as sent.
    pub reviewer_ids: Vec<String>,
    pub notes: Vec<String>,
    /// The auto-merge parameter that was set (`auto_merge` or
    /// `merge_when_pipeline_succeeds`).
    pub auto_merge: Option<String>,
    /// The `sha` sent with the merge call.
    pub merge_sha: Option<String>,
}

/// The store and how the server behaves.
#[derive(Debug)]
pub struct Mrs {
    pub(crate) mrs: Vec<FakeMr>,
    /// What `GET /version` says.
    pub(crate) version: String,
    /// Merge requests have a pipeline to wait for.
    pub(crate) pipeline: bool,
    /// 405 answers to merge calls after each creation.
    pub(crate) not_mergeable_for: u32,
    left_405: u32,
}

impl Default for Mrs {
    fn default() -> Self {
        Mrs {
            mrs: Vec::new(),
            version: "17.11.0-ee".to_string(),
            pipeline: true,
            not_mergeable_for: 0,
            left_405: 0,
        }
    }
}

const USERS: [(&str, u64); 2] = [("tagbump-bot", 1), ("alice", 42)];

fn message(status: u16, text: &str) -> FakeResponse {
    FakeResponse::message(status, text)
}

fn user_json(name: &str, id: u64) -> Value {
    json!({ "id": id, "username": name, "name": name, "state": "active" })
}

/// `GET /user`, `GET /users`, `GET /version`; `None` for anything else.
pub(crate) fn instance_route(
    mrs: &Mrs,
    req: &RecordedRequest,
    rest: &[&str],
) -> Option<FakeResponse> {
    match (req.method.as_str(), rest) {
        ("GET", ["user"]) => Some(FakeResponse::json(200, user_json(USERS[0].0, USERS[0].1))),
        ("GET", ["users"]) => {
            let wanted = req.query_param("username");
            let users: Vec<Value> = USERS
                .iter()
                .filter(|(name, _)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(name)))
                .map(|(name, id)| user_json(name, *id))
                .collect();
            Some(FakeResponse::json(200, Value::Array(users)))
        }
        ("GET", ["version"]) => Some(FakeResponse::json(
            200,
            json!({ "version": mrs.version, "revision": "fake" }),
        )),
        _ => None,
    }
}

fn mr_json(base_url: &str, repo: &Repo<'_>, mr: &FakeMr) -> Value {
    json!({
        "id": 5000 + mr.iid,
        "iid": mr.iid,
        "project_id": 1,
        "source_project_id": 1,
        "target_project_id": 1,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "source_branch": mr.source,
        "target_branch": mr.target,
        "sha": repo.tip(&mr.source),
        "labels": mr.labels,
        "draft": mr.title.starts_with("Draft:"),
        "merge_when_pipeline_succeeds": mr.auto_merge.is_some(),
        "web_url": format!("{base_url}/{PROJECT}/-/merge_requests/{}", mr.iid),
    })
}

fn labels(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `projects/:id/merge_requests[/…]` (`rest` starts with `merge_requests`); `None` for
/// other project routes. The caller holds the fake's write lock.
pub(crate) fn route(
    mrs: &mut Mrs,
    repo: &Repo<'_>,
    base_url: &str,
    req: &RecordedRequest,
    rest: &[&str],
) -> Option<FakeResponse> {
    let ["merge_requests", tail @ ..] = rest else {
        return None;
    };
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = parse_body(&content_type, &req.raw_body);
    let field = |key: &str| body.get(key).and_then(Value::as_str);
    Some(match (req.method.as_str(), tail) {
        ("GET", []) => {
            let state = req.query_param("state").unwrap_or("all");
            let source = req.query_param("source_branch");
            let target = req.query_param("target_branch");
            // Newest first (`order_by=created_at`, `sort=desc`), in offset pages
            // ("REST API" › "Pagination", <https://docs.gitlab.com/api/rest/#pagination>).
            let list: Vec<Value> = mrs
                .mrs
                .iter()
                .rev()
                .filter(|m| state == "all" || m.state == state)
                .filter(|m| source.is_none_or(|s| m.source == s))
                .filter(|m| target.is_none_or(|t| m.target == t))
                .map(|m| mr_json(base_url, repo, m))
                .collect();
            let link_base = format!(
                "{base_url}/api/v4/projects/{}/merge_requests",
                pages::encode(PROJECT)
            );
            pages::page(pages::Rules::GitLab, list, &req.query, &link_base)
        }
        ("POST", []) => {
            let (Some(source), Some(target), Some(title)) = (
                field("source_branch"),
                field("target_branch"),
                field("title"),
            ) else {
                return Some(FakeResponse::json(
                    400,
                    json!({ "error": "source_branch, target_branch, title are missing" }),
                ));
            };
            if repo.tip(source).is_none() {
                return Some(FakeResponse::json(
                    422,
                    json!({ "message": ["Source branch does not exist"] }),
                ));
            }
            if let Some(open) = mrs
                .mrs
                .iter()
                .find(|m| m.state == "opened" && m.source == source && m.target == target)
            {
                return Some(FakeResponse::json(
                    409,
                    json!({ "message": [format!("Another open merge request already exists for this source branch: !{}", open.iid)] }),
                ));
            }
            let reviewer_ids = body
                .get("reviewer_ids")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let mr = FakeMr {
                iid: mrs.mrs.len() as u64 + 1,
                source: source.to_string(),
                target: target.to_string(),
                title: title.to_string(),
                description: field("description").unwrap_or("").to_string(),
                state: "opened".to_string(),
                labels: labels(field("labels")),
                reviewer_ids,
                ..FakeMr::default()
            };
            mrs.left_405 = mrs.not_mergeable_for;
            let json = mr_json(base_url, repo, &mr);
            mrs.mrs.push(mr);
            FakeResponse::json(201, json)
        }
        (method, [iid, tail @ ..]) => {
            let (version, pipeline) = (mrs.version.clone(), mrs.pipeline);
            let left_405 = &mut mrs.left_405;
            let Some(mr) = iid
                .parse::<u64>()
                .ok()
                .and_then(|n| mrs.mrs.iter_mut().find(|m| m.iid == n))
            else {
                return Some(message(404, "404 Not found"));
            };
            match (method, tail) {
                ("GET", []) => {}
                ("PUT", []) => {
                    if let Some(title) = field("title") {
                        mr.title = title.to_string();
                    }
                    if let Some(text) = field("description") {
                        mr.description = text.to_string();
                    }
                    for label in labels(field("add_labels")) {
                        if !mr.labels.contains(&label) {
                            mr.labels.push(label);
                        }
                    }
                    if field("state_event") == Some("close") {
                        mr.state = "closed".to_string();
                    }
                }
                ("POST", ["notes"]) => {
                    let note = field("body").unwrap_or("").to_string();
                    mr.notes.push(note.clone());
                    return Some(FakeResponse::json(
                        201,
                        json!({ "id": 7000 + mr.notes.len(), "body": note }),
                    ));
                }
                ("GET", ["commits"]) => {
                    let range = format!("{}..{}", mr.target, mr.source);
                    let ids = repo.text(&["rev-list", &range]).unwrap_or_default();
                    let commits: Vec<Value> = ids
                        .lines()
                        .map(|id| json!({ "id": id, "short_id": &id[..8.min(id.len())] }))
                        .collect();
                    return Some(FakeResponse::json(200, Value::Array(commits)));
                }
                ("PUT", ["merge"]) => {
                    if *left_405 > 0 {
                        *left_405 -= 1;
                        return Some(message(405, "405 Method Not Allowed"));
                    }
                    let head = repo.tip(&mr.source).unwrap_or_default();
                    if let Some(sha) = field("sha") {
                        if sha != head {
                            return Some(message(
                                409,
                                &format!("SHA does not match HEAD of source branch: {head}"),
                            ));
                        }
                        mr.merge_sha = Some(sha.to_string());
                    }
                    let flag = |key: &str| field(key) == Some("true");
                    let param = if knows_auto_merge(&version) && flag("auto_merge") {
                        Some("auto_merge")
                    } else if flag("merge_when_pipeline_succeeds") {
                        Some("merge_when_pipeline_succeeds")
                    } else {
                        None
                    };
                    mr.auto_merge = param.map(str::to_string);
                    if param.is_none() || !pipeline {
                        if let Err(e) = merge(repo, mr, &head) {
                            return Some(message(406, &e));
                        }
                    }
                }
                _ => return Some(message(404, "404 Not found")),
            }
            FakeResponse::json(200, mr_json(base_url, repo, mr))
        }
        _ => message(404, "404 Not found"),
    })
}

/// `17.11.0-ee` ≥ 17.11.
fn knows_auto_merge(version: &str) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (17, 11)
}

/// A merge commit of `head` into the target branch (whose tip must be an ancestor of
/// `head`: "Branch cannot be merged" otherwise), moved with compare-and-swap.
fn merge(repo: &Repo<'_>, mr: &mut FakeMr, head: &str) -> Result<(), String> {
    let base = repo.tip(&mr.target).ok_or("Branch cannot be merged")?;
    if repo
        .run(&["merge-base", "--is-ancestor", &base, head], &[], None)
        .is_err()
    {
        return Err("Branch cannot be merged".to_string());
    }
    let tree = format!("{head}^{{tree}}");
    let message = format!("Merge branch '{}' into '{}'", mr.source, mr.target);
    let identity = [
        ("GIT_AUTHOR_NAME", "tagbump-bot"),
        ("GIT_AUTHOR_EMAIL", "tagbump-bot@noreply.gitlab.example"),
        ("GIT_COMMITTER_NAME", "tagbump-bot"),
        ("GIT_COMMITTER_EMAIL", "tagbump-bot@noreply.gitlab.example"),
    ];
    let out = repo.run(
        &[
            "commit-tree",
            &tree,
            "-p",
            &base,
            "-p",
            head,
            "-m",
            &message,
        ],
        &identity,
        None,
    )?;
    let commit = String::from_utf8_lossy(&out).trim().to_string();
    repo.update_ref(&mr.target, &commit, Some(&base))?;
    mr.state = "merged".to_string();
    Ok(())
}
