//! One change, many destinations: [`run_many`] lands the same change in each
//! destination independently, a bounded number at once, each with its own retries,
//! pull request, report and typed error. A failing destination never stops or undoes
//! the others; the results come back in the order the destinations were given.
//!
//! ```
//! use tagbump::bump::{self, Destination, Options};
//! use tagbump::image::ImageRef;
//! use tagbump::plan::Request;
//!
//! let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
//! std::fs::write(a.path().join("values.yaml"), "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.4.2\"\n")?;
//! let change = Request::Image { image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?, paths: vec![] };
//! let places = [Destination::Directory(a.path().into()), Destination::Directory(b.path().into())];
//! let done = bump::run_many(&change, &places, &Options::default(), bump::DEFAULT_CONCURRENCY, &|_, _| {})?;
//! assert!(done.targets[0].result.is_ok());
//! assert!(done.targets[1].result.is_err()); // nothing names the image there
//! assert_eq!(done.verdict(), bump::Verdict::Partial);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use super::report::{PrReport, Recorder, Report, ReportedError};
use super::{BumpError, Destination, Event, Options, Outcome, Promote, RegistryReport};
use crate::environments::Promotion;
use crate::plan::{self, ChangeRecord};

/// How many destinations [`run_many`] works on at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// What one destination of [`run_many`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetRun {
    /// The destination as reports name it: a remote's URL without credentials, a
    /// directory's or checkout's path.
    pub name: String,
    /// What [`run`](super::run) would have returned for this destination alone.
    pub result: Result<Outcome, BumpError>,
    /// Its report (on failure: what was done before the error, as [`Recorder`] says;
    /// [`Report::error`] holds the error's message and kind).
    pub report: Report,
}

/// What [`run_many`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct FanOut {
    /// Whether nothing was written or pushed ([`Options::dry_run`]).
    pub dry_run: bool,
    /// What the registry said ([`Options::registry`]), asked once for every destination.
    pub registry: Option<RegistryReport>,
    /// One per destination, in the order given.
    pub targets: Vec<TargetRun>,
}

/// How a fan-out ended, over all its destinations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Every destination landed the change or had nothing to change (also: none given).
    AllLanded,
    /// Some landed (or had nothing to change), some failed.
    Partial,
    /// Every destination failed.
    NoneLanded,
}

impl FanOut {
    /// How the fan-out ended.
    pub fn verdict(&self) -> Verdict {
        let failed = self.targets.iter().filter(|t| t.result.is_err()).count();
        match failed {
            0 => Verdict::AllLanded,
            n if n == self.targets.len() => Verdict::NoneLanded,
            _ => Verdict::Partial,
        }
    }
}

