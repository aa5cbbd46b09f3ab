//! A run's [`Report`] as each CI system shows it natively, rendered from the report and
//! the CI environment's values ([`CiEnv`]); nothing here writes a file or a stream:
//!
//! - **GitHub Actions** (`GITHUB_ACTIONS=true`): a job summary for
//!   `$GITHUB_STEP_SUMMARY` (what changed, links to the commit and pull request, the
//!   diff), and an `::error file=…,line=…::` annotation for an error that names a file
//!   (docs.github.com: "Workflow commands for GitHub Actions", sections "Setting an error
//!   message" and "Adding a job summary"); the step outputs for `$GITHUB_OUTPUT`
//!   (docs.github.com: "Workflow commands for GitHub Actions", "Setting an output
//!   parameter"), also what Tekton results and GitLab dotenv reports can be made of.
//! - **GitLab CI** (`GITLAB_CI=true`): the diff of what was pushed in a collapsed log
//!   section (docs.gitlab.com: "CI/CD job logs", "Custom collapsible sections"), and,
//!   when `TAGBUMP_DOTENV` names a file, a dotenv report for `artifacts:reports:dotenv`
//!   (docs.gitlab.com: "GitLab CI/CD artifacts reports types", `artifacts:reports:dotenv`).
//! - **Tekton**: each result as a file in `/tekton/results` (what `$(results.NAME.path)`
//!   points to; tekton.dev: "Tasks", "Emitting results"), when that directory exists, or
//!   in `TAGBUMP_TEKTON_RESULTS_DIR`.
//!
//! And the human-readable text of a report ([`report_text`]) or a promotion
//! ([`promotion_text`]); a fan-out's ([`crate::bump::run_many`]) text, JSON, step
//! outputs, dotenv report and job summary ([`fanout_text`] and its siblings); the status
//! of several repositories ([`statuses_text`] and its siblings).
//!
//! ```
//! use tagbump::bump::Report;
//! use tagbump::outputs::CiEnv;
//!
//! let mut ci = CiEnv::default();
//! ci.gitlab_ci = true;
//! ci.dotenv = Some("bump.env".into());
//! let report = Report { changed: true, pushed: true, ..Report::default() };
//! let native = ci.render(&report, None);
//! let (file, text) = native.dotenv.expect("a dotenv report");
//! assert_eq!(file, std::path::PathBuf::from("bump.env"));
//! assert!(text.starts_with("TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=true\n"));
//! ```

mod fanout;
mod github;
mod gitlab;
mod statuses;
mod text;

use std::error::Error;
use std::path::PathBuf;

use crate::bump::Report;

pub use fanout::{
    fanout_dotenv, fanout_github_summary, fanout_json, fanout_step_output_lines,
    fanout_tekton_results, fanout_text,
};
pub use github::{github_annotation, github_summary, location};
pub use gitlab::{dotenv, gitlab_diff_section};
pub use statuses::{statuses_json, statuses_markdown, statuses_text, StatusSection};
pub use text::{not_searched_line, promotion_text, registry_text, report_text, skipped_text};

/// Where Tekton mounts the results of the step's task.
pub const TEKTON_RESULTS: &str = "/tekton/results";

