//! `tagbump status`: flags → [`tagbump::environments::status`] (a checkout) or
//! [`tagbump::bump::status`] (`--repo`) → a table, JSON or Markdown. Reads only.

use std::process::ExitCode;

use tagbump::bump::{self, Destination, Event};
use tagbump::environments::{status, Config, Status, StatusError};

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

/// Several `--repo`: each read in turn, its status under its URL as given (text: a
/// `URL:` line above its table; Markdown: a `### URL` heading; JSON: `targets`, one
/// `{repo, status, error}` per repository in the order given). Exit 0 when every one
/// was read, 5 when some were, 1 when none was.
fn each(a: &StatusArgs) -> ExitCode {
    let mut targets = Vec::new();
    let mut failed = 0;
    for (i, url) in a.remote.repo.iter().enumerate() {
        let result = remote(a, url);
        let sep = if i == 0 { "" } else { "\n" };
        match &result {
            Ok(found) => {
                warn_skipped(found, &format!("[{url}] "));
                match a.output {
                    StatusFormat::Text => print!("{sep}{url}:\n{}", found.to_text()),
                    StatusFormat::Markdown => {
                        print!("{sep}### {url}\n\n{}", found.to_markdown())
                    }
                    StatusFormat::Json => {}
                }
            }
            Err(e) => {
                failed += 1;
                let error = super::failure::error_report(e);
                eprintln!("error: [{url}] {}", error.message);
                if a.output == StatusFormat::Markdown {
                    print!("{sep}### {url}\n\nnot read: {}\n", error.message);
                }
            }
        }
        targets.push((url, result));
    }
    if a.output == StatusFormat::Json {
        let targets: Vec<serde_json::Value> = (targets.iter())
            .map(|(url, result)| match result {
                Ok(found) => {
                    let status = serde_json::to_value(found).unwrap_or_default();
                    serde_json::json!({"repo": url, "status": status, "error": null})
                }
                Err(e) => {
                    let error = super::failure::error_report(e);
                    serde_json::json!({"repo": url, "status": null, "error": error})
                }
            })
            .collect();
        println!("{:#}", serde_json::json!({ "targets": targets }));
    }
    match failed {
        0 => ExitCode::SUCCESS,
        n if n == a.remote.repo.len() => ExitCode::FAILURE,
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
    let destination = Destination::Remote {
        url: url.to_string(),
        branch: a.remote.branch.clone(),
        via: a.remote.via,
        api_url: None,
    };
    let events = |event: Event<'_>| match &event {
        Event::Log(line) => eprintln!("tagbump: {line}"),
        Event::Way(choice) => eprintln!("tagbump: {}", super::advice::way_line(choice)),
        Event::Warning(line) => eprintln!("tagbump: warning: {line}"),
        Event::Secret(token) => super::failure::hide_secrets(vec![(*token).clone()]),
        _ => {}
    };
    Ok(bump::status(
        a.config.as_deref(),
        &destination,
        &options,
        &events,
    )?)
}
