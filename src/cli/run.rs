//! Turns parsed arguments into library calls and reports the outcome.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::{Command, CommonArgs, ImageArgs, SetArgs};
use super::failure::invalid_input;
use super::finish::finish;
use super::output::Report;
use tagbump::bump::{self, Event, Recorder, Resolve};
use tagbump::image::parse_image_and_tag;
use tagbump::plan::{self, FileEdits, Request};
use tagbump::policy::TagPolicy;
use tagbump::targets::FindOptions;
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
        Command::Promote(a) => super::promote::run(&a),
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
            finish(result, report, &a.common, &env)
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
    registry: Option<Resolve>,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let options = bump_options(common, options, registry, env)?;
    let destination = super::options::destination(common);
    let recorder = RefCell::new(Recorder::default());
    let result = bump::run(request, &destination, &options, &|event| {
        match &event {
            Event::Log(line) => eprintln!("tagbump: {line}"),
            Event::Warning(line) => eprintln!("tagbump: warning: {line}"),
            Event::Secret(token) => super::failure::hide_secrets(vec![(*token).clone()]),
            _ => {}
        }
        recorder.borrow_mut().take(&event);
    });
    *report = recorder.into_inner().finish(&result, common.dry_run);
    result.map(drop).map_err(anyhow::Error::new)
}

/// The run's options: what the command's own flags ask for (`options`), the flags
/// every command has, and what to ask the registry first.
pub(super) fn bump_options(
    common: &CommonArgs,
    options: plan::Options,
    registry: Option<Resolve>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<bump::Options> {
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
    if common.pr.pr && common.git.repo.is_empty() {
        return Err(invalid_input(
            "--pr needs --repo URL (the config repository to open the pull request in)",
        ));
    }
    let mut options = super::options::options(common, options, env)?;
    options.registry = registry;
    Ok(options)
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
