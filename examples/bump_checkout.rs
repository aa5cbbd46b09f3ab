//! Bump an image in a local git checkout and commit it (no push: add `push: true` to push
//! to the branch's upstream). Usage: bump_checkout DIR
use tagbump::bump::{self, CommitTemplate, Destination, Options};
use tagbump::image::ImageRef;
use tagbump::plan::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: bump_checkout DIR")?;
    let change = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?,
        paths: vec![], // the whole checkout
    };
    let mut options = Options::default();
    options.commit = CommitTemplate {
        message: Some("deploy: api {tag}".into()),
        trailers: false, // no pipeline trailers outside CI
        ..CommitTemplate::default()
    };
    let to = Destination::Checkout {
        dir: dir.into(),
        push: false,
    };
    let outcome = bump::run(&change, &to, &options, &|_event| {})?;
    let landed = outcome
        .landed
        .ok_or("already at 1.5.0: nothing committed")?;
    let commit = landed.outcome.commit.unwrap_or_default();
    println!("committed {commit} on {}", landed.outcome.branch);
    Ok(())
}
