//! Landing a change through an [`ApiRepo`]: read the files the edit needs at the branch
//! tip into a scratch directory, run the caller's edit there (the same closure the git
//! path runs in its clone), and commit exactly the files it changed, expecting the tip
//! it read. A lost race re-reads and re-applies within the same retry budget.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::change::{Applied, ApplyResult};
use crate::forge::ForgeError;
use crate::git::WriteBackOutcome;
use crate::retry::{RetryPolicy, Timeouts};
use crate::targets::is_search_path;

use super::api::{ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, FileChange};
use crate::retry::{Attempt, Attempts};

pub use super::api::MAX_API_READS;

/// What to land, and where.
#[derive(Clone, Debug, Default)]
pub struct ApiWriteBack {
    /// Branch to update; `None`: the repository's default branch.
    pub branch: Option<String>,
    /// Pull-request mode: commit on this bot branch, created or moved (under a lease)
    /// to the base tip first.
    pub push_branch: Option<String>,
    /// Repository paths (files or directories) the edit reads and writes; `None`: the
    /// whole tree. Only these are read; under directories and for the whole tree, only
    /// YAML files (`.yaml`, `.yml`).
    pub paths: Option<Vec<PathBuf>>,
    /// Read and edit, but commit nothing.
    pub dry_run: bool,
    /// Retry budget for races.
    pub retry: RetryPolicy,
    /// The run's time limits (the deadline also bounds the retries).
    pub timeouts: Timeouts,
}

/// Everything that can go wrong when landing through an API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiLandError {
    /// The forge refused or failed (auth, not found, rate limit, timeout, …).
    #[error(transparent)]
    Forge(#[from] ForgeError),
    /// The branch does not exist.
    #[error("branch '{branch}' not found in {repo}")]
    BranchNotFound {
        /// The repository (as [`ApiRepo::describe`] says).
        repo: String,
        /// The missing branch.
        branch: String,
    },
    /// The forge's listing was truncated: editing an incomplete view is refused.
    #[error(
        "{repo} lists the tree only in part (too large for one API listing); name the files or directories to edit, or land with git"
    )]
    Incomplete {
        /// The repository.
        repo: String,
    },
    /// More files to read than the API path reads in one attempt
    /// ([`ApiRepo::max_reads`], e.g. [`MAX_API_READS`]).
    #[error(
        "{count} YAML files would have to be read through the {repo} (more than {limit}); name the directories to search, or land with git"
    )]
    TooManyFiles {
        /// The repository.
        repo: String,
        /// Files that would be read.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A path outside the repository.
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The caller's edit failed; its error is passed through.
    #[error("applying the edit failed: {0}")]
    Apply(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The scratch directory could not be written or read.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The branch kept moving for the whole retry budget.
    #[error(
        "gave up after {attempts} attempts in {seconds} s: branch '{branch}' of {repo} kept moving because of concurrent commits (last: {last}); a longer retry budget (`RetryPolicy::retry_for`) waits longer"
    )]
    RetriesExhausted {
        /// The repository.
        repo: String,
        /// The branch.
        branch: String,
        /// Attempts made.
        attempts: u32,
        /// Seconds spent.
        seconds: u64,
        /// The last reason to retry.
        last: String,
    },
}

/// The result of landing through an API: as for git, plus whether the forge marked
/// the commit as verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiOutcome {
    /// Branch, commit, files, attempts — as the git path reports them.
    pub landed: WriteBackOutcome,
    /// Whether the forge says the commit is verified (signed); `None` if unknown or
    /// nothing was committed.
    pub verified: Option<bool>,
}

/// Lands the edit `apply` makes through `repo`, retrying lost races (see the module
/// docs). `log` receives one line per step.
///
/// # Errors
///
/// See [`ApiLandError`].
pub fn write_back<F>(
    repo: &mut dyn ApiRepo,
    opts: &ApiWriteBack,
    log: &mut dyn FnMut(&str),
    apply: F,
) -> Result<ApiOutcome, ApiLandError>
where
    F: FnMut(&Path) -> ApplyResult,
{
    let paths = match &opts.paths {
        Some(paths) => Some(repo_paths(paths)?),
        None => None,
    };
    let deadline = opts.timeouts.deadline_from_now();
    let mut run = ApiRun {
        describe: repo.describe(),
        repo,
        opts,
        paths,
        base: None,
        apply,
    };
    crate::retry::with_retries(&mut run, &opts.retry, Some(deadline), log)
}

struct ApiRun<'a, F> {
    describe: String,
    repo: &'a mut dyn ApiRepo,
    opts: &'a ApiWriteBack,
    /// Normalised repository paths (`None`: the whole tree).
    paths: Option<Vec<String>>,
    /// The base branch, once known.
    base: Option<String>,
    apply: F,
}

