//! Turns parsed arguments into library calls and reports the outcome.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::{Command, CommonArgs, ForgeArg, ImageArgs, SetArgs};
use super::failure::invalid_input;
use super::finish::finish;
use super::output::Report;
use super::tokens::Tokens;
use tagbump::ci::{self, Pipeline};
use tagbump::forge::{self, ForgeKind, RepoId};
use tagbump::git::{self, Applied, CommitInfo, Identity, RetryPolicy, Timeouts, WriteBackOptions};
use tagbump::image::parse_image_and_tag;
use tagbump::plan::{self, FileEdits, Plan, Request};
use tagbump::policy::TagPolicy;
use tagbump::targets::FindOptions;
use tagbump::template;
use tagbump::yaml::{Edit, KeyPath};

/// Runs one command and reports its outcome (see [`finish`]).
pub fn run(command: Command) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let mut report = Report::default();
    match command {
        Command::Completions { shell } => {
            let mut cmd = <super::args::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "tagbump", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Status(a) => super::status::run(&a),
        Command::Image(a) => {
            let find = find_options(&a);
            let mut registry = None;
            let result = image_request(&a, &env, &mut registry).and_then(|request| {
                let search = plan::Options {
                    find,
                    argocd_app: super::registry::argocd_app(&a)?,
                    skip_unreadable: a.skip_unreadable,
                    ..plan::Options::default()
                };
                execute(&request, &a.common, search, &env, &mut report)
            });
            report.registry = registry;
            finish(result, report, &a.common, &env)
        }
        Command::Set(a) => {
            let result = parse_set_items(&a).and_then(|files| {
                let options = plan::Options {
                    create_missing: a.create,
                    ..plan::Options::default()
                };
                execute(
                    &Request::Set { files },
                    &a.common,
                    options,
                    &env,
                    &mut report,
                )
            });
            finish(result, report, &a.common, &env)
        }
    }
}

/// What `tagbump image` looks for besides the image.
fn find_options(a: &ImageArgs) -> FindOptions {
    FindOptions {
        flux_policy: a.flux_policy.clone(),
        app_version: a.app_version,
        argocd_parameters: a
            .argocd_params
            .iter()
            .map(|p| match p.split_once(',') {
                Some((name, tag)) => (name.trim().to_string(), Some(tag.trim().to_string())),
                None => (p.trim().to_string(), None),
            })
            .collect(),
    }
}

fn image_request(
    a: &ImageArgs,
    env: &dyn Fn(&str) -> Option<String>,
    registry: &mut Option<super::registry::RegistryReport>,
) -> Result<Request> {
    if let Some((scheme, rest)) = a.image.split_once("://") {
        return Err(invalid_input(format!(
            "invalid image {:?}: drop the scheme ({scheme}://): an image reference has none, e.g. {rest}",
            a.image
        )));
    }
    let image = parse_image_and_tag(&a.image, a.tag.as_deref())
        .with_context(|| format!("invalid image {:?}", a.image))?;
    let image = super::registry::resolve(a, image, env, registry)?;
    if image.tag().is_none() && image.digest().is_none() {
        return Err(invalid_input(format!(
            "image {:?} has no tag or digest: give IMAGE:TAG, IMAGE@sha256:…, --tag, or --strategy",
            a.image
        )));
    }
    Ok(Request::Image {
        image,
        paths: a.paths.clone(),
    })
}

