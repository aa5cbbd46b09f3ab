//! Writes what each detected CI system shows natively ([`tagbump::outputs`] renders it):
//! the GitHub job summary, the `::error` annotation (stdout with text output; with
//! `--output json` stdout holds only the JSON object, so stderr), GitLab's collapsed diff
//! section (text output only) and dotenv report, the Tekton results. Nothing here changes
//! what the run did: a failure to write these is a warning.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use tagbump::outputs::CiEnv;

use super::output::Report;

/// Writes the CI systems' parts for `report` (`error`: the run's error, if it failed);
/// `json`: stdout carries the JSON report.
pub fn publish(report: &Report, error: Option<&anyhow::Error>, json: bool, ci: &CiEnv) {
    let native = ci.render(report, error.map(|e| &**e as _));
    let warn = |what: &str, r: Result<()>| {
        if let Err(e) = r {
            let why = super::failure::error_chain(&e);
            eprintln!("tagbump: warning: {what}: {why}");
        }
    };
    if let Some((path, summary)) = &native.summary {
        warn("cannot write the job summary", append(path, summary));
    }
    match &native.annotation {
        Some(line) if json => eprintln!("{line}"),
        Some(line) => println!("{line}"),
        None => {}
    }
    if let Some(section) = native.log_section.filter(|_| !json) {
        print!("{section}");
    }
    if let Some((path, text)) = &native.dotenv {
        warn("cannot write the dotenv report", write_file(path, text));
    }
    if let Some((dir, results)) = &native.tekton {
        let all = results
            .iter()
            .try_for_each(|(name, value)| write_file(&dir.join(name), value));
        warn("cannot write the Tekton results", all);
    }
}

/// Appends `text` to the file at `path` (created if missing).
pub fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| path.display().to_string())?;
    f.write_all(text.as_bytes())
        .with_context(|| path.display().to_string())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}
