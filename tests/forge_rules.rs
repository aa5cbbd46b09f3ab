//! The forges' own rules for pull/merge requests (issue 13), one test per rule, against
//! the fake forge (`support/forge_server.rs`), which answers as each named documentation
//! page says.

use crate::support::forge_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use forge_server::{FakeResponse, ForgeServer, HEAD_SHA};
use serde_json::json;
use tagbump::forge::{
    connect_with, ConnectOptions, Forge, ForgeError, ForgeKind, MergeMethod, PullRequest,
    PullRequestSpec, RepoId, RetryPolicy, Timeouts,
};
use tagbump::secret::Secret;

const TOKEN: &str = "tok-SECRET-1313";
const JOB_TOKEN: &str = "job-SECRET-1313";
const HEAD: &str = "tagbump/ghcr.io-acme-api-1.5.0";
const PREFIX: &str = "tagbump/ghcr.io-acme-api-";

/// What the client slept and logged, recorded instead of done.
#[derive(Clone, Default)]
struct Recorder {
    sleeps: Arc<Mutex<Vec<Duration>>>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn sleeps(&self) -> Vec<u64> {
        self.sleeps
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_secs)
            .collect()
    }
    /// Logged lines, without the warning about the fake's plain http:// URL.
    fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| !l.contains("unencrypted http://"))
            .cloned()
            .collect()
    }
}

fn connect(
    kind: ForgeKind,
    server: &ForgeServer,
    adjust: impl FnOnce(&mut ConnectOptions),
) -> (Box<dyn Forge>, Recorder) {
    let recorder = Recorder::default();
    let (sleeps, lines) = (recorder.sleeps.clone(), recorder.lines.clone());
    let mut options = ConnectOptions {
        retry: RetryPolicy::default(),
        sleeper: Arc::new(move |d| sleeps.lock().unwrap().push(d)),
        log: Arc::new(move |l| lines.lock().unwrap().push(l.to_string())),
        ..ConnectOptions::default()
    };
    adjust(&mut options);
    let token = Secret::new(if options.gitlab_job_token {
        JOB_TOKEN
    } else {
        TOKEN
    });
    let forge = connect_with(kind, &server.api_base(), &token, &options).unwrap();
    (forge, recorder)
}

/// The pull request every test asks for: `HEAD` → `main` of `acme/gitops`, pushed at
/// `HEAD_SHA`, no options.
fn spec() -> PullRequestSpec {
    PullRequestSpec {
        repo: RepoId {
            host: "forge.example".into(),
            path: "acme/gitops".into(),
        },
        head: HEAD.into(),
        base: "main".into(),
        title: "Bump api to 1.5.0".into(),
        body: "bump".into(),
        labels: vec![],
        reviewers: vec![],
        assignees: vec![],
        draft: false,
        auto_merge: false,
        merge_method: None,
        head_sha: Some(HEAD_SHA.into()),
        supersede_prefix: None,
    }
}

/// [`spec`] with auto-merge, by `method` (or the forge's default).
fn auto_merge(method: Option<MergeMethod>) -> PullRequestSpec {
    PullRequestSpec {
        auto_merge: true,
        merge_method: method,
        ..spec()
    }
}

/// [`spec`] closing the older pull requests of branches named `PREFIX…`.
fn superseding() -> PullRequestSpec {
    PullRequestSpec {
        supersede_prefix: Some(PREFIX.into()),
        ..spec()
    }
}

/// Two older bot changes: `PREFIX1.3.0` holding only tagbump's commit, and `PREFIX1.4.0`
/// where someone else pushed (`commits` commits). Their numbers.
fn older_bot_changes(server: &ForgeServer, commits: u64) -> (u64, u64) {
    let untouched = server.add_change("acme/gitops", &format!("{PREFIX}1.3.0"), "main", "1.3.0");
    let touched = server.add_change("acme/gitops", &format!("{PREFIX}1.4.0"), "main", "1.4.0");
    server.set_head(touched, "4444444444444444444444444444444444444444", commits);
    (untouched, touched)
}

