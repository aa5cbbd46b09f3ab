//! The flags every command has, as [`tagbump::bump`] options: tokens, commit, pull
//! request, network limits.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::args::{CommonArgs, ForgeArg, MergeMethodArg, ViaArg};
use super::failure::invalid_input;
use tagbump::bump::{self, CommitTemplate, Destination, TokenSource};
use tagbump::forge::github_app::{AppKey, GitHubApp};
use tagbump::forge::{self, ForgeKind, MergeMethod};
use tagbump::git::{Identity, RetryPolicy, Timeouts};
use tagbump::land::via::Via;
use tagbump::plan;

/// The variable holding the App's PEM key itself.
const APP_KEY_VARIABLE: &str = "TAGBUMP_GITHUB_APP_KEY";

/// The variable that shortens the first wait after a headerless GitHub secondary rate
/// limit, in milliseconds (tests only: GitHub asks for at least a minute).
const SECONDARY_WAIT_VARIABLE: &str = "TAGBUMP_TEST_SECONDARY_RATE_LIMIT_WAIT_MS";

/// Where the change goes, from `--repo`, `--commit`, `--push` and `--dir` (the first
/// `--repo`; [`destinations`] for all).
pub fn destination(common: &CommonArgs) -> Destination {
    let g = &common.git;
    match g.repo.first() {
        Some(url) => remote(common, url),
        None if g.commit || g.push => Destination::Checkout {
            dir: common.dir.clone(),
            push: g.push,
        },
        None => Destination::Directory(common.dir.clone()),
    }
}

/// Every `--repo`, in the order given.
pub fn destinations(common: &CommonArgs) -> Vec<Destination> {
    common.git.repo.iter().map(|url| remote(common, url)).collect()
}

fn remote(common: &CommonArgs, url: &str) -> Destination {
    let g = &common.git;
    Destination::Remote {
        url: url.to_string(),
        branch: g.branch.clone(),
        via: match g.via {
            ViaArg::Auto => Via::Auto,
            ViaArg::Api => Via::Api,
            ViaArg::Git => Via::Git,
        },
    }
}

/// The run's options; `plan` holds what the command's own flags ask for.
pub fn options(
    common: &CommonArgs,
    plan: plan::Options,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<bump::Options> {
    let g = &common.git;
    // Tokens matter only where something is pushed or read remotely.
    let tokens = if !g.repo.is_empty() || g.push {
        token_source(common, env)?
    } else {
        TokenSource::default()
    };
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
    let mut options = bump::Options::default();
    options.plan = plan;
    options.dry_run = common.dry_run;
    options.commit = CommitTemplate {
        message: g.message.clone(),
        author,
        committer,
        trailers: !g.no_trailers,
    };
    options.pull_request = common.pr.pr.then(|| pull_request(common));
    options.tokens = Arc::new(tokens);
    options.forge = common.pr.forge.map(|f| match f {
        ForgeArg::Github => ForgeKind::GitHub,
        ForgeArg::Gitlab => ForgeKind::GitLab,
    });
    options.api_url = common.pr.api_url.clone();
    options.username = g.username.clone();
    options.ssh_key = g.ssh_key.clone();
    options.ca_bundle = g.ca_bundle.clone();
    options.retry = RetryPolicy {
        retry_for: g.retry_for,
        max_attempts: g.retries.map(|n| n.max(1)),
        ..RetryPolicy::default()
    };
    options.timeouts = Timeouts {
        overall: g.timeout,
        idle: g.io_timeout,
    };
    options.connect = forge_options();
    Ok(options)
}

fn pull_request(common: &CommonArgs) -> bump::PullRequest {
    let p = &common.pr;
    bump::PullRequest {
        branch: p.pr_branch.clone(),
        title: p.pr_title.clone(),
        body: p.pr_body.clone(),
        labels: p.labels.clone(),
        reviewers: p.reviewers.clone(),
        assignees: p.assignees.clone(),
        draft: p.draft,
        auto_merge: p.auto_merge,
        merge_method: p.merge_method.map(|m| match m {
            MergeMethodArg::Merge => MergeMethod::Merge,
            MergeMethodArg::Squash => MergeMethod::Squash,
            MergeMethodArg::Rebase => MergeMethod::Rebase,
        }),
        close_superseded: p.close_superseded,
    }
}

/// How forge API calls behave: warnings on stderr and (for tests only)
/// [`SECONDARY_WAIT_VARIABLE`]; the deadline is the library's.
fn forge_options() -> forge::ConnectOptions {
    let secondary_rate_limit_wait = std::env::var(SECONDARY_WAIT_VARIABLE)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map_or(
            forge::ConnectOptions::SECONDARY_RATE_LIMIT_WAIT,
            std::time::Duration::from_millis,
        );
    forge::ConnectOptions {
        log: Arc::new(|line| eprintln!("tagbump: {line}")),
        secondary_rate_limit_wait,
        ..forge::ConnectOptions::default()
    }
}

/// `--github-app-id` with its key (then the token variables), or the token variables
/// (`--token-env`).
fn token_source(common: &CommonArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<TokenSource> {
    let g = &common.git;
    let variables = TokenSource::Environment {
        variable: g.token_env.clone(),
    };
    let key_env = env(APP_KEY_VARIABLE).filter(|v| !v.trim().is_empty());
    let app_id = g
        .github_app_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty());
    let Some(app_id) = app_id else {
        if g.github_app_key.is_some() || key_env.is_some() {
            return Err(invalid_input(format!(
                "a GitHub App key is given (--github-app-key or {APP_KEY_VARIABLE}) but no app: add --github-app-id ID (or TAGBUMP_GITHUB_APP_ID)"
            )));
        }
        return Ok(variables);
    };
    let pem = match (&g.github_app_key, key_env) {
        (Some(path), _) => read_key_file(path)?,
        (None, Some(pem)) => pem.into_bytes(),
        (None, None) => {
            return Err(invalid_input(format!(
                "--github-app-id needs the app's private key: --github-app-key FILE, or the PEM itself in {APP_KEY_VARIABLE}"
            )))
        }
    };
    let key = AppKey::from_pem(&pem)
        .with_context(|| format!("the GitHub App key (--github-app-key or {APP_KEY_VARIABLE})"))?;
    let app = GitHubApp {
        app_id: app_id.to_string(),
        key,
    };
    Ok(TokenSource::Chain(vec![
        TokenSource::GitHubApp(app),
        variables,
    ]))
}

fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        invalid_input(format!(
            "--github-app-key {}: cannot read the key file ({})",
            path.display(),
            e.kind()
        ))
    })
}
