//! A repository on a forge as a change is landed through its API: read the files an
//! edit needs at a commit, then commit a set of file changes on a branch *expecting* a
//! tip (compare-and-swap). [`ApiRepo`] is the seam; `github_repo` and `gitlab_repo`
//! implement it, and `land::api_lander` runs an edit through it (it re-exports all of
//! this as `land::api`).
//!
//! When the branch moved (GitHub's `expectedHeadOid`) or an edited file changed
//! (GitLab's per-file `last_commit_id`), [`ApiRepo::commit`] answers
//! [`CommitOutcome::Moved`] and the caller re-reads and re-applies, exactly as after a
//! lost `git push` race.

use super::ForgeError;
use crate::change::Identity;

/// The default [`ApiRepo::max_reads`]: the most files one attempt reads through an API
/// that reads one file per request. A search of a whole large tree is cheaper as a
/// sparse git clone: the CLI falls back to git beyond this (`--via auto`).
pub const MAX_API_READS: usize = 200;

/// One file of a commit: new content, or `None` to delete it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Repository path, `/`-separated, no leading `/`.
    pub path: String,
    /// The new bytes; `None` deletes the file.
    pub content: Option<Vec<u8>>,
}

/// The files under some paths at a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Repository paths of regular files (blobs), sorted.
    pub paths: Vec<String>,
    /// `false` when the forge truncated the listing (too large): the caller then falls
    /// back to git or fails, it never edits an incomplete view.
    pub complete: bool,
}

/// A commit to create.
#[derive(Clone, Debug)]
pub struct CommitRequest<'a> {
    /// Branch to commit on (it exists).
    pub branch: &'a str,
    /// The tip the edit was computed on; the commit must fail as
    /// [`CommitOutcome::Moved`] if the branch (or, where that is all the forge can
    /// check, an edited file) changed since.
    pub expected_head: &'a str,
    /// Every changed file of the run: all in one commit.
    pub changes: &'a [FileChange],
    /// The full commit message (subject, body, trailers).
    pub message: &'a str,
    /// The author tagbump was asked to record; in API mode the commit's author is the
    /// token's identity, so an implementation maps this to what the forge allows
    /// (e.g. a `Co-authored-by:` trailer, or GitLab's `author_name`/`author_email`).
    pub author: &'a Identity,
}

/// What a commit attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The commit was created and the branch points at it.
    Created {
        /// The new commit's id (hex).
        commit: String,
        /// Whether the forge marked it as verified (signed); `None` if unknown.
        verified: Option<bool>,
    },
    /// The branch (or an edited file) moved since `expected_head`: re-read, re-apply.
    Moved {
        /// What the forge said.
        reason: String,
    },
}

/// What moving a branch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BranchUpdate {
    /// The branch now points at the requested commit (created if it did not exist).
    Updated,
    /// Somebody else moved it since we looked: not touched.
    Moved {
        /// What the forge said.
        reason: String,
    },
}

/// A repository on a forge, as far as landing a change needs it.
///
/// Implementations: `forge::github_repo` (REST + GraphQL `createCommitOnBranch`) and
/// `forge::gitlab_repo` (REST v4 `repository/*`). Every call has the forge client's
/// timeouts, never follows a redirect to another host, and never puts the token in an
/// error.
pub trait ApiRepo: Send {
    /// For logs: which API and which repository, e.g. `GitHub API (acme/gitops)`.
    fn describe(&self) -> String;
    /// The repository's default branch.
    fn default_branch(&mut self) -> Result<String, ForgeError>;
    /// The tip of `branch`, `None` if it does not exist.
    fn branch_tip(&mut self, branch: &str) -> Result<Option<String>, ForgeError>;
    /// Regular files at `commit` under each of `under` (a file path names itself, a
    /// directory everything below it; empty = the whole tree).
    fn list_files(&mut self, commit: &str, under: &[String]) -> Result<Listing, ForgeError>;
    /// A file's bytes at `commit`; `None` if there is no such file.
    fn read_file(&mut self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, ForgeError>;
    /// The bytes of each of `paths` at `commit`, in the same order (`None` where there
    /// is no such file). The default reads them one by one with
    /// [`ApiRepo::read_file`]; a forge that can read many files in one request (GitHub's
    /// GraphQL) overrides it.
    fn read_files(
        &mut self,
        commit: &str,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, ForgeError> {
        paths
            .iter()
            .map(|path| self.read_file(commit, path))
            .collect()
    }
    /// The most files one attempt may read through [`ApiRepo::read_files`]; beyond it
    /// the lander refuses (and `--via auto` falls back to git). The default,
    /// [`MAX_API_READS`], suits a forge that reads one file per request.
    fn max_reads(&self) -> usize {
        MAX_API_READS
    }
    /// Creates one commit with all `request.changes` on `request.branch`, with
    /// compare-and-swap against `request.expected_head`.
    fn commit(&mut self, request: &CommitRequest<'_>) -> Result<CommitOutcome, ForgeError>;
    /// Points `branch` at `to` (pull-request mode: the bot branch), creating it if
    /// missing; `expected`: the tip we observed (`None`: it must not exist). Never moves
    /// a branch somebody else moved after we looked.
    fn set_branch(
        &mut self,
        branch: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<BranchUpdate, ForgeError>;
    /// Deletes `branch` (a staging branch tagbump created); a missing branch is fine.
    fn delete_branch(&mut self, branch: &str) -> Result<(), ForgeError>;
}
