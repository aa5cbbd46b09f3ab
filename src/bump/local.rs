//! A directory without git, and a local checkout (commit, optionally push); the
//! [`Job`] every git way runs in its checkout.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use super::tokens::{self, Tokens};
use super::{BumpError, Event, Landed, Options, Outcome};
use crate::ci::Pipeline;
use crate::git::{self, Applied, ApplyResult, CommitInfo, WriteBackOptions};
use crate::plan::{self, Plan, Request};
use crate::template;

/// What the git ways run in the checkout: plan, write, describe the commit.
pub(super) struct Job<'a> {
    pub request: &'a Request,
    pub options: &'a Options,
    /// Write the edited files. Off in a dry run on the user's own checkout; on in a
    /// throwaway clone, where git then sees (and reports) what would be committed.
    write: bool,
    commit: CommitInfo,
    pub vars: &'a BTreeMap<String, String>,
    /// The last attempt's plan.
    pub last: RefCell<Option<Plan>>,
}

impl<'a> Job<'a> {
    pub fn new(
        request: &'a Request,
        options: &'a Options,
        pipeline: &Pipeline,
        vars: &'a BTreeMap<String, String>,
        throwaway_clone: bool,
    ) -> Self {
        Job {
            request,
            options,
            write: !options.dry_run || throwaway_clone,
            commit: super::vars::commit_info(&options.commit, pipeline, request),
            vars,
            last: RefCell::new(None),
        }
    }

    /// Applies the request under `root` (a checkout), keeping the plan of the last
    /// attempt.
    pub fn apply(&self, root: &Path, events: &dyn Fn(Event<'_>)) -> ApplyResult {
        let plan: Plan = plan::plan(root, self.request, &self.options.plan)?;
        let files = if self.write {
            plan.write()?
        } else {
            plan.changed_files()
        };
        let mut vars = self.vars.clone();
        vars.insert(
            "files".to_string(),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        let mut commit = self.commit.clone();
        commit.message = template::render(&commit.message, &vars);
        events(Event::Planned(&plan));
        *self.last.borrow_mut() = Some(plan);
        Ok(Applied { files, commit })
    }

    /// The error for `source` in `place`.
    pub fn failed(&self, place: &str, source: super::Cause) -> BumpError {
        BumpError::Apply {
            summary: self.request.summary(),
            place: (place != ".").then(|| place.to_string()),
            source,
        }
    }
}

/// Edits files in a directory, no git.
pub(super) fn directory(
    request: &Request,
    dir: &Path,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let place = dir.display().to_string();
    let failed = |source: super::Cause| BumpError::Apply {
        summary: request.summary(),
        place: (place != ".").then(|| place.clone()),
        source,
    };
    let plan = plan::plan(dir, request, &options.plan).map_err(|e| failed(Box::new(e)))?;
    events(Event::Planned(&plan));
    let written = if options.dry_run {
        Vec::new()
    } else {
        plan.write().map_err(|e| failed(Box::new(e)))?
    };
    Ok(Outcome {
        plan: Some(plan),
        written,
        ..Outcome::default()
    })
}

/// Edits an existing checkout, commits, and optionally pushes.
pub(super) fn checkout(
    job: &Job<'_>,
    dir: &Path,
    push: bool,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let auth = if push {
        let push_url = local_push_url(dir).unwrap_or_default();
        let kind = super::access::forge_kind(&push_url, options);
        let tokens = Tokens::new(
            &options.tokens,
            tokens::Context { options, events },
            &push_url,
            kind,
        )?;
        Some(super::access::git_auth(&push_url, kind, options, &tokens)?)
    } else {
        None
    };
    let wb = WriteBackOptions {
        push_branch: None,
        retry: options.retry.clone(),
        timeouts: options.timeouts.clone(),
        dry_run: options.dry_run,
        keep_clone: None,
        sparse_paths: None,
    };
    let mut log = |line: &str| events(Event::Log(line));
    let outcome = git::commit_local(dir, auth.as_ref(), &wb, &mut log, |root| {
        job.apply(root, events)
    })
    .map_err(|e| job.failed(&dir.display().to_string(), Box::new(e)))?;
    let landed = Landed {
        via: None,
        pushed: push && outcome.changed && !options.dry_run,
        outcome,
        verified: None,
    };
    events(Event::Landed(&landed));
    Ok(Outcome {
        plan: job.last.take(),
        landed: Some(landed),
        ..Outcome::default()
    })
}

/// The push URL of the checked-out branch's upstream remote, when there is one.
fn local_push_url(dir: &Path) -> Option<String> {
    let repo = gix::discover(dir).ok()?;
    let head = repo.head_name().ok()??;
    let remote = repo.branch_remote_name(head.shorten(), gix::remote::Direction::Push)?;
    let remote = repo.find_remote(remote.as_bstr()).ok()?;
    let url = remote.url(gix::remote::Direction::Push)?;
    Some(url.to_bstring().to_string())
}
