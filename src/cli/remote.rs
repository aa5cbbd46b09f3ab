//! `--repo`: land the edit in the config repository — through the forge's API or git
//! (`--via`) — then open or update the pull / merge request.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

use super::args::{CommonArgs, MergeMethodArg, ViaArg};
use super::failure::invalid_input;
use super::output::{self, Report};
use super::run::{
    context_for, default_subject, existing_file, forge_kind, forge_options, retry_policy,
    sparse_paths, timeouts, Job,
};
use super::tokens::{Chosen, Tokens};
use tagbump::ci::Pipeline;
use tagbump::credentials;
use tagbump::forge::{self, ChangeLine, ForgeKind, MergeMethod, PullRequestSpec, RepoId};
use tagbump::git::{self, ApplyResult, Auth, RemoteSpec, WriteBackOptions, WriteBackOutcome};
use tagbump::land::api::ApiRepo;
use tagbump::land::api_lander::{self, ApiLandError, ApiWriteBack};
use tagbump::land::via::{choose, Via};
use tagbump::plan::{self, Request};
use tagbump::template;
use tagbump::url::{RemoteUrl, Transport};

/// Clones the config repository, edits, commits, pushes (or opens a PR).
#[allow(clippy::too_many_arguments)]
pub(super) fn remote(
    url: &str,
    request: &Request,
    options: &plan::Options,
    common: &CommonArgs,
    pipeline: &Pipeline,
    vars: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let secrets = credentials::known_secrets(env, common.git.token_env.as_deref());
    let shown_url = credentials::redact(url, &secrets);
    let forge_kind = forge_kind(url, common)?;
    let tokens = Tokens::new(common, env, url, forge_kind)?;
    // Everything the pull request needs is checked before anything is pushed.
    let forge = if common.pr.pr && !common.dry_run {
        Some(pr_forge(url, &shown_url, forge_kind, common, env, &tokens)?)
    } else {
        None
    };
    let push_branch = common
        .pr
        .pr
        .then(|| template::render(&common.pr.pr_branch, vars));
    let job = Job::new(request, options, common, pipeline, vars, true);
    let mut last: Option<Report> = None;
    let landed = land(
        url,
        &shown_url,
        forge_kind,
        request,
        common,
        &tokens,
        push_branch.as_deref(),
        &mut |root| job.apply(root, &mut last),
    );
    *report = last.unwrap_or_default();
    report.repo = Some(shown_url.clone());
    let (outcome, via, verified) = landed.map_err(|e| {
        *report = std::mem::take(report).nothing_done();
        e.context(context_for(request, &shown_url))
    })?;
    report.via = Some(via.to_string());
    report.verified = verified;
    report.set_git(&outcome, common.dry_run);
    report.pushed = outcome.changed && !common.dry_run;

    let Some((client, repo)) = forge.filter(|_| outcome.changed) else {
        return Ok(());
    };
    let changes: Vec<ChangeLine> = report
        .changes
        .iter()
        .filter(|c| c.changed)
        .map(|c| ChangeLine {
            file: c.file.display().to_string(),
            key: c.path.clone(),
            old: c.old.clone().unwrap_or_default(),
            new: c.new.clone(),
        })
        .collect();
    let title_template = common
        .pr
        .pr_title
        .clone()
        .unwrap_or_else(|| default_subject(request));
    let body_template = common.pr.pr_body.clone().unwrap_or_else(|| {
        "Automated update by tagbump.\n\n{changes}\n\nSource commit: {source_commit}\nPipeline: {pipeline_url}\n".to_string()
    });
    let spec = PullRequestSpec {
        repo,
        head: outcome.branch.clone(),
        base: outcome.base_branch.clone(),
        title: template::render(&title_template, vars),
        body: forge::render_body(&body_template, vars, &changes),
        labels: common.pr.labels.clone(),
        reviewers: common.pr.reviewers.clone(),
        assignees: common.pr.assignees.clone(),
        draft: common.pr.draft,
        auto_merge: common.pr.auto_merge,
        merge_method: common.pr.merge_method.map(|m| match m {
            MergeMethodArg::Merge => MergeMethod::Merge,
            MergeMethodArg::Squash => MergeMethod::Squash,
            MergeMethodArg::Rebase => MergeMethod::Rebase,
        }),
        head_sha: outcome.commit.clone(),
        supersede_prefix: common
            .pr
            .close_superseded
            .then(|| supersede_prefix(&common.pr.pr_branch, vars)),
    };
    let pr = client.ensure_pull_request(&spec).with_context(|| {
        let commit = outcome.commit.as_deref().unwrap_or_default();
        format!(
            "pushed {} to branch {}, but cannot open the pull request in {shown_url}",
            &commit[..commit.len().min(12)],
            outcome.branch
        )
    })?;
    for w in &pr.warnings {
        eprintln!("tagbump: warning: {w}");
    }
    report.pull_request = Some(output::PrReport {
        number: pr.number,
        url: pr.url.clone(),
        created: pr.created,
        closed_superseded: pr.closed_superseded.clone(),
        deleted_branches: pr.deleted_branches.clone(),
        merged: pr.merged,
    });
    Ok(())
}

