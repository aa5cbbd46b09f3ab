//! The whole job in one call: plan a change, land it (a directory, a local checkout,
//! or a remote repository through git or the forge's API), open the pull request.
//!
//! [`run`] takes the change ([`plan::Request`] with its [`plan::Options`]), a
//! [`Destination`] and [`Options`], reports progress through [`Event`]s (it never
//! prints) and returns an [`Outcome`] or a typed [`BumpError`]. [`run_many`] lands one
//! change in several destinations at once, each on its own ([`FanOut`]).
//!
//! ```
//! use tagbump::bump::{self, Destination, Options};
//! use tagbump::image::ImageRef;
//! use tagbump::plan::Request;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("values.yaml"), "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.4.2\"\n")?;
//! let change = Request::Image { image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?, paths: vec![] };
//! let outcome = bump::run(&change, &Destination::Directory(dir.path().into()), &Options::default(), &|_| {})?;
//! assert_eq!(outcome.written, vec![std::path::PathBuf::from("values.yaml")]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod app_config;
mod assignments;
mod error;
mod error_text;
mod fanout;
mod kind;
mod local;
mod promote;
mod remote;
mod report;
mod resolve;
mod status;
mod tokens;
mod vars;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use app_config::{AppConfig, AppConfigError, APP_KEY_VARIABLE};
pub use assignments::{type_name, AssignmentError, Assignments};
pub use error::{BumpError, Cause, FileRole};
pub use error_text::error_text;
pub use fanout::{
    promote_many, run_many, FanOut, TargetReport, TargetRun, Verdict, DEFAULT_CONCURRENCY,
};
pub use kind::kind_of;
pub use promote::{Promote, PromoteLandError};
pub use report::{NameOnly, PrReport, Recorder, Report, ReportedError, Skipped};
pub use resolve::{
    DigestStep, RegistryCredentials, RegistryReport, RejectedTag, Resolve, StrategyReport,
};
pub use status::{status, status_each, StatusTarget};
pub use tokens::TokenSource;
pub use vars::default_subject;

use crate::ci::Pipeline;
use crate::environments::Promotion;
use crate::forge::{self, ConnectOptions, ForgeKind, MergeMethod};
use crate::git::{Identity, RetryPolicy, Timeouts, WriteBackOutcome};
use crate::land::via::Via;
use crate::plan::{self, Plan};
use crate::secret::Secret;

/// Reads an environment variable (the token variables, the CI pipeline's variables).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the change goes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Destination {
    /// Files in a directory, no git.
    Directory(PathBuf),
    /// An existing git checkout: edit and commit, and push to the branch's upstream
    /// when `push`.
    Checkout {
        /// The checkout.
        dir: PathBuf,
        /// Also push.
        push: bool,
    },
    /// A remote repository: through the forge's API or a fresh clone.
    Remote {
        /// The repository URL (HTTPS, SSH, `git://`, `file://`).
        url: String,
        /// The branch to update; `None`: the remote's default branch.
        branch: Option<String>,
        /// How the change lands.
        via: Via,
        /// The forge's API base URL for this repository; `None`:
        /// [`Options::api_url`], else the default for the host. Lets one fan-out
        /// ([`run_many`], [`promote_many`]) reach repositories on different forges.
        api_url: Option<String>,
    },
}

impl Destination {
    /// `options` with this destination's own API base URL, if it has one.
    fn options<'a>(&self, options: &'a Options) -> std::borrow::Cow<'a, Options> {
        match self {
            Destination::Remote {
                api_url: Some(api), ..
            } => std::borrow::Cow::Owned(Options {
                api_url: Some(api.clone()),
                ..options.clone()
            }),
            _ => std::borrow::Cow::Borrowed(options),
        }
    }
}

/// The commit: message template and identities.
#[derive(Clone, Debug)]
pub struct CommitTemplate {
    /// The message template ([`crate::template`] placeholders, `{files}` too);
    /// `None`: [`default_subject`].
    pub message: Option<String>,
    /// The author.
    pub author: Identity,
    /// The committer.
    pub committer: Identity,
    /// Add the CI pipeline's `Source-Commit` / `Pipeline` trailers.
    pub trailers: bool,
}

