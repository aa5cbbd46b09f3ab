//! Bump an image through the GitHub API (no clone; GitHub makes the commit) and open a
//! pull request. Usage: bump_github_pr REPO_URL API_URL, with the token in GITHUB_TOKEN.
use std::sync::Arc;

use tagbump::bump::{self, Destination, Options, PullRequest, TokenSource};
use tagbump::forge::ForgeKind;
use tagbump::image::ImageRef;
use tagbump::land::via::Via;
use tagbump::plan::Request;
use tagbump::secret::Secret;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: REPO_URL API_URL";
    let (url, api) = (args.next().ok_or(usage)?, args.next().ok_or(usage)?);
    let change = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/web:2.1.0")?,
        paths: vec![],
    };
    let token = Secret::new(std::env::var("GITHUB_TOKEN")?);
    let mut options = Options::default();
    options.tokens = Arc::new(TokenSource::Fixed(token));
    options.forge = Some(ForgeKind::GitHub); // GitHub Enterprise or a test server
    options.pull_request = Some(PullRequest {
        labels: vec!["deploy".into()],
        ..PullRequest::default() // branch tagbump/{slug}, tagbump's title and body
    });
    let to = Destination::Remote {
        url,
        branch: None,
        via: Via::Api,
        api_url: Some(api), // this repository's API (or Options::api_url for all)
    };
    let outcome = bump::run(&change, &to, &options, &|_event| {})?;
    let pr = outcome.pull_request.ok_or("no pull request")?;
    let verified = outcome.landed.and_then(|l| l.verified).unwrap_or(false);
    let (number, url) = (pr.number, pr.url);
    println!("opened pull request #{number} ({url}), verified: {verified}");
    Ok(())
}
