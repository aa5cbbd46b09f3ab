//! Speaking each CI system's own language, detected from the environment, on top of the
//! report every run prints:
//!
//! - **GitHub Actions** (`GITHUB_ACTIONS=true`): a job summary appended to
//!   `$GITHUB_STEP_SUMMARY` (what changed, links to the commit and pull request, the diff),
//!   and an `::error file=…,line=…::` annotation for an error that names a file
//!   (docs.github.com: "Workflow commands for GitHub Actions", sections "Setting an error
//!   message" and "Adding a job summary"). The annotation goes to stdout with text
//!   output; with `--output json` stdout holds only the JSON object, so it goes to stderr.
//! - **GitLab CI** (`GITLAB_CI=true`): the diff of what was pushed in a collapsed log
//!   section (docs.gitlab.com: "CI/CD job logs", "Custom collapsible sections"), and, when
//!   `TAGBUMP_DOTENV` names a file, a dotenv report for `artifacts:reports:dotenv`
//!   (docs.gitlab.com: "GitLab CI/CD artifacts reports types", `artifacts:reports:dotenv`).
//! - **Tekton**: each result as a file in `/tekton/results` (what `$(results.NAME.path)`
//!   points to; tekton.dev: "Tasks", "Emitting results"), when that directory exists, or
//!   in `TAGBUMP_TEKTON_RESULTS_DIR`.
//!
//! Nothing here changes what the run did: a failure to write these is a warning.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::output::Report;
use tagbump::plan::PlanError;
use tagbump::url::{RemoteUrl, Transport};
use tagbump::yaml::file::FileError;
use tagbump::yaml::EditError;

/// Where Tekton mounts the results of the step's task.
const TEKTON_RESULTS: &str = "/tekton/results";

/// How the run printed its report.
#[derive(Clone, Copy, Debug)]
pub struct Printed {
    /// stdout carries the JSON report (`--output json`).
    pub json: bool,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
}

