//! What a run did, as one record for people and machines (the CLI prints it as
//! text or JSON): built from an [`Outcome`], or for a run that failed from what its
//! [`Event`]s said ([`Recorder`]).

use std::error::Error as StdError;
use std::path::PathBuf;

use serde::Serialize;

use super::{BumpError, Event, Landed, Outcome, RegistryReport};
use crate::environments::Promotion;
use crate::git::WriteBackOutcome;
use crate::plan::{ChangeRecord, Plan, PlanError};
use crate::targets::NotSearched;

/// Why a run failed, for the report: the message as shown to people, and a
/// stable kind ([`BumpError::kind`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportedError {
    /// The error and its causes.
    pub message: String,
    /// What went wrong, as a stable machine-readable word.
    pub kind: &'static str,
}

impl ReportedError {
    /// `error` and its causes (`outer: inner`, a cause its parent already says left
    /// out), and its kind ([`BumpError::kind`]).
    pub fn from_error(error: &BumpError) -> ReportedError {
        ReportedError {
            message: crate::forge::error_chain(error),
            kind: error.kind(),
        }
    }
}

/// A pull / merge request that was opened or updated.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PrReport {
    /// Its number.
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// Opened by this run (else updated).
    pub created: bool,
    /// Older requests of the same image closed.
    pub closed_superseded: Vec<u64>,
    /// Branches of the closed superseded requests that were deleted.
    pub deleted_branches: Vec<String>,
    /// Merged during this run (`--auto-merge` on a request that was already mergeable,
    /// or GitLab with no pipeline to wait for).
    pub merged: bool,
}

/// Everything a run reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// A dry run: `changed` and `files` say what would be written; nothing was.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Whether any file changed (or, in a dry run, would change).
    pub changed: bool,
    /// Changed files, relative to the repository root.
    pub files: Vec<PathBuf>,
    /// Every value reached.
    pub changes: Vec<ChangeRecord>,
    /// Files skipped while searching directories, with the reason (on failure too).
    pub skipped: Vec<Skipped>,
    /// What the search did not enter on purpose, `{path, reason}` (hidden directories
    /// and files, `node_modules`, charts' `templates/`, links out of the tree or to
    /// nothing, JSON files that are not Kubernetes objects), on failure too. Absent
    /// when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_searched: Vec<NotSearched>,
    /// Where the image is named without a place for its tag: a failed `image` run
    /// that found no place to write. Absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub name_only: Vec<NameOnly>,
    /// Things worth knowing about the edits (e.g. a dropped digest).
    pub notes: Vec<String>,
    /// The config repository (without credentials).
    pub repo: Option<String>,
    /// The commit created.
    pub commit: Option<String>,
    /// The branch pushed to.
    pub branch: Option<String>,
    /// The branch the commit is based on.
    pub base_branch: Option<String>,
    /// Push attempts.
    pub attempts: Option<u32>,
    /// Whether the commit reached the remote (`--repo`, or `--push` in a checkout).
    pub pushed: bool,
    /// How it landed with `--repo`: `api` or `git`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Whether the forge marked the commit as verified (API mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// The pull / merge request.
    pub pull_request: Option<PrReport>,
    /// What the registry said (--strategy, --pin-digest, --verify-digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryReport>,
    /// What verified the image's signature (--verify-key): the digest, the key's
    /// fingerprint (`SHA256:` and the hex SHA-256 of its DER SubjectPublicKeyInfo),
    /// where the signature was read and how many signatures were checked. Absent
    /// without verification, and when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::verify::Verified>,
    /// What a promotion did, image by image (`promote` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
    /// The unified diff (dry runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why the run failed (failed runs only). The other members then say what was done
    /// before: `changes` what was planned, `changed`, `files`, `commit`, `branch` and
    /// `pushed` only what was actually written or pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportedError>,
}

/// A file skipped while searching directories.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// The file.
    pub file: PathBuf,
    /// Why.
    pub reason: String,
}

/// A place that names the image without a place for its tag.
#[derive(Clone, Debug, Serialize)]
pub struct NameOnly {
    /// The file.
    pub file: PathBuf,
    /// The YAML document (0-based).
    pub document: usize,
    /// The key path.
    pub path: String,
    /// The line (1-based).
    pub line: usize,
    /// The value that names the image.
    pub value: String,
}

fn skipped(list: &[(PathBuf, String)]) -> Vec<Skipped> {
    list.iter()
        .map(|(file, reason)| Skipped {
            file: file.clone(),
            reason: reason.clone(),
        })
        .collect()
}

impl Report {
    /// What `plan` would change (or changed, once written).
    pub fn from_plan(plan: &Plan) -> Report {
        Report {
            changed: plan.changed(),
            files: plan.changed_files(),
            changes: plan.records.clone(),
            skipped: skipped(&plan.skipped),
            not_searched: plan.not_searched.clone(),
            notes: plan.notes.clone(),
            diff: Some(plan.diff()).filter(|d| !d.is_empty()),
            ..Report::default()
        }
    }

