//! The status of several repositories (`tagbump status --repo A --repo B`), each under
//! its URL as given: a `URL:` line above its table, a `### URL` heading above its
//! Markdown table, or one JSON object `{"targets": [{repo, status, error}]}` in the
//! order given. A repository that could not be read has no table (Markdown: `not read:`
//! and why) and, in JSON, `"status": null` with its `error`.

use std::fmt::Write as _;

use crate::bump::ReportedError;
use crate::environments::Status;

/// One repository's part: its status, or why it could not be read (the caller's words).
pub struct StatusSection<'a> {
    /// The repository as given.
    pub repo: &'a str,
    /// What it runs, or why it was not read.
    pub status: Result<&'a Status, &'a ReportedError>,
}

/// `URL:` and the table of each repository read, a blank line between them.
pub fn statuses_text(sections: &[StatusSection<'_>]) -> String {
    let mut out = String::new();
    for s in sections {
        if let Ok(status) = s.status {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = write!(out, "{}:\n{}", s.repo, status.to_text());
        }
    }
    out
}

/// `### URL`, a blank line and the Markdown table (or `not read: why`) of each
/// repository, a blank line between them.
pub fn statuses_markdown(sections: &[StatusSection<'_>]) -> String {
    let mut out = String::new();
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "### {}\n\n", s.repo);
        match s.status {
            Ok(status) => out.push_str(&status.to_markdown()),
            Err(e) => {
                let _ = writeln!(out, "not read: {}", e.message);
            }
        }
    }
    out
}

/// `{"targets": [{"repo", "status", "error"}]}`, pretty-printed, and a line break.
pub fn statuses_json(sections: &[StatusSection<'_>]) -> String {
    let targets: Vec<serde_json::Value> = sections
        .iter()
        .map(|s| match s.status {
            Ok(status) => serde_json::json!({
                "repo": s.repo,
                "status": serde_json::to_value(status).unwrap_or_default(),
                "error": null,
            }),
            Err(e) => serde_json::json!({"repo": s.repo, "status": null, "error": e}),
        })
        .collect();
    format!("{:#}\n", serde_json::json!({ "targets": targets }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environments::{status, Config};

    #[test]
    fn each_repository_is_under_its_url_and_one_not_read_says_why() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join(".tagbump.yaml"),
            "environments:\n  dev: { paths: [dev] }\n",
        )
        .expect("config");
        std::fs::create_dir(dir.path().join("dev")).expect("dev");
        std::fs::write(
            dir.path().join("dev/values.yaml"),
            "image:\n  repository: ghcr.io/acme/api\n  tag: \"1.0.0\"\n",
        )
        .expect("values");
        let config = Config::load(dir.path(), None).expect("load");
        let found = status(dir.path(), &config).expect("status");
        let why = ReportedError {
            message: "cannot read it".into(),
            kind: "git-not-found",
        };
        let sections = [
            StatusSection {
                repo: "git://a/cfg.git",
                status: Ok(&found),
            },
            StatusSection {
                repo: "git://b/cfg.git",
                status: Err(&why),
            },
            StatusSection {
                repo: "git://c/cfg.git",
                status: Ok(&found),
            },
        ];
        let table = found.to_text();
        assert_eq!(
            statuses_text(&sections),
            format!("git://a/cfg.git:\n{table}\ngit://c/cfg.git:\n{table}")
        );
        let md = found.to_markdown();
        assert_eq!(
            statuses_markdown(&sections),
            format!(
                "### git://a/cfg.git\n\n{md}\n### git://b/cfg.git\n\nnot read: cannot read it\n\n### git://c/cfg.git\n\n{md}"
            )
        );
        let json: serde_json::Value =
            serde_json::from_str(&statuses_json(&sections)).expect("json");
        assert_eq!(json["targets"][1]["status"], serde_json::Value::Null);
        assert_eq!(json["targets"][1]["error"]["kind"], "git-not-found");
        assert_eq!(json["targets"][0]["status"]["environments"][0], "dev");
        assert_eq!(json["targets"][2]["error"], serde_json::Value::Null);
    }
}
