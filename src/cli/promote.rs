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
use super::output::{write_text, Report};

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
                write_promotion(&mut out, p)?;
            }
            write_text(&mut out, report, a.dry_run)?;
        }
    }
    Ok(())
}

/// `promote dev → staging` and a line per image: old → new, or in sync.
fn write_promotion(out: &mut dyn Write, p: &Promotion) -> Result<()> {
    writeln!(out, "promote {} → {}", p.from, p.to)?;
    if p.images.is_empty() {
        writeln!(out, "  no image is referenced in both")?;
    }
    for i in &p.images {
        let mut new = i.from_tag.clone().unwrap_or_default();
        if let Some(d) = &i.from_digest {
            new.push('@');
            new.push_str(d);
        }
        if i.changed {
            let old = i.to_old_tag.as_deref().unwrap_or("(places disagreed)");
            writeln!(out, "  {}  {old} → {new}", i.image)?;
        } else {
            writeln!(out, "  {}  {new} (in sync)", i.image)?;
        }
    }
    Ok(())
}