impl<F> ApiRun<'_, F> {
    /// Deletes a staging branch (never the bot or base branch itself); a failure is
    /// only logged: it leaves a stray branch, nothing wrong.
    fn drop_staging(&mut self, branch: &str, target: &str, log: &mut dyn FnMut(&str)) {
        if branch == target {
            return;
        }
        if let Err(e) = self.repo.delete_branch(branch) {
            log(&format!(
                "warning: could not delete the staging branch '{branch}': {e}"
            ));
        }
    }
}

impl<F> Attempts for ApiRun<'_, F>
where
    F: FnMut(&Path) -> ApplyResult,
{
    type Output = ApiOutcome;
    type Error = ApiLandError;

    fn attempt(
        &mut self,
        attempt: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Attempt<ApiOutcome>, ApiLandError> {
        let base = match (&self.base, &self.opts.branch) {
            (Some(b), _) | (None, Some(b)) => b.clone(),
            (None, None) => self.repo.default_branch()?,
        };
        self.base = Some(base.clone());
        let tip = self
            .repo
            .branch_tip(&base)?
            .ok_or_else(|| ApiLandError::BranchNotFound {
                repo: self.describe.clone(),
                branch: base.clone(),
            })?;

        // Read what the edit needs into a fresh scratch directory.
        let under = self.paths.clone().unwrap_or_default();
        let listing = self.repo.list_files(&tip, &under)?;
        if !listing.complete {
            return Err(ApiLandError::Incomplete {
                repo: self.describe.clone(),
            });
        }
        let charts: std::collections::HashSet<&str> = listing
            .paths
            .iter()
            .filter_map(|p| match p.rsplit_once('/') {
                Some((dir, "Chart.yaml")) => Some(dir),
                None if p == "Chart.yaml" => Some(""),
                _ => None,
            })
            .collect();
        let wanted: Vec<String> = listing
            .paths
            .iter()
            .filter(|p| under.iter().any(|u| u == *p) || is_searched(&under, p, &charts))
            .cloned()
            .collect();
        let limit = self.repo.max_reads();
        if wanted.len() > limit {
            return Err(ApiLandError::TooManyFiles {
                repo: self.describe.clone(),
                count: wanted.len(),
                limit,
            });
        }
        let scratch = tempfile::Builder::new()
            .prefix("tagbump-api-")
            .tempdir()
            .map_err(io_err("creating a scratch directory"))?;
        let mut original: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let contents = self.repo.read_files(&tip, &wanted)?;
        if contents.len() != wanted.len() {
            return Err(ApiLandError::Forge(ForgeError::Decode {
                api_base: self.describe.clone(),
                what: "reading files".into(),
                message: format!(
                    "asked for {} file(s), got {} answer(s)",
                    wanted.len(),
                    contents.len()
                ),
            }));
        }
        for (path, bytes) in wanted.iter().zip(contents) {
            let Some(bytes) = bytes else {
                continue;
            };
            let local = scratch.path().join(path);
            if let Some(parent) = local.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io_err(format!("creating {}", parent.display())))?;
            }
            std::fs::write(&local, &bytes).map_err(io_err(format!("writing {path}")))?;
            original.insert(path.clone(), bytes);
        }
        log(&format!(
            "attempt {attempt}: read {} file(s) of '{base}' at {} through the {}",
            original.len(),
            short(&tip),
            self.describe
        ));

        let Applied { files, commit } =
            (self.apply)(scratch.path()).map_err(ApiLandError::Apply)?;
        let mut changes = Vec::new();
        for file in &files {
            let path = repo_path(file)?;
            let local = scratch.path().join(&path);
            let content = match std::fs::read(&local) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_err(format!("reading {path}"))(e)),
            };
            if content.as_ref() != original.get(&path) {
                changes.push(FileChange { path, content });
            }
        }
        let target = self
            .opts
            .push_branch
            .clone()
            .unwrap_or_else(|| base.clone());
        let outcome = |changed: bool, commit: Option<String>, verified: Option<bool>| ApiOutcome {
            landed: WriteBackOutcome {
                changed,
                commit,
                branch: target.clone(),
                base_branch: base.clone(),
                attempts: attempt,
                files: files.clone(),
            },
            verified,
        };
        if changes.is_empty() {
            log(&format!("no changes to commit on '{base}'"));
            return Ok(Attempt::Done(outcome(false, None, None)));
        }
        if self.opts.dry_run {
            log(&format!(
                "dry run: {} file(s) would be committed to '{target}'; nothing committed",
                changes.len()
            ));
            return Ok(Attempt::Done(outcome(true, None, None)));
        }
        // Pull-request mode with an existing bot branch: commit on a fresh staging
        // branch made from the base tip, then move the bot branch onto that commit
        // under the lease, in one step. Moving the bot branch to the base tip first
        // would leave it without commits of its own for a moment, and GitHub closes
        // the open pull request then (for good).
        let observed = if target != base {
            self.repo.branch_tip(&target)?
        } else {
            None
        };
        let commit_branch = match &observed {
            Some(_) => format!("tagbump-staging/{:016x}", fastrand::u64(..)),
            None => target.clone(),
        };
        if target != base {
            if let BranchUpdate::Moved { reason } =
                self.repo.set_branch(&commit_branch, &tip, None)?
            {
                return Ok(Attempt::Retry(format!(
                    "branch '{commit_branch}' appeared while we looked ({reason})"
                )));
            }
        }
        let request = CommitRequest {
            branch: &commit_branch,
            expected_head: &tip,
            changes: &changes,
            message: &commit.message,
            author: &commit.author,
        };
        let created = self.repo.commit(&request);
        let (commit, verified) = match created {
            Ok(CommitOutcome::Created { commit, verified }) => (commit, verified),
            Ok(CommitOutcome::Moved { reason }) => {
                self.drop_staging(&commit_branch, &target, log);
                return Ok(Attempt::Retry(format!(
                    "commit on '{commit_branch}' refused because it moved ({reason})"
                )));
            }
            Err(e) => {
                self.drop_staging(&commit_branch, &target, log);
                return Err(e.into());
            }
        };
        log(&format!(
            "committed {} ({} file(s)) on '{commit_branch}' through the {}{}",
            short(&commit),
            changes.len(),
            self.describe,
            match verified {
                Some(true) => ", verified",
                Some(false) => ", not verified",
                None => "",
            }
        ));
        if let Some(observed) = &observed {
            let moved = self.repo.set_branch(&target, &commit, Some(observed));
            self.drop_staging(&commit_branch, &target, log);
            match moved? {
                BranchUpdate::Updated => log(&format!(
                    "bot branch '{target}' moved from {} to {} under a lease",
                    short(observed),
                    short(&commit)
                )),
                BranchUpdate::Moved { reason } => {
                    return Ok(Attempt::Retry(format!(
                        "bot branch '{target}' moved while we looked ({reason})"
                    )))
                }
            }
        }
        Ok(Attempt::Done(outcome(true, Some(commit), verified)))
    }

    fn gave_up(&self, attempts: u32, elapsed: std::time::Duration, last: String) -> ApiLandError {
        ApiLandError::RetriesExhausted {
            repo: self.describe.clone(),
            branch: self
                .opts
                .push_branch
                .clone()
                .or_else(|| self.base.clone())
                .unwrap_or_default(),
            attempts,
            seconds: elapsed.as_secs(),
            last,
        }
    }
}

