//! GitHub App authentication against the fake GitHub of `tests/support`, which verifies
//! the app's RS256 JWT with the app's public key (signature, `iss`, `iat`, `exp`) on
//! `GET /repos/{o}/{r}/installation` and `POST /app/installations/{id}/access_tokens`,
//! and hands out its one accepted token as the installation token.
//!
//! Keys are made per test with `openssl genrsa` (PKCS#1 like GitHub's downloads, and
//! PKCS#8); the fake gets only the public key (DER `RSAPublicKey`).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::cli::{home, run, tagbump};
use support::fake_github::FakeGitHub;
use support::forge_cli::{via_github_api, web_config, WEB};
use support::git_server::{self, BareRepo};
use tagbump::forge::github_app::{installation_token, AppKey, GitHubApp, InstallationToken};
use tagbump::forge::{ConnectOptions, ForgeError, RepoId};
use tempfile::TempDir;

const INSTALLATION_TOKEN: &str = "ghs_INSTALLATION-SECRET-4242";
const APP_ID: u64 = 42;
const INSTALLATION_ID: u64 = 7;

/// An RSA key pair on disk: the private PEM and the public key as DER `RSAPublicKey`.
struct KeyPair {
    dir: TempDir,
    pem: PathBuf,
    public_der: Vec<u8>,
}

impl KeyPair {
    fn generate(pkcs1: bool) -> KeyPair {
        let dir = tempfile::tempdir().expect("key dir");
        let pem = dir.path().join("key.pem");
        let mut genrsa = Command::new("openssl");
        genrsa.arg("genrsa");
        if pkcs1 {
            genrsa.arg("-traditional");
        }
        openssl(genrsa.arg("-out").arg(&pem).arg("2048"));
        let der = dir.path().join("pub.der");
        openssl(
            Command::new("openssl")
                .args(["rsa", "-in"])
                .arg(&pem)
                .args(["-RSAPublicKey_out", "-outform", "DER", "-out"])
                .arg(&der),
        );
        let public_der = std::fs::read(&der).expect("public key");
        KeyPair {
            dir,
            pem,
            public_der,
        }
    }

    fn pem_text(&self) -> String {
        std::fs::read_to_string(&self.pem).expect("pem")
    }

    fn app(&self) -> GitHubApp {
        GitHubApp {
            app_id: APP_ID.to_string(),
            key: AppKey::from_pem(self.pem_text().as_bytes()).expect("the key reads"),
        }
    }

    /// A line from the middle of the PEM: must never be printed.
    fn key_line(&self) -> String {
        let text = self.pem_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len() / 2].to_string()
    }

    fn path(&self) -> &Path {
        let _ = &self.dir;
        &self.pem
    }
}

