//! A remote repository: land the edit through the forge's API or git (falling back
//! from the API to git where the API cannot show the whole tree), then open or update
//! the pull / merge request.

use std::path::Path;

use super::access::{existing_file, forge_kind, git_auth};
use super::local::{Job, Work};
use super::promote::Pair;
use super::tokens::{self, Tokens};
use super::vars::supersede_prefix;
use super::{BumpError, Event, FileRole, Landed, LandedVia, Options, Outcome, TokenSource};
use crate::credentials;
use crate::environments::CONFIG_FILE;
use crate::forge::{self, ChangeLine, ForgeKind, PullRequestSpec, RepoId};
use crate::git::{self, Applied, ApplyResult, RemoteSpec, WriteBackOptions, WriteBackOutcome};
use crate::land::api::ApiRepo;
use crate::land::api_lander::{self, ApiLandError, ApiWriteBack};
use crate::land::via::{choose, Via};
use crate::secret::Secret;
use crate::template;

/// The body of a pull request when none is given.
const DEFAULT_BODY: &str = "Automated update by tagbump.\n\n{changes}\n\nSource commit: {source_commit}\nPipeline: {pipeline_url}\n";

/// The way, the branch and the log of one landing.
struct Landing<'a> {
    url: &'a str,
    shown_url: &'a str,
    kind: Option<ForgeKind>,
    branch: Option<&'a str>,
    via: Via,
    push_branch: Option<String>,
}

/// Every token the run may send, to keep out of URLs it reports.
fn known_secrets(options: &Options) -> Vec<Secret> {
    fn walk<'a>(s: &'a TokenSource, vars: &mut Vec<&'a str>, fixed: &mut Vec<Secret>) {
        match s {
            TokenSource::Environment { variable } => vars.extend(variable.as_deref()),
            TokenSource::Fixed(t) => fixed.push(t.clone()),
            TokenSource::Chain(list) => list.iter().for_each(|s| walk(s, vars, fixed)),
            TokenSource::GitHubApp(_) => {}
        }
    }
    let (mut vars, mut fixed) = (Vec::new(), Vec::new());
    walk(&options.tokens, &mut vars, &mut fixed);
    let mut secrets = credentials::known_secrets(&*options.env, vars.first().copied());
    secrets.extend(fixed);
    secrets
}