    /// What a failed search found, from its error (anywhere in the chain of
    /// sources): the files it skipped (unless the report has them already) and the
    /// places that name the image without a place for its tag.
    pub fn add_search_failure(&mut self, error: &(dyn StdError + 'static)) {
        let mut cause = Some(error);
        let plan = loop {
            match cause {
                Some(c) => match c.downcast_ref::<PlanError>() {
                    Some(plan) => break plan,
                    None => cause = c.source(),
                },
                None => return,
            }
        };
        if self.skipped.is_empty() {
            self.skipped = skipped(plan.skipped());
        }
        if self.not_searched.is_empty() {
            self.not_searched = plan.not_searched().to_vec();
        }
        if let PlanError::NameOnly { mentions, .. } = plan {
            self.name_only = mentions
                .iter()
                .map(|(file, m)| NameOnly {
                    file: file.clone(),
                    document: m.document,
                    path: m.path.to_string(),
                    line: m.line,
                    value: m.value.clone(),
                })
                .collect();
        }
    }

    /// The planned changes of a run that then failed: nothing was written or pushed.
    pub fn nothing_done(mut self) -> Report {
        self.changed = false;
        self.files.clear();
        self.commit = None;
        self.pushed = false;
        self
    }

    /// Takes what landed: the way, the commit, branch and attempts, whether it was pushed.
    pub fn set_landed(&mut self, landed: &Landed, dry_run: bool) {
        self.via = landed.via.map(|v| v.to_string());
        self.verified = landed.verified;
        self.set_git(&landed.outcome, dry_run);
        self.pushed = landed.pushed;
    }

    /// Takes the commit, branch and attempts from a write-back. In a dry run nothing is
    /// written or committed, so whether anything changes is the plan's word, not git's.
    fn set_git(&mut self, outcome: &WriteBackOutcome, dry_run: bool) {
        if dry_run {
            self.branch = Some(outcome.branch.clone());
            self.base_branch = Some(outcome.base_branch.clone());
            return;
        }
        self.changed = outcome.changed;
        self.commit = outcome.commit.clone();
        self.branch = Some(outcome.branch.clone());
        self.base_branch = Some(outcome.base_branch.clone());
        self.attempts = Some(outcome.attempts);
        if !outcome.files.is_empty() {
            self.files = outcome.files.clone();
        }
    }
}

/// Collects what a run's events say, for the report of a run that fails (feed it
/// every [`Event`], then [`Recorder::finish`] with the run's result).
#[derive(Debug, Default)]
pub struct Recorder {
    planned: Option<Report>,
    repository: Option<String>,
    landed: Option<Landed>,
    registry: Option<RegistryReport>,
    promotion: Option<Promotion>,
}

impl Recorder {
    /// Takes what `event` says.
    pub fn take(&mut self, event: &Event<'_>) {
        match event {
            Event::Planned(plan) => self.planned = Some(Report::from_plan(plan)),
            Event::Repository(url) => self.repository = Some(url.to_string()),
            Event::Landed(landed) => self.landed = Some((*landed).clone()),
            Event::Registry(found) => self.registry = Some((*found).clone()),
            Event::Promoted(p) => self.promotion = Some((*p).clone()),
            _ => {}
        }
    }

    /// The report of a run that ended with `result`: on error what was done before
    /// it (the planned changes; changed files, commit and push only if it landed).
    pub fn finish(self, result: &Result<Outcome, BumpError>, dry_run: bool) -> Report {
        match result {
            Ok(outcome) => self.finish_ok(outcome, dry_run),
            Err(_) => {
                let landed = self.landed.clone();
                let mut report = self.base();
                match &landed {
                    // Only the pull request failed: what was pushed stays reported.
                    Some(landed) => {
                        report.set_landed(landed, dry_run);
                        report
                    }
                    None => report.nothing_done(),
                }
            }
        }
    }

    /// The plan's report with the repository and the registry's word.
    fn base(self) -> Report {
        let mut report = self.planned.unwrap_or_default();
        report.repo = self.repository;
        report.verification = (self.registry.as_ref()).and_then(|r| r.verification.clone());
        report.registry = self.registry;
        report.promotion = self.promotion;
        report
    }

    fn finish_ok(self, outcome: &Outcome, dry_run: bool) -> Report {
        let mut report = self.base();
        if let Some(plan) = &outcome.plan {
            report = Report {
                repo: report.repo.take(),
                registry: report.registry.take(),
                verification: report.verification.take(),
                ..Report::from_plan(plan)
            };
        }
        if outcome.promotion.is_some() {
            report.promotion = outcome.promotion.clone();
        }
        match &outcome.landed {
            Some(landed) => report.set_landed(landed, dry_run),
            None if !dry_run => report.files = outcome.written.clone(),
            None => {}
        }
        report.pull_request = outcome.pull_request.as_ref().map(|pr| PrReport {
            number: pr.number,
            url: pr.url.clone(),
            created: pr.created,
            closed_superseded: pr.closed_superseded.clone(),
            deleted_branches: pr.deleted_branches.clone(),
            merged: pr.merged,
        });
        report
    }
}

impl Report {
    /// The report of a run that returned `outcome`.
    pub fn from_outcome(outcome: &Outcome, dry_run: bool) -> Report {
        let recorder = Recorder {
            repository: outcome.repository.clone(),
            registry: outcome.registry.clone(),
            ..Recorder::default()
        };
        recorder.finish_ok(outcome, dry_run)
    }
}
