//! GitLab's `ApiRepo` against a fake GitLab backed by a real bare repository: every
//! result is checked with git (exact bytes, one commit on the tip it was read at or on a
//! newer one that kept the other writer's work, linear history).

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::fake_gitlab::{FakeGitLab, PROJECT, TOKEN};
use support::fake_gitlab_commit::TOKEN_USER;
use support::forge_server::{FakeResponse, ForgeServer};
use support::git_server::{git, BareRepo};
use tagbump::forge::{gitlab_repo, ConnectOptions, ForgeError, RepoId};
use tagbump::git::Identity;
use tagbump::land::api::{
    ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, FileChange, Listing,
};
use tagbump::secret::Secret;

const SEED: &[(&str, &str)] = &[
    ("README.md", "# config\n"),
    ("apps/api/values.yaml", "image:\n  tag: \"1.0.0\"\n"),
    ("apps/api/Chart.yaml", "name: api\n"),
    ("apps/web/values.yaml", "image:\n  tag: \"2.0.0\"\n"),
    ("apps/web/kustomization.yaml", "images: []\n"),
    ("apps/worker/values.yaml", "image:\n  tag: \"3.0.0\"\n"),
    ("base/deploy.yaml", "kind: Deployment\n"),
];

/// Waits asked for by the client, recorded instead of slept.
#[derive(Clone, Default)]
struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    fn taken(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

fn open_with(fake: &FakeGitLab, token: &str) -> (Box<dyn ApiRepo>, Sleeps) {
    let sleeps = Sleeps::default();
    let record = sleeps.clone();
    let options = ConnectOptions {
        sleeper: Arc::new(move |d| record.0.lock().unwrap().push(d)),
        ..ConnectOptions::default()
    };
    let repo = RepoId {
        host: fake.url().trim_start_matches("http://").to_string(),
        path: PROJECT.to_string(),
    };
    let api = gitlab_repo(&fake.api_base(), &repo, &Secret::new(token), &options).unwrap();
    (api, sleeps)
}

fn open(fake: &FakeGitLab) -> Box<dyn ApiRepo> {
    open_with(fake, TOKEN).0
}

fn setup() -> (BareRepo, FakeGitLab) {
    let bare = BareRepo::new_with(SEED, "main");
    let fake = FakeGitLab::start(&bare);
    (bare, fake)
}

fn author() -> Identity {
    Identity {
        name: "Release Bot".to_string(),
        email: "release@example.com".to_string(),
    }
}

fn change(path: &str, content: &[u8]) -> FileChange {
    FileChange {
        path: path.to_string(),
        content: Some(content.to_vec()),
    }
}

fn delete(path: &str) -> FileChange {
    FileChange {
        path: path.to_string(),
        content: None,
    }
}

fn commit(api: &mut dyn ApiRepo, head: &str, changes: &[FileChange]) -> CommitOutcome {
    let who = author();
    api.commit(&CommitRequest {
        branch: "main",
        expected_head: head,
        changes,
        message: "bump images\n\nTagbump-Run: test",
        author: &who,
    })
    .unwrap()
}

fn created(outcome: CommitOutcome) -> String {
    match outcome {
        CommitOutcome::Created { commit, .. } => commit,
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn parent_of(bare: &BareRepo, commit: &str) -> String {
    git(bare.path(), &["rev-parse", &format!("{commit}^")])
        .trim()
        .to_string()
}

fn all_files(bare: &BareRepo) -> Vec<String> {
    let mut files: Vec<String> = git(bare.path(), &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    files.sort();
    files
}

#[test]
fn reads_default_branch_tip_and_files() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();

    assert_eq!(api.describe(), format!("GitLab API ({PROJECT})"));
    assert_eq!(api.default_branch().unwrap(), "main");
    assert_eq!(
        api.branch_tip("main").unwrap().as_deref(),
        Some(tip.as_str())
    );
    assert_eq!(api.branch_tip("no/such-branch").unwrap(), None);
    assert_eq!(
        api.read_file(&tip, "apps/api/values.yaml")
            .unwrap()
            .unwrap(),
        b"image:\n  tag: \"1.0.0\"\n"
    );
    assert_eq!(api.read_file(&tip, "apps/none.yaml").unwrap(), None);
    assert_eq!(
        api.read_file(&tip, "apps/api").unwrap(),
        None,
        "a directory is no file"
    );
    for request in fake.requests() {
        assert_eq!(request.header("private-token"), Some(TOKEN));
        assert_eq!(request.header("authorization"), None);
    }
}

#[test]
fn lists_the_whole_tree_and_paths_across_keyset_pages() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();

    let listing = api.list_files(&tip, &[]).unwrap();
    assert_eq!(
        listing,
        Listing {
            paths: all_files(&bare),
            complete: true
        }
    );
    let pages = fake.requests_to("GET", "/repository/tree");
    assert!(pages.len() > 3, "pages of 3 entries: {}", pages.len());
    assert!(pages[1..]
        .iter()
        .all(|r| r.query_param("page_token").is_some()));

    let under = api
        .list_files(
            &tip,
            &[
                "apps/web".to_string(),
                "base/deploy.yaml".to_string(),
                "nope".to_string(),
            ],
        )
        .unwrap();
    assert_eq!(
        under.paths,
        vec![
            "apps/web/kustomization.yaml",
            "apps/web/values.yaml",
            "base/deploy.yaml"
        ]
    );
}

#[test]
fn follows_offset_pages_when_the_server_ignores_keyset() {
    let (bare, fake) = setup();
    fake.offset_pagination_only();
    fake.set_page_size(2);
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();

    assert_eq!(api.list_files(&tip, &[]).unwrap().paths, all_files(&bare));
    let pages: Vec<String> = fake
        .requests_to("GET", "/repository/tree")
        .iter()
        .map(|r| r.query_param("page").unwrap_or("1").to_string())
        .collect();
    assert_eq!(pages.first().map(String::as_str), Some("1"));
    assert!(
        pages.contains(&"2".to_string()) && pages.len() > 4,
        "{pages:?}"
    );
}

#[test]
fn commits_updates_creates_and_deletes_in_one_commit_on_the_tip() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();
    api.read_file(&tip, "apps/api/values.yaml").unwrap();
    let binary = [0u8, 159, 146, 150, b'\n'];

    let outcome = commit(
        api.as_mut(),
        &tip,
        &[
            change("apps/api/values.yaml", b"image:\n  tag: \"1.1.0\"\n"),
            change("apps/web/values.yaml", b"image:\n  tag: \"2.1.0\"\n"),
            change("apps/new/values.yaml", &binary),
            delete("base/deploy.yaml"),
        ],
    );
    let CommitOutcome::Created { commit, verified } = outcome else {
        panic!("not created: {outcome:?}");
    };
    assert_eq!(
        verified,
        Some(false),
        "unsigned: the signature endpoint says 404"
    );
    assert_eq!(bare.tip("main").as_deref(), Some(commit.as_str()));
    assert_eq!(parent_of(&bare, &commit), tip);
    assert_eq!(bare.commit_count("main"), 2);
    assert!(bare.is_linear("main"));
    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").unwrap(),
        "image:\n  tag: \"1.1.0\"\n"
    );
    assert_eq!(
        bare.read_file("main", "apps/web/values.yaml").unwrap(),
        "image:\n  tag: \"2.1.0\"\n"
    );
    let raw = std::process::Command::new("git")
        .args(["-C", bare.path().to_str().unwrap(), "cat-file", "blob"])
        .arg("main:apps/new/values.yaml")
        .output()
        .unwrap()
        .stdout;
    assert_eq!(raw, binary, "exact bytes, base64 both ways");
    assert_eq!(bare.read_file("main", "base/deploy.yaml"), None);
    let mut changed = bare.changed_in_tip("main");
    changed.sort();
    assert_eq!(
        changed,
        vec![
            "apps/api/values.yaml",
            "apps/new/values.yaml",
            "apps/web/values.yaml",
            "base/deploy.yaml"
        ]
    );
    assert_eq!(
        bare.log("main", "%an <%ae>|%cn|%B").first().unwrap(),
        &format!(
            "Release Bot <release@example.com>|{}|bump images",
            TOKEN_USER.0
        )
    );

    // The update actions carried the file's last commit: GitLab's compare-and-swap.
    let post = &fake.requests_to("POST", "/repository/commits")[0];
    assert!(
        post.raw_body.contains(&format!("last_commit_id%5D={tip}"))
            || post.raw_body.contains(&format!("last_commit_id]={tip}"))
    );
}