/// Connects to `server` with the default options and asks for `spec`.
fn ensure(kind: ForgeKind, server: &ForgeServer, spec: &PullRequestSpec) -> PullRequest {
    let (forge, _) = connect(kind, server, |_| {});
    forge.ensure_pull_request(spec).unwrap()
}

// ------------------------------------------------------------ GitHub secondary limits
// docs.github.com, "Rate limits for the REST API" › "Exceeding the rate limit".

#[test]
fn github_secondary_limit_without_retry_after_waits_a_minute_then_twice_as_long() {
    let server = ForgeServer::github(TOKEN);
    for _ in 0..2 {
        server.inject(
            "POST",
            "/pulls",
            FakeResponse::github_secondary_limit(403, None),
        );
    }
    let (forge, rec) = connect(ForgeKind::GitHub, &server, |_| {});

    let pr = forge.ensure_pull_request(&spec()).unwrap();

    assert!(pr.created);
    assert_eq!(rec.sleeps(), [60, 120]);
    assert_eq!(
        server.requests_to("POST", "/repos/acme/gitops/pulls").len(),
        3
    );
    let lines = rec.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "secondary rate limit at {}: waiting 60s before attempt 2 (You have exceeded a secondary rate limit.",
            server.api_base()
        )),
        "{}",
        lines[0]
    );
}

#[test]
fn github_secondary_limit_with_retry_after_waits_exactly_that_long() {
    let server = ForgeServer::github(TOKEN);
    server.inject(
        "GET",
        "/pulls",
        FakeResponse::github_secondary_limit(429, Some(7)),
    );
    let (forge, rec) = connect(ForgeKind::GitHub, &server, |_| {});

    forge.ensure_pull_request(&spec()).unwrap();

    assert_eq!(rec.sleeps(), [7]);
    assert!(rec.lines()[0].contains("waiting 7s as the forge asked"));
}

#[test]
fn github_secondary_limit_whose_wait_passes_the_deadline_is_an_error_that_says_so() {
    let server = ForgeServer::github(TOKEN);
    server.inject(
        "GET",
        "/pulls",
        FakeResponse::github_secondary_limit(403, None),
    );
    let (forge, rec) = connect(ForgeKind::GitHub, &server, |o| {
        o.timeouts = Timeouts {
            deadline: Some(Instant::now() + Duration::from_secs(30)),
            ..Timeouts::default()
        };
    });

    let err = forge.ensure_pull_request(&spec()).unwrap_err();

    assert!(matches!(err, ForgeError::RateLimited { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("secondary rate limit"), "{text}");
    assert!(text.contains("would pass the run's deadline"), "{text}");
    assert!(
        !text.contains("forbidden"),
        "not a permission problem: {text}"
    );
    assert!(rec.sleeps().is_empty());
}

// ------------------------------------------------------------ GitHub reviewers
// docs.github.com, "Request reviewers for a pull request": 422 for the author.

#[test]
fn github_author_as_reviewer_is_left_out_with_a_warning_and_the_others_are_requested() {
    let server = ForgeServer::github(TOKEN);
    let spec = PullRequestSpec {
        reviewers: vec!["alice".into(), "tagbump-bot".into(), "acme/platform".into()],
        ..spec()
    };

    let pr = ensure(ForgeKind::GitHub, &server, &spec);

    let requests = server.requests_to("POST", "/requested_reviewers");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].body,
        json!({ "reviewers": ["alice"], "team_reviewers": ["platform"] })
    );
    let change = server.change(pr.number).unwrap();
    assert_eq!(change.reviewers, ["alice"]);
    assert_eq!(change.team_reviewers, ["platform"]);
    assert_eq!(pr.warnings.len(), 1, "{:?}", pr.warnings);
    assert!(
        pr.warnings[0].starts_with(
            "not requesting a review from `tagbump-bot` on #1: it is the pull request's author"
        ),
        "{}",
        pr.warnings[0]
    );
}

