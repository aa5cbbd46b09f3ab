//! Pull/merge requests against a local fake GitHub / GitLab: the exact requests
//! sent, the recovery paths, retries and error reporting.

#[path = "support/forge_server.rs"]
mod forge_server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use forge_server::{FakeResponse, ForgeServer, RecordedRequest, SilentServer};
use serde_json::json;
use tagbump::forge::{
    connect, connect_with, connect_with_sleeper, default_api_base, detect_kind, render_body,
    ChangeLine, ConnectOptions, Forge, ForgeError, ForgeKind, PullRequestSpec, RepoId, RetryPolicy,
    Timeouts,
};
use tagbump::secret::Secret;

const TOKEN: &str = "tok-SECRET-4242";
const HEAD: &str = "tagbump/app-1.2.4";

/// Waits requested by the forge client, recorded instead of slept.
#[derive(Clone, Default)]
struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    fn taken(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

fn connect_to(
    kind: ForgeKind,
    server: &ForgeServer,
    retry: RetryPolicy,
) -> Result<(Box<dyn Forge>, Sleeps), ForgeError> {
    let sleeps = Sleeps::default();
    let log = sleeps.clone();
    let forge = connect_with_sleeper(
        kind,
        &server.api_base(),
        &Secret::new(TOKEN),
        retry,
        Arc::new(move |d| log.0.lock().unwrap().push(d)),
    )?;
    Ok((forge, sleeps))
}

fn github(server: &ForgeServer) -> (Box<dyn Forge>, Sleeps) {
    connect_to(ForgeKind::GitHub, server, RetryPolicy::default()).unwrap()
}

fn gitlab(server: &ForgeServer) -> (Box<dyn Forge>, Sleeps) {
    connect_to(ForgeKind::GitLab, server, RetryPolicy::default()).unwrap()
}

fn spec(path: &str) -> PullRequestSpec {
    PullRequestSpec {
        repo: RepoId {
            host: "forge.example".into(),
            path: path.into(),
        },
        head: HEAD.into(),
        base: "main".into(),
        title: "Bump app to 1.2.4".into(),
        body: "- `values.yaml`: `image.tag` 1.2.3 → 1.2.4".into(),
        labels: vec![],
        reviewers: vec![],
        assignees: vec![],
        draft: false,
        auto_merge: false,
        merge_method: None,
        head_sha: None,
        supersede_prefix: None,
    }
}

fn lines(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(RecordedRequest::line).collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn assert_token_hidden(err: &ForgeError) {
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
}

// ------------------------------------------------------------------ GitHub

#[test]
fn github_opens_a_pull_request_with_labels_reviewers_assignees_and_draft() {
    let server = ForgeServer::github();
    let (forge, _) = github(&server);
    let spec = PullRequestSpec {
        labels: vec!["dependencies".into(), "tagbump".into()],
        reviewers: vec!["alice".into(), "acme/platform".into()],
        assignees: vec!["bob".into()],
        draft: true,
        ..spec("acme/deploy")
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert_eq!(pr.number, 1);
    assert!(pr.created);
    assert_eq!(pr.url, format!("{}/acme/deploy/pull/1", server.url()));
    assert!(pr.closed_superseded.is_empty());
    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);

    let requests = server.requests();
    assert_eq!(
        lines(&requests),
        [
            "GET /repos/acme/deploy/pulls",
            "POST /repos/acme/deploy/pulls",
            "POST /repos/acme/deploy/issues/1/labels",
            "POST /repos/acme/deploy/pulls/1/requested_reviewers",
            "POST /repos/acme/deploy/issues/1/assignees",
        ]
    );
    let list = &requests[0];
    assert_eq!(list.query_param("state"), Some("open"));
    assert_eq!(list.query_param("head"), Some("acme:tagbump/app-1.2.4"));
    assert_eq!(list.query_param("base"), Some("main"));
    assert_eq!(
        requests[1].body,
        json!({
            "title": "Bump app to 1.2.4",
            "head": HEAD,
            "base": "main",
            "body": "- `values.yaml`: `image.tag` 1.2.3 → 1.2.4",
            "draft": true,
        })
    );
    assert_eq!(
        requests[2].body,
        json!({ "labels": ["dependencies", "tagbump"] })
    );
    assert_eq!(
        requests[3].body,
        json!({ "reviewers": ["alice"], "team_reviewers": ["platform"] })
    );
    assert_eq!(requests[4].body, json!({ "assignees": ["bob"] }));
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    let stored = server.change(1).unwrap();
    assert!(stored.draft);
    assert_eq!(stored.labels, ["dependencies", "tagbump"]);
    assert_eq!(stored.reviewers, ["alice"]);
    assert_eq!(stored.assignees, ["bob"]);
}

#[test]
fn github_updates_the_open_pull_request_for_the_same_head_instead_of_duplicating_it() {
    let server = ForgeServer::github();
    let existing = server.add_change("acme/deploy", HEAD, "main", "Bump app to 1.2.3");
    let (forge, _) = github(&server);
    let spec = PullRequestSpec {
        labels: vec!["tagbump".into()],
        reviewers: vec!["alice".into()],
        ..spec("acme/deploy")
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert_eq!(
        lines(&server.requests()),
        [
            "GET /repos/acme/deploy/pulls",
            "PATCH /repos/acme/deploy/pulls/1",
            "POST /repos/acme/deploy/issues/1/labels",
        ],
        "no new pull request and no second review request"
    );
    let patch = &server.requests_to("PATCH", "/pulls/1")[0];
    assert_eq!(
        patch.body,
        json!({ "title": spec.title, "body": spec.body })
    );
    assert_eq!(server.changes().len(), 1);
    assert_eq!(server.change(existing).unwrap().title, "Bump app to 1.2.4");
}

#[test]
fn github_recovers_from_already_exists_by_updating_the_existing_pull_request() {
    let server = ForgeServer::github();
    let existing = server.add_change("acme/deploy", HEAD, "main", "Bump app to 1.2.3");
    // A stale list (e.g. a replica lagging behind) hides the open PR once.
    server.inject("GET", "/pulls", FakeResponse::json(200, json!([])));
    let (forge, _) = github(&server);

    let pr = forge.ensure_pull_request(&spec("acme/deploy")).unwrap();

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert_eq!(
        lines(&server.requests()),
        [
            "GET /repos/acme/deploy/pulls",
            "POST /repos/acme/deploy/pulls",
            "GET /repos/acme/deploy/pulls",
            "PATCH /repos/acme/deploy/pulls/1",
        ]
    );
    assert_eq!(server.changes().len(), 1);
}

#[test]
fn github_supersede_closes_older_bumps_of_the_same_image_with_a_comment() {
    let server = ForgeServer::github();
    let older1 = server.add_change(
        "acme/deploy",
        "tagbump/app-1.2.2",
        "main",
        "Bump app to 1.2.2",
    );
    let older2 = server.add_change(
        "acme/deploy",
        "tagbump/app-1.2.3",
        "main",
        "Bump app to 1.2.3",
    );
    let other_image = server.add_change("acme/deploy", "tagbump/db-9", "main", "Bump db");
    let other_base = server.add_change(
        "acme/deploy",
        "tagbump/app-1.1.9",
        "release",
        "Bump app on release",
    );
    let fork = server.add_change_from(
        "acme/deploy",
        "mallory",
        "tagbump/app-6.6.6",
        "main",
        "From a fork",
    );
    let (forge, _) = github(&server);
    let spec = PullRequestSpec {
        supersede_prefix: Some("tagbump/app-".into()),
        ..spec("acme/deploy")
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert!(pr.created);
    assert_eq!(pr.closed_superseded, [older1, older2]);
    for old in [older1, older2] {
        let change = server.change(old).unwrap();
        assert_eq!(change.state, "closed");
        assert_eq!(change.comments, [format!("Superseded by #{}", pr.number)]);
        let close = server.requests_to("PATCH", &format!("/pulls/{old}"));
        assert_eq!(close[0].body, json!({ "state": "closed" }));
    }
    for untouched in [other_image, other_base, fork, pr.number] {
        let change = server.change(untouched).unwrap();
        assert_eq!(change.state, "open", "#{untouched} must stay open");
        assert!(change.comments.is_empty());
    }
    let supersede_list = server.requests_to("GET", "/pulls").pop().unwrap();
    assert_eq!(supersede_list.query_param("state"), Some("open"));
    assert_eq!(supersede_list.query_param("base"), Some("main"));
    assert_eq!(supersede_list.query_param("head"), None);
}

#[test]
fn github_auto_merge_is_enabled_through_graphql() {
    let server = ForgeServer::github();
    let (forge, _) = github(&server);
    let spec = PullRequestSpec {
        auto_merge: true,
        ..spec("acme/deploy")
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    let graphql = server.requests_to("POST", "/graphql");
    assert_eq!(graphql.len(), 1);
    assert_eq!(graphql[0].path, "/graphql");
    let query = graphql[0].body["query"].as_str().unwrap();
    assert!(query.contains("enablePullRequestAutoMerge"), "{query}");
    // No --merge-method: the repository's first allowed method ("Get a repository").
    assert_eq!(server.requests_to("GET", "/repos/acme/deploy").len(), 2);
    assert_eq!(
        graphql[0].body["variables"],
        json!({ "pullRequestId": "PR_node_1", "mergeMethod": "MERGE", "expectedHeadOid": forge_server::HEAD_SHA })
    );
    assert_eq!(
        graphql[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(server.change(pr.number).unwrap().auto_merge);
}

#[test]
fn github_auto_merge_refusal_is_a_warning_not_a_failure() {
    let server = ForgeServer::github();
    server.inject(
        "POST",
        "/graphql",
        FakeResponse::json(
            200,
            json!({ "errors": [{ "message": "Pull request Auto merge is not allowed for this repository" }] }),
        ),
    );
    let (forge, _) = github(&server);
    let spec = PullRequestSpec {
        auto_merge: true,
        ..spec("acme/deploy")
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert!(pr.created);
    assert_eq!(pr.warnings.len(), 1);
    assert!(
        pr.warnings[0].contains("Auto merge is not allowed"),
        "{:?}",
        pr.warnings
    );
}

fn github_error_after(response: FakeResponse) -> (ForgeServer, ForgeError) {
    let server = ForgeServer::github();
    server.inject("GET", "/pulls", response);
    let (forge, _) = github(&server);
    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();
    assert_token_hidden(&err);
    (server, err)
}

#[test]
fn github_401_is_an_auth_error_naming_the_api() {
    let (server, err) = github_error_after(FakeResponse::message(401, "Bad credentials"));
    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("token rejected by {}", server.url())),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1, "401 is not retried");
}

#[test]
fn github_403_is_forbidden_with_the_forges_message_and_no_token() {
    let (_, err) = github_error_after(FakeResponse::message(
        403,
        &format!("Resource not accessible by personal access token {TOKEN}"),
    ));
    assert!(matches!(err, ForgeError::Forbidden { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("Resource not accessible by personal access token ***"),
        "{shown}"
    );
}

#[test]
fn github_404_is_not_found_with_a_hint_about_token_access() {
    let (_, err) = github_error_after(FakeResponse::message(404, "Not Found"));
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("GET /repos/acme/deploy/pulls"), "{shown}");
    assert!(shown.contains("token has no access"), "{shown}");
}

#[test]
fn github_429_waits_for_retry_after_then_succeeds() {
    let server = ForgeServer::github();
    server.inject(
        "POST",
        "/pulls",
        FakeResponse::message(429, "rate limited").with_header("Retry-After", "7"),
    );
    let (forge, sleeps) = github(&server);

    let pr = forge.ensure_pull_request(&spec("acme/deploy")).unwrap();

    assert!(pr.created);
    assert_eq!(sleeps.taken(), [Duration::from_secs(7)]);
    assert_eq!(
        server.requests_to("POST", "/repos/acme/deploy/pulls").len(),
        2
    );
    assert_eq!(server.changes().len(), 1);
}

#[test]
fn github_403_with_exhausted_quota_waits_until_the_reset_then_succeeds() {
    let server = ForgeServer::github();
    let reset = unix_now() + 30;
    server.inject(
        "GET",
        "/pulls",
        FakeResponse::message(403, "API rate limit exceeded")
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string()),
    );
    let (forge, sleeps) = github(&server);

    forge.ensure_pull_request(&spec("acme/deploy")).unwrap();

    let taken = sleeps.taken();
    assert_eq!(taken.len(), 1);
    assert!(
        taken[0] >= Duration::from_secs(1) && taken[0] <= Duration::from_secs(30),
        "{taken:?}"
    );
}

#[test]
fn github_rate_limit_resetting_after_max_wait_is_reported_without_waiting() {
    let server = ForgeServer::github();
    let reset = unix_now() + 3600;
    server.inject(
        "GET",
        "/pulls",
        FakeResponse::message(403, "API rate limit exceeded")
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string()),
    );
    let (forge, sleeps) = github(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    match &err {
        ForgeError::RateLimited { reset_at, .. } => assert_eq!(*reset_at, Some(reset)),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(err.to_string().contains(&reset.to_string()), "{err}");
    assert!(sleeps.taken().is_empty());
    assert_eq!(server.requests().len(), 1);
    assert_token_hidden(&err);
}

#[test]
fn github_429_on_every_attempt_ends_in_rate_limited() {
    let server = ForgeServer::github();
    for _ in 0..2 {
        server.inject(
            "GET",
            "/pulls",
            FakeResponse::message(429, "slow down").with_header("Retry-After", "2"),
        );
    }
    let retry = RetryPolicy {
        max_attempts: 2,
        max_wait: Duration::from_secs(60),
    };
    let (forge, sleeps) = connect_to(ForgeKind::GitHub, &server, retry).unwrap();

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(matches!(err, ForgeError::RateLimited { .. }), "{err:?}");
    assert_eq!(sleeps.taken(), [Duration::from_secs(2)]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn github_502_is_retried_with_backoff_then_succeeds() {
    let server = ForgeServer::github();
    server.inject(
        "PATCH",
        "/pulls/",
        FakeResponse::message(502, "Bad Gateway"),
    );
    server.add_change("acme/deploy", HEAD, "main", "old");
    let (forge, sleeps) = github(&server);

    let pr = forge.ensure_pull_request(&spec("acme/deploy")).unwrap();

    assert!(!pr.created);
    assert_eq!(sleeps.taken(), [Duration::from_secs(1)]);
    assert_eq!(server.requests_to("PATCH", "/pulls/1").len(), 2);
}

#[test]
fn github_502_on_every_attempt_ends_in_a_server_error() {
    let server = ForgeServer::github();
    for _ in 0..3 {
        server.inject("GET", "/pulls", FakeResponse::message(502, "Bad Gateway"));
    }
    let retry = RetryPolicy {
        max_attempts: 3,
        max_wait: Duration::from_secs(60),
    };
    let (forge, sleeps) = connect_to(ForgeKind::GitHub, &server, retry).unwrap();

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    match &err {
        ForgeError::Server {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (502, 3)),
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(
        sleeps.taken(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_token_hidden(&err);
}

#[test]
fn github_unreachable_server_is_a_transport_error_without_the_token() {
    let server = ForgeServer::github();
    let api_base = server.api_base();
    drop(server);
    let forge = connect_with_sleeper(
        ForgeKind::GitHub,
        &api_base,
        &Secret::new(TOKEN),
        RetryPolicy {
            max_attempts: 2,
            max_wait: Duration::from_secs(1),
        },
        Arc::new(|_| {}),
    )
    .unwrap();

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(
        matches!(err, ForgeError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
    assert_token_hidden(&err);
}

// ------------------------------------------------------------------ GitLab

const PROJECT: &str = "platform/deploy/app";
const PROJECT_PATH: &str = "/api/v4/projects/platform%2Fdeploy%2Fapp";

#[test]
fn gitlab_opens_a_merge_request_with_draft_title_labels_and_resolved_users() {
    let server = ForgeServer::gitlab();
    server.add_user("alice", 7);
    server.add_user("bob", 9);
    let (forge, _) = gitlab(&server);
    let spec = PullRequestSpec {
        labels: vec!["dependencies".into(), "tagbump".into()],
        reviewers: vec!["alice".into(), "ghost".into()],
        assignees: vec!["@bob".into()],
        draft: true,
        ..spec(PROJECT)
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert_eq!(pr.number, 1);
    assert!(pr.created);
    assert_eq!(
        pr.url,
        format!("{}/{PROJECT}/-/merge_requests/1", server.url())
    );
    assert_eq!(pr.warnings.len(), 1, "{:?}", pr.warnings);
    assert!(pr.warnings[0].contains("ghost"), "{:?}", pr.warnings);

    let requests = server.requests();
    assert_eq!(
        lines(&requests),
        [
            "GET /api/v4/user".to_string(),
            format!("GET {PROJECT_PATH}/merge_requests"),
            "GET /api/v4/users".to_string(),
            "GET /api/v4/users".to_string(),
            "GET /api/v4/users".to_string(),
            format!("POST {PROJECT_PATH}/merge_requests"),
        ]
    );
    let list = &requests[1];
    assert_eq!(list.query_param("state"), Some("opened"));
    assert_eq!(list.query_param("source_branch"), Some(HEAD));
    assert_eq!(list.query_param("target_branch"), Some("main"));
    let looked_up: Vec<_> = requests[2..5]
        .iter()
        .map(|r| r.query_param("username").unwrap().to_string())
        .collect();
    assert_eq!(looked_up, ["alice", "ghost", "bob"]);
    assert_eq!(
        requests[5].body,
        json!({
            "source_branch": HEAD,
            "target_branch": "main",
            "title": "Draft: Bump app to 1.2.4",
            "description": "- `values.yaml`: `image.tag` 1.2.3 → 1.2.4",
            "labels": "dependencies,tagbump",
            "remove_source_branch": "true",
            "reviewer_ids": ["7"],
            "assignee_ids": ["9"],
        })
    );
    for r in &requests {
        assert_eq!(r.header("private-token"), Some(TOKEN));
        assert_eq!(r.header("authorization"), None);
    }
}

#[test]
fn gitlab_updates_the_open_merge_request_for_the_same_source_branch() {
    let server = ForgeServer::gitlab();
    let existing = server.add_change(PROJECT, HEAD, "main", "Bump app to 1.2.3");
    let (forge, _) = gitlab(&server);
    let spec = PullRequestSpec {
        labels: vec!["tagbump".into()],
        reviewers: vec!["alice".into()],
        ..spec(PROJECT)
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert_eq!(
        lines(&server.requests()),
        [
            "GET /api/v4/user".to_string(),
            format!("GET {PROJECT_PATH}/merge_requests"),
            format!("PUT {PROJECT_PATH}/merge_requests/1"),
        ]
    );
    let put = &server.requests_to("PUT", "/merge_requests/1")[0];
    assert_eq!(
        put.body,
        json!({
            "title": "Bump app to 1.2.4",
            "description": spec.body,
            "add_labels": "tagbump",
        })
    );
    assert_eq!(server.changes().len(), 1);
    assert_eq!(server.change(existing).unwrap().labels, ["tagbump"]);
}

#[test]
fn gitlab_recovers_from_409_already_exists_by_updating() {
    let server = ForgeServer::gitlab();
    let existing = server.add_change(PROJECT, HEAD, "main", "Bump app to 1.2.3");
    server.inject("GET", "/merge_requests", FakeResponse::json(200, json!([])));
    let (forge, _) = gitlab(&server);

    let pr = forge.ensure_pull_request(&spec(PROJECT)).unwrap();

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert_eq!(
        lines(&server.requests())[1..],
        [
            format!("GET {PROJECT_PATH}/merge_requests"),
            format!("POST {PROJECT_PATH}/merge_requests"),
            format!("GET {PROJECT_PATH}/merge_requests"),
            format!("PUT {PROJECT_PATH}/merge_requests/1"),
        ]
    );
    assert_eq!(server.changes().len(), 1);
}

#[test]
fn gitlab_auto_merge_sets_auto_merge_for_the_head_sha_on_17_11() {
    let server = ForgeServer::gitlab();
    let (forge, _) = gitlab(&server);
    let spec = PullRequestSpec {
        auto_merge: true,
        ..spec(PROJECT)
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    let merge = server.requests_to("PUT", "/merge_requests/1/merge");
    assert_eq!(merge.len(), 1);
    assert_eq!(
        merge[0].body,
        json!({ "auto_merge": "true", "sha": forge_server::HEAD_SHA })
    );
    assert!(server.change(pr.number).unwrap().auto_merge);
}

#[test]
fn gitlab_still_not_mergeable_after_the_retries_is_a_warning() {
    let server = ForgeServer::gitlab();
    server.set_not_mergeable_for(5);
    let (forge, sleeps) = gitlab(&server);
    let spec = PullRequestSpec {
        auto_merge: true,
        ..spec(PROJECT)
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert!(pr.created);
    assert_eq!(server.requests_to("PUT", "/merge").len(), 5);
    assert_eq!(
        sleeps.taken(),
        [1, 2, 4, 8].map(Duration::from_secs),
        "retried after 1, 2, 4, 8 s"
    );
    assert_eq!(pr.warnings.len(), 1);
    assert!(pr.warnings[0].contains("405"), "{:?}", pr.warnings);
}

#[test]
fn gitlab_supersede_closes_older_merge_requests_with_a_note() {
    let server = ForgeServer::gitlab();
    let older = server.add_change(PROJECT, "tagbump/app-1.2.3", "main", "Bump app to 1.2.3");
    let other = server.add_change(PROJECT, "tagbump/db-9", "main", "Bump db");
    let (forge, _) = gitlab(&server);
    let spec = PullRequestSpec {
        supersede_prefix: Some("tagbump/app-".into()),
        ..spec(PROJECT)
    };

    let pr = forge.ensure_pull_request(&spec).unwrap();

    assert_eq!(pr.closed_superseded, [older]);
    let note = server.requests_to("POST", &format!("/merge_requests/{older}/notes"));
    assert_eq!(
        note[0].body,
        json!({ "body": format!("Superseded by !{}", pr.number) })
    );
    let close = server
        .requests_to("PUT", &format!("/merge_requests/{older}"))
        .pop()
        .unwrap();
    assert_eq!(close.body, json!({ "state_event": "close" }));
    assert_eq!(server.change(older).unwrap().state, "closed");
    assert_eq!(server.change(other).unwrap().state, "opened");
    assert_eq!(server.change(pr.number).unwrap().state, "opened");
}

#[test]
fn gitlab_401_on_connect_is_an_auth_error() {
    let server = ForgeServer::gitlab();
    server.inject(
        "GET",
        "/api/v4/user",
        FakeResponse::message(401, "401 Unauthorized"),
    );

    let err = connect_to(ForgeKind::GitLab, &server, RetryPolicy::default())
        .err()
        .unwrap();

    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains(&server.api_base()), "{err}");
    assert_token_hidden(&err);
}

fn gitlab_error_after(method: &str, path: &str, response: FakeResponse) -> ForgeError {
    let server = ForgeServer::gitlab();
    server.inject(method, path, response);
    let (forge, _) = gitlab(&server);
    let err = forge.ensure_pull_request(&spec(PROJECT)).unwrap_err();
    assert_token_hidden(&err);
    err
}

#[test]
fn gitlab_403_is_forbidden_with_the_forges_message() {
    let err = gitlab_error_after(
        "POST",
        "/merge_requests",
        FakeResponse::message(
            403,
            "403 Forbidden - You are not allowed to push into this branch",
        ),
    );
    assert!(matches!(err, ForgeError::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("not allowed to push"), "{err}");
}

#[test]
fn gitlab_404_is_not_found() {
    let err = gitlab_error_after(
        "GET",
        "/merge_requests",
        FakeResponse::message(404, "404 Project Not Found"),
    );
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("404 Project Not Found"), "{err}");
}

#[test]
fn gitlab_validation_errors_are_reported_with_the_field() {
    let err = gitlab_error_after(
        "POST",
        "/merge_requests",
        FakeResponse::json(400, json!({ "message": { "title": ["is too long"] } })),
    );
    match &err {
        ForgeError::Api {
            status, message, ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(message, "title is too long");
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

#[test]
fn gitlab_429_waits_for_retry_after_then_succeeds() {
    let server = ForgeServer::gitlab();
    server.inject(
        "POST",
        "/merge_requests",
        FakeResponse::message(429, "Retry later").with_header("Retry-After", "5"),
    );
    let (forge, sleeps) = gitlab(&server);

    let pr = forge.ensure_pull_request(&spec(PROJECT)).unwrap();

    assert!(pr.created);
    assert_eq!(sleeps.taken(), [Duration::from_secs(5)]);
    assert_eq!(server.requests_to("POST", "/merge_requests").len(), 2);
    assert_eq!(server.changes().len(), 1);
}

#[test]
fn gitlab_429_longer_than_max_wait_is_rate_limited() {
    let server = ForgeServer::gitlab();
    let reset = unix_now() + 7200;
    server.inject(
        "GET",
        "/merge_requests",
        FakeResponse::message(429, "Retry later")
            .with_header("Retry-After", "7200")
            .with_header("RateLimit-Reset", &reset.to_string()),
    );
    let (forge, sleeps) = gitlab(&server);

    let err = forge.ensure_pull_request(&spec(PROJECT)).unwrap_err();

    match &err {
        ForgeError::RateLimited { reset_at, .. } => assert_eq!(*reset_at, Some(reset)),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(sleeps.taken().is_empty());
    assert_token_hidden(&err);
}

#[test]
fn gitlab_502_is_retried_then_succeeds() {
    let server = ForgeServer::gitlab();
    server.inject(
        "GET",
        "/merge_requests",
        FakeResponse::message(502, "502 Bad Gateway"),
    );
    let (forge, sleeps) = gitlab(&server);

    let pr = forge.ensure_pull_request(&spec(PROJECT)).unwrap();

    assert!(pr.created);
    assert_eq!(sleeps.taken(), [Duration::from_secs(1)]);
}

#[test]
fn gitlab_502_on_every_attempt_ends_in_a_server_error() {
    let server = ForgeServer::gitlab();
    for _ in 0..4 {
        server.inject(
            "GET",
            "/merge_requests",
            FakeResponse::message(502, "502 Bad Gateway"),
        );
    }
    let (forge, sleeps) = gitlab(&server);

    let err = forge.ensure_pull_request(&spec(PROJECT)).unwrap_err();

    match &err {
        ForgeError::Server {
            status,
            attempts,
            message,
            ..
        } => {
            assert_eq!((*status, *attempts), (502, 4));
            assert_eq!(message, "502 Bad Gateway");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(
        sleeps.taken(),
        [1, 2, 4].map(Duration::from_secs),
        "exponential backoff between the four attempts"
    );
    assert_token_hidden(&err);
}

#[test]
fn connect_rejects_an_api_url_without_scheme() {
    let err = connect(
        ForgeKind::GitLab,
        "gitlab.example.com/api/v4",
        &Secret::new(TOKEN),
        RetryPolicy::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, ForgeError::Config(_)), "{err:?}");
}

// ------------------------------------------------------------------ credentials stay on the API host

/// Asserts that `other` (a second host) received nothing that carries a credential.
/// It should receive nothing at all, since redirects are not followed.
fn assert_nothing_reached(other: &ForgeServer) {
    for request in other.requests() {
        for (name, value) in &request.headers {
            assert!(
                !matches!(
                    name.as_str(),
                    "authorization" | "private-token" | "job-token"
                ) && !value.contains(TOKEN),
                "a credential reached the second host: {name}: {value}"
            );
        }
        assert!(!request.url.contains(TOKEN) && !request.raw_body.contains(TOKEN));
    }
    assert_eq!(
        lines(&other.requests()),
        Vec::<String>::new(),
        "redirects are not followed at all"
    );
}

fn host_of(url: &str) -> &str {
    url.trim_start_matches("http://")
}

fn assert_redirect_names_both_hosts(err: &ForgeError, from: &ForgeServer, to: &ForgeServer) {
    let text = err.to_string();
    assert!(matches!(err, ForgeError::Redirect { .. }), "{err:?}");
    assert!(
        text.contains(host_of(from.url())),
        "names the API host: {text}"
    );
    assert!(
        text.contains(host_of(to.url())),
        "names the redirect target: {text}"
    );
    assert!(text.contains("does not follow redirects"), "{text}");
    assert_token_hidden(err);
}

// GitLab documents no redirects for REST v4 ("REST API" docs: the API answers
// 2xx/4xx/5xx); a 302 here stands for a proxy or a moved instance. Before this
// fix, the `gitlab` crate's own client followed it and sent `PRIVATE-TOKEN` along.
#[test]
fn gitlab_redirect_to_another_host_is_refused_and_the_token_never_reaches_it() {
    let server = ForgeServer::gitlab();
    let other = ForgeServer::gitlab();
    server.inject(
        "GET",
        "/api/v4/user",
        FakeResponse::message(302, "Found")
            .with_header("Location", &format!("{}/api/v4/user", other.url())),
    );

    let err = connect_to(ForgeKind::GitLab, &server, RetryPolicy::default())
        .err()
        .unwrap();

    assert_redirect_names_both_hosts(&err, &server, &other);
    assert_eq!(err.status(), Some(302));
    assert_nothing_reached(&other);
    assert_eq!(server.requests().len(), 1, "a redirect is not retried");
}

#[test]
fn gitlab_307_on_creating_the_merge_request_is_refused_without_resending_the_body() {
    let server = ForgeServer::gitlab();
    let other = ForgeServer::gitlab();
    server.inject(
        "POST",
        "/merge_requests",
        FakeResponse::message(307, "Temporary Redirect").with_header(
            "Location",
            &format!("{}{PROJECT_PATH}/merge_requests", other.url()),
        ),
    );
    let (forge, _) = gitlab(&server);

    let err = forge.ensure_pull_request(&spec(PROJECT)).unwrap_err();

    assert_redirect_names_both_hosts(&err, &server, &other);
    assert_nothing_reached(&other);
    assert!(server.changes().is_empty());
}

// GitHub REST "Following redirects" (docs.github.com/rest/using-the-rest-api/
// best-practices-for-using-the-rest-api#follow-redirects): 301 for a renamed
// repository, 302/307 for temporary moves, `Location` naming the new URL.
#[test]
fn github_redirect_to_another_host_is_refused_and_the_token_never_reaches_it() {
    let server = ForgeServer::github();
    let other = ForgeServer::github();
    server.inject(
        "GET",
        "/repos/acme/deploy/pulls",
        FakeResponse::message(301, "Moved Permanently").with_header(
            "Location",
            &format!("{}/repos/acme/moved/pulls", other.url()),
        ),
    );
    let (forge, sleeps) = github(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert_redirect_names_both_hosts(&err, &server, &other);
    assert_nothing_reached(&other);
    assert_eq!(server.requests().len(), 1);
    assert!(sleeps.taken().is_empty(), "not retried");
}

#[test]
fn github_307_on_creating_the_pull_request_is_refused() {
    let server = ForgeServer::github();
    let other = ForgeServer::github();
    server.inject(
        "POST",
        "/repos/acme/deploy/pulls",
        FakeResponse::message(307, "Temporary Redirect").with_header(
            "Location",
            &format!("{}/repos/acme/deploy/pulls", other.url()),
        ),
    );
    let (forge, _) = github(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert_redirect_names_both_hosts(&err, &server, &other);
    assert_nothing_reached(&other);
    assert!(server.changes().is_empty());
}

// Same GitHub page: a renamed repository answers 301 with a `Location` on the same
// host (`/repositories/ID/...`). Also refused (decision: no redirect is followed).
#[test]
fn github_same_host_redirect_is_refused_too_with_a_clear_error() {
    let server = ForgeServer::github();
    server.inject(
        "GET",
        "/repos/acme/deploy/pulls",
        FakeResponse::message(301, "Moved Permanently")
            .with_header("Location", "/repositories/42/pulls?state=open"),
    );
    let (forge, _) = github(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(
        matches!(err, ForgeError::Redirect { status: 301, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("GET /repos/acme/deploy/pulls"), "{text}");
    assert!(text.contains("--api-url"), "says what to do: {text}");
    assert_eq!(lines(&server.requests()), ["GET /repos/acme/deploy/pulls"]);
}

#[test]
fn an_http_api_url_is_used_with_a_warning() {
    let server = ForgeServer::gitlab();
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = logged.clone();
    let options = ConnectOptions {
        log: Arc::new(move |line| log.lock().unwrap().push(line.to_string())),
        ..ConnectOptions::default()
    };
    connect_with(
        ForgeKind::GitLab,
        &server.api_base(),
        &Secret::new(TOKEN),
        &options,
    )
    .unwrap();
    assert_eq!(
        *logged.lock().unwrap(),
        [format!(
            "warning: sending the API token to {} over unencrypted http://",
            server.url()
        )]
    );
}

// ------------------------------------------------------------------ timeouts

fn quick_timeouts() -> ConnectOptions {
    ConnectOptions {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(700),
            deadline: None,
        },
        sleeper: Arc::new(|_| {}),
        ..ConnectOptions::default()
    }
}

fn assert_timeout_names_the_host(err: &ForgeError, silent: &SilentServer, what: &str) {
    match err {
        ForgeError::Timeout {
            host,
            waited_for,
            what: request,
            ..
        } => {
            assert_eq!(host, &silent.host());
            assert_eq!(waited_for, "an answer");
            assert_eq!(request, what);
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&silent.host()), "{text}");
    assert!(text.contains("waiting for an answer"), "{text}");
    assert_token_hidden(err);
}

#[test]
fn gitlab_silent_server_is_a_timeout_naming_the_host_and_is_not_retried() {
    let silent = SilentServer::start();
    let started = Instant::now();

    let err = connect_with(
        ForgeKind::GitLab,
        &format!("{}/api/v4", silent.url()),
        &Secret::new(TOKEN),
        &quick_timeouts(),
    )
    .err()
    .unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_timeout_names_the_host(&err, &silent, "GET /user");
    assert_eq!(silent.accepted(), 1, "a timed-out request is not retried");
}

#[test]
fn github_silent_server_is_a_timeout_naming_the_host_and_is_not_retried() {
    let silent = SilentServer::start();
    let forge = connect_with(
        ForgeKind::GitHub,
        &silent.url(),
        &Secret::new(TOKEN),
        &quick_timeouts(),
    )
    .unwrap();
    let started = Instant::now();

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_timeout_names_the_host(&err, &silent, "GET /repos/acme/deploy/pulls");
    assert_eq!(silent.accepted(), 1, "a timed-out request is not retried");
}

#[test]
fn a_deadline_shorter_than_the_read_timeout_ends_the_call_at_the_deadline() {
    let silent = SilentServer::start();
    let options = ConnectOptions {
        timeouts: Timeouts {
            deadline: Some(Instant::now() + Duration::from_millis(500)),
            ..Timeouts::default()
        },
        ..ConnectOptions::default()
    };
    let started = Instant::now();
    let forge = connect_with(
        ForgeKind::GitHub,
        &silent.url(),
        &Secret::new(TOKEN),
        &options,
    )
    .unwrap();
    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, ForgeError::Timeout { .. }), "{err:?}");
}

// ------------------------------------------------------------------ pure functions

#[test]
fn repo_id_from_remote_url_handles_every_remote_form_and_drops_credentials() {
    let cases = [
        (
            "https://github.com/acme/deploy",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://github.com/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://github.com/acme/deploy/",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://x-access-token:ghs_abc@github.com/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://oauth2:glpat-xyz@gitlab.com/g/s/p.git",
            "gitlab.com",
            "g/s/p",
        ),
        (
            "http://GitLab.Internal:8080/g/p.git",
            "gitlab.internal:8080",
            "g/p",
        ),
        (
            "https://github.com:443/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "git@github.com:acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        ("github.com:acme/deploy", "github.com", "acme/deploy"),
        (
            "ssh://git@gitlab.example.com:22/group/sub/project.git",
            "gitlab.example.com",
            "group/sub/project",
        ),
        (
            "ssh://gitlab.example.com/group/project",
            "gitlab.example.com",
            "group/project",
        ),
        ("git://example.org/a/b.git", "example.org", "a/b"),
    ];
    for (url, host, path) in cases {
        let repo = RepoId::from_remote_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            (repo.host.as_str(), repo.path.as_str()),
            (host, path),
            "{url}"
        );
    }

    for bad in [
        "/srv/git/deploy.git",
        "./deploy",
        "file:///srv/git/deploy.git",
        "https://github.com/acme",
        "https://github.com/",
        "https://user:s3cr3t@github.com/only-owner",
    ] {
        let err = RepoId::from_remote_url(bad).unwrap_err();
        assert!(
            matches!(err, ForgeError::InvalidRemote { .. }),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}

#[test]
fn detect_kind_and_default_api_base_follow_the_host() {
    let repo = |host: &str| RepoId {
        host: host.into(),
        path: "a/b".into(),
    };
    assert_eq!(detect_kind(&repo("github.com")), Some(ForgeKind::GitHub));
    assert_eq!(detect_kind(&repo("gitlab.com")), Some(ForgeKind::GitLab));
    assert_eq!(
        detect_kind(&repo("gitlab.acme.io")),
        Some(ForgeKind::GitLab)
    );
    assert_eq!(
        detect_kind(&repo("gitlab.acme.io:8443")),
        Some(ForgeKind::GitLab)
    );
    assert_eq!(detect_kind(&repo("git.acme.io")), None);

    assert_eq!(
        default_api_base(ForgeKind::GitHub, &repo("github.com")),
        "https://api.github.com"
    );
    assert_eq!(
        default_api_base(ForgeKind::GitHub, &repo("ghe.acme.io")),
        "https://ghe.acme.io/api/v3"
    );
    assert_eq!(
        default_api_base(ForgeKind::GitLab, &repo("gitlab.acme.io:8443")),
        "https://gitlab.acme.io:8443/api/v4"
    );
}

#[test]
fn render_body_expands_changes_and_variables_and_keeps_unknown_placeholders() {
    let vars = BTreeMap::from([
        ("image".to_string(), "ghcr.io/acme/app".to_string()),
        ("tag".to_string(), "1.2.4".to_string()),
    ]);
    let changes = [
        ChangeLine {
            file: "apps/app/values.yaml".into(),
            key: "image.tag".into(),
            old: "1.2.3".into(),
            new: "1.2.4".into(),
        },
        ChangeLine {
            file: "apps/app/kustomization.yaml".into(),
            key: "images[0].newTag".into(),
            old: "1.2.3".into(),
            new: "1.2.4".into(),
        },
    ];

    let body = render_body(
        "Bump `{image}` to {tag}.\n\n{changes}\n\n{footer}",
        &vars,
        &changes,
    );

    assert_eq!(
        body,
        "Bump `ghcr.io/acme/app` to 1.2.4.\n\n\
         - `apps/app/values.yaml`: `image.tag` 1.2.3 → 1.2.4\n\
         - `apps/app/kustomization.yaml`: `images[0].newTag` 1.2.3 → 1.2.4\n\n\
         {footer}"
    );
}