/// `FILE KEY=VALUE… FILE KEY=VALUE…`: an item with `=` outside quotes is an assignment
/// for the file before it.
fn parse_set_items(args: &SetArgs) -> Result<Vec<FileEdits>> {
    let mut files: Vec<FileEdits> = Vec::new();
    for item in &args.items {
        match split_assignment(item) {
            Some((key, value)) => {
                if value.is_empty() && !args.allow_empty {
                    return Err(invalid_input(format!(
                        "{item:?}: the value is empty; pass --allow-empty to set an empty string"
                    )));
                }
                let Some(current) = files.last_mut() else {
                    return Err(invalid_input(format!("{item:?}: name the file before its KEY=VALUE assignments (tagbump set FILE KEY=VALUE…)")));
                };
                let path = KeyPath::parse(key)
                    .with_context(|| format!("in {} ", current.file.display()))?;
                let value_type = args.value_type.library();
                value_type.check(value).map_err(|why| {
                    let ty = format!("{:?}", args.value_type).to_lowercase();
                    invalid_input(format!("{item} (--type {ty}): {why}"))
                })?;
                current.edits.push(Edit {
                    path,
                    value: value.to_string(),
                    document: args.document,
                    value_type,
                });
            }
            None => files.push(FileEdits {
                file: PathBuf::from(item),
                edits: Vec::new(),
            }),
        }
    }
    // `image.tag:v1` (a colon for `=`) is read as a file name: say so first.
    for f in files
        .iter()
        .filter(|f| f.edits.is_empty() && !f.file.exists())
    {
        let name = f.file.display().to_string();
        if let Some((key, value)) = name.split_once(':') {
            return Err(invalid_input(format!(
                "{name} was read as a file name, since it has no `=`; to set {key} write {key}={value}"
            )));
        }
    }
    if let Some(empty) = files.iter().find(|f| f.edits.is_empty()) {
        return Err(invalid_input(format!(
            "{}: no KEY=VALUE given for this file (e.g. {} image.tag=v1.2.3)",
            empty.file.display(),
            empty.file.display()
        )));
    }
    Ok(plan::merge_same_files(files)?)
}

