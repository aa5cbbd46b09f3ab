//! Turns parsed arguments into library calls and reports the outcome.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::{Command, CommonArgs, ImageArgs, SetArgs};
use super::failure::invalid_input;
use super::finish::finish;
use super::output::Report;
use tagbump::bump::{self, Assignments, Resolve};
use tagbump::image::parse_image_and_tag;
use tagbump::outputs::CiEnv;
use tagbump::plan::{self, FileEdits, Request};
use tagbump::targets::FindOptions;

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
        Command::Promote(a) => {
            if a.common.git.repo.len() > 1 {
                return super::promote::fan_out(&a, &env);
            }
            let result = super::promote::promote(&a, &env, &mut report);
            finish(result, report, &a.common, &CiEnv::from_env())
        }
        Command::Image(a) => {
            let find = find_options(&a);
            let job = image_request(&a, &env).and_then(|(request, registry)| {
                let search = plan::Options {
                    find,
                    argocd_app: super::registry::argocd_app(&a)?,
                    skip_unreadable: a.skip_unreadable,
                    ..plan::Options::default()
                };
                Ok((request, search, registry))
            });
            if a.common.git.repo.len() > 1 {
                return super::fanout::run(job, &a.common, &env);
            }
            let result = job.and_then(|(request, search, registry)| {
                execute(&request, &a.common, search, registry, &env, &mut report)
            });
            finish(result, report, &a.common, &CiEnv::from_env())
        }
        Command::Set(a) => {
            let job = parse_set_items(&a).map(|files| {
                let options = plan::Options {
                    create_missing: a.create,
                    ..plan::Options::default()
                };
                (Request::Set { files }, options, None)
            });
            if a.common.git.repo.len() > 1 {
                return super::fanout::run(job, &a.common, &env);
            }
            let result = job.and_then(|(request, options, registry)| {
                execute(&request, &a.common, options, registry, &env, &mut report)
            });
            finish(result, report, &a.common, &CiEnv::from_env())
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

/// The change `tagbump image` asks for, with what to ask the registry first.
fn image_request(
    a: &ImageArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Request, Option<Resolve>)> {
    if let Some((scheme, rest)) = a.image.split_once("://") {
        return Err(invalid_input(format!(
            "invalid image {:?}: drop the scheme ({scheme}://): an image reference has none, e.g. {rest}",
            a.image
        )));
    }
    let image = parse_image_and_tag(&a.image, a.tag.as_deref())
        .with_context(|| format!("invalid image {:?}", a.image))?;
    let registry = super::registry::resolve_options(a, &image, env)?;
    let chosen = super::registry::chooses_tag(a);
    if image.tag().is_none() && image.digest().is_none() && !chosen {
        return Err(invalid_input(format!(
            "image {:?} has no tag or digest: give IMAGE:TAG, IMAGE@sha256:…, --tag, or --strategy",
            a.image
        )));
    }
    let request = Request::Image {
        image,
        paths: a.paths.clone(),
    };
    Ok((request, registry))
}

/// `FILE KEY=VALUE… FILE KEY=VALUE…` ([`Assignments`]), a file named twice as one.
fn parse_set_items(a: &SetArgs) -> Result<Vec<FileEdits>> {
    let mut read = Assignments::default();
    (read.allow_empty, read.value_type, read.document) = (a.allow_empty, a.value_type, a.document);
    Ok(plan::merge_same_files(read.parse(&a.items)?)?)
}

/// Applies the request, filling `report` as it goes: on error it holds what was done
/// before the error. `options` holds what the command's own flags ask for; the flags
/// every command has are added here.
fn execute(
    request: &Request,
    common: &CommonArgs,
    options: plan::Options,
    registry: Option<Resolve>,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let mut options = super::land::bump_options(common, options, env)?;
    options.registry = registry;
    super::land::land(common, report, |destination, events| {
        bump::run(request, destination, &options, events)
    })
}