#[test]
fn a_file_changed_since_it_was_read_is_moved_and_lands_after_a_re_read() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let read_at = bare.tip("main").unwrap();
    api.read_file(&read_at, "apps/api/values.yaml").unwrap();
    let other = bare.commit_files(
        "main",
        &[("apps/api/values.yaml", "image:\n  tag: \"1.0.1\"\n")],
        "someone else",
    );

    let outcome = commit(
        api.as_mut(),
        &read_at,
        &[change(
            "apps/api/values.yaml",
            b"image:\n  tag: \"1.1.0\"\n",
        )],
    );
    match outcome {
        CommitOutcome::Moved { reason } => assert!(
            reason.contains("The file has changed since you started editing it"),
            "{reason}"
        ),
        other => panic!("expected Moved, got {other:?}"),
    }
    assert_eq!(
        bare.tip("main").as_deref(),
        Some(other.as_str()),
        "nothing written"
    );
    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").unwrap(),
        "image:\n  tag: \"1.0.1\"\n"
    );

    let tip = api.branch_tip("main").unwrap().unwrap();
    assert_eq!(tip, other);
    let seen = api
        .read_file(&tip, "apps/api/values.yaml")
        .unwrap()
        .unwrap();
    assert_eq!(seen, b"image:\n  tag: \"1.0.1\"\n");
    let landed = created(commit(
        api.as_mut(),
        &tip,
        &[change(
            "apps/api/values.yaml",
            b"image:\n  tag: \"1.1.0\"\n",
        )],
    ));
    assert_eq!(parent_of(&bare, &landed), other);
    assert_eq!(bare.commit_count("main"), 3);
    assert!(bare.is_linear("main"));
}