/// Splits `key=value` at the first `=` outside quotes.
fn split_assignment(item: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in item.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '=') => return Some((&item[..i], &item[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Applies the request, filling `report` as it goes: on error it holds what was done
/// before the error. `options` holds what the command's own flags ask for; the flags
/// every command has are added here.
fn execute(
    request: &Request,
    common: &CommonArgs,
    options: plan::Options,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let options = plan::Options {
        refuse_aliased: common.no_aliased,
        policy: TagPolicy {
            no_downgrade: common.no_downgrade,
            allow_tags: common
                .allow_tags
                .as_deref()
                .map(tagbump::registry::strategy::allow_regex)
                .transpose()
                .context("invalid --allow-tags regular expression")?,
        },
        ..options
    };
    let pipeline = Pipeline::detect(env);
    let vars = template_vars(request, &pipeline);
    if common.pr.pr && common.git.repo.is_none() {
        return Err(invalid_input(
            "--pr needs --repo URL (the config repository to open the pull request in)",
        ));
    }

    match &common.git.repo {
        Some(url) => super::remote::remote(
            url, request, &options, common, &pipeline, &vars, env, report,
        ),
        None if common.git.commit || common.git.push => {
            local_commit(request, &options, common, &pipeline, &vars, env, report)
        }
        None => local(request, &options, common, report),
    }
}

/// Edits files in a directory, no git.
fn local(
    request: &Request,
    options: &plan::Options,
    common: &CommonArgs,
    report: &mut Report,
) -> Result<()> {
    let plan = plan::plan(&common.dir, request, options)
        .with_context(|| context_for(request, &common.dir.display().to_string()))?;
    *report = Report::from_plan(&plan);
    if common.dry_run {
        return Ok(());
    }
    let written = plan.write().map_err(|e| {
        *report = std::mem::take(report).nothing_done();
        anyhow::Error::new(e).context(context_for(request, &common.dir.display().to_string()))
    })?;
    report.files = written;
    Ok(())
}

/// Edits an existing checkout, commits, and optionally pushes.
fn local_commit(
    request: &Request,
    options: &plan::Options,
    common: &CommonArgs,
    pipeline: &Pipeline,
    vars: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let auth = if common.git.push {
        let push_url = local_push_url(&common.dir).unwrap_or_default();
        let kind = forge_kind(&push_url, common)?;
        let tokens = Tokens::new(common, env, &push_url, kind)?;
        Some(super::remote::git_auth(&push_url, kind, common, &tokens)?)
    } else {
        None
    };
    let wb = WriteBackOptions {
        push_branch: None,
        retry: retry_policy(common),
        timeouts: timeouts(common),
        dry_run: common.dry_run,
        keep_clone: None,
        sparse_paths: None,
    };
    let job = Job::new(request, options, common, pipeline, vars, false);
    let mut last: Option<Report> = None;
    let mut log = |line: &str| eprintln!("tagbump: {line}");
    let outcome = git::commit_local(&common.dir, auth.as_ref(), &wb, &mut log, |root| {
        job.apply(root, &mut last)
    });
    *report = last.unwrap_or_default();
    let outcome = outcome.map_err(|e| {
        *report = std::mem::take(report).nothing_done();
        anyhow::Error::new(e).context(context_for(request, &common.dir.display().to_string()))
    })?;
    report.set_git(&outcome, common.dry_run);
    report.pushed = common.git.push && outcome.changed && !common.dry_run;
    Ok(())
}

/// What both git modes run in the checkout: plan, write, describe the commit.
pub(super) struct Job<'a> {
    request: &'a Request,
    options: &'a plan::Options,
    /// Write the edited files. Off in a dry run on the user's own checkout; on in a
    /// throwaway clone, where git then sees (and reports) what would be committed.
    write: bool,
    commit: CommitInfo,
    vars: &'a BTreeMap<String, String>,
}

impl<'a> Job<'a> {
    pub(super) fn new(
        request: &'a Request,
        options: &'a plan::Options,
        common: &CommonArgs,
        pipeline: &Pipeline,
        vars: &'a BTreeMap<String, String>,
        throwaway_clone: bool,
    ) -> Self {
        Job {
            request,
            options,
            write: !common.dry_run || throwaway_clone,
            commit: commit_info(common, pipeline, request),
            vars,
        }
    }

    /// Applies the request under `root` (a checkout), keeping the report of the last
    /// attempt in `last`.
    pub(super) fn apply(
        &self,
        root: &Path,
        last: &mut Option<Report>,
    ) -> Result<Applied, Box<dyn std::error::Error + Send + Sync>> {
        let plan: Plan = plan::plan(root, self.request, self.options)?;
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
        *last = Some(Report::from_plan(&plan));
        Ok(Applied { files, commit })
    }
}

/// The only paths the edit reads or writes, so the clone can check out just these:
/// `set`'s files, `image`'s explicit paths. `None` (the whole tip) when `image` searches
/// the root, or when a path is absolute or climbs with `..` (the plan then reports it).
pub(super) fn sparse_paths(request: &Request) -> Option<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = match request {
        Request::Set { files } => files.iter().map(|f| f.file.clone()).collect(),
        Request::Image { paths, .. } if !paths.is_empty() => paths.clone(),
        Request::Image { .. } => return None,
    };
    let relative = paths.iter().all(|p| {
        p.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    });
    relative.then_some(paths)
}

/// `cannot apply X in PLACE`; a local run in the current directory names no place (the
/// summary and the error name the files).
pub(super) fn context_for(request: &Request, place: &str) -> String {
    if place == "." {
        format!("cannot apply {}", request.summary())
    } else {
        format!("cannot apply {} in {place}", request.summary())
    }
}

pub(super) fn retry_policy(common: &CommonArgs) -> RetryPolicy {
    RetryPolicy {
        retry_for: common.git.retry_for,
        max_attempts: common.git.retries.map(|n| n.max(1)),
        ..RetryPolicy::default()
    }
}

/// The variable that shortens the first wait after a headerless GitHub secondary rate
/// limit, in milliseconds (tests only: GitHub asks for at least a minute).
pub(super) const SECONDARY_WAIT_VARIABLE: &str = "TAGBUMP_TEST_SECONDARY_RATE_LIMIT_WAIT_MS";

/// How forge API calls of this run behave: warnings on stderr, the run's deadline, and
/// (for tests only) [`SECONDARY_WAIT_VARIABLE`].
pub(super) fn forge_options(common: &CommonArgs) -> forge::ConnectOptions {
    let secondary_rate_limit_wait = std::env::var(SECONDARY_WAIT_VARIABLE)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map_or(
            forge::ConnectOptions::SECONDARY_RATE_LIMIT_WAIT,
            std::time::Duration::from_millis,
        );
    forge::ConnectOptions {
        log: std::sync::Arc::new(|line| eprintln!("tagbump: {line}")),
        timeouts: forge::Timeouts {
            deadline: Some(std::time::Instant::now() + common.git.timeout),
            ..forge::Timeouts::default()
        },
        secondary_rate_limit_wait,
        ..forge::ConnectOptions::default()
    }
}

pub(super) fn timeouts(common: &CommonArgs) -> Timeouts {
    Timeouts {
        overall: common.git.timeout,
        idle: common.git.io_timeout,
    }
}

/// The commit's message template (rendered per attempt, with `{files}`) and identities.
fn commit_info(common: &CommonArgs, pipeline: &Pipeline, request: &Request) -> CommitInfo {
    let g = &common.git;
    let author = Identity {
        name: g
            .author_name
            .clone()
            .unwrap_or_else(|| "tagbump".to_string()),
        email: g
            .author_email
            .clone()
            .unwrap_or_else(|| "tagbump@localhost".to_string()),
    };
    let committer = Identity {
        name: g
            .committer_name
            .clone()
            .unwrap_or_else(|| author.name.clone()),
        email: g
            .committer_email
            .clone()
            .unwrap_or_else(|| author.email.clone()),
    };
    let template_text = g
        .message
        .clone()
        .unwrap_or_else(|| default_subject(request));
    let trailers = if g.no_trailers {
        Vec::new()
    } else {
        pipeline.trailers()
    };
    CommitInfo {
        message: ci::with_trailers(&template_text, &trailers),
        author,
        committer,
    }
}

pub(super) fn default_subject(request: &Request) -> String {
    match request {
        Request::Image { .. } => "chore(deploy): bump {image} to {tag}".to_string(),
        Request::Set { .. } => "chore(deploy): set {summary}".to_string(),
    }
}

fn template_vars(request: &Request, pipeline: &Pipeline) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    pipeline.vars(&mut vars);
    match request {
        Request::Image { image, .. } => {
            let tag = image
                .tag()
                .map(str::to_string)
                .or_else(|| image.digest().map(str::to_string))
                .unwrap_or_default();
            vars.insert("mode".into(), "image".into());
            vars.insert("image".into(), image.familiar_name());
            vars.insert("tag".into(), tag.clone());
            vars.insert(
                "digest".into(),
                image.digest().unwrap_or_default().to_string(),
            );
            vars.insert("image_slug".into(), template::slug(&image.familiar_name()));
            vars.insert("tag_slug".into(), template::slug(&tag));
        }
        Request::Set { files } => {
            let values: Vec<String> = files
                .iter()
                .flat_map(|f| f.edits.iter().map(|e| e.value.clone()))
                .collect();
            let first = files
                .first()
                .map(|f| f.file.display().to_string())
                .unwrap_or_default();
            vars.insert("mode".into(), "set".into());
            vars.insert("image".into(), first.clone());
            vars.insert("tag".into(), values.join(","));
            vars.insert("digest".into(), String::new());
            vars.insert("image_slug".into(), template::slug(&first));
            vars.insert("tag_slug".into(), template::slug(&values.join("-")));
        }
    }
    vars.insert("summary".into(), request.summary());
    let slug = format!(
        "{}/{}",
        vars.get("image_slug").cloned().unwrap_or_default(),
        vars.get("tag_slug").cloned().unwrap_or_default()
    );
    vars.insert("slug".into(), slug);
    vars
}

