//! A directory without git, and a local checkout (commit, optionally push); the
//! [`Job`] every git way runs in its checkout.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::promote::{self, Pair, PromoteWork};
use super::tokens::{self, Tokens};
use super::{BumpError, Event, Landed, Options, Outcome, PullRequest};
use crate::ci::Pipeline;
use crate::environments::Promotion;
use crate::git::{self, Applied, ApplyResult, CommitInfo, WriteBackOptions};
use crate::plan::{self, Plan, Request};
use crate::template;

/// What a run changes: a plan request, or a promotion (computed on each attempt's tree).
#[derive(Clone, Copy)]
pub(super) enum Work<'a> {
    /// `set`, `image`.
    Request(&'a Request),
    /// `promote`.
    Promote(&'a PromoteWork<'a>),
}

/// What the git ways run in the checkout: plan, write, describe the commit.
pub(super) struct Job<'a> {
    pub work: Work<'a>,
    pub options: &'a Options,
    /// Write the edited files. Off in a dry run on the user's own checkout; on in a
    /// throwaway clone, where git then sees (and reports) what would be committed.
    write: bool,
    commit: CommitInfo,
    pub vars: BTreeMap<String, String>,
    /// What is being done, for errors.
    pub summary: String,
    /// The only paths read or checked out (`None`: the whole tree).
    pub sparse: Option<Vec<PathBuf>>,
    /// The pull request to open (remote destinations).
    pub pull_request: Option<PullRequest>,
    /// The default pull-request title template.
    pub default_title: String,
    /// The last attempt's plan.
    pub last: RefCell<Option<Plan>>,
    /// The last attempt's promotion.
    pub promotion: RefCell<Option<Promotion>>,
}

impl<'a> Job<'a> {
    pub fn new(
        work: Work<'a>,
        options: &'a Options,
        pipeline: &Pipeline,
        throwaway_clone: bool,
    ) -> Result<Self, BumpError> {
        let (vars, default_message, default_title, summary, sparse, pull_request) = match work {
            Work::Request(request) => (
                super::vars::template_vars(request, pipeline),
                super::vars::default_subject(request),
                super::vars::default_subject(request),
                request.summary(),
                super::vars::sparse_paths(request),
                options.pull_request.clone(),
            ),
            Work::Promote(p) => {
                let mut vars = BTreeMap::new();
                pipeline.vars(&mut vars);
                let to = &p.promote.request.to;
                for (k, v) in [
                    ("mode", "promote"),
                    ("image", ""),
                    ("tag", ""),
                    ("digest", ""),
                ] {
                    vars.insert(k.into(), v.into());
                }
                vars.insert("tag_slug".into(), String::new());
                vars.insert("to".into(), to.clone());
                vars.insert("summary".into(), promote::summary(None, to));
                (
                    vars,
                    promote::DEFAULT_MESSAGE.to_string(),
                    promote::DEFAULT_SUBJECT.to_string(),
                    promote::summary(None, to),
                    None,
                    None,
                )
            }
        };
        let mut job = Job {
            work,
            options,
            write: !options.dry_run || throwaway_clone,
            commit: super::vars::commit_info(&options.commit, pipeline, default_message),
            vars,
            summary,
            sparse,
            pull_request,
            default_title,
            last: RefCell::new(None),
            promotion: RefCell::new(None),
        };
        if let Work::Promote(p) = work {
            if let Some(pair) = p.known_pair() {
                let pair = pair.map_err(|e| job.failed(".", Box::new(e)))?;
                job.set_pair(&pair, false);
            }
        }
        Ok(job)
    }

    /// A promotion of the tree at `dir`: its environments, when its environments file
    /// names them (else the attempt reports why).
    pub fn here(mut self, dir: &Path) -> Self {
        if let Work::Promote(p) = self.work {
            if let Ok(Ok(pair)) = p.config(dir).map(|c| Pair::of(&c, &p.promote.request)) {
                self.set_pair(&pair, false);
            }
        }
        self
    }

    /// A promotion's environments are known: their names in the placeholders, whether
    /// a pull request is opened, and (`sparse`) only their paths read.
    pub fn set_pair(&mut self, pair: &Pair, sparse: bool) {
        let Work::Promote(p) = self.work else {
            return;
        };
        promote::pair_vars(&mut self.vars, &pair.from, &pair.to);
        self.summary = promote::summary(Some(&pair.from), &pair.to);
        if sparse || p.fixed.is_some() {
            self.sparse = Some(p.sparse(pair));
        }
        self.pull_request = p.pull_request(Some(pair), self.options.pull_request.as_ref());
    }

    /// Plans the change under `root`, keeping the plan (and promotion) of the last
    /// attempt; returns the placeholders it adds (`{images}`).
    fn plan(
        &self,
        root: &Path,
        events: &dyn Fn(Event<'_>),
    ) -> Result<BTreeMap<String, String>, super::Cause> {
        let mut vars = BTreeMap::new();
        let plan = match self.work {
            Work::Request(request) => plan::plan(root, request, &self.options.plan)?,
            Work::Promote(p) => {
                let done = p.compute(root, &self.options.plan, self.sparse.as_deref())?;
                let promotion = &done.promotion;
                promote::pair_vars(&mut vars, &promotion.from, &promotion.to);
                vars.insert("images".into(), promote::image_lines(promotion));
                events(Event::Promoted(promotion));
                *self.promotion.borrow_mut() = Some(done.promotion);
                done.plan
            }
        };
        events(Event::Planned(&plan));
        *self.last.borrow_mut() = Some(plan);
        Ok(vars)
    }

    /// Applies the request under `root` (a checkout), keeping the plan of the last
    /// attempt.
    pub fn apply(&self, root: &Path, events: &dyn Fn(Event<'_>)) -> ApplyResult {
        let added = self.plan(root, events)?;
        let files = {
            let last = self.last.borrow();
            let plan = last.as_ref().ok_or("no plan")?;
            if self.write {
                plan.write()?
            } else {
                plan.changed_files()
            }
        };
        let mut vars = self.vars.clone();
        vars.extend(added);
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
        Ok(Applied { files, commit })
    }

    /// The error for `source` in `place`.
    pub fn failed(&self, place: &str, source: super::Cause) -> BumpError {
        BumpError::Apply {
            summary: self.summary.clone(),
            place: (place != ".").then(|| place.to_string()),
            source,
        }
    }

    /// What the run did, with the last attempt's plan and promotion.
    pub fn outcome(&self, done: Outcome) -> Outcome {
        Outcome {
            plan: self.last.take(),
            promotion: self.promotion.take(),
            ..done
        }
    }
}

/// Edits files in a directory, no git.
pub(super) fn directory(
    job: &Job<'_>,
    dir: &Path,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let place = dir.display().to_string();
    job.plan(dir, events).map_err(|e| job.failed(&place, e))?;
    let written = if options.dry_run {
        Vec::new()
    } else {
        let last = job.last.borrow();
        match last.as_ref() {
            Some(plan) => plan.write().map_err(|e| job.failed(&place, Box::new(e)))?,
            None => Vec::new(),
        }
    };
    Ok(job.outcome(Outcome {
        written,
        ..Outcome::default()
    }))
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
    Ok(job.outcome(Outcome {
        landed: Some(landed),
        ..Outcome::default()
    }))
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
