//! Credentials stay on the API host (no redirect is followed), a plain-http API URL is
//! warned about, and a host that never answers times out.

use super::*;

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
    let server = ForgeServer::gitlab(TOKEN);
    let other = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::gitlab(TOKEN);
    let other = ForgeServer::gitlab(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
    let other = ForgeServer::github(TOKEN);
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

// "Using pagination in the REST API": the next page is the `Link` header's
// `rel="next"` URL. One on another host is not followed: the token stays home.
#[test]
fn github_next_page_on_another_host_is_refused_and_the_token_never_reaches_it() {
    let server = ForgeServer::github(TOKEN);
    let other = ForgeServer::github(TOKEN);
    server.inject(
        "GET",
        "/repos/acme/deploy/pulls",
        FakeResponse::json(200, json!([])).with_header(
            "Link",
            &format!(
                "<{}/repositories/1/pulls?page=2>; rel=\"next\", <{0}/repositories/1/pulls?page=9>; rel=\"last\"",
                other.url()
            ),
        ),
    );
    let (forge, _) = github(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(matches!(err, ForgeError::Decode { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(other.url()), "names the other host: {text}");
    assert!(text.contains("does not send the token there"), "{text}");
    assert_token_hidden(&err);
    assert_nothing_reached(&other);
    assert!(
        server.changes().is_empty(),
        "nothing opened on a half-read list"
    );
}

#[test]
fn gitlab_next_page_on_another_host_is_refused_and_the_token_never_reaches_it() {
    let server = ForgeServer::gitlab(TOKEN);
    let other = ForgeServer::gitlab(TOKEN);
    server.inject(
        "GET",
        "/merge_requests",
        FakeResponse::json(200, json!([]))
            .with_header(
                "Link",
                &format!(
                    "<{}/api/v4/projects/1/merge_requests?page=2>; rel=\"next\"",
                    other.url()
                ),
            )
            .with_header("x-next-page", "2"),
    );
    let (forge, _) = gitlab(&server);

    let err = forge.ensure_pull_request(&spec("acme/deploy")).unwrap_err();

    assert!(matches!(err, ForgeError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains(other.url()), "{err}");
    assert_token_hidden(&err);
    assert_nothing_reached(&other);
    assert!(server.changes().is_empty());
}

#[test]
fn github_307_on_creating_the_pull_request_is_refused() {
    let server = ForgeServer::github(TOKEN);
    let other = ForgeServer::github(TOKEN);
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
    let server = ForgeServer::github(TOKEN);
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
    assert!(
        text.contains("give the final API address"),
        "says what to do: {text}"
    );
    assert_eq!(lines(&server.requests()), ["GET /repos/acme/deploy/pulls"]);
}

#[test]
fn an_http_api_url_is_used_with_a_warning() {
    let server = ForgeServer::gitlab(TOKEN);
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
