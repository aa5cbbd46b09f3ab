//! Where tagbump is published, from one place: Cargo.toml's `repository`
//! (`https://github.com/OWNER/tagbump`). The action is `OWNER/tagbump@REF`, the images
//! `ghcr.io/OWNER/tagbump:TAG`.

const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// `OWNER/tagbump`.
pub fn repo() -> &'static str {
    REPOSITORY
        .strip_prefix("https://github.com/")
        .filter(|r| r.ends_with("/tagbump"))
        .expect("Cargo.toml `repository` is https://github.com/OWNER/tagbump")
}

/// `OWNER`.
pub fn owner() -> &'static str {
    repo()
        .strip_suffix("/tagbump")
        .expect("Cargo.toml `repository` is https://github.com/OWNER/tagbump")
}

/// The published action at `git_ref`: `OWNER/tagbump@{git_ref}`.
pub fn action_ref(git_ref: &str) -> String {
    format!("{}@{git_ref}", repo())
}

/// The published image with `tag`: `ghcr.io/OWNER/tagbump:{tag}`.
pub fn image(tag: &str) -> String {
    format!("ghcr.io/{}:{tag}", repo())
}
