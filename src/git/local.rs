//! Local mode: commit (and push) in a checkout the workflow already has.

use std::path::{Path, PathBuf};

use crate::retry::Attempt;

use super::child::Limits;
use super::cli::{self, CredentialScope};
use super::redact::{self, strip_url_credentials};
use super::{commit, dirty};
use super::{short, ApplyResult, Auth, GitError, WriteBackOptions, WriteBackOutcome};

/// Where local mode pushes to.
struct Upstream {
    /// Remote name (so the checkout's own URL rewriting / pushurl apply).
    remote_name: String,
    /// Display URL (credentials stripped).
    url: String,
    /// Full name of the branch on the remote that we fetch from / push to.
    merge_ref: String,
}

fn local_upstream(
    repo: &gix::Repository,
    branch_full: &gix::refs::FullName,
) -> Result<Upstream, GitError> {
    let not_tracking = || GitError::InvalidInput {
        message: format!(
            "branch '{}' has no upstream (set one with `git branch --set-upstream-to`)",
            branch_full.shorten()
        ),
    };
    let remote_name = repo
        .branch_remote_name(branch_full.shorten(), gix::remote::Direction::Push)
        .ok_or_else(not_tracking)?
        .as_bstr()
        .to_string();
    let merge_ref = repo
        .branch_remote_ref_name(branch_full.as_ref(), gix::remote::Direction::Fetch)
        .ok_or_else(not_tracking)?
        .map_err(|e| GitError::InvalidInput {
            message: format!("invalid upstream configuration: {e}"),
        })?
        .as_bstr()
        .to_string();
    let url = repo
        .find_remote(remote_name.as_str())
        .ok()
        .and_then(|r| {
            r.url(gix::remote::Direction::Push)
                .map(|u| u.to_bstring().to_string())
        })
        .map(|u| strip_url_credentials(&u))
        .unwrap_or_else(|| remote_name.clone());
    Ok(Upstream {
        remote_name,
        url,
        merge_ref,
    })
}

/// Local mode: runs `apply` on an existing checkout, commits the reported files on the
/// checked-out branch and, if `push` is given, pushes to the branch's upstream (or to
/// [`WriteBackOptions::push_branch`] on the same remote) with the same retry loop as
/// [`write_back`](super::write_back).
///
/// `push`: `None` = commit only; `Some(Auth::Anonymous)` = push with whatever
/// credentials the checkout is configured with; `Some(Auth::Token { .. })` /
/// `Some(Auth::Ssh { .. })` = push with these credentials only.
///
/// # Errors
///
/// As [`write_back`](super::write_back), plus [`GitError::DirtyWorktree`] when the edit changed a
/// file that had uncommitted changes (or is not tracked), and when a rejected push would
/// require resetting a checkout that has other uncommitted changes.
pub fn commit_local<F>(
    checkout: &Path,
    push: Option<&Auth>,
    opts: &WriteBackOptions,
    log: &mut dyn FnMut(&str),
    apply: F,
) -> Result<WriteBackOutcome, GitError>
where
    F: FnMut(&Path) -> ApplyResult,
{
    let limits = Limits {
        idle: opts.timeouts.idle,
        deadline: Some(opts.timeouts.deadline_from_now()),
    };
    let mut retry = opts.retry.clone();
    if push.is_none() {
        retry.max_attempts = Some(1);
    }
    let mut run = LocalRun {
        checkout,
        push,
        opts,
        redactor: redact::Redactor::new(match push {
            Some(Auth::Token { token, .. }) => vec![token.clone()],
            _ => Vec::new(),
        }),
        limits,
        apply,
        before_next: None,
        target: (checkout.display().to_string(), String::new()),
    };
    crate::retry::with_retries(&mut run, &retry, limits.deadline, log)
}

/// What the next attempt must do first, after a push lost a race.
enum Reset {
    /// Undo our commit (bot branch: only the lease was stale).
    To(String),
    /// Fetch the upstream's new tip and move the branch there (refusing when the
    /// checkout has other changes).
    ToUpstream,
}

/// Local mode, attempt by attempt (see [`crate::retry::Attempts`]).
struct LocalRun<'a, F> {
    checkout: &'a Path,
    push: Option<&'a Auth>,
    opts: &'a WriteBackOptions,
    redactor: redact::Redactor,
    limits: Limits,
    apply: F,
    before_next: Option<Reset>,
    /// Upstream URL and branch of the last attempt, for the give-up message.
    target: (String, String),
}

