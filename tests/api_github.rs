//! Landing changes through GitHub's API (`forge::github_repo`), against a fake GitHub
//! that keeps a real bare repository behind its REST and GraphQL endpoints. Every
//! result is checked with git: exact bytes, one commit, its parent the tip the edit
//! was read at, linear history.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::fake_github::FakeGitHub;
use support::forge_server::ForgeServer;
use support::git_server::{git, BareRepo};
use tagbump::forge::{github_repo, ConnectOptions, ForgeError, RepoId};
use tagbump::git::Identity;
use tagbump::land::api::{ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, FileChange};
use tagbump::secret::Secret;

const TOKEN: &str = "ghs_SECRET4242token";
const REPO: &str = "acme/gitops";
const API: &str = "apps/api/values.yaml";
const WEB: &str = "apps/web/values.yaml";

fn seeded() -> (BareRepo, FakeGitHub) {
    let bare = BareRepo::new_with(
        &[
            (API, "image:\n  tag: \"1.4.2\"  # pinned\n"),
            (WEB, "image:\n  tag: 2.0.0\n"),
            ("README.md", "# config\n"),
        ],
        "main",
    );
    let server = FakeGitHub::start(&bare, REPO, TOKEN);
    (bare, server)
}

/// Waits the client asked for, recorded instead of slept.
#[derive(Clone, Default)]
struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    fn taken(&self) -> Vec<Duration> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn connect_at(api_base: &str, token: &str) -> (Box<dyn ApiRepo>, Sleeps) {
    let sleeps = Sleeps::default();
    let log = sleeps.clone();
    let options = ConnectOptions {
        sleeper: Arc::new(move |d| log.0.lock().unwrap().push(d)),
        ..ConnectOptions::default()
    };
    let repo = RepoId {
        host: "github.com".into(),
        path: REPO.into(),
    };
    let api = github_repo(api_base, &repo, &Secret::new(token), &options).expect("connect");
    (api, sleeps)
}

fn connect(server: &FakeGitHub) -> Box<dyn ApiRepo> {
    connect_at(server.url(), TOKEN).0
}

fn bot() -> Identity {
    Identity {
        name: "tagbump".into(),
        email: "tagbump@localhost".into(),
    }
}

fn change(path: &str, content: &str) -> FileChange {
    FileChange {
        path: path.into(),
        content: Some(content.as_bytes().to_vec()),
    }
}

fn commit_on(
    api: &mut dyn ApiRepo,
    expected: &str,
    changes: &[FileChange],
    message: &str,
    author: &Identity,
) -> CommitOutcome {
    api.commit(&CommitRequest {
        branch: "main",
        expected_head: expected,
        changes,
        message,
        author,
    })
    .expect("commit")
}

fn created(outcome: CommitOutcome) -> (String, Option<bool>) {
    match outcome {
        CommitOutcome::Created { commit, verified } => (commit, verified),
        other => panic!("expected a created commit, got {other:?}"),
    }
}

fn parent_of(bare: &BareRepo, commit: &str) -> String {
    git(bare.path(), &["rev-parse", &format!("{commit}^")])
        .trim()
        .to_string()
}

#[test]
fn reads_the_default_branch_its_tip_the_tree_and_files() {
    let (bare, server) = seeded();
    let mut api = connect(&server);
    assert_eq!(api.describe(), "GitHub API (acme/gitops)");
    assert_eq!(api.default_branch().unwrap(), "main");
    let tip = api.branch_tip("main").unwrap().expect("main exists");
    assert_eq!(Some(tip.clone()), bare.tip("main"));

    let all = api.list_files(&tip, &[]).unwrap();
    assert!(all.complete);
    assert_eq!(
        all.paths,
        ["README.md", API, WEB].map(String::from),
        "sorted"
    );
    let under = api
        .list_files(&tip, &["apps/api".into(), "README.md".into()])
        .unwrap();
    assert_eq!(under.paths, vec!["README.md".to_string(), API.to_string()]);
    let none = api.list_files(&tip, &["apps/ap".into()]).unwrap();
    assert!(
        none.paths.is_empty(),
        "a prefix of a name is not a directory"
    );

    assert_eq!(
        api.read_file(&tip, API).unwrap().as_deref(),
        Some(&b"image:\n  tag: \"1.4.2\"  # pinned\n"[..])
    );
    assert!(server
        .lines()
        .iter()
        .any(|l| l.starts_with("GET /repos/acme/gitops/contents/apps/api/values.yaml")));
}

