//! The flags every command has, as [`tagbump::bump`] options: tokens, commit, pull
//! request, network limits.

use std::sync::Arc;

use anyhow::Result;

use super::args::CommonArgs;
use tagbump::bump::{self, AppConfig, CommitTemplate, Destination, TokenSource, APP_KEY_VARIABLE};
use tagbump::forge;
use tagbump::git::{Identity, RetryPolicy, Timeouts};
use tagbump::plan;

/// The variable that shortens the first wait after a headerless GitHub secondary rate
/// limit, in milliseconds. A test seam: read only by builds with the `test-seams`
/// feature (the test builds), never by a shipped binary (GitHub asks for at least a
/// minute).
#[cfg(feature = "test-seams")]
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
    common
        .git
        .repo
        .iter()
        .map(|url| remote(common, url))
        .collect()
}

fn remote(common: &CommonArgs, url: &str) -> Destination {
    let g = &common.git;
    Destination::Remote {
        url: url.to_string(),
        branch: g.branch.clone(),
        via: g.via,
        api_url: None,
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
        token_source(
            g.token_env.clone(),
            (g.github_app_id.clone(), g.github_app_key.clone()),
            env,
        )?
    } else {
        TokenSource::default()
    };
    let tagbump = CommitTemplate::default().author;
    let author = Identity {
        name: g.author_name.clone().unwrap_or(tagbump.name),
        email: g.author_email.clone().unwrap_or(tagbump.email),
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
    options.pull_request = common.pr.wanted().then(|| pull_request(common));
    options.tokens = Arc::new(tokens);
    options.forge = common.pr.forge;
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

pub fn pull_request(common: &CommonArgs) -> bump::PullRequest {
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
        merge_method: p.merge_method,
        close_superseded: p.close_superseded,
    }
}

/// The options of a remote read (`status --repo`).
pub fn read_options(
    r: &super::args::ReadArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<bump::Options> {
    let mut options = bump::Options::default();
    options.tokens = Arc::new(token_source(
        r.token_env.clone(),
        (r.github_app_id.clone(), r.github_app_key.clone()),
        env,
    )?);
    options.forge = r.forge;
    options.api_url = r.api_url.clone();
    options.username = r.username.clone();
    options.ssh_key = r.ssh_key.clone();
    options.ca_bundle = r.ca_bundle.clone();
    options.timeouts = Timeouts {
        overall: r.timeout,
        idle: r.io_timeout,
    };
    options.connect = forge_options();
    Ok(options)
}

/// How forge API calls behave: warnings on stderr; the deadline is the library's.
fn forge_options() -> forge::ConnectOptions {
    forge::ConnectOptions {
        log: Arc::new(|line| eprintln!("tagbump: {line}")),
        secondary_rate_limit_wait: secondary_rate_limit_wait(),
        ..forge::ConnectOptions::default()
    }
}

/// GitHub's wait after a headerless secondary rate limit ([`SECONDARY_WAIT_VARIABLE`]
/// in test builds).
#[cfg(feature = "test-seams")]
fn secondary_rate_limit_wait() -> std::time::Duration {
    std::env::var(SECONDARY_WAIT_VARIABLE)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map_or(
            forge::ConnectOptions::SECONDARY_RATE_LIMIT_WAIT,
            std::time::Duration::from_millis,
        )
}

/// GitHub's wait after a headerless secondary rate limit: what GitHub asks for.
#[cfg(not(feature = "test-seams"))]
fn secondary_rate_limit_wait() -> std::time::Duration {
    forge::ConnectOptions::SECONDARY_RATE_LIMIT_WAIT
}

/// `--github-app-id` with its key (then the token variables), or the token variables
/// (`--token-env`).
fn token_source(
    variable: Option<String>,
    (app_id, key_file): (Option<String>, Option<std::path::PathBuf>),
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TokenSource> {
    let variables = TokenSource::Environment { variable };
    let mut app = AppConfig::default();
    (app.app_id, app.key_file) = (app_id, key_file);
    app.key_pem = env(APP_KEY_VARIABLE);
    Ok(match app.app()? {
        Some(app) => TokenSource::Chain(vec![TokenSource::GitHubApp(app), variables]),
        None => variables,
    })
}