/// Plans `change` and lands it in every one of `destinations`, at most `concurrency`
/// (at least 1) at once, each on a thread of its own (every network client of the
/// library is blocking with its own time limits, so this is safe inside an async
/// runtime's blocking section too). `events` receives every destination's events with
/// its index in `destinations`, and `None` for the registry step, which runs once before
/// any destination is touched.
///
/// # Errors
///
/// Only the registry step's [`BumpError`] (then no destination was touched); a
/// destination's own failure is in its [`TargetRun::result`].
pub fn run_many(
    change: &plan::Request,
    destinations: &[Destination],
    options: &Options,
    concurrency: usize,
    events: &(dyn Fn(Option<usize>, Event<'_>) + Sync),
) -> Result<FanOut, BumpError> {
    let (resolved, registry) = match &options.registry {
        Some(ask) => {
            let (change, report) =
                super::resolve::resolve(change, ask, options, &|e| events(None, e))?;
            (Some(change), Some(report))
        }
        None => (None, None),
    };
    let change = resolved.as_ref().unwrap_or(change);
    let targets = each(
        destinations,
        options,
        concurrency,
        events,
        &|destination, events| super::land(change, destination, options, events),
    );
    Ok(FanOut {
        dry_run: options.dry_run,
        registry,
        targets,
    })
}

/// Promotes ([`promote`](super::promote)) in every one of `destinations`, as
/// [`run_many`] lands a change: at most `concurrency` at once, each destination with its
/// own environments file (`.tagbump.yaml` of its branch, unless [`Promote::config`]
/// names a local one), its own retries, its own pull request (one per (from, to) pair
/// and repository) and its own report (with its `promotion`). A destination that
/// fails never stops or undoes the others; [`FanOut::verdict`] says how it ended.
/// [`FanOut::registry`] is `None`: a promotion asks no registry.
pub fn promote_many(
    promote: &Promote,
    destinations: &[Destination],
    options: &Options,
    concurrency: usize,
    events: &(dyn Fn(Option<usize>, Event<'_>) + Sync),
) -> FanOut {
    let targets = each(
        destinations,
        options,
        concurrency,
        events,
        &|destination, events| super::promote(promote, destination, options, events),
    );
    FanOut {
        dry_run: options.dry_run,
        registry: None,
        targets,
    }
}

/// How one destination is landed.
type LandOne<'a> =
    dyn Fn(&Destination, &dyn Fn(Event<'_>)) -> Result<Outcome, BumpError> + Sync + 'a;

/// Runs `land` for every destination, `concurrency` (at least 1) at once, each on a
/// thread of its own; the results in the order of `destinations`.
fn each(
    destinations: &[Destination],
    options: &Options,
    concurrency: usize,
    events: &(dyn Fn(Option<usize>, Event<'_>) + Sync),
    land: &LandOne<'_>,
) -> Vec<TargetRun> {
    let slots: Vec<Mutex<Option<TargetRun>>> =
        destinations.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = concurrency.clamp(1, destinations.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(destination) = destinations.get(index) else {
                    break;
                };
                let run = one(destination, options, land, &|e| events(Some(index), e));
                *slots[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(run);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every destination was taken by a worker")
        })
        .collect()
}

/// One destination: land, and its report from the events.
fn one(
    destination: &Destination,
    options: &Options,
    land: &LandOne<'_>,
    events: &dyn Fn(Event<'_>),
) -> TargetRun {
    let recorder = Mutex::new(Recorder::default());
    let result = land(destination, &|event| {
        recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(&event);
        events(event);
    });
    let recorder = recorder.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut report = recorder.finish(&result, options.dry_run);
    report.dry_run = options.dry_run;
    if let Err(error) = &result {
        report.error = Some(ReportedError::from_error(error));
        report.add_search_failure(error);
    }
    TargetRun {
        name: name(destination),
        result,
        report,
    }
}

/// How reports name `destination`.
fn name(destination: &Destination) -> String {
    match destination {
        Destination::Directory(dir) | Destination::Checkout { dir, .. } => {
            dir.display().to_string()
        }
        Destination::Remote { url, .. } => crate::url::strip_credentials(url).0,
    }
}

/// One destination of a fan-out, as reported (`targets[]` of the CLI's JSON).
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    /// The repository URL as given (credentials, if it carries any, removed).
    pub repo: String,
    /// The branch pushed to.
    pub branch: Option<String>,
    /// Whether any file changed (in a dry run: would change).
    pub changed: bool,
    /// The commit created (full SHA).
    pub commit: Option<String>,
    /// Whether the commit reached the remote.
    pub pushed: bool,
    /// The pull / merge request opened or updated.
    pub pull_request: Option<PrReport>,
    /// Why this destination failed; `null` when it did not.
    pub error: Option<ReportedError>,
    /// How it landed: `api` or `git`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The branch the commit is based on.
    pub base_branch: Option<String>,
    /// Push attempts.
    pub attempts: Option<u32>,
    /// Changed files, relative to the repository root.
    pub files: Vec<std::path::PathBuf>,
    /// Every value reached.
    pub changes: Vec<ChangeRecord>,
    /// Things worth knowing about the edits.
    pub notes: Vec<String>,
    /// The unified diff (dry runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// What the promotion did in this repository (`promote` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
}

impl TargetReport {
    /// The record of the destination given as `repo`, from its report.
    pub fn new(repo: &str, report: &Report) -> TargetReport {
        TargetReport {
            repo: crate::url::strip_credentials(repo).0,
            branch: report.branch.clone(),
            changed: report.changed,
            commit: report.commit.clone(),
            pushed: report.pushed,
            pull_request: report.pull_request.clone(),
            error: report.error.clone(),
            via: report.via.clone(),
            base_branch: report.base_branch.clone(),
            attempts: report.attempts,
            files: report.files.clone(),
            changes: report.changes.clone(),
            notes: report.notes.clone(),
            diff: report.diff.clone().filter(|_| report.dry_run),
            promotion: report.promotion.clone(),
        }
    }
}