/// Clones the config repository (or uses its API), edits, commits, pushes, opens the PR.
pub(super) fn remote(
    job: &mut Job<'_>,
    url: &str,
    branch: Option<&str>,
    via: Via,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Outcome, BumpError> {
    let shown_url = credentials::redact(url, &known_secrets(options));
    let kind = forge_kind(url, options);
    let tokens = Tokens::new(
        &options.tokens,
        tokens::Context { options, events },
        url,
        kind,
    )?;
    let mut landing = Landing {
        url,
        shown_url: &shown_url,
        kind,
        branch,
        via,
        push_branch: None,
    };
    if let Work::Promote(p) = job.work {
        if p.fixed.is_none() {
            let pair = read_pair(&landing, job, options, &tokens, events)
                .map_err(|e| job.failed(&shown_url, e))?;
            job.set_pair(&pair, true);
        }
    }
    let job = &*job;
    // Everything the pull request needs is checked before anything is pushed.
    let pr = job.pull_request.as_ref();
    let forge = match pr {
        Some(_) if !options.dry_run => Some(pr_forge(url, &shown_url, kind, options, &tokens)?),
        _ => None,
    };
    landing.push_branch = pr.map(|p| template::render(&p.branch, &job.vars));
    events(Event::Repository(&shown_url));
    let (outcome, via, verified) =
        land(&landing, job, options, &tokens, events).map_err(|e| job.failed(&shown_url, e))?;
    let landed = Landed {
        via: Some(via),
        pushed: outcome.changed && !options.dry_run,
        outcome,
        verified,
    };
    events(Event::Landed(&landed));
    let mut done = job.outcome(Outcome {
        repository: Some(shown_url.clone()),
        ..Outcome::default()
    });
    let plan = done.plan.take();
    if let (Some((client, repo)), Some(pr), true) = (forge, pr, landed.outcome.changed) {
        let changes: Vec<ChangeLine> = plan
            .iter()
            .flat_map(|p| p.records.iter())
            .filter(|c| c.changed)
            .map(|c| ChangeLine {
                file: c.file.display().to_string(),
                key: c.path.clone(),
                old: c.old.clone().unwrap_or_default(),
                new: c.new.clone(),
            })
            .collect();
        let outcome = &landed.outcome;
        let title = pr
            .title
            .clone()
            .unwrap_or_else(|| job.default_title.clone());
        let body = pr.body.as_deref().unwrap_or(DEFAULT_BODY);
        let supersede = match pr
            .close_superseded
            .then(|| supersede_prefix(&pr.branch, &job.vars))
        {
            Some(Err(why)) => {
                events(Event::Log(&format!(
                    "no superseded pull request closed: {why} ({})",
                    outcome.branch
                )));
                None
            }
            found => found.and_then(Result::ok),
        };
        let spec = PullRequestSpec {
            repo,
            head: outcome.branch.clone(),
            base: outcome.base_branch.clone(),
            title: template::render(&title, &job.vars),
            body: forge::render_body(body, &job.vars, &changes),
            labels: pr.labels.clone(),
            reviewers: pr.reviewers.clone(),
            assignees: pr.assignees.clone(),
            draft: pr.draft,
            auto_merge: pr.auto_merge,
            merge_method: pr.merge_method,
            head_sha: outcome.commit.clone(),
            supersede_prefix: supersede,
        };
        let opened =
            client
                .ensure_pull_request(&spec)
                .map_err(|source| BumpError::PullRequest {
                    commit: outcome.commit.clone().unwrap_or_default(),
                    branch: outcome.branch.clone(),
                    url: shown_url.clone(),
                    source: source.into(),
                })?;
        for w in &opened.warnings {
            events(Event::Warning(w));
        }
        done.pull_request = Some(opened);
    }
    done.plan = plan;
    done.landed = Some(landed);
    Ok(done)
}

/// What one landing writes where: the bot branch, the paths read, a dry run.
struct Writing {
    push_branch: Option<String>,
    paths: Option<Vec<std::path::PathBuf>>,
    dry_run: bool,
}

/// Lands the edit through the forge API or git, falling back from the API to git
/// where the API cannot show the whole tree. Returns the outcome, the way taken and
/// whether the forge marked the commit verified.
fn land(
    l: &Landing<'_>,
    job: &Job<'_>,
    options: &Options,
    tokens: &Tokens<'_>,
    events: &dyn Fn(Event<'_>),
) -> Result<(WriteBackOutcome, LandedVia, Option<bool>), super::Cause> {
    let writing = Writing {
        push_branch: l.push_branch.clone(),
        paths: job.sparse.clone(),
        dry_run: options.dry_run,
    };
    let mut log = |line: &str| events(Event::Log(line));
    let mut apply = |root: &Path| -> ApplyResult { job.apply(root, events) };
    land_with(l, &writing, options, tokens, events, &mut log, &mut apply)
}

/// Reads the environments file of the branch before landing a promotion (an API read,
/// or a blob-less clone of that file alone; nothing is written), and the two
/// environments it names.
fn read_pair(
    l: &Landing<'_>,
    job: &Job<'_>,
    options: &Options,
    tokens: &Tokens<'_>,
    events: &dyn Fn(Event<'_>),
) -> Result<Pair, super::Cause> {
    let Work::Promote(p) = job.work else {
        return Err("not a promotion".into());
    };
    let writing = Writing {
        push_branch: None,
        paths: Some(vec![CONFIG_FILE.into()]),
        dry_run: true,
    };
    let mut found: Option<Pair> = None;
    let mut log = |line: &str| events(Event::Log(&format!("reading {CONFIG_FILE}: {line}")));
    let mut apply = |root: &Path| -> ApplyResult {
        let config = p.config(root).map_err(|e| {
            crate::environments::PromoteError::from(crate::environments::StatusError::from(e))
        })?;
        found = Some(Pair::of(&config, &p.promote.request)?);
        Ok(Applied {
            files: Vec::new(),
            commit: crate::git::CommitInfo {
                message: String::new(),
                author: options.commit.author.clone(),
                committer: options.commit.committer.clone(),
            },
        })
    };
    land_with(l, &writing, options, tokens, events, &mut log, &mut apply)?;
    found.ok_or_else(|| format!("{CONFIG_FILE} was not read").into())
}

/// Reads a branch of a remote repository without writing anything: each
/// [`read`](Reader::read) is an API read of the paths asked for, or a shallow sparse
/// clone of them, never a commit or a push.
pub(super) struct Reader<'a> {
    url: &'a str,
    pub shown_url: String,
    kind: Option<ForgeKind>,
    branch: Option<&'a str>,
    via: Via,
    options: &'a Options,
    events: &'a dyn Fn(Event<'_>),
    tokens: Tokens<'a>,
}

impl<'a> Reader<'a> {
    pub fn new(
        url: &'a str,
        branch: Option<&'a str>,
        via: Via,
        options: &'a Options,
        events: &'a dyn Fn(Event<'_>),
    ) -> Result<Self, BumpError> {
        let kind = forge_kind(url, options);
        let tokens = Tokens::new(
            &options.tokens,
            tokens::Context { options, events },
            url,
            kind,
        )?;
        Ok(Reader {
            url,
            shown_url: credentials::redact(url, &known_secrets(options)),
            kind,
            branch,
            via,
            options,
            events,
            tokens,
        })
    }

    /// Runs `look` on a tree holding `paths` of the branch (`None`: the whole tree;
    /// `what` prefixes the log).
    pub fn read(
        &self,
        what: &str,
        paths: Option<Vec<std::path::PathBuf>>,
        look: &mut dyn FnMut(&Path) -> Result<(), super::Cause>,
    ) -> Result<LandedVia, super::Cause> {
        let landing = Landing {
            url: self.url,
            shown_url: &self.shown_url,
            kind: self.kind,
            branch: self.branch,
            via: self.via,
            push_branch: None,
        };
        let writing = Writing {
            push_branch: None,
            paths,
            dry_run: true,
        };
        let events = self.events;
        let mut log = |line: &str| events(Event::Log(&format!("{what}: {line}")));
        let author = self.options.commit.author.clone();
        let mut apply = |root: &Path| -> ApplyResult {
            look(root)?;
            Ok(Applied {
                files: Vec::new(),
                commit: crate::git::CommitInfo {
                    message: String::new(),
                    author: author.clone(),
                    committer: author.clone(),
                },
            })
        };
        let (_, via, _) = land_with(
            &landing,
            &writing,
            self.options,
            &self.tokens,
            events,
            &mut log,
            &mut apply,
        )?;
        Ok(via)
    }
}

