//! Ending a run: the step outputs, the report on stdout (on failure: the error with what
//! was done before it), what the CI system shows natively (job summary, annotations, log
//! sections, dotenv, Tekton results), the error on stderr, and the exit code.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use tagbump::outputs::{skipped_text, step_output_lines, CiEnv};

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
pub fn finish(result: Result<()>, mut report: Report, common: &CommonArgs, ci: &CiEnv) -> ExitCode {
    let result = match result {
        Ok(()) => write_step_outputs(&report, common, ci),
        Err(error) => {
            // What was pushed is worth a step output even though the run failed.
            if report.pushed {
                if let Err(e) = write_step_outputs(&report, common, ci) {
                    eprintln!("tagbump: warning: {}", super::failure::error_chain(&e));
                }
            }
            Err(error)
        }
    };
    report.dry_run = common.dry_run;
    let json = common.output == OutputFormat::Json;
    let error = match result {
        Ok(()) => match output::emit(&report, common.output) {
            Ok(()) => {
                native::publish(&report, None, json, ci);
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
            if json || report.pushed {
                if let Err(e) = output::emit(&report, common.output) {
                    eprintln!("tagbump: warning: cannot print the report: {e}");
                }
            } else if let Err(e) = std::io::stderr().write_all(skipped_text(&report).as_bytes()) {
                eprintln!("tagbump: warning: cannot print the report: {e}");
            }
            error
        }
    };
    native::publish(&report, Some(&error), json, ci);
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
fn write_step_outputs(report: &Report, common: &CommonArgs, ci: &CiEnv) -> Result<()> {
    append_step_outputs(&step_output_lines(report), common, ci)
}

/// Appends the step output `lines` to `$GITHUB_OUTPUT` and `--outputs-file`.
pub fn append_step_outputs(lines: &str, common: &CommonArgs, ci: &CiEnv) -> Result<()> {
    let append = |path: &Path| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        f.write_all(lines.as_bytes())
    };
    if let Some(path) = &ci.github_output {
        append(path).with_context(|| {
            format!(
                "cannot write step outputs to GITHUB_OUTPUT ({})",
                path.display()
            )
        })?;
    }
    if let Some(path) = &common.outputs_file {
        append(path).with_context(|| format!("cannot write step outputs to {}", path.display()))?;
    }
    Ok(())
}
