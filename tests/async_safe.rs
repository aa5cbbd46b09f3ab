//! Every client of the library called from inside a tokio runtime — a multi-thread
//! one (what `#[tokio::main]` starts) and a current-thread one — returns its error
//! instead of panicking with "Cannot start a runtime from within a runtime", and is
//! dropped there without panicking either: the GitHub client (octocrab), the GitLab
//! client (`reqwest::blocking`), the GitHub App token exchange and the registry
//! client. The address is a loopback port that refuses connections.

use std::future::Future;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use tagbump::forge::github_app::{installation_token, AppKey, GitHubApp};
use tagbump::forge::{
    connect_with, github_repo, gitlab_repo, ConnectOptions, ForgeError, ForgeKind, RepoId,
    RetryPolicy,
};
use tagbump::image::ImageRef;
use tagbump::registry::{Client, ClientOptions, Endpoint, Platform, RegistryError, Resolver};
use tagbump::secret::Secret;

/// A loopback port nothing listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn options() -> ConnectOptions {
    ConnectOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            max_wait: Duration::ZERO,
        },
        ..ConnectOptions::default()
    }
}

fn refused(e: &ForgeError) {
    let text = e.to_string();
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

/// A fresh RSA key as PEM (PKCS#8), as a GitHub App's key reads.
fn app_key() -> AppKey {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
    let der: aws_lc_rs::encoding::Pkcs8V1Der = pair.as_der().expect("der");
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    AppKey::from_pem(pem.as_bytes()).expect("key reads")
}

/// Calls every client once; each must fail with "connection refused".
async fn every_client(port: u16) {
    let api = format!("http://127.0.0.1:{port}");
    let token = Secret::new("tok-async-safe");
    let gh = RepoId::from_remote_url("https://github.com/acme/gitops-config").expect("repo");
    let gl = RepoId::from_remote_url("https://gitlab.com/acme/gitops-config").expect("repo");

    let mut repo = github_repo(&api, &gh, &token, &options()).expect("client");
    refused(&repo.default_branch().expect_err("GitHub API repo"));
    drop(repo); // its runtime is dropped inside this one

    let mut repo = gitlab_repo(&format!("{api}/api/v4"), &gl, &token, &options()).expect("client");
    refused(&repo.default_branch().expect_err("GitLab API repo"));
    drop(repo);

    let err = connect_with(
        ForgeKind::GitLab,
        &format!("{api}/api/v4"),
        &token,
        &options(),
    )
    .map(|_| ())
    .expect_err("GitLab checks the token with GET /user");
    refused(&err);
    let forge = connect_with(ForgeKind::GitHub, &api, &token, &options()).expect("no request yet");
    drop(forge);

    let app = GitHubApp {
        app_id: "42".into(),
        key: app_key(),
    };
    refused(&installation_token(&api, &gh, &app, &options()).expect_err("App token"));

    let image = ImageRef::parse(&format!("127.0.0.1:{port}/acme/api")).expect("image");
    let client = Client::new(Endpoint::of(&image, &[]), ClientOptions::default()).expect("client");
    let r = Resolver::new(client, image.name());
    let transport = |e: RegistryError| {
        assert!(matches!(e, RegistryError::Transport { .. }), "{e}");
        assert!(e.to_string().contains("refused"), "{e}");
    };
    transport(r.tags().expect_err("tags"));
    transport(r.pin("1.0.0", None).expect_err("pin"));
    let platform = Platform::parse("linux/amd64").expect("platform");
    transport(
        r.build_times(&["a".into(), "b".into(), "c".into()], &platform)
            .expect_err("build times"),
    );
    drop(r);
}

fn in_runtime(rt: tokio::runtime::Runtime, work: impl Future<Output = ()>) {
    rt.block_on(work);
}

#[test]
fn every_client_works_inside_a_multi_thread_runtime() {
    let port = refused_port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Inside a task too, not only in block_on.
    in_runtime(rt, async move {
        tokio::spawn(every_client(port)).await.expect("no panic");
    });
}

#[test]
fn every_client_works_inside_a_current_thread_runtime() {
    let port = refused_port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    in_runtime(rt, every_client(port));
}