/// Lands the edit through the forge API or git (`--via`), falling back from the API to
/// git where the API cannot show the whole tree. Returns the outcome, the way taken
/// (`api` / `git`) and whether the forge marked the commit verified.
#[allow(clippy::too_many_arguments)]
fn land(
    url: &str,
    shown_url: &str,
    forge_kind: Option<ForgeKind>,
    request: &Request,
    common: &CommonArgs,
    tokens: &Tokens<'_>,
    push_branch: Option<&str>,
    apply: &mut dyn FnMut(&Path) -> ApplyResult,
) -> Result<(WriteBackOutcome, &'static str, Option<bool>)> {
    let mut log = |line: &str| eprintln!("tagbump: {line}");
    if let Some(mut repo) = api_repo(url, shown_url, forge_kind, common, tokens)? {
        let opts = ApiWriteBack {
            branch: common.git.branch.clone(),
            push_branch: push_branch.map(str::to_string),
            paths: sparse_paths(request),
            dry_run: common.dry_run,
            retry: retry_policy(common),
            timeouts: timeouts(common),
        };
        match api_lander::write_back(repo.as_mut(), &opts, &mut log, &mut *apply) {
            Ok(out) => return Ok((out.landed, "api", out.verified)),
            Err(e @ (ApiLandError::Incomplete { .. } | ApiLandError::TooManyFiles { .. }))
                if common.git.via == ViaArg::Auto =>
            {
                log(&format!("{e}; falling back to git"));
            }
            Err(e) => return Err(anyhow::Error::new(e)),
        }
    }
    let auth = git_auth(url, forge_kind, common, tokens)?;
    let spec = RemoteSpec {
        url: url.to_string(),
        branch: common.git.branch.clone(),
        auth,
        ca_bundle: existing_file(common.git.ca_bundle.as_deref(), "--ca-bundle")?,
    };
    let wb = WriteBackOptions {
        push_branch: push_branch.map(str::to_string),
        retry: retry_policy(common),
        timeouts: timeouts(common),
        dry_run: common.dry_run,
        keep_clone: None,
        sparse_paths: sparse_paths(request),
    };
    let outcome = git::write_back(&spec, &wb, &mut log, &mut *apply)?;
    Ok((outcome, "git", None))
}

/// The forge repository to land through when `--via` says so (see
/// [`tagbump::land::via::choose`]); `None`: land with git.
fn api_repo(
    url: &str,
    shown_url: &str,
    kind: Option<ForgeKind>,
    common: &CommonArgs,
    tokens: &Tokens<'_>,
) -> Result<Option<Box<dyn ApiRepo>>> {
    let via = match common.git.via {
        ViaArg::Auto => Via::Auto,
        ViaArg::Api => Via::Api,
        ViaArg::Git => Via::Git,
    };
    let repo_id = RepoId::from_remote_url(url).ok();
    let api = match (kind, &repo_id) {
        (Some(kind), Some(repo)) => Some(
            common
                .pr
                .api_url
                .clone()
                .unwrap_or_else(|| forge::default_api_base(kind, repo)),
        ),
        _ => None,
    };
    let chosen = match (&api, via) {
        (Some(api), Via::Auto | Via::Api) => tokens.for_destination(api)?,
        _ => None,
    };
    if kind == Some(ForgeKind::GitLab) && chosen.as_ref().is_some_and(is_job_token) {
        // GitLab's "CI/CD job token" page: the job token may only read a few API
        // endpoints (branches, commits, files: GET), never create a commit.
        if via == Via::Api {
            return Err(invalid_input(format!(
                "--via api cannot use {JOB_TOKEN}: a GitLab CI/CD job token cannot commit through the API. Land with git (--via git or auto; the project must allow Git push requests with job tokens), or set TAGBUMP_TOKEN to a project or group access token (Developer role, api scope)"
            )));
        }
        eprintln!(
            "tagbump: landing with git: a GitLab CI/CD job token ({JOB_TOKEN}) cannot commit through the API"
        );
        return Ok(None);
    }
    let token = chosen.map(|c| c.token);
    let choice = choose(via, url, kind, token.is_some()).map_err(invalid_input)?;
    eprintln!("tagbump: {choice}");
    let (true, Some(kind), Some(repo), Some(api), Some(token)) =
        (choice.api, kind, repo_id, api, token)
    else {
        return Ok(None);
    };
    let options = forge_options(common);
    let repo = match kind {
        ForgeKind::GitHub => forge::github_repo(&api, &repo, &token, &options),
        ForgeKind::GitLab => forge::gitlab_repo(&api, &repo, &token, &options),
    }
    .with_context(|| format!("cannot use the {kind} API for {shown_url}"))?;
    Ok(Some(repo))
}