#[test]
fn github_reviewer_request_refused_for_one_name_still_requests_the_others() {
    let server = ForgeServer::github(TOKEN);
    // The author is not known from the answer (e.g. a GitHub App acting as a user):
    // GitHub's 422 refuses the whole request, so each name is asked for alone.
    for _ in 0..2 {
        server.inject(
            "POST",
            "/requested_reviewers",
            FakeResponse::json(
                422,
                json!({ "message": "Review cannot be requested from pull request author." }),
            ),
        );
    }
    let spec = PullRequestSpec {
        reviewers: vec!["bot-user".into(), "alice".into()],
        ..spec()
    };

    let pr = ensure(ForgeKind::GitHub, &server, &spec);

    let bodies: Vec<_> = server
        .requests_to("POST", "/requested_reviewers")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(
        bodies,
        [
            json!({ "reviewers": ["bot-user", "alice"] }),
            json!({ "reviewers": ["bot-user"] }),
            json!({ "reviewers": ["alice"] }),
        ]
    );
    assert_eq!(server.change(pr.number).unwrap().reviewers, ["alice"]);
    assert_eq!(
        pr.warnings,
        ["could not request a review from `bot-user`: Review cannot be requested from pull request author."]
    );
}

// ------------------------------------------------------------ GitHub auto-merge
// GraphQL enablePullRequestAutoMerge refuses a pull request in "clean status";
// docs.github.com, "Merge a pull request" (PUT …/pulls/{n}/merge, `sha`, 405, 409).

#[test]
fn github_auto_merge_of_an_already_mergeable_pull_request_merges_it_now_with_the_method_and_sha() {
    let server = ForgeServer::github(TOKEN);
    server.set_mergeable_now(true);

    let pr = ensure(
        ForgeKind::GitHub,
        &server,
        &auto_merge(Some(MergeMethod::Squash)),
    );

    assert!(pr.merged, "{:?}", pr.warnings);
    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    let merges = server.requests_to("PUT", "/pulls/1/merge");
    assert_eq!(merges.len(), 1);
    assert_eq!(
        merges[0].body,
        json!({ "merge_method": "squash", "sha": HEAD_SHA })
    );
    let change = server.change(1).unwrap();
    assert!(change.merged);
    assert_eq!(change.state, "closed");
}

#[test]
fn github_auto_merge_without_a_method_uses_the_first_the_repository_allows() {
    let server = ForgeServer::github(TOKEN);
    server.set_allowed_merge_methods(false, true, true);

    let pr = ensure(ForgeKind::GitHub, &server, &auto_merge(None));

    assert!(!pr.merged);
    let change = server.change(1).unwrap();
    assert!(change.auto_merge);
    assert_eq!(change.merge_method.as_deref(), Some("SQUASH"));
    assert_eq!(change.merge_sha.as_deref(), Some(HEAD_SHA));
}

#[test]
fn github_never_merges_a_later_push_by_someone_else() {
    let server = ForgeServer::github(TOKEN);
    server.set_mergeable_now(true);
    let spec = PullRequestSpec {
        // tagbump pushed this; the branch now points at someone else's commit.
        head_sha: Some("9999999999999999999999999999999999999999".into()),
        ..auto_merge(Some(MergeMethod::Merge))
    };

    let pr = ensure(ForgeKind::GitHub, &server, &spec);

    assert!(!pr.merged);
    assert!(!server.change(1).unwrap().merged);
    assert_eq!(pr.warnings.len(), 1);
    assert!(
        pr.warnings[0].contains("(HTTP 409): Head branch was modified"),
        "{}",
        pr.warnings[0]
    );
}

// ------------------------------------------------------------ GitHub superseded branches

#[test]
fn github_close_superseded_deletes_the_branches_only_tagbump_pushed_to() {
    let server = ForgeServer::github(TOKEN);
    let (untouched, touched) = older_bot_changes(&server, 2);
    let other = server.add_change("acme/gitops", "feature/x", "main", "feature");

    let pr = ensure(ForgeKind::GitHub, &server, &superseding());

    // Newest first, as "List pull requests" answers by default.
    assert_eq!(pr.closed_superseded, [touched, untouched]);
    assert_eq!(pr.deleted_branches, [format!("{PREFIX}1.3.0")]);
    assert_eq!(server.deleted_branches(), [format!("{PREFIX}1.3.0")]);
    assert_eq!(
        pr.warnings,
        [format!("closed #{touched} but kept its branch {PREFIX}1.4.0: it holds 2 commits, so someone else pushed to it")]
    );
    assert_eq!(server.change(other).unwrap().state, "open");
}

