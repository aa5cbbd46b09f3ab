//! `--repo` given more than once: flags → [`bump::run_many`] (or
//! [`bump::promote_many`]) → a report per repository
//! (text sections, or JSON `targets`), the summary step outputs, and the exit code (0
//! every repository landed or had nothing to change, 5 some failed, 1 all failed).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use tagbump::bump::{self, Event, FanOut, Promote, Recorder, Resolve, Verdict};
use tagbump::outputs::{self, CiEnv};
use tagbump::plan::{self, Request};

use super::args::{CommonArgs, OutputFormat};
use super::failure::{cause_report, error_chain, hide_secrets};
use super::finish::{append_step_outputs, finish, EXIT_FAILURE, EXIT_SOME_FAILED, EXIT_UNCHANGED};
use super::native;
use super::output::Report;

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
    let shared = Mutex::new(Recorder::default());
    let log = Log::new(common);
    let events = |target: Option<usize>, event: Event<'_>| {
        log.event(target, &event);
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
    render(done, common, env)
}

/// `promote` with several `--repo`: [`bump::promote_many`], reported as [`run`] does.
pub fn promote(
    change: &Promote,
    options: &bump::Options,
    common: &CommonArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> ExitCode {
    let log = Log::new(common);
    let destinations = super::options::destinations(common);
    let done = bump::promote_many(
        change,
        &destinations,
        options,
        usize::from(common.git.jobs),
        &|target, event| log.event(target, &event),
    );
    render(done, common, env)
}

/// The log on stderr, each line of a repository after `[URL]`.
struct Log {
    shown: Vec<String>,
}

impl Log {
    fn new(common: &CommonArgs) -> Log {
        let shown = (common.git.repo.iter())
            .map(|u| tagbump::url::strip_credentials(u).0)
            .collect();
        Log { shown }
    }

    fn event(&self, target: Option<usize>, event: &Event<'_>) {
        let prefix = target
            .and_then(|i| self.shown.get(i))
            .map(|u| format!("[{u}] "))
            .unwrap_or_default();
        match event {
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
    }
}

/// Every repository's report, the step outputs and the exit code.
fn render(done: FanOut, common: &CommonArgs, env: &dyn Fn(&str) -> Option<String>) -> ExitCode {
    let mut done = done;
    let verdict = done.verdict();
    // The CLI's words (flags, redaction) for each failure and rejected tag, in every output.
    for t in &mut done.targets {
        if let Err(e) = &t.result {
            t.report.error = Some(cause_report(e));
        }
        t.report = super::output::flagged(&t.report);
    }
    if let Some(registry) = &mut done.registry {
        super::advice::flag_registry(registry);
    }
    let ci = CiEnv::from_vars(env, 0);
    if let Err(e) = write_step_outputs(&done, common, &ci) {
        eprintln!("tagbump: warning: {}", error_chain(&e));
    }
    let printed = match common.output {
        OutputFormat::Json => outputs::fanout_json(&done),
        OutputFormat::Text => outputs::fanout_text(&done),
    };
    if let Err(e) = std::io::stdout().lock().write_all(printed.as_bytes()) {
        eprintln!("tagbump: warning: cannot print the report: {e}");
    }
    publish(&done, common, &ci);
    for t in &done.targets {
        if let Some(e) = &t.report.error.as_ref().filter(|_| t.result.is_err()) {
            eprintln!("error: [{}] {}", t.name, e.message);
        }
    }
    match verdict {
        Verdict::Partial => ExitCode::from(EXIT_SOME_FAILED),
        Verdict::NoneLanded => ExitCode::from(EXIT_FAILURE),
        _ if common.fail_if_unchanged && !done.targets.iter().any(|t| t.report.changed) => {
            ExitCode::from(EXIT_UNCHANGED)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// The step outputs to `$GITHUB_OUTPUT` and `--outputs-file`, the dotenv report, the
/// Tekton results.
fn write_step_outputs(done: &FanOut, common: &CommonArgs, ci: &CiEnv) -> Result<()> {
    append_step_outputs(&outputs::fanout_step_output_lines(done), common, ci)?;
    if let Some(path) = &ci.dotenv {
        std::fs::write(path, outputs::fanout_dotenv(done))
            .with_context(|| format!("cannot write the dotenv report {}", path.display()))?;
    }
    if let Some(dir) = &ci.tekton_results {
        for (name, value) in outputs::fanout_tekton_results(done) {
            let path = dir.join(name);
            std::fs::write(&path, value)
                .with_context(|| format!("cannot write the Tekton result {}", path.display()))?;
        }
    }
    Ok(())
}

/// GitHub Actions: a job summary section and an error annotation per repository.
fn publish(done: &FanOut, common: &CommonArgs, ci: &CiEnv) {
    if !ci.github_actions {
        return;
    }
    if let Some(path) = &ci.github_step_summary {
        if let Err(e) = native::append(path, &outputs::fanout_github_summary(done)) {
            eprintln!(
                "tagbump: warning: cannot write the job summary: {}",
                error_chain(&e)
            );
        }
    }
    for t in &done.targets {
        let (Err(error), Some(reported)) = (&t.result, &t.report.error) else {
            continue;
        };
        let line = outputs::github_annotation(&reported.message, outputs::location(error));
        if common.output == OutputFormat::Json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}