impl<F> crate::retry::Attempts for LocalRun<'_, F>
where
    F: FnMut(&Path) -> ApplyResult,
{
    type Output = WriteBackOutcome;
    type Error = GitError;

    fn attempt(
        &mut self,
        attempt: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Attempt<WriteBackOutcome>, GitError> {
        let push = self.push;
        let opts = self.opts;
        let repo = gix::discover(self.checkout).map_err(|e| GitError::InvalidInput {
            message: format!("{} is not a git checkout: {e}", self.checkout.display()),
        })?;
        let root = repo
            .workdir()
            .ok_or_else(|| GitError::InvalidInput {
                message: format!(
                    "{} is a bare repository; local mode needs a checkout",
                    self.checkout.display()
                ),
            })?
            .to_path_buf();
        let head_name = repo
            .head_name()
            .ok()
            .flatten()
            .ok_or_else(|| GitError::InvalidInput {
                message: format!(
                    "{} has a detached HEAD; check out a branch first",
                    root.display()
                ),
            })?;
        let upstream = match push {
            Some(_) => Some(local_upstream(&repo, &head_name)?),
            None => None,
        };
        let scope = upstream
            .as_ref()
            .and_then(|u| CredentialScope::of_url(&u.url));
        let display_url = upstream
            .as_ref()
            .map_or_else(|| root.display().to_string(), |u| u.url.clone());
        let runner = cli::GitRunner {
            auth: match push {
                Some(Auth::Anonymous) | None => None,
                Some(auth) => Some(auth),
            },
            scope: scope.as_ref(),
            ca_bundle: None,
            redactor: &self.redactor,
            limits: self.limits,
            display_url: &display_url,
        };
        // After a lost race: move to the new tip first (never when the checkout has
        // other changes: nothing of the user's is discarded).
        let repo = match (self.before_next.take(), &upstream) {
            (Some(Reset::To(commit)), _) => {
                reset_keep(&runner, &root, &commit)?;
                reopen(&root)?
            }
            (Some(Reset::ToUpstream), Some(upstream)) => {
                let dirty = dirty::status_paths(&runner, &root, false)?;
                if !dirty.is_empty() {
                    return Err(GitError::DirtyWorktree {
                        path: root,
                        files: dirty.join(", "),
                        upstream_moved: true,
                    });
                }
                let tip = fetch_upstream(&runner, &root, upstream)?;
                reset_keep(&runner, &root, &tip)?;
                reopen(&root)?
            }
            _ => repo,
        };
        let base_branch = head_name.shorten().to_string();
        let head = repo
            .head_id()
            .map_err(|e| GitError::InvalidInput {
                message: format!("branch '{base_branch}' has no commit yet: {e}"),
            })?
            .detach();
        let target_ref = match (&opts.push_branch, &upstream) {
            (Some(b), _) => format!("refs/heads/{b}"),
            (None, Some(u)) => u.merge_ref.clone(),
            (None, None) => head_name.as_bstr().to_string(),
        };
        let target_branch = target_ref.trim_start_matches("refs/heads/").to_string();
        self.target = (display_url.clone(), target_branch.clone());
        log(&format!(
            "attempt {attempt}: local checkout {} on '{base_branch}' at {}",
            root.display(),
            short(&head.to_hex().to_string())
        ));

        let uncommitted = dirty::Uncommitted::read(&runner, &root)?;
        let applied = (self.apply)(&root).map_err(GitError::Apply)?;
        let files = applied.files.clone();
        uncommitted.refuse_overlap(&runner, &repo, &root, head, &files)?;
        let built = commit::build_tree(&repo, &root, head, &files)?;
        let outcome = |changed: bool, commit: Option<String>| WriteBackOutcome {
            changed,
            commit,
            branch: target_branch.clone(),
            base_branch: base_branch.clone(),
            attempts: attempt,
            files: files.clone(),
        };
        if !built.changed() {
            log(&format!("no changes to commit on '{base_branch}'"));
            return Ok(Attempt::Done(outcome(false, None)));
        }
        if opts.dry_run {
            log(&format!(
                "dry run: {} file(s) would be committed; nothing committed",
                files.len()
            ));
            return Ok(Attempt::Done(outcome(true, None)));
        }
        let commit_id = commit::create_commit(&repo, "HEAD", built.tree, head, &applied.commit)?;
        let commit_hex = commit_id.to_hex().to_string();
        sync_index(&runner, &root, &files)?;
        log(&format!(
            "committed {} ({} file(s)) on '{base_branch}'",
            short(&commit_hex),
            files.len()
        ));

        let Some(upstream) = upstream else {
            return Ok(Attempt::Done(outcome(true, Some(commit_hex))));
        };
        let lease = match &opts.push_branch {
            Some(_) => Some(ls_remote(&runner, &root, &upstream, &target_ref)?),
            None => None,
        };
        let status = cli::push(
            &runner,
            &root,
            cli::PushRequest {
                remote: &upstream.remote_name,
                display_url: &upstream.url,
                commit: &commit_hex,
                dst_ref: &target_ref,
                lease: match &lease {
                    Some(observed) => cli::Lease::Expect(observed.as_deref()),
                    None => cli::Lease::FastForwardOnly,
                },
                skip_local_hooks: false,
            },
        )?;
        match status {
            cli::PushStatus::Pushed => {
                log(&format!(
                    "pushed {} to '{target_branch}' on {}",
                    short(&commit_hex),
                    upstream.url
                ));
                Ok(Attempt::Done(outcome(true, Some(commit_hex))))
            }
            cli::PushStatus::Moved { reason } => {
                self.before_next = Some(if opts.push_branch.is_some() {
                    // Our commit is still valid (based on our own branch); only the
                    // lease was stale. Undo it so the next attempt re-applies on the
                    // same base.
                    Reset::To(head.to_hex().to_string())
                } else {
                    Reset::ToUpstream
                });
                Ok(Attempt::Retry(format!(
                    "push to '{target_branch}' rejected ({reason}): the branch moved; resetting to the new tip and re-applying"
                )))
            }
        }
    }

    fn gave_up(&self, attempts: u32, elapsed: std::time::Duration, last: String) -> GitError {
        GitError::RetriesExhausted {
            url: self.target.0.clone(),
            branch: self.target.1.clone(),
            attempts,
            seconds: elapsed.as_secs(),
            last,
        }
    }
}

fn reopen(root: &Path) -> Result<gix::Repository, GitError> {
    gix::open(root).map_err(|e| GitError::Git {
        operation: "opening the checkout".to_string(),
        detail: e.to_string(),
    })
}

/// Makes the index agree with the new `HEAD` for the committed paths (like `git commit
/// --only` does), leaving every other staged change alone.
fn sync_index(runner: &cli::GitRunner<'_>, root: &Path, files: &[PathBuf]) -> Result<(), GitError> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["reset".into(), "-q".into(), "HEAD".into(), "--".into()];
    args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    runner.run(root, &args)?.checked("index update")?;
    Ok(())
}

fn fetch_upstream(
    runner: &cli::GitRunner<'_>,
    root: &Path,
    upstream: &Upstream,
) -> Result<String, GitError> {
    let out = runner.run(
        root,
        [
            "fetch",
            "--progress",
            "--no-tags",
            upstream.remote_name.as_str(),
            upstream.merge_ref.as_str(),
        ],
    )?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &upstream.url,
            "fetch",
            None,
        ));
    }
    let out = runner
        .run(root, ["rev-parse", "--verify", "FETCH_HEAD^{commit}"])?
        .checked("fetch")?;
    Ok(out.stdout.trim().to_string())
}

fn reset_keep(runner: &cli::GitRunner<'_>, root: &Path, commit: &str) -> Result<(), GitError> {
    runner
        .run(root, ["reset", "--quiet", "--keep", commit])?
        .checked("reset")?;
    Ok(())
}

fn ls_remote(
    runner: &cli::GitRunner<'_>,
    root: &Path,
    upstream: &Upstream,
    full_ref: &str,
) -> Result<Option<String>, GitError> {
    let out = runner.run(
        root,
        ["ls-remote", "--", upstream.remote_name.as_str(), full_ref],
    )?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &upstream.url,
            "ls-remote",
            None,
        ));
    }
    Ok(out.stdout.lines().find_map(|line| {
        let (sha, name) = line.split_once('\t')?;
        (name.trim() == full_ref).then(|| sha.trim().to_string())
    }))
}
