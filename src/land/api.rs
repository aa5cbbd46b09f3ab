//! Landing a change through a forge's API: no clone, one commit made by the forge
//! (signed, so it shows as Verified on GitHub), compare-and-swap on the branch.
//!
//! A forge implements [`ApiRepo`]: read what the edit needs at a commit, then commit a
//! set of file changes on a branch *expecting* a tip. When the branch moved (GitHub's
//! `expectedHeadOid`) or an edited file changed (GitLab's per-file `last_commit_id`),
//! [`ApiRepo::commit`] answers [`CommitOutcome::Moved`] and the caller re-reads and
//! re-applies, exactly as after a lost `git push` race.
//!
//! The seam itself lives in [`crate::forge::api_repo`], next to its implementations, so
//! that `forge` never implements a trait of the layer above it; these are its paths
//! from the landing side.

pub use crate::forge::api_repo::{
    ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, FileChange, Listing, MAX_API_READS,
};
