//! `tagbump promote`: flags → [`tagbump::environments::promote`] → the files in the
//! directory written, and `image`'s report plus the promotion. Local only.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tagbump::environments::{
    promote, Config, PromoteError, PromoteRequest, Promotion, StatusError,
};
use tagbump::plan;

use super::args::{OutputFormat, PromoteArgs};
use super::failure::{error_chain, error_report, kind};
use super::finish::{EXIT_FAILURE, EXIT_INVALID_INPUT};
use super::output::Report;
use tagbump::outputs::promotion_text;

pub fn run(a: &PromoteArgs) -> ExitCode {
    match promote_here(a) {
        Ok((report, promotion)) => match print(&report, Some(&promotion), a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot print the report: {e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
        Err(error) => {
            let report = Report {
                dry_run: a.dry_run,
                error: Some(error_report(&error)),
                ..Report::default()
            };
            if a.output == OutputFormat::Json {
                if let Err(e) = print(&report, None, a) {
                    eprintln!("tagbump: warning: cannot print the report: {e}");
                }
            }
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(if kind(&error) == "invalid-input" {
                EXIT_INVALID_INPUT
            } else {
                EXIT_FAILURE
            })
        }
    }
}

/// Computes the promotion and writes it (unless a dry run).
fn promote_here(a: &PromoteArgs) -> Result<(Report, Promotion)> {
    let config = Config::load(&a.dir, a.config.as_deref())
        .map_err(|e| PromoteError::from(StatusError::from(e)))?;
    let request = PromoteRequest {
        to: a.to.clone(),
        from: a.from.clone(),
        images: a.images.clone(),
    };
    let done = promote(&a.dir, &config, &request, &plan::Options::default())?;
    for (path, why) in &done.plan.skipped {
        eprintln!("tagbump: warning: skipped {}: {why}", path.display());
    }
    let mut report = Report::from_plan(&done.plan);
    report.dry_run = a.dry_run;
    if !a.dry_run {
        report.files = done.plan.write()?;
        report.diff = None;
    }
    Ok((report, done.promotion))
}

fn print(report: &Report, promotion: Option<&Promotion>, a: &PromoteArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match a.output {
        OutputFormat::Json => {
            #[derive(serde::Serialize)]
            struct Json<'a> {
                #[serde(flatten)]
                report: &'a Report,
                promotion: Option<&'a Promotion>,
            }
            serde_json::to_writer_pretty(&mut out, &Json { report, promotion })?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            if let Some(p) = promotion {
                out.write_all(promotion_text(p).as_bytes())?;
            }
            out.write_all(super::output::text(report).as_bytes())?;
        }
    }
    Ok(())
}
