//! `tagbump status`: flags → [`tagbump::environments::status`] (a checkout) or
//! [`tagbump::bump::status`] (`--repo`) → a table, JSON or Markdown. Reads only.

use std::process::ExitCode;

use tagbump::bump::{self, Destination, Event};
use tagbump::environments::{status, Config, Status, StatusError};

use super::args::{StatusArgs, StatusFormat};

pub fn run(a: &StatusArgs) -> ExitCode {
    let result = match &a.remote.repo {
        None => Config::load(&a.dir, a.config.as_deref())
            .map_err(StatusError::from)
            .and_then(|config| status(&a.dir, &config))
            .map_err(anyhow::Error::new),
        Some(url) => remote(a, url),
    };
    match result {
        Ok(found) => {
            for (path, why) in &found.skipped {
                eprintln!("warning: {}: {why}", path.display());
            }
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