/// [`land`] with `writing`, `log` and `apply` given.
fn land_with(
    l: &Landing<'_>,
    writing: &Writing,
    options: &Options,
    tokens: &Tokens<'_>,
    events: &dyn Fn(Event<'_>),
    log: &mut dyn FnMut(&str),
    apply: &mut dyn FnMut(&Path) -> ApplyResult,
) -> Result<(WriteBackOutcome, LandedVia, Option<bool>), super::Cause> {
    if let Some(mut repo) = api_repo(l, options, tokens, events)? {
        let opts = ApiWriteBack {
            branch: l.branch.map(str::to_string),
            push_branch: writing.push_branch.clone(),
            paths: writing.paths.clone(),
            dry_run: writing.dry_run,
            retry: options.retry.clone(),
            timeouts: options.timeouts.clone(),
        };
        match api_lander::write_back(repo.as_mut(), &opts, log, &mut *apply) {
            Ok(out) => return Ok((out.landed, LandedVia::Api, out.verified)),
            Err(e @ (ApiLandError::Incomplete { .. } | ApiLandError::TooManyFiles { .. }))
                if l.via == Via::Auto =>
            {
                log(&format!("{e}; falling back to git"));
            }
            Err(e) => return Err(Box::new(e)),
        }
    }
    let auth = git_auth(l.url, l.kind, options, tokens)?;
    let spec = RemoteSpec {
        url: l.url.to_string(),
        branch: l.branch.map(str::to_string),
        auth,
        ca_bundle: existing_file(options.ca_bundle.as_deref(), FileRole::CaBundle)?,
    };
    let wb = WriteBackOptions {
        push_branch: writing.push_branch.clone(),
        retry: options.retry.clone(),
        timeouts: options.timeouts.clone(),
        dry_run: writing.dry_run,
        keep_clone: None,
        sparse_paths: writing.paths.clone(),
    };
    let outcome = git::write_back(&spec, &wb, log, apply)?;
    Ok((outcome, LandedVia::Git, None))
}

/// The forge repository to land through when `via` says so (see
/// [`choose`]); `None`: land with git.
fn api_repo(
    l: &Landing<'_>,
    options: &Options,
    tokens: &Tokens<'_>,
    events: &dyn Fn(Event<'_>),
) -> Result<Option<Box<dyn ApiRepo>>, BumpError> {
    let repo_id = RepoId::from_remote_url(l.url).ok();
    let api = match (l.kind, &repo_id) {
        (Some(kind), Some(repo)) => Some(
            options
                .api_url
                .clone()
                .unwrap_or_else(|| forge::default_api_base(kind, repo)),
        ),
        _ => None,
    };
    let chosen = match (&api, l.via) {
        (Some(api), Via::Auto | Via::Api) => tokens.for_destination(api)?,
        _ => None,
    };
    if l.kind == Some(ForgeKind::GitLab) && chosen.as_ref().is_some_and(|c| c.is_job_token()) {
        // GitLab's "CI/CD job token" page: the job token may only read a few API
        // endpoints (branches, commits, files: GET), never create a commit.
        if l.via == Via::Api {
            return Err(BumpError::JobTokenCannotCommitViaApi);
        }
        events(Event::Log(&format!(
            "landing with git: a GitLab CI/CD job token ({}) cannot commit through the API",
            tokens::JOB_TOKEN
        )));
        return Ok(None);
    }
    let token = chosen.map(|c| c.token);
    let choice = choose(l.via, l.url, l.kind, token.is_some())?;
    events(Event::Way(&choice));
    let (true, Some(kind), Some(repo), Some(api), Some(token)) =
        (choice.api, l.kind, repo_id, api, token)
    else {
        return Ok(None);
    };
    let connect = super::with_deadline(&options.connect, options.timeouts.overall);
    let repo = match kind {
        ForgeKind::GitHub => forge::github_repo(&api, &repo, &token, &connect),
        ForgeKind::GitLab => forge::gitlab_repo(&api, &repo, &token, &connect),
    }
    .map_err(|source| BumpError::ForgeRepository {
        kind,
        url: l.shown_url.to_string(),
        source: source.into(),
    })?;
    Ok(Some(repo))
}

/// The forge API client and repository for the pull request: the forge, the
/// repository path, the token and the API URL are all known before anything is pushed.
fn pr_forge(
    url: &str,
    shown_url: &str,
    kind: Option<ForgeKind>,
    options: &Options,
    tokens: &Tokens<'_>,
) -> Result<(Box<dyn forge::Forge>, RepoId), BumpError> {
    let kind = kind.ok_or_else(|| BumpError::UnknownForge {
        url: shown_url.to_string(),
    })?;
    let repo = RepoId::from_remote_url(url).map_err(|source| BumpError::RepositoryPath {
        url: shown_url.to_string(),
        source: source.into(),
    })?;
    let api = options
        .api_url
        .clone()
        .unwrap_or_else(|| forge::default_api_base(kind, &repo));
    let shown_api = credentials::redact(&api, &known_secrets(options));
    let chosen = tokens
        .for_destination(&api)?
        .ok_or_else(|| BumpError::PullRequestNeedsToken {
            api: shown_api.clone(),
        })?;
    if kind == ForgeKind::GitLab && chosen.is_job_token() {
        // GitLab's "CI/CD job token" page: the job token cannot create, edit or
        // merge merge requests. Said before anything is pushed.
        return Err(BumpError::JobTokenCannotOpenMergeRequest);
    }
    let connect = super::with_deadline(&options.connect, options.timeouts.overall);
    let client = forge::connect_with(kind, &api, &chosen.token, &connect).map_err(|source| {
        BumpError::ForgeConnect {
            kind,
            api: shown_api,
            source: source.into(),
        }
    })?;
    Ok((client, repo))
}
