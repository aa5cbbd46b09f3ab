//! GitHub Actions: the job summary and the `::error` annotation (docs.github.com:
//! "Workflow commands for GitHub Actions", "Adding a job summary", "Setting an error
//! message").

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::bump::Report;
use crate::plan::PlanError;
use crate::url::{RemoteUrl, Transport};
use crate::yaml::file::FileError;
use crate::yaml::EditError;

/// The web page of a commit or the repository, for an `https://` GitHub / GitLab remote
/// (never with the credentials a URL may carry).
fn web_url(repo: &str) -> Option<String> {
    let url = RemoteUrl::parse(repo)
        .ok()
        .filter(|u| u.transport() == Transport::Https)?;
    let shown = url.without_credentials();
    Some(shown.strip_suffix(".git").unwrap_or(&shown).to_string())
}

/// Markdown for the job summary (GitHub-flavoured; cells escaped): the headline, the
/// error of a failed run, the changed values, links to the commit and the pull request,
/// the diff.
pub fn github_summary(report: &Report) -> String {
    let mut md = String::new();
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let code = |s: &str| format!("`{}`", cell(s).replace('`', "'"));
    let target = match (&report.repo, &report.branch) {
        (Some(repo), Some(branch)) => format!(" in {repo} ({branch})"),
        (Some(repo), None) => format!(" in {repo}"),
        _ => String::new(),
    };
    let files = report.files.len();
    let headline = match &report.error {
        Some(_) => format!("tagbump failed{target}"),
        None if !report.changed => format!("tagbump: nothing to change{target}"),
        None if report.dry_run => {
            format!("tagbump (dry run): would update {files} file(s){target}")
        }
        None => format!("tagbump: updated {files} file(s){target}"),
    };
    let _ = writeln!(md, "### {headline}\n");
    if let Some(e) = &report.error {
        let _ = writeln!(md, "```\n{}\n```\n", e.message);
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
        let body = diff.strip_suffix('\n').unwrap_or(diff);
        let _ = writeln!(
            md,
            "<details><summary>diff</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>\n"
        );
    }
    md
}

/// `::error file=…,line=…,title=tagbump::message` for an error about `location`
/// (`::error title=tagbump::message` without one), escaped as the runner expects.
pub fn github_annotation(message: &str, location: Option<(PathBuf, Option<usize>)>) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if let Some((file, line)) = location {
        props.push(format!("file={}", property(&file.display().to_string())));
        if let Some(line) = line {
            props.push(format!("line={line}"));
        }
    }
    props.push("title=tagbump".to_string());
    format!("::error {}::{}", props.join(","), data(message))
}

/// The file (and line) an error is about: the first of its causes (`error`, then its
/// [`source`](Error::source)s) that is a file or plan error of the library naming one.
pub fn location(error: &(dyn Error + 'static)) -> Option<(PathBuf, Option<usize>)> {
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
    std::iter::successors(Some(error), source).find_map(|cause| {
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

/// The cause under `e`, for as long as `e` lives.
fn source<'a>(e: &&'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    let e: &'a (dyn Error + 'static) = *e;
    e.source()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bump::{PrReport, ReportedError};
    use crate::outputs::tests::pushed;

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
            github_summary(&report),
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
    fn summary_of_a_failed_run_has_the_error_and_of_a_dry_run_says_so() {
        let mut failed = pushed();
        failed.error = Some(ReportedError {
            message: "the remote is unreachable".into(),
            kind: "git-unreachable",
        });
        failed.changes.clear();
        failed.commit = None;
        failed.via = None;
        failed.diff = None;
        assert_eq!(
            github_summary(&failed),
            "### tagbump failed in https://github.com/acme/gitops-config.git (main)\n\n\
             ```\nthe remote is unreachable\n```\n\n"
        );
        let dry = Report {
            dry_run: true,
            changed: true,
            files: vec!["a.yaml".into(), "b.yaml".into()],
            diff: Some("-a\n+b\n```\n".into()),
            ..Report::default()
        };
        assert_eq!(
            github_summary(&dry),
            "### tagbump (dry run): would update 2 file(s)\n\n\
             <details><summary>diff</summary>\n\n````diff\n-a\n+b\n```\n````\n\n</details>\n\n"
        );
        assert_eq!(
            github_summary(&Report::default()),
            "### tagbump: nothing to change\n\n"
        );
    }

    #[test]
    fn summary_cells_cannot_break_the_table() {
        let mut report = pushed();
        report.changes[0].new = "a|b`c".into();
        let md = github_summary(&report);
        assert!(md.contains("| `a\\|b'c` |"), "{md}");
    }

    #[test]
    fn annotation_names_the_file_and_line_and_escapes_the_message() {
        let error = FileError::Edit {
            path: "apps/a,b:c/values.yaml".into(),
            error: EditError::Syntax {
                line: 3,
                column: 5,
                message: "100% wrong\nhere".into(),
            },
        };
        assert_eq!(
            location(&error),
            Some((PathBuf::from("apps/a,b:c/values.yaml"), Some(3)))
        );
        assert_eq!(
            github_annotation("cannot apply: 100% wrong\nhere", location(&error)),
            "::error file=apps/a%2Cb%3Ac/values.yaml,line=3,title=tagbump::cannot apply: \
             100%25 wrong%0Ahere"
        );
        assert_eq!(
            github_annotation("the remote is unreachable", None),
            "::error title=tagbump::the remote is unreachable"
        );
    }

    #[test]
    fn the_location_is_found_among_the_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot plan")]
        struct Outer(#[source] PlanError);
        let policy = PlanError::Policy {
            file: "apps/values.yaml".into(),
            line: 9,
            error: crate::policy::PolicyError::NotAllowed {
                new: "x".into(),
                pattern: "^v".into(),
            },
        };
        assert_eq!(
            location(&Outer(policy)),
            Some((PathBuf::from("apps/values.yaml"), Some(9)))
        );
        assert_eq!(location(&std::io::Error::other("disk full")), None);
    }
}