// ------------------------------------------------------------ more than one page
// docs.github.com, "Using pagination in the REST API" and "List pull requests"
// (`per_page` at most 100, `Link: <…>; rel="next"`); docs.gitlab.com, "REST API" ›
// "Pagination" (`per_page` at most 100, `x-next-page`, `Link`).

/// How many older bot changes sit open: more than two pages of 100.
const MANY: u64 = 230;

/// `MANY` older bot changes `PREFIX1.0.N` straight in the fake's state; their numbers.
fn many_older_bot_changes(server: &ForgeServer) -> Vec<u64> {
    (0..MANY)
        .map(|n| server.add_change("acme/gitops", &format!("{PREFIX}1.0.{n}"), "main", "old"))
        .collect()
}

/// The list requests of a run (`GET …/pulls` or `…/merge_requests`, every page).
fn list_requests(server: &ForgeServer, path_ends: &str) -> Vec<forge_server::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(path_ends))
        .collect()
}

#[test]
fn github_close_superseded_closes_every_open_pull_request_past_the_first_page() {
    let server = ForgeServer::github(TOKEN);
    let older = many_older_bot_changes(&server);

    let pr = ensure(ForgeKind::GitHub, &server, &superseding());

    assert!(pr.created);
    let mut closed = pr.closed_superseded.clone();
    closed.sort_unstable();
    assert_eq!(closed, older, "all {MANY}, not only the first 100");
    for number in &older {
        assert_eq!(server.change(*number).unwrap().state, "closed", "#{number}");
    }
    assert_eq!(pr.deleted_branches.len(), older.len());
    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    // Three pages of the supersede list: the first asked for, two more from `Link`.
    let pages: Vec<_> = list_requests(&server, "/pulls")
        .into_iter()
        .filter(|r| r.query_param("head").is_none())
        .collect();
    assert_eq!(pages.len(), 3, "{:?}", lines(&pages));
    assert_eq!(pages[0].path, "/repos/acme/gitops/pulls");
    assert_eq!(pages[0].query_param("per_page"), Some("100"));
    for (page, n) in pages[1..].iter().zip(["2", "3"]) {
        assert!(page.path.starts_with("/repositories/"), "{}", page.url);
        assert_eq!(page.query_param("page"), Some(n));
        assert_eq!(page.query_param("base"), Some("main"));
        assert_eq!(page.query_param("state"), Some("open"));
    }
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

/// With the documented `head` filter GitHub answers at most one open pull request per
/// head and base, so the one for the branch is found even when it is the oldest of
/// `MANY` + 1 open ones (page 3 of the unfiltered list): it is updated, not duplicated.
#[test]
fn github_finds_the_open_pull_request_for_the_branch_among_many_older_ones() {
    let server = ForgeServer::github(TOKEN);
    let existing = server.add_change("acme/gitops", HEAD, "main", "Bump api to 1.4.9");
    many_older_bot_changes(&server);

    let pr = ensure(ForgeKind::GitHub, &server, &spec());

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert_eq!(server.change(existing).unwrap().title, "Bump api to 1.5.0");
    assert!(server.requests_to("POST", "/pulls").is_empty());
    let finds = list_requests(&server, "/pulls");
    assert_eq!(finds.len(), 1, "{:?}", lines(&finds));
    assert_eq!(finds[0].query_param("head"), Some(&*format!("acme:{HEAD}")));
}

#[test]
fn gitlab_close_superseded_closes_every_open_merge_request_past_the_first_page() {
    let server = ForgeServer::gitlab(TOKEN);
    let older = many_older_bot_changes(&server);

    let pr = ensure(ForgeKind::GitLab, &server, &superseding());

    assert!(pr.created);
    let mut closed = pr.closed_superseded.clone();
    closed.sort_unstable();
    assert_eq!(closed, older, "all {MANY}, not only the first 100");
    for number in &older {
        assert_eq!(server.change(*number).unwrap().state, "closed", "!{number}");
    }
    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    let pages: Vec<_> = list_requests(&server, "/merge_requests")
        .into_iter()
        .filter(|r| r.query_param("source_branch").is_none())
        .collect();
    assert_eq!(pages.len(), 3, "{:?}", lines(&pages));
    for (page, n) in pages.iter().zip(["1", "2", "3"]) {
        assert_eq!(page.query_param("page"), Some(n));
        assert_eq!(page.query_param("per_page"), Some("100"));
        assert_eq!(page.query_param("target_branch"), Some("main"));
        assert_eq!(page.query_param("state"), Some("opened"));
    }
}

#[test]
fn gitlab_finds_the_open_merge_request_for_the_branch_among_many_older_ones() {
    let server = ForgeServer::gitlab(TOKEN);
    let existing = server.add_change("acme/gitops", HEAD, "main", "Bump api to 1.4.9");
    many_older_bot_changes(&server);

    let pr = ensure(ForgeKind::GitLab, &server, &spec());

    assert_eq!(pr.number, existing);
    assert!(!pr.created);
    assert!(server.requests_to("POST", "/merge_requests").is_empty());
}

/// Past 50 pages (5 000 items) the list stops with a warning instead of reading on.
#[test]
fn github_stops_listing_after_fifty_pages_with_a_warning() {
    let server = ForgeServer::github(TOKEN);
    for n in 0..5_050 {
        server.add_change("acme/gitops", &format!("feature/{n}"), "main", "not a bump");
    }

    let pr = ensure(ForgeKind::GitHub, &server, &superseding());

    assert!(pr.closed_superseded.is_empty());
    assert_eq!(
        pr.warnings,
        ["listing the open pull requests into main to close superseded ones: stopped after 50 pages of 100; any items past them were not looked at"]
    );
    let pages = list_requests(&server, "/pulls")
        .into_iter()
        .filter(|r| r.query_param("head").is_none())
        .count();
    assert_eq!(pages, 50);
}

fn lines(requests: &[forge_server::RecordedRequest]) -> Vec<String> {
    requests.iter().map(|r| r.url.clone()).collect()
}

// ------------------------------------------------------------ GitLab auto-merge
// docs.gitlab.com, "Merge requests API" › "Merge a merge request".

#[test]
fn gitlab_before_17_11_sets_merge_when_pipeline_succeeds_with_the_sha() {
    let server = ForgeServer::gitlab(TOKEN);
    server.set_gitlab_version("17.10.3-ee");

    let pr = ensure(ForgeKind::GitLab, &server, &auto_merge(None));

    assert!(!pr.merged);
    let merge = server.requests_to("PUT", "/merge_requests/1/merge");
    assert_eq!(
        merge[0].body,
        json!({ "merge_when_pipeline_succeeds": "true", "sha": HEAD_SHA })
    );
    let change = server.change(1).unwrap();
    assert!(change.auto_merge);
    assert_eq!(
        change.auto_merge_param.as_deref(),
        Some("merge_when_pipeline_succeeds")
    );
}

#[test]
fn gitlab_405_right_after_creation_is_retried_until_mergeability_is_known() {
    let server = ForgeServer::gitlab(TOKEN);
    server.set_not_mergeable_for(2);
    let (forge, rec) = connect(ForgeKind::GitLab, &server, |_| {});

    let pr = forge
        .ensure_pull_request(&auto_merge(Some(MergeMethod::Squash)))
        .unwrap();

    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);
    assert_eq!(rec.sleeps(), [1, 2]);
    assert_eq!(server.requests_to("PUT", "/merge").len(), 3);
    let change = server.change(1).unwrap();
    assert!(change.auto_merge);
    assert_eq!(change.auto_merge_param.as_deref(), Some("auto_merge"));
    assert_eq!(change.merge_method.as_deref(), Some("squash=true"));
}

