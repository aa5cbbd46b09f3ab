//! `--repo` given more than once: flags → [`bump::run_many`] → a report per repository
//! (text sections, or JSON `targets`), the summary step outputs, and the exit code (0
//! every repository landed or had nothing to change, 5 some failed, 1 all failed).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::Serialize;
use tagbump::bump::{self, Event, Recorder, RegistryReport, Resolve, TargetReport, Verdict};
use tagbump::outputs::CiEnv;
use tagbump::plan::{self, Request};

use super::args::{CommonArgs, OutputFormat};
use super::failure::{error_chain, error_report, hide_secrets};
use super::finish::{finish, EXIT_FAILURE, EXIT_SOME_FAILED, EXIT_UNCHANGED};
use super::output::Report;

/// One repository's end: its report and, when it failed, the error.
struct Target {
    url: String,
    report: Report,
    error: Option<anyhow::Error>,
}

/// Lands the change `job` describes in every `--repo` and reports each.
pub fn run(
    job: Result<(Request, plan::Options, Option<Resolve>)>,
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> ExitCode {
    let prepared = job.and_then(|(request, plan, registry)| {
        let mut options = super::land::bump_options(common, plan, env)?;
        options.registry = registry;
        Ok((request, options))
    });
    let (request, options) = match prepared {
        Ok(p) => p,
        Err(error) => return finish(Err(error), Report::default(), common, &CiEnv::from_env()),
    };
    let shown: Vec<String> = common
        .git
        .repo
        .iter()
        .map(|u| tagbump::url::strip_credentials(u).0)
        .collect();
    let shared = Mutex::new(Recorder::default());
    let events = |target: Option<usize>, event: Event<'_>| {
        let prefix = target
            .and_then(|i| shown.get(i))
            .map(|u| format!("[{u}] "))
            .unwrap_or_default();
        match &event {
            Event::Log(line) => eprintln!("tagbump: {prefix}{line}"),
            Event::Way(choice) => {
                eprintln!("tagbump: {prefix}{}", super::advice::way_line(choice))
            }
            Event::Token(selection) => {
                for line in super::advice::token_lines(selection) {
                    eprintln!("tagbump: {prefix}{line}");
                }
            }
            Event::Warning(line) => eprintln!("tagbump: warning: {prefix}{line}"),
            Event::Secret(token) => hide_secrets(vec![(*token).clone()]),
            _ => {}
        }
        if target.is_none() {
            shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(&event);
        }
    };
    let destinations = super::options::destinations(common);
    let done = bump::run_many(
        &request,
        &destinations,
        &options,
        usize::from(common.git.jobs),
        &events,
    );
    let done = match done {
        Ok(done) => done,
        Err(error) => {
            // The registry step, before any repository was touched.
            let result = Err(error);
            let recorder = shared.into_inner().unwrap_or_else(|e| e.into_inner());
            let report = recorder.finish(&result, common.dry_run);
            return finish(
                result.map(drop).map_err(anyhow::Error::new),
                report,
                common,
                &CiEnv::from_env(),
            );
        }
    };
    let verdict = done.verdict();
    let targets: Vec<Target> = done
        .targets
        .into_iter()
        .zip(&common.git.repo)
        .map(|(t, url)| {
            let mut report = t.report;
            let error = t.result.err().map(anyhow::Error::new);
            if let Some(e) = &error {
                report.error = Some(error_report(e));
            }
            Target {
                url: url.clone(),
                report,
                error,
            }
        })
        .collect();
    if let Err(e) = write_step_outputs(&targets, common, env) {
        eprintln!("tagbump: warning: {}", error_chain(&e));
    }
    if let Err(e) = emit(&targets, done.registry.as_ref(), common) {
        eprintln!("tagbump: warning: cannot print the report: {e}");
    }
    publish(&targets, common, env);
    for t in &targets {
        if let Some(e) = &t.error {
            eprintln!(
                "error: [{}] {}",
                tagbump::url::strip_credentials(&t.url).0,
                error_chain(e)
            );
        }
    }
    match verdict {
        Verdict::Partial => ExitCode::from(EXIT_SOME_FAILED),
        Verdict::NoneLanded => ExitCode::from(EXIT_FAILURE),
        _ if common.fail_if_unchanged && !targets.iter().any(|t| t.report.changed) => {
            ExitCode::from(EXIT_UNCHANGED)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Prints the reports on stdout: a section per repository, or one JSON object.
fn emit(targets: &[Target], registry: Option<&RegistryReport>, common: &CommonArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if common.output == OutputFormat::Json {
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            dry_run: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            registry: Option<&'a RegistryReport>,
            targets: Vec<TargetReport>,
        }
        let json = Json {
            dry_run: common.dry_run,
            registry,
            targets: targets
                .iter()
                .map(|t| TargetReport::new(&t.url, &t.report))
                .collect(),
        };
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
        return Ok(());
    }
    if let Some(r) = registry {
        let text = super::output::flagged(tagbump::outputs::registry_text(r));
        out.write_all(text.as_bytes())?;
    }
    for t in targets {
        writeln!(out, "== {}", tagbump::url::strip_credentials(&t.url).0)?;
        match &t.error {
            None => out.write_all(super::output::text(&t.report).as_bytes())?,
            Some(e) => {
                if t.report.pushed {
                    out.write_all(super::output::text(&t.report).as_bytes())?;
                } else {
                    out.write_all(tagbump::outputs::skipped_text(&t.report).as_bytes())?;
                }
                writeln!(out, "failed: {}", error_chain(e))?;
            }
        }
    }
    let s = Summary::of(targets);
    writeln!(
        out,
        "{} repositories: {} changed, {} nothing to change, {} failed",
        s.targets,
        s.changed,
        s.targets - s.changed - s.failed,
        s.failed
    )?;
    Ok(())
}

/// How many repositories there were, changed (or would change), and failed.
struct Summary {
    targets: usize,
    changed: usize,
    failed: usize,
    pushed: bool,
}

impl Summary {
    fn of(targets: &[Target]) -> Summary {
        Summary {
            targets: targets.len(),
            changed: targets
                .iter()
                .filter(|t| t.error.is_none() && t.report.changed)
                .count(),
            failed: targets.iter().filter(|t| t.error.is_some()).count(),
            pushed: targets.iter().any(|t| t.report.pushed),
        }
    }
}

/// `changed`, `pushed`, `targets`, `targets-changed`, `targets-failed` (and the
/// targets as one JSON line) to `$GITHUB_OUTPUT` and `--outputs-file`.
fn write_step_outputs(
    targets: &[Target],
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let s = Summary::of(targets);
    let records: Vec<TargetReport> = targets
        .iter()
        .map(|t| {
            let mut r = TargetReport::new(&t.url, &t.report);
            r.changes.clear();
            r.diff = None;
            r
        })
        .collect();
    let lines = [
        format!("changed={}", s.changed > 0),
        format!("pushed={}", s.pushed),
        format!("targets={}", s.targets),
        format!("targets-changed={}", s.changed),
        format!("targets-failed={}", s.failed),
        format!("targets-json={}", serde_json::to_string(&records)?),
    ];
    let append = |path: &Path| -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        for l in &lines {
            writeln!(f, "{l}")?;
        }
        Ok(())
    };
    if let Some(path) = env("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        append(Path::new(&path))
            .with_context(|| format!("cannot write step outputs to GITHUB_OUTPUT ({path})"))?;
    }
    if let Some(path) = &common.outputs_file {
        append(path).with_context(|| format!("cannot write step outputs to {}", path.display()))?;
    }
    if let Some(path) = env("TAGBUMP_DOTENV").filter(|p| !p.trim().is_empty()) {
        let dotenv = format!(
            "TAGBUMP_CHANGED={}\nTAGBUMP_PUSHED={}\nTAGBUMP_TARGETS={}\nTAGBUMP_TARGETS_CHANGED={}\nTAGBUMP_TARGETS_FAILED={}\n",
            s.changed > 0,
            s.pushed,
            s.targets,
            s.changed,
            s.failed
        );
        std::fs::write(&path, dotenv)
            .with_context(|| format!("cannot write the dotenv report {path}"))?;
    }
    Ok(())
}

/// GitHub Actions: a job summary section and an error annotation per repository.
fn publish(targets: &[Target], common: &CommonArgs, env: &dyn Fn(&str) -> Option<String>) {
    let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if set("GITHUB_ACTIONS").as_deref() != Some("true") {
        return;
    }
    let json = common.output == OutputFormat::Json;
    if let Some(path) = set("GITHUB_STEP_SUMMARY") {
        let summary: String = targets
            .iter()
            .map(|t| tagbump::outputs::github_summary(&t.report))
            .collect();
        let written = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| f.write_all(summary.as_bytes()));
        if let Err(e) = written {
            eprintln!("tagbump: warning: cannot write the job summary: {path}: {e}");
        }
    }
    for e in targets.iter().filter_map(|t| t.error.as_ref()) {
        let line = tagbump::outputs::github_annotation(
            &super::failure::error_chain(e),
            tagbump::outputs::location(&**e),
        );
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}