/// The values of the CI environment that decide what is rendered, and for which files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CiEnv {
    /// `GITHUB_ACTIONS=true`: a job summary and error annotations.
    pub github_actions: bool,
    /// `$GITHUB_STEP_SUMMARY`: the file the job summary is appended to.
    pub github_step_summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`: the file the step outputs are appended to (any CI system).
    pub github_output: Option<PathBuf>,
    /// `GITLAB_CI=true`: the diff in a collapsed section of the job log.
    pub gitlab_ci: bool,
    /// `$TAGBUMP_DOTENV`: the file the dotenv report replaces.
    pub dotenv: Option<PathBuf>,
    /// `$TAGBUMP_TEKTON_RESULTS_DIR`, else [`TEKTON_RESULTS`] when it is a directory.
    pub tekton_results: Option<PathBuf>,
    /// Now, in seconds since the Unix epoch (GitLab's section markers carry it).
    pub now: u64,
}

impl CiEnv {
    /// The process environment's values (and whether [`TEKTON_RESULTS`] exists), now.
    pub fn from_env() -> CiEnv {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        CiEnv::from_vars(&|k: &str| std::env::var(k).ok(), now)
    }

    /// The values read through `env`; variables that are empty (or blank) count as
    /// unset, except `GITHUB_OUTPUT`, which only has to be non-empty. The Tekton
    /// default is taken when [`TEKTON_RESULTS`] is a directory.
    pub fn from_vars(env: &dyn Fn(&str) -> Option<String>, now: u64) -> CiEnv {
        let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        CiEnv {
            github_actions: set("GITHUB_ACTIONS").as_deref() == Some("true"),
            github_step_summary: set("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            github_output: env("GITHUB_OUTPUT")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            gitlab_ci: set("GITLAB_CI").as_deref() == Some("true"),
            dotenv: set("TAGBUMP_DOTENV").map(PathBuf::from),
            tekton_results: set("TAGBUMP_TEKTON_RESULTS_DIR")
                .map(PathBuf::from)
                .or_else(|| Some(PathBuf::from(TEKTON_RESULTS)).filter(|p| p.is_dir())),
            now,
        }
    }

    /// What the detected CI systems show for `report` (a failed run's report carries
    /// its [`error`](Report::error); `error` itself, when given, names the file and line
    /// of the annotation through [`location`]).
    pub fn render(&self, report: &Report, error: Option<&(dyn Error + 'static)>) -> Native {
        let file = |path: &Option<PathBuf>, text: String| path.clone().map(|p| (p, text));
        let github = self.github_actions;
        Native {
            summary: if github {
                file(&self.github_step_summary, github_summary(report))
            } else {
                None
            },
            annotation: report
                .error
                .as_ref()
                .filter(|_| github)
                .map(|e| github_annotation(&e.message, error.and_then(location))),
            log_section: if self.gitlab_ci {
                gitlab_diff_section(report, self.now)
            } else {
                None
            },
            dotenv: file(&self.dotenv, dotenv(report)),
            tekton: self
                .tekton_results
                .clone()
                .map(|dir| (dir, tekton_results(report))),
        }
    }
}

/// What the CI systems show for one run, rendered; the caller writes each part (and a
/// part that cannot be written changes nothing the run did).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Native {
    /// The job summary's Markdown, to append to this file.
    pub summary: Option<(PathBuf, String)>,
    /// The `::error` workflow command, one line for the job log (stdout, or stderr where
    /// stdout carries something else).
    pub annotation: Option<String>,
    /// The collapsed GitLab log section with the diff (for stdout).
    pub log_section: Option<String>,
    /// The dotenv report, to write to this file (replacing it).
    pub dotenv: Option<(PathBuf, String)>,
    /// The Tekton results directory, and a file to write in it for each result.
    pub tekton: Option<(PathBuf, Vec<(&'static str, String)>)>,
}

/// The step outputs as `(name, value)`: `changed`, `commit-sha`, `branch`, `pushed`,
/// `via`, `verified`, `files` (a JSON array), `pr-number`, `pr-url`, `pr-merged`
/// (empty when unknown or not applicable).
pub fn step_outputs(report: &Report) -> Vec<(&'static str, String)> {
    let files: Vec<String> = report
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let pr = report.pull_request.as_ref();
    vec![
        ("changed", report.changed.to_string()),
        ("commit-sha", report.commit.clone().unwrap_or_default()),
        ("branch", report.branch.clone().unwrap_or_default()),
        ("pushed", report.pushed.to_string()),
        ("via", report.via.clone().unwrap_or_default()),
        (
            "verified",
            report.verified.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "files",
            serde_json::to_string(&files).unwrap_or_else(|_| "[]".to_string()),
        ),
        (
            "pr-number",
            pr.map(|p| p.number.to_string()).unwrap_or_default(),
        ),
        ("pr-url", pr.map(|p| p.url.clone()).unwrap_or_default()),
        (
            "pr-merged",
            pr.map(|p| p.merged.to_string()).unwrap_or_default(),
        ),
    ]
}

/// [`step_outputs`] as the `name=value` lines of `$GITHUB_OUTPUT`.
pub fn step_output_lines(report: &Report) -> String {
    step_outputs(report)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// The Tekton results as `(file name, value)`; a result's file holds the value's bytes,
/// no trailing newline.
pub fn tekton_results(report: &Report) -> Vec<(&'static str, String)> {
    let pr = report.pull_request.as_ref();
    vec![
        ("changed", report.changed.to_string()),
        ("pushed", report.pushed.to_string()),
        ("commit-sha", report.commit.clone().unwrap_or_default()),
        ("branch", report.branch.clone().unwrap_or_default()),
        (
            "pr-number",
            pr.map(|p| p.number.to_string()).unwrap_or_default(),
        ),
        ("pr-url", pr.map(|p| p.url.clone()).unwrap_or_default()),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bump::{PrReport, ReportedError};
    use crate::plan::ChangeRecord;

    /// A change pushed through the API to main.
    pub(crate) fn pushed() -> Report {
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
    fn the_environment_is_read_once_into_values() {
        let vars = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", "/run/summary.md"),
            ("GITHUB_OUTPUT", " "),
            ("GITLAB_CI", " "),
            ("TAGBUMP_DOTENV", ""),
            ("TAGBUMP_TEKTON_RESULTS_DIR", "/results"),
        ];
        let env = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        assert_eq!(
            CiEnv::from_vars(&env, 42),
            CiEnv {
                github_actions: true,
                github_step_summary: Some("/run/summary.md".into()),
                github_output: Some(" ".into()),
                gitlab_ci: false,
                dotenv: None,
                tekton_results: Some("/results".into()),
                now: 42,
            }
        );
        let only_true = |k: &str| (k == "GITHUB_ACTIONS").then(|| "1".to_string());
        assert!(
            !CiEnv::from_vars(&only_true, 0).github_actions,
            "only `true` is GitHub"
        );
    }

    #[test]
    fn render_gives_each_detected_system_its_part() {
        let ci = CiEnv {
            github_actions: true,
            github_step_summary: Some("summary.md".into()),
            gitlab_ci: true,
            dotenv: Some("bump.env".into()),
            tekton_results: Some("results".into()),
            now: 7,
            ..CiEnv::default()
        };
        let mut report = pushed();
        let native = ci.render(&report, None);
        assert_eq!(
            native.summary,
            Some(("summary.md".into(), github_summary(&report)))
        );
        assert_eq!(native.annotation, None, "a run that did not fail");
        assert_eq!(native.log_section, gitlab_diff_section(&report, 7));
        assert!(native.log_section.is_some());
        assert_eq!(native.dotenv, Some(("bump.env".into(), dotenv(&report))));
        assert_eq!(
            native.tekton,
            Some(("results".into(), tekton_results(&report)))
        );

        report.error = Some(ReportedError {
            message: "cannot apply image.tag=1".into(),
            kind: "yaml",
        });
        let error = crate::yaml::file::FileError::NotFound {
            path: "apps/values.yaml".into(),
        };
        assert_eq!(
            ci.render(&report, Some(&error)).annotation.as_deref(),
            Some("::error file=apps/values.yaml,title=tagbump::cannot apply image.tag=1")
        );
        let elsewhere = CiEnv {
            github_step_summary: Some("summary.md".into()),
            ..CiEnv::default()
        };
        assert_eq!(
            elsewhere.render(&report, Some(&error)),
            Native::default(),
            "GitHub's parts need GITHUB_ACTIONS=true"
        );
    }

    #[test]
    fn step_outputs_name_every_value_and_leave_the_unknown_empty() {
        let mut report = pushed();
        report.verified = Some(true);
        assert_eq!(
            step_output_lines(&report),
            "changed=true\ncommit-sha=0123456789abcdef0123456789abcdef01234567\nbranch=main\n\
             pushed=true\nvia=api\nverified=true\nfiles=[\"apps/api/values.yaml\"]\n\
             pr-number=\npr-url=\npr-merged=\n"
        );
        report.pull_request = Some(PrReport {
            number: 12,
            url: "https://github.com/acme/gitops-config/pull/12".into(),
            merged: true,
            ..PrReport::default()
        });
        let outputs = step_outputs(&report);
        assert_eq!(
            &outputs[7..],
            &[
                ("pr-number", "12".to_string()),
                (
                    "pr-url",
                    "https://github.com/acme/gitops-config/pull/12".to_string()
                ),
                ("pr-merged", "true".to_string()),
            ]
        );
        assert_eq!(
            step_output_lines(&Report::default()),
            "changed=false\ncommit-sha=\nbranch=\npushed=false\nvia=\nverified=\nfiles=[]\n\
             pr-number=\npr-url=\npr-merged=\n"
        );
    }

    #[test]
    fn tekton_results_are_the_values_themselves() {
        assert_eq!(
            tekton_results(&pushed()),
            vec![
                ("changed", "true".to_string()),
                ("pushed", "true".to_string()),
                (
                    "commit-sha",
                    "0123456789abcdef0123456789abcdef01234567".to_string()
                ),
                ("branch", "main".to_string()),
                ("pr-number", String::new()),
                ("pr-url", String::new()),
            ]
        );
    }
}
