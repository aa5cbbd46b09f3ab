//! Ending a run: the step outputs, the report on stdout (on failure: the error with what
//! was done before it), what the CI system shows natively (job summary, annotations, log
//! sections, dotenv, Tekton results), the error on stderr, and the exit code.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::{CommonArgs, OutputFormat};
use super::native;
use super::output::{self, Report};

/// An error; nothing was written or pushed.
pub const EXIT_FAILURE: u8 = 1;
/// An invalid argument (a bad image reference, key path or flag value), as for clap's
/// own errors; nothing was written or pushed.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Nothing changed and `--fail-if-unchanged` was given.
pub const EXIT_UNCHANGED: u8 = 3;
/// The commit was pushed (with `--pr`: the bot branch), but a later step failed: the
/// pull / merge request could not be opened or updated.
pub const EXIT_PUSHED_BUT_FAILED: u8 = 4;
/// Several `--repo`: some landed the change (or had nothing to change), some failed.
pub const EXIT_SOME_FAILED: u8 = 5;

/// Reports `result` (with `report`, what the run did) and picks the exit code.
pub fn finish(
    result: Result<()>,
    mut report: Report,
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> ExitCode {
    let result = match result {
        Ok(()) => write_step_outputs(&report, common, env),
        Err(error) => {
            // What was pushed is worth a step output even though the run failed.
            if report.pushed {
                if let Err(e) = write_step_outputs(&report, common, env) {
                    eprintln!("tagbump: warning: {}", super::failure::error_chain(&e));
                }
            }
            Err(error)
        }
    };
    report.dry_run = common.dry_run;
    let printed = native::Printed {
        json: common.output == OutputFormat::Json,
        dry_run: common.dry_run,
    };
    let error = match result {
        Ok(()) => match output::emit(&report, common.output, common.dry_run) {
            Ok(()) => {
                native::publish(&report, None, printed, env);
                if common.fail_if_unchanged && !report.changed {
                    return ExitCode::from(EXIT_UNCHANGED);
                }
                return ExitCode::SUCCESS;
            }
            Err(e) => e.context("cannot print the report"),
        },
        Err(error) => {
            report.error = Some(super::failure::error_report(&error));
            report.add_search_failure(&*error);
            // JSON: always one object. Text: the report only when something was done,
            // else what the search skipped (on stderr, before the error).
            if common.output == OutputFormat::Json || report.pushed {
                if let Err(e) = output::emit(&report, common.output, common.dry_run) {
                    eprintln!("tagbump: warning: cannot print the report: {e}");
                }
            } else if let Err(e) = output::write_skipped(&mut std::io::stderr(), &report) {
                eprintln!("tagbump: warning: cannot print the report: {e}");
            }
            error
        }
    };
    native::publish(&report, Some(&error), printed, env);
    eprintln!("error: {}", super::failure::error_chain(&error));
    ExitCode::from(if report.pushed {
        EXIT_PUSHED_BUT_FAILED
    } else if super::failure::kind(&error) == "invalid-input" {
        EXIT_INVALID_INPUT
    } else {
        EXIT_FAILURE
    })
}

/// Appends the step outputs to `$GITHUB_OUTPUT` and `--outputs-file`.
fn write_step_outputs(
    report: &Report,
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    if let Some(path) = env("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        output::append_github_output(Path::new(&path), report)
            .with_context(|| format!("cannot write step outputs to GITHUB_OUTPUT ({path})"))?;
    }
    if let Some(path) = &common.outputs_file {
        output::append_github_output(path, report)
            .with_context(|| format!("cannot write step outputs to {}", path.display()))?;
    }
    Ok(())
}