/// Writes what each detected CI system shows natively. `error` is the run's error, if
/// it failed.
pub fn publish(
    report: &Report,
    error: Option<&anyhow::Error>,
    printed: Printed,
    env: &dyn Fn(&str) -> Option<String>,
) {
    let Printed { json, dry_run } = printed;
    let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let warn = |what: &str, r: Result<()>| {
        if let Err(e) = r {
            eprintln!(
                "tagbump: warning: {what}: {}",
                super::failure::error_chain(&e)
            );
        }
    };
    if set("GITHUB_ACTIONS").as_deref() == Some("true") {
        if let Some(path) = set("GITHUB_STEP_SUMMARY") {
            let summary = github_summary(report, error, dry_run);
            warn(
                "cannot write the job summary",
                append(Path::new(&path), &summary),
            );
        }
        if let Some(e) = error {
            let line = github_annotation(e);
            if json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        }
    }
    if set("GITLAB_CI").as_deref() == Some("true") && !json {
        if let Some(section) = gitlab_diff_section(report, dry_run, now_unix()) {
            print!("{section}");
        }
    }
    if let Some(path) = set("TAGBUMP_DOTENV") {
        warn(
            "cannot write the dotenv report",
            write_file(Path::new(&path), &dotenv(report)),
        );
    }
    let tekton = set("TAGBUMP_TEKTON_RESULTS_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(TEKTON_RESULTS)).filter(|p| p.is_dir()));
    if let Some(dir) = tekton {
        warn(
            "cannot write the Tekton results",
            write_tekton_results(&dir, report),
        );
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn append(path: &Path, text: &str) -> Result<()> {
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

/// The web page of a commit or the repository, for an `https://` GitHub / GitLab remote
/// (never with the credentials a URL may carry).
fn web_url(repo: &str) -> Option<String> {
    let url = RemoteUrl::parse(repo)
        .ok()
        .filter(|u| u.transport() == Transport::Https)?;
    let shown = url.without_credentials();
    Some(shown.strip_suffix(".git").unwrap_or(&shown).to_string())
}

/// Markdown for the job summary (GitHub-flavoured; cells escaped).
pub fn github_summary(report: &Report, error: Option<&anyhow::Error>, dry_run: bool) -> String {
    let mut md = String::new();
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let code = |s: &str| format!("`{}`", cell(s).replace('`', "'"));
    let target = match (&report.repo, &report.branch) {
        (Some(repo), Some(branch)) => format!(" in {repo} ({branch})"),
        (Some(repo), None) => format!(" in {repo}"),
        _ => String::new(),
    };
    let headline = match error {
        Some(_) => format!("tagbump failed{target}"),
        None if !report.changed => format!("tagbump: nothing to change{target}"),
        None if dry_run => format!(
            "tagbump (dry run): would update {} file(s){target}",
            report.files.len()
        ),
        None => format!("tagbump: updated {} file(s){target}", report.files.len()),
    };
    let _ = writeln!(md, "### {headline}\n");
    if let Some(e) = error {
        let _ = writeln!(md, "```\n{}\n```\n", super::failure::error_chain(e));
    }
    let changes: Vec<_> = report.changes.iter().filter(|c| c.changed).collect();
    if !changes.is_empty() {
        md.push_str("| file | line | key path | old | new |\n|---|---:|---|---|---|\n");
        for c in changes {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                code(&c.file.display().to_string()),
                c.line,
                code(&c.path),
                c.old.as_deref().map_or("(new)".to_string(), code),
                code(&c.new)
            );
        }
        md.push('\n');
    }
    let mut links = Vec::new();
    if let Some(sha) = &report.commit {
        let short = &sha[..sha.len().min(12)];
        match report.repo.as_deref().and_then(web_url) {
            Some(web) => links.push(format!("commit [`{short}`]({web}/commit/{sha})")),
            None => links.push(format!("commit `{short}`")),
        }
    }
    if let Some(pr) = &report.pull_request {
        let verb = match (pr.merged, pr.created) {
            (true, _) => "merged",
            (false, true) => "opened",
            (false, false) => "updated",
        };
        links.push(format!("{verb} pull request [#{}]({})", pr.number, pr.url));
    }
    if let Some(via) = &report.via {
        links.push(format!("via {via}"));
    }
    if !links.is_empty() {
        let _ = writeln!(md, "{}\n", links.join(" · "));
    }
    if let Some(diff) = report.diff.as_deref().filter(|d| !d.is_empty()) {
        let fence = if diff.contains("```") { "````" } else { "```" };
        let _ = writeln!(
            md,
            "<details><summary>diff</summary>\n\n{fence}diff\n{}{fence}\n\n</details>\n",
            diff.strip_suffix('\n')
                .map_or(diff.to_string(), |d| format!("{d}\n"))
        );
    }
    md
}

/// `::error file=…,line=…,title=tagbump::message` for the first cause that names a file
/// (just `::error title=tagbump::message` otherwise), escaped as the runner expects.
pub fn github_annotation(error: &anyhow::Error) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if let Some((file, line)) = location(error) {
        props.push(format!("file={}", property(&file.display().to_string())));
        if let Some(line) = line {
            props.push(format!("line={line}"));
        }
    }
    props.push("title=tagbump".to_string());
    format!(
        "::error {}::{}",
        props.join(","),
        data(&super::failure::error_chain(error))
    )
}

/// The file (and line) an error is about, from the library's typed errors.
fn location(error: &anyhow::Error) -> Option<(PathBuf, Option<usize>)> {
    let file_error = |e: &FileError| -> Option<(PathBuf, Option<usize>)> {
        match e {
            FileError::Edit { path, error } => Some((path.clone(), edit_line(error))),
            FileError::NotFound { path }
            | FileError::NotUtf8 { path, .. }
            | FileError::NotAFile { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::Io { path, .. } => Some((path.clone(), None)),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    };
    // A transparent wrapper forwards `source()` to its inner error's source, so the
    // inner error itself is only reachable through the wrapper.
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<FileError>() {
            return file_error(e);
        }
        match cause.downcast_ref::<PlanError>() {
            Some(PlanError::File(e)) => file_error(e),
            Some(PlanError::Policy { file, line, .. }) => Some((PathBuf::from(file), Some(*line))),
            _ => None,
        }
    })
}

fn edit_line(error: &EditError) -> Option<usize> {
    match error {
        EditError::Syntax { line, .. }
        | EditError::NotJson { line, .. }
        | EditError::NotFound { line, .. }
        | EditError::WrongKind { line, .. }
        | EditError::IndexOutOfRange { line, .. }
        | EditError::NotAScalar { line, .. }
        | EditError::Alias { line, .. }
        | EditError::Conflict { line, .. }
        | EditError::ValueType { line, .. } => Some(*line).filter(|l| *l > 0),
        EditError::DuplicateKey { second_line, .. } => Some(*second_line),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The diff of what was written, in a collapsed section of the GitLab job log. `None`
/// for a dry run (the report prints the diff itself) or when nothing changed.
pub fn gitlab_diff_section(report: &Report, dry_run: bool, now: u64) -> Option<String> {
    if !report.changed || dry_run {
        return None;
    }
    let diff = report.diff.as_deref().filter(|d| !d.is_empty())?;
    let mut s = String::new();
    let _ = write!(
        s,
        "\x1b[0Ksection_start:{now}:tagbump_diff[collapsed=true]\r\x1b[0Ktagbump: diff of {} file(s)\n{diff}",
        report.files.len()
    );
    if !diff.ends_with('\n') {
        s.push('\n');
    }
    let _ = writeln!(s, "\x1b[0Ksection_end:{now}:tagbump_diff\r\x1b[0K");
    Some(s)
}

/// `KEY=value` lines for `artifacts:reports:dotenv`: one line per variable, values
/// without line breaks (GitLab's dotenv rules).
pub fn dotenv(report: &Report) -> String {
    let pr = report.pull_request.as_ref();
    let one_line = |s: String| s.replace(['\r', '\n'], " ");
    [
        ("TAGBUMP_CHANGED", report.changed.to_string()),
        ("TAGBUMP_PUSHED", report.pushed.to_string()),
        (
            "TAGBUMP_COMMIT_SHA",
            report.commit.clone().unwrap_or_default(),
        ),
        ("TAGBUMP_BRANCH", report.branch.clone().unwrap_or_default()),
        ("TAGBUMP_VIA", report.via.clone().unwrap_or_default()),
        (
            "TAGBUMP_MR_IID",
            pr.map(|p| p.number.to_string()).unwrap_or_default(),
        ),
        (
            "TAGBUMP_MR_URL",
            pr.map(|p| p.url.clone()).unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| format!("{k}={}\n", one_line(v)))
    .collect()
}

/// One file per result (no trailing newline: the file's bytes are the result's value).
pub fn write_tekton_results(dir: &Path, report: &Report) -> Result<()> {
    let pr = report.pull_request.as_ref();
    let results = [
        ("changed", report.changed.to_string()),
        ("pushed", report.pushed.to_string()),
        ("commit-sha", report.commit.clone().unwrap_or_default()),
        ("branch", report.branch.clone().unwrap_or_default()),
        (
            "pr-number",
            pr.map(|p| p.number.to_string()).unwrap_or_default(),
        ),
        ("pr-url", pr.map(|p| p.url.clone()).unwrap_or_default()),
    ];
    for (name, value) in results {
        write_file(&dir.join(name), &value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagbump::bump::PrReport;
    use tagbump::plan::ChangeRecord;

    #[test]
    fn web_urls_are_https_remotes_without_credentials() {
        assert_eq!(
            web_url("https://x-access-token:ghs_x@github.com/acme/cfg.git").as_deref(),
            Some("https://github.com/acme/cfg")
        );
        assert_eq!(
            web_url("HTTPS://gitlab.com/g/p").as_deref(),
            Some("https://gitlab.com/g/p")
        );
        assert_eq!(web_url("git@github.com:acme/cfg.git"), None);
        assert_eq!(web_url("http://h/o/r"), None);
    }

    fn pushed() -> Report {
        Report {
            changed: true,
            files: vec!["apps/api/values.yaml".into()],
            changes: vec![ChangeRecord {
                file: "apps/api/values.yaml".into(),
                document: 0,
                path: "image.tag".into(),
                line: 7,
                old: Some("1.4.2".into()),
                new: "1.5.0".into(),
                changed: true,
                kind: None,
                pinned: false,
                aliases: vec![],
                type_changed: None,
            }],
            repo: Some("https://github.com/acme/gitops-config.git".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            branch: Some("main".into()),
            pushed: true,
            via: Some("api".into()),
            diff: Some("--- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n@@ -7 +7 @@\n-  tag: 1.4.2\n+  tag: 1.5.0\n".into()),
            ..Report::default()
        }
    }

    #[test]
    fn summary_of_a_pushed_change_has_the_table_links_and_the_diff() {
        let mut report = pushed();
        report.pull_request = Some(PrReport {
            number: 12,
            url: "https://github.com/acme/gitops-config/pull/12".into(),
            created: true,
            ..PrReport::default()
        });
        assert_eq!(
            github_summary(&report, None, false),
            "### tagbump: updated 1 file(s) in https://github.com/acme/gitops-config.git (main)\n\n\
             | file | line | key path | old | new |\n|---|---:|---|---|---|\n\
             | `apps/api/values.yaml` | 7 | `image.tag` | `1.4.2` | `1.5.0` |\n\n\
             commit [`0123456789ab`](https://github.com/acme/gitops-config/commit/0123456789abcdef0123456789abcdef01234567) · \
             opened pull request [#12](https://github.com/acme/gitops-config/pull/12) · via api\n\n\
             <details><summary>diff</summary>\n\n```diff\n--- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n\
             @@ -7 +7 @@\n-  tag: 1.4.2\n+  tag: 1.5.0\n```\n\n</details>\n\n"
        );
    }

    #[test]
    fn summary_cells_cannot_break_the_table() {
        let mut report = pushed();
        report.changes[0].new = "a|b`c".into();
        let md = github_summary(&report, None, false);
        assert!(md.contains("| `a\\|b'c` |"), "{md}");
    }

    #[test]
    fn annotation_names_the_file_and_line_and_escapes_the_message() {
        let error = anyhow::Error::new(FileError::Edit {
            path: "apps/a,b:c/values.yaml".into(),
            error: EditError::Syntax {
                line: 3,
                column: 5,
                message: "100% wrong\nhere".into(),
            },
        })
        .context("cannot apply image.tag=1");
        assert_eq!(
            github_annotation(&error),
            "::error file=apps/a%2Cb%3Ac/values.yaml,line=3,title=tagbump::cannot apply image.tag=1: \
             apps/a,b:c/values.yaml: malformed YAML at line 3, column 5: 100%25 wrong%0Ahere"
        );
        let plain = anyhow::anyhow!("the remote is unreachable");
        assert_eq!(
            github_annotation(&plain),
            "::error title=tagbump::the remote is unreachable"
        );
    }

    #[test]
    fn gitlab_section_wraps_the_diff_of_a_pushed_change_only() {
        let report = pushed();
        assert_eq!(
            gitlab_diff_section(&report, false, 1700000000).as_deref(),
            Some(
                "\x1b[0Ksection_start:1700000000:tagbump_diff[collapsed=true]\r\x1b[0Ktagbump: diff of 1 file(s)\n\
                 --- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n@@ -7 +7 @@\n-  tag: 1.4.2\n+  tag: 1.5.0\n\
                 \x1b[0Ksection_end:1700000000:tagbump_diff\r\x1b[0K\n"
            )
        );
        assert_eq!(
            gitlab_diff_section(&report, true, 1),
            None,
            "a dry run prints its diff itself"
        );
    }

    #[test]
    fn dotenv_has_one_line_per_variable() {
        let mut report = pushed();
        report.pull_request = Some(PrReport {
            number: 7,
            url: "https://gitlab.example.com/acme/cfg/-/merge_requests/7".into(),
            created: true,
            ..PrReport::default()
        });
        assert_eq!(
            dotenv(&report),
            "TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=true\n\
             TAGBUMP_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567\nTAGBUMP_BRANCH=main\n\
             TAGBUMP_VIA=api\nTAGBUMP_MR_IID=7\n\
             TAGBUMP_MR_URL=https://gitlab.example.com/acme/cfg/-/merge_requests/7\n"
        );
    }

    #[test]
    fn tekton_results_are_files_without_a_trailing_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tekton_results(dir.path(), &pushed()).expect("write");
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).expect(n);
        assert_eq!(read("changed"), "true");
        assert_eq!(
            read("commit-sha"),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(read("branch"), "main");
        assert_eq!(read("pr-url"), "");
    }
}