#[test]
fn a_concurrent_commit_to_another_file_is_kept() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let read_at = bare.tip("main").unwrap();
    api.read_file(&read_at, "apps/api/values.yaml").unwrap();
    let other = bare.commit_files(
        "main",
        &[("apps/web/values.yaml", "image:\n  tag: \"2.0.9\"\n")],
        "someone else",
    );

    let landed = created(commit(
        api.as_mut(),
        &read_at,
        &[change(
            "apps/api/values.yaml",
            b"image:\n  tag: \"1.1.0\"\n",
        )],
    ));
    assert_eq!(
        parent_of(&bare, &landed),
        other,
        "on top of the other writer"
    );
    assert_eq!(
        bare.read_file("main", "apps/web/values.yaml").unwrap(),
        "image:\n  tag: \"2.0.9\"\n"
    );
    assert_eq!(
        bare.read_file("main", "apps/api/values.yaml").unwrap(),
        "image:\n  tag: \"1.1.0\"\n"
    );
    assert!(bare.is_linear("main"));
}

#[test]
fn creating_a_file_somebody_else_just_created_is_moved() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let read_at = bare.tip("main").unwrap();
    assert_eq!(api.read_file(&read_at, "apps/new.yaml").unwrap(), None);
    let other = bare.commit_files("main", &[("apps/new.yaml", "theirs\n")], "someone else");

    let outcome = commit(
        api.as_mut(),
        &read_at,
        &[change("apps/new.yaml", b"ours\n")],
    );
    assert!(
        matches!(&outcome, CommitOutcome::Moved { reason } if reason.contains("already exists")),
        "{outcome:?}"
    );
    assert_eq!(bare.tip("main").as_deref(), Some(other.as_str()));
    assert_eq!(bare.read_file("main", "apps/new.yaml").unwrap(), "theirs\n");
}