#[test]
fn a_listing_of_some_paths_reads_only_those_paths_not_the_whole_tree() {
    let (_bare, server) = seeded();
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let before = server.lines().len();
    let listing = api.list_files(&tip, &["apps".into(), WEB.into()]).unwrap();
    assert!(listing.complete);
    assert_eq!(listing.paths, [API, WEB].map(String::from));
    let requests = &server.lines()[before..];
    assert!(
        requests.iter().all(|l| l.contains("/contents/apps")),
        "only the named paths, through the contents API: {requests:?}"
    );
}

#[test]
fn a_missing_file_a_directory_and_a_missing_branch_are_none() {
    let (_bare, server) = seeded();
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    assert_eq!(api.read_file(&tip, "apps/nope.yaml").unwrap(), None);
    assert_eq!(api.read_file(&tip, "apps/api").unwrap(), None);
    assert_eq!(api.branch_tip("tagbump/nope").unwrap(), None);
}

#[test]
fn a_file_over_the_contents_limit_is_read_through_its_blob() {
    let (_bare, server) = seeded();
    server.set_contents_limit(10);
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    assert_eq!(
        api.read_file(&tip, WEB).unwrap().as_deref(),
        Some(&b"image:\n  tag: 2.0.0\n"[..])
    );
    assert!(server
        .lines()
        .iter()
        .any(|l| l.starts_with("GET /repos/acme/gitops/git/blobs/")));
}