/// An absolute path to an existing file: git runs inside the temporary clone, where a
/// relative path would point elsewhere.
pub(super) fn existing_file(path: Option<&Path>, flag: &str) -> Result<Option<PathBuf>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let absolute = std::path::absolute(path)
        .with_context(|| format!("{flag} {}: cannot resolve the path", path.display()))?;
    if !absolute.is_file() {
        return Err(invalid_input(format!(
            "{flag} {}: no such file",
            path.display()
        )));
    }
    Ok(Some(absolute))
}

pub(super) fn forge_kind(url: &str, common: &CommonArgs) -> Result<Option<ForgeKind>> {
    if let Some(f) = common.pr.forge {
        return Ok(Some(match f {
            ForgeArg::Github => ForgeKind::GitHub,
            ForgeArg::Gitlab => ForgeKind::GitLab,
        }));
    }
    Ok(RepoId::from_remote_url(url)
        .ok()
        .and_then(|r| forge::detect_kind(&r)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_split_outside_quotes() {
        assert_eq!(split_assignment("image.tag=v1"), Some(("image.tag", "v1")));
        assert_eq!(split_assignment("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_assignment("x.\"k=v\"=1"), Some(("x.\"k=v\"", "1")));
        assert_eq!(split_assignment("apps/api/values.yaml"), None);
    }
}
