//! `tagbump status`: flags → [`tagbump::environments::status`] (a checkout) or
//! [`tagbump::bump::status`] (`--repo`) → a table, JSON or Markdown. Reads only.

use std::process::ExitCode;

use tagbump::bump::{self, Destination, Event, ReportedError};
use tagbump::environments::{status, Config, Status, StatusError};
use tagbump::outputs::{self, StatusSection};

use super::args::{StatusArgs, StatusFormat};

pub fn run(a: &StatusArgs) -> ExitCode {
    if a.remote.repo.len() > 1 {
        return each(a);
    }
    let result = match a.remote.repo.first() {
        None => Config::load(&a.dir, a.config.as_deref())
            .map_err(StatusError::from)
            .and_then(|config| status(&a.dir, &config))
            .map_err(anyhow::Error::new),
        Some(url) => remote(a, url),
    };
    match result {
        Ok(found) => {
            warn_skipped(&found, "");
            match a.output {
                StatusFormat::Text => print!("{}", found.to_text()),
                StatusFormat::Markdown => print!("{}", found.to_markdown()),
                StatusFormat::Json => match serde_json::to_string_pretty(&found) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                },
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let error = super::failure::error_report(&e);
            eprintln!("error: {}", error.message);
            if a.output == StatusFormat::Json {
                let report =
                    serde_json::json!({"error": {"message": error.message, "kind": error.kind}});
                println!("{report:#}");
            }
            if e.is::<super::failure::InvalidInput>() {
                return ExitCode::from(2);
            }
            ExitCode::FAILURE
        }
    }
}

/// Several `--repo`: each read in turn ([`bump::status_each`]), shown under its URL
/// ([`tagbump::outputs::statuses_text`] and its siblings). Exit 0 when every one was
/// read, 5 when some were, 1 when none was.
fn each(a: &StatusArgs) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let options = match super::options::read_options(&a.remote, &env) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {}", super::failure::error_report(&e).message);
            let invalid = e.is::<super::failure::InvalidInput>();
            return ExitCode::from(if invalid { 2 } else { 1 });
        }
    };
    let destinations: Vec<Destination> = (a.remote.repo.iter())
        .map(|url| destination(a, url))
        .collect();
    let read = bump::status_each(a.config.as_deref(), &destinations, &options, &|_, e| log(e));
    let worded: Vec<Result<&Status, ReportedError>> = (read.iter())
        .map(|t| match &t.result {
            Ok(found) => {
                warn_skipped(found, &format!("[{}] ", t.name));
                Ok(found)
            }
            Err(e) => {
                let error = super::failure::cause_report(e);
                eprintln!("error: [{}] {}", t.name, error.message);
                Err(error)
            }
        })
        .collect();
    let sections: Vec<StatusSection<'_>> = (read.iter().zip(&worded))
        .map(|(t, worded)| StatusSection {
            repo: &t.name,
            status: worded.as_ref().map(|found| *found),
        })
        .collect();
    print!(
        "{}",
        match a.output {
            StatusFormat::Text => outputs::statuses_text(&sections),
            StatusFormat::Markdown => outputs::statuses_markdown(&sections),
            StatusFormat::Json => outputs::statuses_json(&sections),
        }
    );
    match worded.iter().filter(|w| w.is_err()).count() {
        0 => ExitCode::SUCCESS,
        n if n == read.len() => ExitCode::FAILURE,
        _ => ExitCode::from(5),
    }
}

fn warn_skipped(found: &Status, prefix: &str) {
    for (path, why) in &found.skipped {
        eprintln!("warning: {prefix}{}: {why}", path.display());
    }
}

/// The status of the branch of `url`, the run's log on stderr.
fn remote(a: &StatusArgs, url: &str) -> anyhow::Result<Status> {
    let env = |k: &str| std::env::var(k).ok();
    let options = super::options::read_options(&a.remote, &env)?;
    Ok(bump::status(
        a.config.as_deref(),
        &destination(a, url),
        &options,
        &log,
    )?)
}

/// The branch of `url` to read.
fn destination(a: &StatusArgs, url: &str) -> Destination {
    Destination::Remote {
        url: url.to_string(),
        branch: a.remote.branch.clone(),
        via: a.remote.via,
        api_url: None,
    }
}

/// A read's events on stderr.
fn log(event: Event<'_>) {
    match &event {
        Event::Log(line) => eprintln!("tagbump: {line}"),
        Event::Way(choice) => eprintln!("tagbump: {}", super::advice::way_line(choice)),
        Event::Warning(line) => eprintln!("tagbump: warning: {line}"),
        Event::Secret(token) => super::failure::hide_secrets(vec![(*token).clone()]),
        _ => {}
    }
}
