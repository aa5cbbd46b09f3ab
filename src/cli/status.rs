//! `tagbump status`: flags → [`tagbump::environments::status`] → a table, JSON or
//! Markdown. Reads only.

use std::process::ExitCode;

use tagbump::environments::{status, Config, StatusError};

use super::args::{StatusArgs, StatusFormat};

pub fn run(a: &StatusArgs) -> ExitCode {
    let result = Config::load(&a.dir, a.config.as_deref())
        .map_err(StatusError::from)
        .and_then(|config| status(&a.dir, &config));
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
            let kind = e.kind();
            let message = super::failure::error_chain(&anyhow::Error::new(e));
            eprintln!("error: {message}");
            if a.output == StatusFormat::Json {
                let report = serde_json::json!({"error": {"message": message, "kind": kind}});
                println!("{report:#}");
            }
            ExitCode::FAILURE
        }
    }
}
