//! What a change is, to every way of landing it: the files an edit changed and the
//! commit that records them (message, author, committer).
//!
//! A leaf: `git` commits these, the forge APIs turn them into one API commit, and
//! neither needs the other for it. `git` re-exports them under their old paths.

use std::path::PathBuf;

/// A person or bot in a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Message and identities of the commit to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// The full commit message.
    pub message: String,
    /// Author of the change.
    pub author: Identity,
    /// Committer (usually the bot).
    pub committer: Identity,
}

/// What the caller's closure returns after editing the checkout at the given root.
#[derive(Clone, Debug)]
pub struct Applied {
    /// Changed files, relative to the checkout root; empty = nothing changed. A listed
    /// file that no longer exists is deleted in the commit.
    pub files: Vec<PathBuf>,
    /// Message and identities for the commit.
    pub commit: CommitInfo,
}

/// What the caller's edit closure returns: accepted by `git::write_back`,
/// `git::commit_local` and the API lander alike.
pub type ApplyResult = Result<Applied, Box<dyn std::error::Error + Send + Sync>>;