impl Default for CommitTemplate {
    /// `tagbump <tagbump@localhost>`, the default subject, with trailers.
    fn default() -> Self {
        let me = Identity {
            name: "tagbump".to_string(),
            email: "tagbump@localhost".to_string(),
        };
        CommitTemplate {
            message: None,
            author: me.clone(),
            committer: me,
            trailers: true,
        }
    }
}

/// The pull / merge request to open after pushing to its branch (remote destinations).
#[derive(Clone, Debug)]
pub struct PullRequest {
    /// The branch name template.
    pub branch: String,
    /// The title template; `None`: [`default_subject`].
    pub title: Option<String>,
    /// The body template (`{changes}` lists each change); `None`: tagbump's.
    pub body: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
    /// Reviewers to request.
    pub reviewers: Vec<String>,
    /// Assignees.
    pub assignees: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
    /// Enable auto-merge (only the pushed commit is merged).
    pub auto_merge: bool,
    /// How auto-merge merges; `None`: the repository's default.
    pub merge_method: Option<MergeMethod>,
    /// Close older requests of the same image and delete their branches.
    pub close_superseded: bool,
}

impl Default for PullRequest {
    /// Branch `tagbump/{slug}`, default title and body.
    fn default() -> Self {
        PullRequest {
            branch: "tagbump/{slug}".to_string(),
            title: None,
            body: None,
            labels: Vec::new(),
            reviewers: Vec::new(),
            assignees: Vec::new(),
            draft: false,
            auto_merge: false,
            merge_method: None,
            close_superseded: false,
        }
    }
}

/// How the run behaves.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// How the files are searched and edited.
    pub plan: plan::Options,
    /// Show what would change; write, commit and push nothing.
    pub dry_run: bool,
    /// The commit (git destinations).
    pub commit: CommitTemplate,
    /// Open a pull request (remote destinations).
    pub pull_request: Option<PullRequest>,
    /// Where tokens come from.
    pub tokens: Arc<TokenSource>,
    /// The environment (token variables, CI pipeline); default: the process's.
    pub env: Env,
    /// The forge; `None`: from the repository's host.
    pub forge: Option<ForgeKind>,
    /// The forge's API base URL; `None`: the default for the host.
    pub api_url: Option<String>,
    /// The user name for HTTPS token auth; `None`: the one for the token's source.
    pub username: Option<String>,
    /// The SSH private key; `None`: the agent / `~/.ssh`.
    pub ssh_key: Option<PathBuf>,
    /// A CA bundle for HTTPS.
    pub ca_bundle: Option<PathBuf>,
    /// Retries when another push won the race.
    pub retry: RetryPolicy,
    /// The run's time limits.
    pub timeouts: Timeouts,
    /// How forge API calls behave (their log receives the forge clients' warnings);
    /// the deadline is set from [`Options::timeouts`].
    pub connect: ConnectOptions,
    /// Ask the image's registry first (an image change only): choose the tag, pin or
    /// verify the digest. It uses [`Options::timeouts`] and [`Options::ca_bundle`].
    pub registry: Option<Resolve>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            plan: plan::Options::default(),
            dry_run: false,
            commit: CommitTemplate::default(),
            pull_request: None,
            tokens: Arc::new(TokenSource::default()),
            env: Arc::new(|k: &str| std::env::var(k).ok()),
            forge: None,
            api_url: None,
            username: None,
            ssh_key: None,
            ca_bundle: None,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            connect: ConnectOptions::default(),
            registry: None,
        }
    }
}

