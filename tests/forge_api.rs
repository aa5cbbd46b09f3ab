//! Pull/merge requests against a local fake GitHub / GitLab: the exact requests
//! sent, the recovery paths, retries and error reporting.

use crate::support::forge_server;

// Along its seams, in submodules of this one test binary: GitHub stays here.
#[path = "forge_api/gitlab.rs"]
mod gitlab;
#[path = "forge_api/hosts.rs"]
mod hosts;
#[path = "forge_api/pure.rs"]
mod pure;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use forge_server::{FakeResponse, ForgeServer, RecordedRequest, SilentServer};
use serde_json::json;
use tagbump::forge::{
    connect, connect_with, default_api_base, detect_kind, render_body, ChangeLine, ConnectOptions,
    Forge, ForgeError, ForgeKind, PullRequestSpec, RepoId, RetryPolicy, Timeouts,
};
use tagbump::secret::Secret;

const TOKEN: &str = "tok-SECRET-4242";
const HEAD: &str = "tagbump/app-1.2.4";
/// The GitLab project of the merge request tests, and its API path.
const PROJECT: &str = "platform/deploy/app";
const PROJECT_PATH: &str = "/api/v4/projects/platform%2Fdeploy%2Fapp";

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
    let forge = connect_with(
        kind,
        &server.api_base(),
        &Secret::new(TOKEN),
        &ConnectOptions {
            retry,
            sleeper: Arc::new(move |d| log.0.lock().unwrap().push(d)),
            ..ConnectOptions::default()
        },
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    // "List pull requests" answers newest first (`sort=created`, `direction=desc`).
    assert_eq!(pr.closed_superseded, [older2, older1]);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
    let api_base = server.api_base();
    drop(server);
    let forge = connect_with(
        ForgeKind::GitHub,
        &api_base,
        &Secret::new(TOKEN),
        &ConnectOptions {
            retry: RetryPolicy {
                max_attempts: 2,
                max_wait: Duration::from_secs(1),
            },
            sleeper: Arc::new(|_| {}),
            ..ConnectOptions::default()
        },
    )
    .unwrap();

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(
        matches!(err, ForgeError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
    assert_token_hidden(&err);
}