fn openssl(cmd: &mut Command) {
    let out = cmd.output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// [`web_config`] on a fake GitHub as `name`, where the app whose public key is
/// `registered`'s is installed (installation [`INSTALLATION_ID`]).
fn github_with_app(name: &str, registered: &KeyPair) -> (BareRepo, FakeGitHub) {
    let repo = web_config();
    let github = FakeGitHub::start(&repo, name, INSTALLATION_TOKEN);
    github.enable_app(APP_ID, registered.public_der.clone(), INSTALLATION_ID);
    (repo, github)
}

/// The library's call: an installation token for `acme/gitops` on `github`, signed
/// with `keys`.
fn mint(github: &FakeGitHub, keys: &KeyPair) -> Result<InstallationToken, ForgeError> {
    let repo =
        RepoId::from_remote_url(&format!("{}/acme/gitops.git", github.url())).expect("repo id");
    installation_token(github.url(), &repo, &keys.app(), &ConnectOptions::default())
}

/// The JWTs the fake received (the `Authorization: Bearer` values of App calls).
fn jwts(github: &FakeGitHub) -> Vec<String> {
    github
        .requests()
        .iter()
        .filter(|r| r.url.contains("/installation"))
        .filter_map(|r| r.authorization.clone())
        .filter_map(|a| a.strip_prefix("Bearer ").map(str::to_string))
        .collect()
}

#[test]
fn the_library_mints_an_installation_token_for_the_repository() {
    for pkcs1 in [true, false] {
        let keys = KeyPair::generate(pkcs1);
        let (_repo, github) = github_with_app("acme/gitops", &keys);

        let minted = mint(&github, &keys).expect("an installation token");
        assert_eq!(minted.token.expose(), INSTALLATION_TOKEN);
        assert_eq!(minted.installation_id, INSTALLATION_ID);
        assert_eq!(minted.expires_at, "2099-01-01T00:00:00Z");
        assert!(!format!("{minted:?}").contains(INSTALLATION_TOKEN));

        assert_eq!(
            github.lines(),
            vec![
                "GET /repos/acme/gitops/installation".to_string(),
                format!("POST /app/installations/{INSTALLATION_ID}/access_tokens"),
            ]
        );
        let requests = github.requests();
        let body = &requests[1].body;
        assert_eq!(body["repositories"], serde_json::json!(["gitops"]));
        assert_eq!(body["permissions"]["contents"], "write");
        assert_eq!(body["permissions"]["pull_requests"], "write");
        let jwts = jwts(&github);
        assert_eq!(jwts.len(), 2, "both calls carry the app's JWT");
        assert_eq!(jwts[0].split('.').count(), 3);
    }
}

#[test]
fn a_key_of_another_app_is_refused_with_a_clear_error() {
    let registered = KeyPair::generate(true);
    let other = KeyPair::generate(true);
    let (_repo, github) = github_with_app("acme/gitops", &registered);

    let err = mint(&github, &other).expect_err("a signature by another key is refused");
    assert!(matches!(err, ForgeError::AppRejected { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(
        text.contains("rejected the JWT of GitHub App 42 (HTTP 401)")
            && text.contains("private key belongs to that app"),
        "{text}"
    );
    for jwt in jwts(&github) {
        assert!(!text.contains(&jwt) && !format!("{err:?}").contains(&jwt));
    }
    assert!(!text.contains(&other.key_line()));
    assert_eq!(
        github.lines(),
        vec!["GET /repos/acme/gitops/installation".to_string()],
        "no token is asked for after the refusal"
    );
}

#[test]
fn an_app_not_installed_on_the_repository_says_so() {
    let keys = KeyPair::generate(true);
    let (_repo, github) = github_with_app("acme/other", &keys);
    let err = mint(&github, &keys).expect_err("not installed");
    assert!(matches!(err, ForgeError::AppNotInstalled { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("GitHub App 42 is not installed on acme/gitops"),
        "{err}"
    );
}

#[test]
fn the_cli_lands_a_commit_through_the_api_with_the_installation_token() {
    let keys = KeyPair::generate(true);
    let (repo, github) = github_with_app("acme/gitops", &keys);
    let before = repo.tip("main");
    let home = home();
    let set = ["set", WEB, "image.tag=2.1.0", "--output", "json"];
    let out = run(via_github_api(home.path(), &github, set)
        .args(["--github-app-id", "42", "--github-app-key"])
        .arg(keys.path())
        // The App wins over a token variable (which would be refused by the fake).
        .env("TAGBUMP_TOKEN", "ghp_WRONG-TOKEN-FROM-ENV-0000"));
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["via"], "api");
    assert_eq!(
        repo.read_file("main", WEB).as_deref(),
        Some("image:\n  repository: ghcr.io/acme/web\n  tag: \"2.1.0\"\n")
    );
    assert_eq!(repo.commit_count("main"), 2, "one commit");
    let parent = git_server::git(repo.path(), &["rev-parse", "main^"]);
    assert_eq!(Some(parent.trim().to_string()), before);
    assert!(
        out.stderr.contains(&format!(
            "using a GitHub App installation token (app ID 42, installation ID {INSTALLATION_ID})"
        )),
        "{}",
        out.stderr
    );

    // Every repository call carried the installation token; the JWT only the App calls.
    let requests = github.requests();
    assert_eq!(requests[0].line(), "GET /repos/acme/gitops/installation");
    for r in requests.iter().filter(|r| !r.url.contains("/installation")) {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {INSTALLATION_TOKEN}").as_str()),
            "{}",
            r.line()
        );
    }
    let mut secrets = jwts(&github);
    assert!(!secrets.is_empty());
    secrets.push(INSTALLATION_TOKEN.to_string());
    secrets.push(keys.key_line());
    for secret in &secrets {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "a secret was printed\nstdout: {}\nstderr: {}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn the_cli_takes_the_pem_from_the_environment_and_reports_a_wrong_key() {
    let registered = KeyPair::generate(true);
    let other = KeyPair::generate(false);
    let (repo, github) = github_with_app("acme/gitops", &registered);
    let home = home();
    let out = run(
        via_github_api(home.path(), &github, ["set", WEB, "image.tag=2.1.0"])
            .env("TAGBUMP_GITHUB_APP_ID", "42")
            .env("TAGBUMP_GITHUB_APP_KEY", other.pem_text()),
    );
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("rejected the JWT of GitHub App 42 (HTTP 401)"),
        "{}",
        out.stderr
    );
    assert_eq!(repo.commit_count("main"), 1, "nothing landed");
    for secret in jwts(&github).iter().chain([&other.key_line()]) {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }
}

#[test]
fn an_app_id_without_a_key_is_invalid_input_before_anything_is_sent() {
    let home = home();
    let out = run(tagbump(home.path())
        .args(["set", WEB, "image.tag=2.1.0"])
        .args(["--repo", "https://github.com/acme/gitops.git"])
        .args(["--github-app-id", "42"])
        .args(["--output", "json"]));
    out.assert_code(2);
    assert_eq!(out.json()["error"]["kind"], "invalid-input");
    assert!(
        out.stderr
            .contains("--github-app-id needs the app's private key"),
        "{}",
        out.stderr
    );
}