/// Progress of a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// What is being done and why (a retry, a fallback, the GitHub App token).
    Log(&'a str),
    /// The way a remote change lands and why (its `Display` is the log line).
    Way(&'a crate::land::via::Choice),
    /// The token chosen for a destination and the variables passed over
    /// ([`Selection::log_lines`](crate::credentials::Selection::log_lines) are the log lines).
    Token(&'a crate::credentials::Selection),
    /// Something worth a warning that did not stop the run.
    Warning(&'a str),
    /// A token the run obtained (never print it).
    Secret(&'a Secret),
    /// The plan of an attempt (the last one is what landed).
    Planned(&'a Plan),
    /// The repository the change goes to (credentials removed), before landing.
    Repository(&'a str),
    /// The change landed (before the pull request is opened).
    Landed(&'a Landed),
    /// What the registry said ([`Options::registry`]), also when it then failed.
    Registry(&'a RegistryReport),
    /// The promotion of an attempt ([`promote`]; the last one is what landed).
    Promoted(&'a Promotion),
}

/// The way a change landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LandedVia {
    /// The forge's API.
    Api,
    /// Git.
    Git,
}

impl std::fmt::Display for LandedVia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LandedVia::Api => "api",
            LandedVia::Git => "git",
        })
    }
}

/// What git or the forge did.
#[derive(Clone, Debug)]
pub struct Landed {
    /// `None` for a local checkout.
    pub via: Option<LandedVia>,
    /// Commit, branch, attempts.
    pub outcome: WriteBackOutcome,
    /// Whether the forge marked the commit verified (API only).
    pub verified: Option<bool>,
    /// Whether the commit reached the remote.
    pub pushed: bool,
}

/// What a run did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Outcome {
    /// The plan (of the last attempt).
    pub plan: Option<Plan>,
    /// Files written in a directory destination.
    pub written: Vec<PathBuf>,
    /// The repository (credentials removed).
    pub repository: Option<String>,
    /// What landed (git destinations).
    pub landed: Option<Landed>,
    /// The pull request opened or updated.
    pub pull_request: Option<forge::PullRequest>,
    /// What the registry said ([`Options::registry`]).
    pub registry: Option<RegistryReport>,
    /// The promotion (of the last attempt), for [`promote`].
    pub promotion: Option<Promotion>,
}

/// Plans `change` and lands it in `destination`.
///
/// # Errors
///
/// A [`BumpError`]; nothing was written or pushed unless an
/// [`Event::Landed`] was reported (then only the pull request failed).
pub fn run(
    change: &plan::Request,
    destination: &Destination,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let Some(ask) = &options.registry else {
        return land(change, destination, options, events);
    };
    let (change, report) = resolve::resolve(change, ask, options, events)?;
    let mut outcome = land(&change, destination, options, events)?;
    outcome.registry = Some(report);
    Ok(outcome)
}

/// Plans `change` and lands it in `destination` (the registry asked).
fn land(
    change: &plan::Request,
    destination: &Destination,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    land_work(local::Work::Request(change), destination, options, events)
}

/// Promotes what one environment runs into another ([`Promote`]) and lands it in
/// `destination` as [`run`] lands a change: one commit (or one pull request, on the
/// branch `tagbump/promote-FROM-to-TO` by default, updated in place by the next
/// promotion of the pair) for the whole promotion. The promotion is computed on the
/// tree of every attempt: after a lost race, on the new tip. Its message names both
/// environments and each changed image, old → new (`{images}`, `{from}`, `{to}` in
/// templates). Nothing to promote (already in sync): nothing committed,
/// [`WriteBackOutcome::changed`] false. [`Options::registry`] is not used.
///
/// # Errors
///
/// A [`BumpError`] (its source a [`PromoteError`](crate::environments::PromoteError)
/// when the promotion itself is refused); nothing was written or pushed unless an
/// [`Event::Landed`] was reported.
pub fn promote(
    promote: &Promote,
    destination: &Destination,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let work = promote::PromoteWork::new(promote).map_err(|e| BumpError::Apply {
        summary: promote::summary(promote.request.from.as_deref(), &promote.request.to),
        place: None,
        source: Box::new(e),
    })?;
    land_work(local::Work::Promote(&work), destination, options, events)
}

fn land_work(
    work: local::Work<'_>,
    destination: &Destination,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let options = &*destination.options(options);
    let pipeline = Pipeline::detect(&*options.env);
    match destination {
        Destination::Directory(dir) => {
            let job = local::Job::new(work, options, &pipeline, false)?.here(dir);
            local::directory(&job, dir, options, events)
        }
        Destination::Checkout { dir, push } => {
            let job = local::Job::new(work, options, &pipeline, false)?.here(dir);
            local::checkout(&job, dir, *push, options, events)
        }
        Destination::Remote {
            url, branch, via, ..
        } => {
            let mut job = local::Job::new(work, options, &pipeline, true)?;
            remote::remote(&mut job, url, branch.as_deref(), *via, options, events)
        }
    }
}

/// `base` with a deadline `overall` from now.
fn with_deadline(base: &ConnectOptions, overall: std::time::Duration) -> ConnectOptions {
    ConnectOptions {
        timeouts: forge::Timeouts {
            deadline: Some(Instant::now() + overall),
            ..base.timeouts
        },
        ..base.clone()
    }
}
