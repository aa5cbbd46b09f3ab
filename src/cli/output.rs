//! Printing the outcome: human-readable lines, JSON, and GitHub Actions step outputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::args::OutputFormat;
use super::failure::ErrorReport;
use tagbump::git::WriteBackOutcome;
use tagbump::plan::{ChangeRecord, Plan, PlanError};
use tagbump::targets::{NotSearched, NotSearchedReason};

/// A pull / merge request that was opened or updated.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PrReport {
    pub number: u64,
    pub url: String,
    pub created: bool,
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
    pub registry: Option<tagbump::bump::RegistryReport>,
    /// The unified diff (dry runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why the run failed (failed runs only). The other members then say what was done
    /// before: `changes` what was planned, `changed`, `files`, `commit`, `branch` and
    /// `pushed` only what was actually written or pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub file: PathBuf,
    pub reason: String,
}

/// A place that names the image without a place for its tag.
#[derive(Clone, Debug, Serialize)]
pub struct NameOnly {
    pub file: PathBuf,
    pub document: usize,
    pub path: String,
    pub line: usize,
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

    /// What a failed search found, from its error (anywhere in the chain): the files
    /// it skipped (unless the report has them already) and the places that name the
    /// image without a place for its tag.
    pub fn add_search_failure(&mut self, error: &anyhow::Error) {
        let Some(plan) = error.chain().find_map(|c| c.downcast_ref::<PlanError>()) else {
            return;
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
    pub fn set_landed(&mut self, landed: &tagbump::bump::Landed, dry_run: bool) {
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

/// Prints the report on stdout.
pub fn emit(report: &Report, format: OutputFormat, dry_run: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Json => {
            let mut r = report.clone();
            if !dry_run {
                r.diff = None;
            }
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        OutputFormat::Text => write_text(&mut out, report, dry_run)?,
    }
    Ok(())
}

/// The `skipped FILE: why` lines of the text form, and the one `not searched: …` line.
pub fn write_skipped(out: &mut dyn Write, report: &Report) -> Result<()> {
    for s in &report.skipped {
        writeln!(out, "skipped {}: {}", s.file.display(), s.reason)?;
    }
    if let Some(line) = not_searched_line(&report.not_searched) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The one `not searched: …` line of the text form: how many of each kind, with the
/// first few paths (none when the search entered everything).
pub fn not_searched_line(list: &[NotSearched]) -> Option<String> {
    type Group = (&'static str, &'static str, fn(NotSearchedReason) -> bool);
    const GROUPS: [Group; 4] = [
        ("directory", "directories", NotSearchedReason::is_directory),
        ("hidden file", "hidden files", |r| {
            r == NotSearchedReason::HiddenFile
        }),
        (
            "symbolic link out of the tree or to nothing",
            "symbolic links out of the tree or to nothing",
            |r| {
                matches!(
                    r,
                    NotSearchedReason::LinkOutside | NotSearchedReason::DanglingLink
                )
            },
        ),
        (
            "JSON file that is not a Kubernetes object",
            "JSON files that are not Kubernetes objects",
            |r| r == NotSearchedReason::NotKubernetesJson,
        ),
    ];
    const SHOWN: usize = 3;
    let parts: Vec<String> = GROUPS
        .iter()
        .filter_map(|(one, many, belongs)| {
            let paths: Vec<String> = list
                .iter()
                .filter(|n| belongs(n.reason))
                .map(|n| n.path.display().to_string())
                .collect();
            let noun = match paths.len() {
                0 => return None,
                1 => one,
                _ => many,
            };
            let more = if paths.len() > SHOWN { " …" } else { "" };
            let shown = paths[..paths.len().min(SHOWN)].join(", ");
            Some(format!("{} {noun} ({shown}{more})", paths.len()))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("not searched: {}", parts.join(", ")))
}

/// The human-readable form.
pub fn write_text(out: &mut dyn Write, report: &Report, dry_run: bool) -> Result<()> {
    if let Some(r) = &report.registry {
        super::registry::write_text(out, r)?;
    }
    write_skipped(out, report)?;
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    for c in &report.changes {
        let old = c.old.as_deref().unwrap_or("(new)");
        // Why the place was touched (`image` runs): the kind, and whether it was pinned.
        let why = match (c.kind, c.pinned) {
            (Some(kind), true) => format!("  ({kind}, pinned)"),
            (Some(kind), false) => format!("  ({kind})"),
            (None, _) => String::new(),
        };
        if c.changed {
            let typed = c
                .type_changed
                .as_ref()
                .map(|t| format!("  (type {} → {})", t.from, t.to))
                .unwrap_or_default();
            writeln!(
                out,
                "{}:{}  {}  {} → {}{}{typed}{why}",
                c.file.display(),
                c.line,
                c.path,
                old,
                c.new,
                if c.aliases.is_empty() {
                    String::new()
                } else {
                    format!("  (also {} through aliases)", c.aliases.join(", "))
                }
            )?;
        } else {
            writeln!(
                out,
                "{}:{}  {}  {} (unchanged){why}",
                c.file.display(),
                c.line,
                c.path,
                old
            )?;
        }
    }
    if dry_run {
        if let Some(diff) = &report.diff {
            write!(out, "{diff}")?;
        }
        writeln!(
            out,
            "dry run: {}",
            if report.changed {
                "changes shown above were not written"
            } else {
                "nothing to change"
            }
        )?;
        return Ok(());
    }
    if !report.changed {
        writeln!(out, "nothing to change: every value is already up to date")?;
        return Ok(());
    }
    match (&report.commit, &report.branch) {
        (Some(sha), Some(branch)) => {
            let short = &sha[..sha.len().min(12)];
            let attempts = report.attempts.unwrap_or(1);
            writeln!(
                out,
                "committed {short} to {branch}{}",
                if attempts > 1 {
                    format!(" after {attempts} attempts")
                } else {
                    String::new()
                }
            )?;
        }
        _ => writeln!(out, "updated {} file(s)", report.files.len())?,
    }
    if let Some(pr) = &report.pull_request {
        writeln!(
            out,
            "{} pull request #{}: {}",
            if pr.created { "opened" } else { "updated" },
            pr.number,
            pr.url
        )?;
        if pr.merged {
            writeln!(out, "merged pull request #{}", pr.number)?;
        }
        for n in &pr.closed_superseded {
            writeln!(out, "closed superseded pull request #{n}")?;
        }
        for b in &pr.deleted_branches {
            writeln!(out, "deleted branch {b}")?;
        }
    }
    Ok(())
}

/// Appends `name=value` lines for GitHub Actions (`$GITHUB_OUTPUT`).
pub fn append_github_output(path: &Path, report: &Report) -> Result<()> {
    let files: Vec<String> = report
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let mut lines = vec![
        format!("changed={}", report.changed),
        format!("commit-sha={}", report.commit.clone().unwrap_or_default()),
        format!("branch={}", report.branch.clone().unwrap_or_default()),
        format!("pushed={}", report.pushed),
        format!("via={}", report.via.clone().unwrap_or_default()),
        format!(
            "verified={}",
            report.verified.map(|v| v.to_string()).unwrap_or_default()
        ),
        format!("files={}", serde_json::to_string(&files)?),
    ];
    match &report.pull_request {
        Some(pr) => {
            lines.push(format!("pr-number={}", pr.number));
            lines.push(format!("pr-url={}", pr.url));
            lines.push(format!("pr-merged={}", pr.merged));
        }
        None => {
            lines.push("pr-number=".to_string());
            lines.push("pr-url=".to_string());
            lines.push("pr-merged=".to_string());
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    for l in lines {
        writeln!(f, "{l}")?;
    }
    Ok(())
}