/// The forge API client and repository for `--pr`: the forge, the repository path, the
/// token and the API URL are all known before anything is pushed.
fn pr_forge(
    url: &str,
    shown_url: &str,
    kind: Option<ForgeKind>,
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
    tokens: &Tokens<'_>,
) -> Result<(Box<dyn forge::Forge>, RepoId)> {
    let kind = kind.ok_or_else(|| {
        invalid_input(format!(
            "cannot tell which forge hosts {shown_url}: pass --forge github|gitlab"
        ))
    })?;
    let repo = RepoId::from_remote_url(url)
        .with_context(|| format!("cannot read the repository path from {shown_url}"))?;
    let api = common
        .pr
        .api_url
        .clone()
        .unwrap_or_else(|| forge::default_api_base(kind, &repo));
    let secrets = credentials::known_secrets(env, common.git.token_env.as_deref());
    let shown_api = credentials::redact(&api, &secrets);
    let chosen = tokens
        .for_destination(&api)?
        .ok_or_else(|| invalid_input(format!("--pr needs an API token for {shown_api}: set TAGBUMP_TOKEN, GITHUB_TOKEN or GITLAB_TOKEN (each only for its own forge's host), name one with --token-env, or use a GitHub App (--github-app-id)")))?;
    if kind == ForgeKind::GitLab && is_job_token(&chosen) {
        // GitLab's "CI/CD job token" page: the job token cannot create, edit or
        // merge merge requests. Said before anything is pushed.
        return Err(invalid_input(format!(
            "--pr cannot use {JOB_TOKEN}: a GitLab CI/CD job token cannot create, edit or merge merge requests. Set TAGBUMP_TOKEN (a masked CI/CD variable) to a project or group access token with the Developer role and the api scope"
        )));
    }
    let token = chosen.token;
    let options = forge_options(common);
    let client = forge::connect_with(kind, &api, &token, &options)
        .with_context(|| format!("cannot connect to the {kind} API at {shown_api}"))?;
    Ok((client, repo))
}

/// The variable GitLab CI puts the job token in.
const JOB_TOKEN: &str = "CI_JOB_TOKEN";

/// Whether the chosen token is GitLab's CI/CD job token (also when named with
/// --token-env: the value is still a job token).
fn is_job_token(chosen: &Chosen) -> bool {
    chosen.source == JOB_TOKEN
}

/// The branch prefix shared by every PR of the same image: the branch template rendered
/// with the tag part left empty.
fn supersede_prefix(branch_template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut v = vars.clone();
    let image_slug = v.get("image_slug").cloned().unwrap_or_default();
    v.insert("slug".into(), format!("{image_slug}/"));
    v.insert("tag_slug".into(), String::new());
    v.insert("tag".into(), String::new());
    template::render(branch_template, &v)
}

/// The credentials git gets for `url`, by its transport ([`RemoteUrl`]): `--ssh-key`
/// over SSH (also the scp form without a user), a token over http(s), nothing else.
/// A URL that does not parse gets nothing: `git` refuses it, with the reason.
pub(super) fn git_auth(
    url: &str,
    forge_kind: Option<ForgeKind>,
    common: &CommonArgs,
    tokens: &Tokens<'_>,
) -> Result<Auth> {
    Ok(match RemoteUrl::parse(url).map(|u| u.transport()) {
        Ok(Transport::Ssh) => Auth::Ssh {
            key_file: existing_file(common.git.ssh_key.as_deref(), "--ssh-key")?,
        },
        Ok(Transport::Https | Transport::Http) => {
            tokens.git_auth(forge_kind, url)?.unwrap_or(Auth::Anonymous)
        }
        Ok(Transport::Git | Transport::File) | Err(_) => Auth::Anonymous,
    })
}