#[test]
fn gitlab_never_merges_a_later_push_by_someone_else() {
    let server = ForgeServer::gitlab(TOKEN);
    let spec = PullRequestSpec {
        head_sha: Some("9999999999999999999999999999999999999999".into()),
        ..auto_merge(None)
    };

    let pr = ensure(ForgeKind::GitLab, &server, &spec);

    let change = server.change(1).unwrap();
    assert!(!change.auto_merge && !change.merged);
    assert_eq!(pr.warnings.len(), 1);
    assert!(
        pr.warnings[0].contains("HTTP 409 (the source branch moved after tagbump pushed to it)"),
        "{}",
        pr.warnings[0]
    );
}

#[test]
fn gitlab_auto_merge_without_a_pipeline_merges_at_once_and_says_so() {
    let server = ForgeServer::gitlab(TOKEN);
    server.set_pipeline(false);

    let pr = ensure(ForgeKind::GitLab, &server, &auto_merge(None));

    assert!(pr.merged);
    assert_eq!(server.change(1).unwrap().state, "merged");
}

#[test]
fn gitlab_close_superseded_deletes_the_branches_only_tagbump_pushed_to() {
    let server = ForgeServer::gitlab(TOKEN);
    let (untouched, touched) = older_bot_changes(&server, 3);

    let pr = ensure(ForgeKind::GitLab, &server, &superseding());

    // Newest first, as "List merge requests" answers by default.
    assert_eq!(pr.closed_superseded, [touched, untouched]);
    assert_eq!(pr.deleted_branches, [format!("{PREFIX}1.3.0")]);
    assert_eq!(server.deleted_branches(), [format!("{PREFIX}1.3.0")]);
    assert_eq!(
        pr.warnings,
        [format!("closed !{touched} but kept its branch {PREFIX}1.4.0: it holds 3 commits, so someone else pushed to it")]
    );
}