/// A file name the directory search would pick up (see
/// [`crate::targets::is_search_name`]): YAML, and JSON (whether a JSON file holds a
/// Kubernetes object is decided on its content, by the same search that reads the local
/// files).
#[cfg(test)]
fn is_yaml(path: &str) -> bool {
    crate::targets::is_search_name(path.rsplit('/').next().unwrap_or(path))
}

/// Whether the search of `under` (the whole tree when empty) reads `path`, by the
/// walk's rules ([`crate::targets::is_search_path`]): not in hidden directories,
/// `node_modules` or a chart's `templates/` (`charts`: the directories holding a
/// `Chart.yaml`).
fn is_searched(under: &[String], path: &str, charts: &std::collections::HashSet<&str>) -> bool {
    let has_chart = |dir: &str| charts.contains(dir);
    if under.is_empty() {
        return is_search_path("", path, has_chart);
    }
    under.iter().any(|u| {
        let start = u.trim_end_matches('/');
        path.strip_prefix(start)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| is_search_path(start, rest, has_chart))
    })
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ApiLandError {
    let context = context.into();
    move |source| ApiLandError::Io { context, source }
}

/// `/`-separated repository path of a relative path (`.` is the whole tree: empty),
/// refusing anything outside the repository or inside `.git`, as the git path does.
fn repo_path(path: &Path) -> Result<String, ApiLandError> {
    if path.components().all(|c| matches!(c, Component::CurDir)) {
        return Ok(String::new());
    }
    crate::git::repo_path(path).map_err(|e| ApiLandError::InvalidInput {
        message: e.to_string(),
    })
}

fn repo_paths(paths: &[PathBuf]) -> Result<Vec<String>, ApiLandError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let p = repo_path(path)?;
        if p.is_empty() {
            // `.`: the whole tree.
            return Ok(Vec::new());
        }
        out.push(p);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests;
