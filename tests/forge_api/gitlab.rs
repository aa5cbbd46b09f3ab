//! GitLab merge requests: the requests sent, the recovery paths, retries and errors.

use super::*;

#[test]
fn gitlab_opens_a_merge_request_with_draft_title_labels_and_resolved_users() {
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
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
