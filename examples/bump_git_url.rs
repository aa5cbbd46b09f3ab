//! Bump an image through a git URL: clone, edit, commit, push. A push that loses the
//! race to another pipeline fetches the new tip and applies the edit again (the
//! default retry policy: up to 3 minutes). Usage: bump_git_url URL
use tagbump::bump::{self, Destination, Event, Options};
use tagbump::image::ImageRef;
use tagbump::land::via::Via;
use tagbump::plan::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: bump_git_url URL")?;
    let change = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?,
        paths: vec!["apps/api".into()], // only this directory is checked out
    };
    let to = Destination::Remote {
        url,
        branch: None,
        via: Via::Git,
        api_url: None,
    };
    let log = |event: Event<'_>| {
        if let Event::Log(line) = event {
            eprintln!("{line}");
        }
    };
    let outcome = bump::run(&change, &to, &Options::default(), &log)?;

    let landed = outcome.landed.ok_or("nothing landed")?;
    let commit = landed.outcome.commit.unwrap_or_default();
    println!(
        "pushed {commit} to {} after {} attempt(s)",
        landed.outcome.branch, landed.outcome.attempts
    );
    Ok(())
}
