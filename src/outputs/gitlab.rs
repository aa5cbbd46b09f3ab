//! GitLab CI: the diff in a collapsed section of the job log (docs.gitlab.com: "CI/CD
//! job logs", "Custom collapsible sections") and the dotenv report (docs.gitlab.com:
//! "GitLab CI/CD artifacts reports types", `artifacts:reports:dotenv`).

use std::fmt::Write as _;

use crate::bump::Report;

/// The diff of what was written, in a collapsed section of the GitLab job log, its
/// markers stamped `now` (Unix seconds). `None` for a dry run (the report shows the diff
/// itself) or when nothing changed.
pub fn gitlab_diff_section(report: &Report, now: u64) -> Option<String> {
    if !report.changed || report.dry_run {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bump::PrReport;
    use crate::outputs::tests::pushed;

    #[test]
    fn the_section_wraps_the_diff_of_a_written_change_only() {
        let mut report = pushed();
        assert_eq!(
            gitlab_diff_section(&report, 1700000000).as_deref(),
            Some(
                "\x1b[0Ksection_start:1700000000:tagbump_diff[collapsed=true]\r\x1b[0Ktagbump: diff of 1 file(s)\n\
                 --- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n@@ -7 +7 @@\n-  tag: 1.4.2\n+  tag: 1.5.0\n\
                 \x1b[0Ksection_end:1700000000:tagbump_diff\r\x1b[0K\n"
            )
        );
        report.diff = Some("-a\n+b".into());
        assert_eq!(
            gitlab_diff_section(&report, 5).as_deref(),
            Some(
                "\x1b[0Ksection_start:5:tagbump_diff[collapsed=true]\r\x1b[0Ktagbump: diff of 1 file(s)\n\
                 -a\n+b\n\x1b[0Ksection_end:5:tagbump_diff\r\x1b[0K\n"
            ),
            "the end marker starts a line of its own"
        );
        report.dry_run = true;
        assert_eq!(
            gitlab_diff_section(&report, 1),
            None,
            "a dry run prints its diff itself"
        );
        assert_eq!(gitlab_diff_section(&Report::default(), 1), None);
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
        report.branch = Some("tagbump/api\nx".into());
        assert_eq!(
            dotenv(&report),
            "TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=true\n\
             TAGBUMP_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567\nTAGBUMP_BRANCH=tagbump/api x\n\
             TAGBUMP_VIA=api\nTAGBUMP_MR_IID=7\n\
             TAGBUMP_MR_URL=https://gitlab.example.com/acme/cfg/-/merge_requests/7\n"
        );
    }
}