#[test]
fn many_files_are_read_fifty_a_graphql_query_with_rest_only_for_binary_or_truncated_blobs() {
    let mut files: Vec<(String, String)> = (0..118)
        .map(|n| {
            (
                format!("apps/app{n:03}/values.yaml"),
                format!("image:\r\n  tag: \"{n}.0\"  # \u{e9}t\u{e9} \\ \"q\"\n"),
            )
        })
        .collect();
    files.push(("apps/binary.yaml".into(), "a: 1\n\0\u{1}\n".into()));
    files.push((
        "apps/big.yaml".into(),
        format!("a: {}\n", "x".repeat(600 * 1024)),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let bare = BareRepo::new_with(&refs, "main");
    let server = FakeGitHub::start(&bare, REPO, TOKEN);
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let mut paths: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
    paths.push("apps/missing.yaml".into());
    paths.push("apps/app007".into());
    server.clear_requests();

    let read = api.read_files(&tip, &paths).unwrap();

    assert_eq!(read.len(), paths.len());
    for ((path, content), bytes) in files.iter().zip(&read) {
        assert_eq!(
            bytes.as_deref(),
            Some(content.as_bytes()),
            "{path}: exact bytes"
        );
    }
    assert_eq!(read[120], None, "a missing file");
    assert_eq!(read[121], None, "a directory");
    let lines = server.lines();
    let graphql = lines.iter().filter(|l| *l == "POST /graphql").count();
    assert_eq!(graphql, 3, "122 paths, 50 a query: {lines:?}");
    let rest: Vec<&String> = lines.iter().filter(|l| l.starts_with("GET ")).collect();
    assert_eq!(
        rest,
        [
            "GET /repos/acme/gitops/contents/apps/binary.yaml",
            "GET /repos/acme/gitops/contents/apps/big.yaml",
        ]
        .iter()
        .collect::<Vec<_>>(),
        "only the binary and the truncated blob are read again with REST"
    );
    assert_eq!(lines.len(), 5, "{lines:?}");
}

#[test]
fn several_files_land_as_one_verified_commit_on_the_tip_they_were_read_at() {
    let (bare, server) = seeded();
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let api_yaml = "image:\n  tag: \"1.5.0\"  # pinned\n";
    let web_yaml = "image:\n  tag: 2.1.0\n";
    let new_yaml = "image:\n  tag: 0.1.0\n";
    let changes = [
        change(API, api_yaml),
        change(WEB, web_yaml),
        change("apps/new/values.yaml", new_yaml),
    ];
    let (commit, verified) = created(commit_on(
        api.as_mut(),
        &tip,
        &changes,
        "Bump images\n\nfrom CI\n\nTagbump-Image: api:1.5.0\n",
        &bot(),
    ));
    assert_eq!(verified, Some(true));
    assert_eq!(bare.tip("main").as_deref(), Some(commit.as_str()));
    assert_eq!(parent_of(&bare, &commit), tip);
    assert_eq!(bare.commit_count("main"), 2);
    assert!(bare.is_linear("main"));
    assert_eq!(bare.read_file("main", API).as_deref(), Some(api_yaml));
    assert_eq!(bare.read_file("main", WEB).as_deref(), Some(web_yaml));
    assert_eq!(
        bare.read_file("main", "apps/new/values.yaml").as_deref(),
        Some(new_yaml)
    );
    assert_eq!(
        bare.read_file("main", "README.md").as_deref(),
        Some("# config\n")
    );
    assert_eq!(
        bare.log("main", "%B")[..5],
        ["Bump images", "", "from CI", "", "Tagbump-Image: api:1.5.0"].map(String::from)
    );
    let graphql = server
        .requests()
        .into_iter()
        .find(|r| r.url == "/graphql")
        .expect("graphql");
    assert_eq!(
        graphql.body["variables"]["input"]["message"]["headline"],
        "Bump images"
    );
}

#[test]
fn an_explicit_author_becomes_a_co_authored_by_trailer_and_unsigned_is_reported() {
    let (bare, server) = seeded();
    server.set_verified(false);
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let alice = Identity {
        name: "Alice".into(),
        email: "alice@example.com".into(),
    };
    let (_, verified) = created(commit_on(
        api.as_mut(),
        &tip,
        &[change(API, "x: 1\n")],
        "Bump",
        &alice,
    ));
    assert_eq!(verified, Some(false));
    let message = git(bare.path(), &["log", "-1", "--format=%B", "main"]);
    assert_eq!(
        message.trim_end(),
        "Bump\n\nCo-authored-by: Alice <alice@example.com>"
    );
    let author = git(bare.path(), &["log", "-1", "--format=%an", "main"]);
    assert_eq!(
        author.trim(),
        "tagbump-bot[bot]",
        "the token's identity is the author"
    );
}

#[test]
fn a_deletion_removes_the_file_in_the_same_commit() {
    let (bare, server) = seeded();
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let changes = [
        FileChange {
            path: WEB.into(),
            content: None,
        },
        change(API, "image:\n  tag: \"1.5.0\"\n"),
    ];
    let (commit, _) = created(commit_on(api.as_mut(), &tip, &changes, "Drop web", &bot()));
    assert_eq!(parent_of(&bare, &commit), tip);
    assert_eq!(bare.read_file("main", WEB), None);
    let mut changed = bare.changed_in_tip("main");
    changed.sort();
    assert_eq!(changed, vec![API.to_string(), WEB.to_string()]);
}

#[test]
fn a_stale_head_is_moved_and_writes_nothing_then_lands_on_top_of_the_other_writer() {
    let (bare, server) = seeded();
    let mut api = connect(&server);
    let read_at = api.branch_tip("main").unwrap().unwrap();
    let theirs = bare.commit_files("main", &[(WEB, "image:\n  tag: 9.9.9\n")], "other pipeline");

    let mine = [change(API, "image:\n  tag: \"1.5.0\"  # pinned\n")];
    match commit_on(api.as_mut(), &read_at, &mine, "Bump api", &bot()) {
        CommitOutcome::Moved { reason } => {
            assert!(reason.contains("Expected branch to point to"), "{reason}");
        }
        other => panic!("expected Moved, got {other:?}"),
    }
    assert_eq!(
        bare.tip("main").as_deref(),
        Some(theirs.as_str()),
        "nothing written"
    );
    assert_eq!(bare.commit_count("main"), 2);

    let tip = api.branch_tip("main").unwrap().unwrap();
    assert_eq!(tip, theirs);
    let (commit, _) = created(commit_on(api.as_mut(), &tip, &mine, "Bump api", &bot()));
    assert_eq!(parent_of(&bare, &commit), theirs);
    assert!(bare.is_linear("main"));
    assert_eq!(
        bare.read_file("main", WEB).as_deref(),
        Some("image:\n  tag: 9.9.9\n"),
        "their change kept"
    );
    assert_eq!(
        bare.read_file("main", API).as_deref(),
        Some("image:\n  tag: \"1.5.0\"  # pinned\n")
    );
}

#[test]
fn twenty_concurrent_writers_all_land_in_a_linear_history() {
    let (bare, server) = seeded();
    let url = server.url().to_string();
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let (mut api, _) = connect_at(&url, TOKEN);
                let path = format!("apps/app{i:02}/values.yaml");
                let changes = [change(&path, &format!("image:\n  tag: {i}.0.0\n"))];
                for _ in 0..200 {
                    let tip = api.branch_tip("main").unwrap().unwrap();
                    match commit_on(
                        api.as_mut(),
                        &tip,
                        &changes,
                        &format!("Bump app{i:02}"),
                        &bot(),
                    ) {
                        CommitOutcome::Created { .. } => return,
                        CommitOutcome::Moved { .. } => continue,
                    }
                }
                panic!("writer {i} never landed");
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer");
    }
    assert_eq!(bare.commit_count("main"), 21);
    assert!(bare.is_linear("main"));
    for i in 0..20 {
        let path = format!("apps/app{i:02}/values.yaml");
        assert_eq!(
            bare.read_file("main", &path),
            Some(format!("image:\n  tag: {i}.0.0\n"))
        );
    }
}

fn assert_token_hidden(err: &ForgeError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
}

#[test]
fn a_rejected_token_is_an_auth_error_without_the_token() {
    let (_bare, server) = seeded();
    let (mut api, _) = connect_at(server.url(), "ghs_WRONG");
    let err = api.default_branch().unwrap_err();
    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert!(!err.to_string().contains("ghs_WRONG"));
    assert_eq!(
        server.requests()[0].authorization.as_deref(),
        Some("Bearer ghs_WRONG")
    );
}

#[test]
fn an_unknown_repository_is_not_found() {
    let (_bare, server) = seeded();
    let repo = RepoId {
        host: "github.com".into(),
        path: "acme/other".into(),
    };
    let mut api = github_repo(
        server.url(),
        &repo,
        &Secret::new(TOKEN),
        &ConnectOptions::default(),
    )
    .unwrap();
    let err = api.default_branch().unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    assert_token_hidden(&err);
}

#[test]
fn a_429_waits_for_retry_after_and_a_502_backs_off_then_both_succeed() {
    let (_bare, server) = seeded();
    let (mut api, sleeps) = connect_at(server.url(), TOKEN);
    server.inject_rate_limit("GET", "/git/ref/heads/main", 7);
    server.inject_server_error("POST", "/graphql", 502);
    let tip = api.branch_tip("main").unwrap().unwrap();
    created(commit_on(
        api.as_mut(),
        &tip,
        &[change(API, "a: 1\n")],
        "Bump",
        &bot(),
    ));
    assert_eq!(
        sleeps.taken(),
        vec![Duration::from_secs(7), Duration::from_secs(1)]
    );
    assert_eq!(server.pending_injections(), 0);
}

#[test]
fn a_redirect_to_another_host_is_refused_and_the_token_never_goes_there() {
    let (_bare, server) = seeded();
    let other = ForgeServer::github(TOKEN);
    server.inject_redirect(
        "GET",
        "/repos/acme/gitops",
        &format!("{}/repos/acme/gitops", other.url()),
    );
    let mut api = connect(&server);
    let err = api.default_branch().unwrap_err();
    assert!(matches!(err, ForgeError::Redirect { .. }), "{err:?}");
    assert_token_hidden(&err);
    assert!(other.requests().is_empty(), "the other host saw nothing");
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[test]
fn a_truncated_tree_is_an_incomplete_listing() {
    let (_bare, server) = seeded();
    server.truncate_trees(true);
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    assert!(!api.list_files(&tip, &[]).unwrap().complete);
}

#[test]
fn an_enterprise_base_sends_rest_to_api_v3_and_graphql_to_api_graphql() {
    let (bare, server) = seeded();
    let (mut api, _) = connect_at(&server.enterprise_api_base(), TOKEN);
    let tip = api.branch_tip("main").unwrap().unwrap();
    created(commit_on(
        api.as_mut(),
        &tip,
        &[change(API, "a: 1\n")],
        "Bump",
        &bot(),
    ));
    assert_eq!(
        server.lines(),
        [
            "GET /api/v3/repos/acme/gitops/git/ref/heads/main",
            "POST /api/graphql"
        ]
    );
    assert_eq!(bare.read_file("main", API).as_deref(), Some("a: 1\n"));
}

fn set_branch_under_a_lease(server: &FakeGitHub, bare: &BareRepo) {
    let mut api = connect(server);
    let main = api.branch_tip("main").unwrap().unwrap();
    let branch = "tagbump/api-1.5.0";
    assert_eq!(
        api.set_branch(branch, &main, None).unwrap(),
        BranchUpdate::Updated
    );
    assert_eq!(bare.tip(branch), Some(main.clone()));
    assert_eq!(
        api.set_branch(branch, &main, None).unwrap(),
        BranchUpdate::Updated,
        "already there: nothing to do"
    );

    let next = bare.commit_files("main", &[(WEB, "w: 2\n")], "other");
    assert!(
        matches!(
            api.set_branch(branch, &next, None).unwrap(),
            BranchUpdate::Moved { .. }
        ),
        "it exists, so a lease expecting no branch refuses"
    );
    assert_eq!(bare.tip(branch), Some(main.clone()));
    assert_eq!(
        api.set_branch(branch, &next, Some(&main)).unwrap(),
        BranchUpdate::Updated
    );
    assert_eq!(bare.tip(branch), Some(next.clone()));

    // Somebody else moves it: a stale lease touches nothing.
    git(
        bare.path(),
        &["update-ref", &format!("refs/heads/{branch}"), &main],
    );
    match api.set_branch(branch, &next, Some(&next)).unwrap() {
        BranchUpdate::Moved { reason } => assert!(reason.contains(&main), "{reason}"),
        other => panic!("expected Moved, got {other:?}"),
    }
    assert_eq!(bare.tip(branch), Some(main));
}

#[test]
fn set_branch_creates_moves_under_a_lease_and_refuses_a_stale_lease() {
    let (bare, server) = seeded();
    set_branch_under_a_lease(&server, &bare);
    assert!(
        server.lines().iter().all(|l| !l.contains("/git/refs")),
        "updateRefs only"
    );
}

#[test]
fn set_branch_without_update_refs_falls_back_to_rest_check_then_set() {
    let (bare, server) = seeded();
    server.set_update_refs(false);
    set_branch_under_a_lease(&server, &bare);
    let lines = server.lines();
    assert!(
        lines.contains(&"POST /repos/acme/gitops/git/refs".to_string()),
        "{lines:?}"
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with("PATCH /repos/acme/gitops/git/refs/heads/tagbump/")));
}

#[test]
fn committing_to_a_missing_branch_or_deleting_a_missing_file_is_an_error_not_a_race() {
    let (bare, server) = seeded();
    let mut api = connect(&server);
    let tip = api.branch_tip("main").unwrap().unwrap();
    let changes = [change(API, "a: 1\n")];
    let err = api
        .commit(&CommitRequest {
            branch: "nope",
            expected_head: &tip,
            changes: &changes,
            message: "Bump",
            author: &bot(),
        })
        .unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");

    let gone = [FileChange {
        path: "apps/gone.yaml".into(),
        content: None,
    }];
    let err = api
        .commit(&CommitRequest {
            branch: "main",
            expected_head: &tip,
            changes: &gone,
            message: "Drop",
            author: &bot(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("requested for deletion"), "{err}");
    assert_eq!(bare.tip("main"), Some(tip), "nothing written");
}

/// The 4xx answers GitHub documents for these endpoints, each a typed error that names
/// the problem and never the token, and none of them retried:
/// - 403 "Resource not accessible by integration": a GitHub App / Actions token without
///   `contents: write` (REST docs, "Troubleshooting the REST API", and the
///   `permissions` of "Automatic token authentication");
/// - 409 "Git Repository is empty." on the git data endpoints of an empty repository
///   (REST docs, "Git references": status codes);
/// - 422 "Validation Failed" (REST docs, "Resources in the REST API": client errors).
#[test]
fn documented_client_errors_are_typed_clear_and_not_retried() {
    use support::forge_server::FakeResponse;
    let (bare, server) = seeded();
    let before = bare.tip("main");
    let (mut api, sleeps) = connect_at(server.url(), TOKEN);

    server.inject(
        "GET",
        "/git/ref/heads/main",
        FakeResponse::json(
            403,
            serde_json::json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/git/refs#get-a-reference",
                "status": "403"
            }),
        ),
    );
    let err = api.branch_tip("main").unwrap_err();
    assert!(matches!(err, ForgeError::Forbidden { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("Resource not accessible by integration"));

    server.inject(
        "GET",
        "/git/ref/heads/main",
        FakeResponse::json(
            409,
            serde_json::json!({ "message": "Git Repository is empty.", "status": "409" }),
        ),
    );
    let err = api.branch_tip("main").unwrap_err();
    assert!(
        matches!(err, ForgeError::Api { status: 409, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Git Repository is empty."));

    server.inject(
        "GET",
        "/repos/acme/gitops",
        FakeResponse::json(
            422,
            serde_json::json!({ "message": "Validation Failed", "errors": [], "status": "422" }),
        ),
    );
    let err = api.default_branch().unwrap_err();
    assert!(
        matches!(err, ForgeError::Api { status: 422, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(TOKEN));
    assert!(sleeps.taken().is_empty(), "client errors are not retried");
    assert_eq!(bare.tip("main"), before);
}