// ------------------------------------------------------------ GitLab job token
// docs.gitlab.com, "GitLab CI/CD job token": `JOB-TOKEN`, and no merge requests.

#[test]
fn gitlab_job_token_is_sent_as_job_token_and_merge_requests_are_refused() {
    let server = ForgeServer::gitlab(TOKEN);
    server.set_gitlab_tokens(TOKEN, JOB_TOKEN);
    let (forge, _) = connect(ForgeKind::GitLab, &server, |o| o.gitlab_job_token = true);

    let err = forge.ensure_pull_request(&spec()).unwrap_err();

    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "no GET /user check for a job token");
    assert_eq!(requests[0].header("job-token"), Some(JOB_TOKEN));
    assert_eq!(requests[0].header("private-token"), None);
    assert!(!err.to_string().contains(JOB_TOKEN));
}

#[test]
fn gitlab_personal_token_is_still_sent_as_private_token() {
    let server = ForgeServer::gitlab(TOKEN);
    server.set_gitlab_tokens(TOKEN, JOB_TOKEN);
    ensure(ForgeKind::GitLab, &server, &spec());

    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("private-token") == Some(TOKEN) && r.header("job-token").is_none()));
}

// ------------------------------------------------------------ tokens
// docs.github.com, "Troubleshooting the REST API" › "401 Bad credentials"; docs.gitlab.com,
// "REST API" › "Authentication": a missing or wrong token is 401.

#[test]
fn a_wrong_token_is_an_auth_error_on_both_forges_and_nothing_is_opened() {
    let wrong = Secret::new("tok-WRONG-1313");
    let github = ForgeServer::github(TOKEN);
    let forge = connect_with(
        ForgeKind::GitHub,
        &github.api_base(),
        &wrong,
        &ConnectOptions::default(),
    )
    .unwrap();
    let err = forge.ensure_pull_request(&spec()).unwrap_err();
    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert!(github.changes().is_empty());

    let gitlab = ForgeServer::gitlab(TOKEN);
    let err = connect_with(
        ForgeKind::GitLab,
        &gitlab.api_base(),
        &wrong,
        &ConnectOptions::default(),
    )
    .err()
    .expect("GET /user refuses the token");
    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert_eq!(gitlab.requests().len(), 1, "not retried");
    assert!(!format!("{err} {err:?}").contains("tok-WRONG-1313"));
}