#[test]
fn twenty_concurrent_writers_on_twenty_files_all_land_linearly() {
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("apps/app{i:02}/values.yaml"),
                "tag: old\n".to_string(),
            )
        })
        .collect();
    let seed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let bare = BareRepo::new_with(&seed, "main");
    let fake = FakeGitLab::start(&bare);

    std::thread::scope(|scope| {
        for (i, (path, _)) in files.iter().enumerate() {
            let fake = &fake;
            scope.spawn(move || {
                let mut api = open(fake);
                let new = format!("tag: v{i}\n");
                for _ in 0..50 {
                    let tip = api.branch_tip("main").unwrap().unwrap();
                    assert!(api.read_file(&tip, path).unwrap().is_some());
                    match commit(api.as_mut(), &tip, &[change(path, new.as_bytes())]) {
                        CommitOutcome::Created { .. } => return,
                        CommitOutcome::Moved { .. } => continue,
                    }
                }
                panic!("{path} never landed");
            });
        }
    });

    assert_eq!(bare.commit_count("main"), 21);
    assert!(bare.is_linear("main"));
    for (i, (path, _)) in files.iter().enumerate() {
        assert_eq!(
            bare.read_file("main", path).unwrap(),
            format!("tag: v{i}\n")
        );
    }
}

#[test]
fn a_rejected_token_is_an_auth_error_without_the_token() {
    let (_bare, fake) = setup();
    let (mut api, _) = open_with(&fake, "glpat-WRONG-123456");
    let err = api.default_branch().unwrap_err();
    assert!(matches!(err, ForgeError::Auth { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("glpat-WRONG-123456"));
}

#[test]
fn an_unknown_project_is_not_found() {
    let (_bare, fake) = setup();
    let repo = RepoId {
        host: "127.0.0.1".to_string(),
        path: "group/other".to_string(),
    };
    let mut api = gitlab_repo(
        &fake.api_base(),
        &repo,
        &Secret::new(TOKEN),
        &ConnectOptions::default(),
    )
    .unwrap();
    let err = api.branch_tip("main").unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    let err = api.read_file("main", "README.md").unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let (bare, fake) = setup();
    let (mut api, sleeps) = open_with(&fake, TOKEN);
    let tip = bare.tip("main").unwrap();
    fake.inject(
        "GET",
        "/repository/branches/main",
        FakeResponse::message(429, "Retry later").with_header("Retry-After", "7"),
    );
    fake.inject(
        "GET",
        "/repository/tree",
        FakeResponse::message(429, "Retry later").with_header("Retry-After", "3"),
    );
    fake.inject(
        "POST",
        "/repository/commits",
        FakeResponse::message(502, "Bad Gateway"),
    );
    fake.inject(
        "POST",
        "/repository/commits",
        FakeResponse::message(503, "Unavailable"),
    );

    assert_eq!(api.branch_tip("main").unwrap(), Some(tip.clone()));
    assert_eq!(api.list_files(&tip, &[]).unwrap().paths, all_files(&bare));
    let landed = created(commit(
        api.as_mut(),
        &tip,
        &[change("README.md", b"# new\n")],
    ));
    assert_eq!(parent_of(&bare, &landed), tip);
    assert_eq!(bare.commit_count("main"), 2);
    assert_eq!(
        sleeps.taken(),
        [7, 3, 1, 2].map(Duration::from_secs).to_vec(),
        "Retry-After, then the 1 s, 2 s backoff"
    );
}

#[test]
fn redirects_are_refused_and_the_other_host_never_sees_the_token() {
    let (bare, fake) = setup();
    let other = ForgeServer::gitlab(TOKEN);
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();

    fake.inject(
        "GET",
        "/projects/",
        FakeResponse::message(302, "moved")
            .with_header("Location", &format!("{}/api/v4/projects/1", other.url())),
    );
    let err = api.default_branch().unwrap_err();
    assert!(matches!(err, ForgeError::Redirect { .. }), "{err:?}");

    // A pagination link to another host is not followed either.
    fake.inject(
        "GET",
        "/repository/tree",
        FakeResponse::json(200, serde_json::json!([])).with_header(
            "Link",
            &format!(
                "<{}/api/v4/projects/1/repository/tree?page_token=x>; rel=\"next\"",
                other.url()
            ),
        ),
    );
    let err = api.list_files(&tip, &[]).unwrap_err();
    assert!(!format!("{err}").contains(TOKEN), "{err}");
    assert!(other.requests().is_empty(), "the other host was contacted");
}

#[test]
fn reports_verified_when_gitlab_signed_the_commit() {
    let (bare, fake) = setup();
    fake.sign_commits();
    let mut api = open(&fake);
    let tip = bare.tip("main").unwrap();
    let outcome = commit(api.as_mut(), &tip, &[change("README.md", b"# signed\n")]);
    assert!(
        matches!(
            outcome,
            CommitOutcome::Created {
                verified: Some(true),
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[test]
fn set_branch_creates_moves_under_a_lease_and_refuses_a_stale_one() {
    let (bare, fake) = setup();
    let mut api = open(&fake);
    let first = bare.tip("main").unwrap();
    let second = bare.commit_files("main", &[("README.md", "# two\n")], "two");
    let bot = "tagbump/api";

    assert_eq!(
        api.set_branch(bot, &first, None).unwrap(),
        BranchUpdate::Updated
    );
    assert_eq!(bare.tip(bot).as_deref(), Some(first.as_str()));
    assert!(
        matches!(
            api.set_branch(bot, &second, None).unwrap(),
            BranchUpdate::Moved { .. }
        ),
        "exists already: not clobbered"
    );
    assert_eq!(bare.tip(bot).as_deref(), Some(first.as_str()));

    assert_eq!(
        api.set_branch(bot, &second, Some(&first)).unwrap(),
        BranchUpdate::Updated
    );
    assert_eq!(bare.tip(bot).as_deref(), Some(second.as_str()));

    let stale = api.set_branch(bot, &first, Some(&first)).unwrap();
    assert!(matches!(stale, BranchUpdate::Moved { .. }), "{stale:?}");
    assert_eq!(bare.tip(bot).as_deref(), Some(second.as_str()), "untouched");

    // Committing onto the bot branch works like on any branch.
    let who = author();
    let outcome = api
        .commit(&CommitRequest {
            branch: bot,
            expected_head: &second,
            changes: &[change("apps/api/values.yaml", b"image:\n  tag: \"9\"\n")],
            message: "bump",
            author: &who,
        })
        .unwrap();
    let landed = created(outcome);
    assert_eq!(parent_of(&bare, &landed), second);
    assert_eq!(bare.tip("main").as_deref(), Some(second.as_str()));
}

/// The 4xx answers GitLab documents for these endpoints ("REST API" docs, "Status
/// codes"): 403 Forbidden (e.g. a token without `write_repository`, or a protected
/// branch), 409 Conflict, 422 Unprocessable — each a typed error that names the
/// problem and never the token, none retried, nothing written.
#[test]
fn documented_client_errors_are_typed_clear_and_not_retried() {
    let (bare, fake) = setup();
    let before = bare.tip("main");
    let (mut api, sleeps) = open_with(&fake, TOKEN);
    let head = api.branch_tip("main").unwrap().unwrap();

    fake.inject(
        "POST",
        "/repository/commits",
        FakeResponse::message(
            403,
            "403 Forbidden - You are not allowed to push into this branch",
        ),
    );
    let who = author();
    let changes = [FileChange {
        path: "apps/api/values.yaml".into(),
        content: Some(b"image:\n  tag: \"1.1.0\"\n".to_vec()),
    }];
    let request = CommitRequest {
        branch: "main",
        expected_head: &head,
        changes: &changes,
        message: "bump",
        author: &who,
    };
    let err = api.commit(&request).unwrap_err();
    assert!(matches!(err, ForgeError::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("not allowed to push"));

    fake.inject(
        "GET",
        "/repository/branches/main",
        FakeResponse::message(409, "409 Conflict"),
    );
    let err = api.branch_tip("main").unwrap_err();
    assert!(
        matches!(err, ForgeError::Api { status: 409, .. }),
        "{err:?}"
    );

    fake.inject(
        "GET",
        "/repository/branches/main",
        FakeResponse::message(422, "422 Unprocessable Entity"),
    );
    let err = api.branch_tip("main").unwrap_err();
    assert!(
        matches!(err, ForgeError::Api { status: 422, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(TOKEN));
    assert!(sleeps.taken().is_empty(), "client errors are not retried");
    assert_eq!(bare.tip("main"), before);
}

/// Pull-request mode through GitLab's API with an existing bot branch: the commit is
/// made on a staging branch from main's tip, the bot branch is moved onto it under the
/// lease, the staging branch is deleted; main is untouched.
#[test]
fn the_lander_moves_an_existing_bot_branch_onto_main_plus_the_edit_and_cleans_up() {
    use std::path::{Path, PathBuf};
    use tagbump::git::{Applied, ApplyResult, CommitInfo};
    use tagbump::land::api_lander::{write_back, ApiWriteBack};

    let (bare, fake) = setup();
    let main = bare.tip("main").unwrap();
    let bot = "tagbump/api";
    bare.commit_files(
        "main",
        &[("apps/api/values.yaml", "image:\n  tag: \"0.9.0\"\n")],
        "old bump",
    );
    let old_bot = bare.tip("main").unwrap();
    git(
        bare.path(),
        &["update-ref", &format!("refs/heads/{bot}"), &old_bot],
    );
    git(bare.path(), &["update-ref", "refs/heads/main", &main]);

    let mut api = open(&fake);
    let opts = ApiWriteBack {
        push_branch: Some(bot.to_string()),
        paths: Some(vec![PathBuf::from("apps/api/values.yaml")]),
        ..ApiWriteBack::default()
    };
    let edit = |root: &Path| -> ApplyResult {
        std::fs::write(
            root.join("apps/api/values.yaml"),
            "image:\n  tag: \"1.1.0\"\n",
        )?;
        Ok(Applied {
            files: vec![PathBuf::from("apps/api/values.yaml")],
            commit: CommitInfo {
                message: "api: 1.1.0".into(),
                author: author(),
                committer: author(),
            },
        })
    };
    let out = write_back(api.as_mut(), &opts, &mut |_| {}, edit).expect("lands");
    let tip = bare.tip(bot).unwrap();
    assert_eq!(out.landed.commit.as_deref(), Some(tip.as_str()));
    assert_eq!(
        git(bare.path(), &["rev-parse", &format!("{tip}^")]).trim(),
        main
    );
    assert_eq!(
        bare.read_file(bot, "apps/api/values.yaml").as_deref(),
        Some("image:\n  tag: \"1.1.0\"\n")
    );
    assert_eq!(
        bare.tip("main").as_deref(),
        Some(main.as_str()),
        "main untouched"
    );
    assert!(
        bare.branches()
            .iter()
            .all(|b| !b.starts_with("tagbump-staging/")),
        "the staging branch is gone: {:?}",
        bare.branches()
    );
}
