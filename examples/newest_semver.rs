//! The newest semantic-version tag of an image in its registry, and its digest.
//! Usage: newest_semver IMAGE [CONSTRAINT], e.g. `newest_semver ghcr.io/acme/api "^1.4"`.
//! REGISTRY_USERNAME / REGISTRY_PASSWORD log in; CA_BUNDLE: a CA (PEM) to trust too.
use tagbump::image::ImageRef;
use tagbump::registry::strategy::Constraint;
use tagbump::registry::{BasicCredentials as Login, Client, ClientOptions, Endpoint, Platform};
use tagbump::registry::{Resolver, Strategy, TagFilter};
use tagbump::secret::Secret;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image = ImageRef::parse(&args.next().ok_or("usage: IMAGE [CONSTRAINT]")?)?;
    let mut filter = TagFilter::default(); // pre-releases left out
    if let Some(text) = args.next() {
        filter.constraint = Some(Constraint::parse(&text)?); // e.g. "^1.4", ">=2, <3"
    }
    let login = std::env::var("REGISTRY_USERNAME")
        .ok()
        .zip(std::env::var("REGISTRY_PASSWORD").ok());
    let options = ClientOptions {
        credentials: login.map(|(username, pw)| Login {
            username,
            password: Secret::new(pw),
        }),
        ca_bundle: std::env::var_os("CA_BUNDLE").map(Into::into),
        ..ClientOptions::default() // 8 requests in flight, the default time limits
    };
    let resolver = Resolver::new(
        Client::new(Endpoint::of(&image, &[]), options)?,
        image.name(),
    );

    let tags = resolver.tags()?; // every page of the tag list
    let platform = Platform::parse("linux/amd64")?; // read by newest-build only
    let choice = resolver
        .choose(Strategy::Semver, &tags, &filter, &platform)?
        .map_err(|none| format!("no tag qualifies; newest rejected: {:?}", none.rejected))?;
    let pinned = resolver.pin(&choice.tag, None)?; // the tag's manifest (or index) digest
    let (tag, digest, of) = (&choice.tag, &pinned.digest, choice.listed);
    println!("{}:{tag}@{digest} (newest of {of} tags)", image.name());
    Ok(())
}
