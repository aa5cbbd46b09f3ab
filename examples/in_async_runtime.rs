//! tagbump's clients are blocking, and safe to call from async code: inside a
//! runtime each exchange runs on a thread of its own, so nothing panics with
//! "Cannot start a runtime from within a runtime". (Wrap the calls in
//! `tokio::task::spawn_blocking` to keep the executor's threads free.)
//!
//! Here both the GitHub client and the registry client are called from
//! `#[tokio::main]` against a loopback port that refuses connections: each returns
//! an error, and the program exits 0.
use std::time::Duration;

use tagbump::forge::{github_repo, ConnectOptions, RepoId, RetryPolicy};
use tagbump::image::ImageRef;
use tagbump::registry::{Client, ClientOptions, Endpoint, Resolver};
use tagbump::secret::Secret;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A port that was free a moment ago: connecting to it is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();

    let options = ConnectOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            max_wait: Duration::ZERO,
        },
        ..ConnectOptions::default()
    };
    let repo = RepoId::from_remote_url("https://github.com/acme/gitops-config")?;
    let api = format!("http://127.0.0.1:{port}");
    let mut github = github_repo(&api, &repo, &Secret::new("ghp_example"), &options)?;
    let err = github.default_branch().expect_err("nothing listens there");
    println!("GitHub client: {err}");

    let image = ImageRef::parse(&format!("127.0.0.1:{port}/acme/api"))?;
    let client = Client::new(Endpoint::of(&image, &[]), ClientOptions::default())?;
    let err = Resolver::new(client, image.name())
        .tags()
        .expect_err("refused");
    println!("registry client: {err}");
    Ok(())
}
