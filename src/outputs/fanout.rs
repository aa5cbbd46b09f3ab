//! A fan-out's report ([`run_many`](crate::bump::run_many)): a text section per
//! destination and a summary line, one JSON object with its `targets`, the step outputs
//! and dotenv report over all destinations, and the job summary. A failed destination's
//! message is its report's [`error`](crate::bump::Report::error) (a caller that words
//! errors its own way puts its words there first).

use std::fmt::Write as _;

use serde::Serialize;

use super::{github_summary, registry_text, report_text, skipped_text};
use crate::bump::{FanOut, RegistryReport, TargetReport, TargetRun};

/// How many destinations there were, changed (or would change), and failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Summary {
    targets: usize,
    changed: usize,
    failed: usize,
    pushed: bool,
}

impl Summary {
    fn of(fan: &FanOut) -> Summary {
        let t = &fan.targets;
        Summary {
            targets: t.len(),
            changed: t
                .iter()
                .filter(|t| t.result.is_ok() && t.report.changed)
                .count(),
            failed: t.iter().filter(|t| t.result.is_err()).count(),
            pushed: t.iter().any(|t| t.report.pushed),
        }
    }
}

/// The failed destination's message: its report's, else the library's words.
fn failure(t: &TargetRun) -> Option<String> {
    let error = t.result.as_ref().err()?;
    Some(match &t.report.error {
        Some(e) => e.message.clone(),
        None => crate::bump::error_text(error, &|_| None),
    })
}

/// The registry's lines, then `== NAME` and each destination's report (a failed one:
/// what it pushed, or what its search skipped, and `failed: why`), then
/// `N repositories: C changed, U nothing to change, F failed`.
pub fn fanout_text(fan: &FanOut) -> String {
    let mut out = fan.registry.as_ref().map(registry_text).unwrap_or_default();
    for t in &fan.targets {
        let _ = writeln!(out, "== {}", t.name);
        let failed = failure(t);
        if failed.is_none() || t.report.pushed {
            out.push_str(&report_text(&t.report));
        } else {
            out.push_str(&skipped_text(&t.report));
        }
        if let Some(why) = failed {
            let _ = writeln!(out, "failed: {why}");
        }
    }
    let s = Summary::of(fan);
    let _ = writeln!(
        out,
        "{} repositories: {} changed, {} nothing to change, {} failed",
        s.targets,
        s.changed,
        s.targets - s.changed - s.failed,
        s.failed
    );
    out
}

/// The fan-out as one pretty-printed JSON object (and a line break): `dry_run` (only
/// when true), `registry` (when asked), `targets` ([`TargetReport`], in order).
pub fn fanout_json(fan: &FanOut) -> String {
    #[derive(Serialize)]
    struct Json<'a> {
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        dry_run: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        registry: Option<&'a RegistryReport>,
        targets: Vec<TargetReport>,
    }
    let json = Json {
        dry_run: fan.dry_run,
        registry: fan.registry.as_ref(),
        targets: fan
            .targets
            .iter()
            .map(|t| TargetReport::new(&t.name, &t.report))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// The step outputs over every destination, as `name=value` lines: `changed`, `pushed`
/// (any), `targets`, `targets-changed`, `targets-failed`, and `targets-json` (the
/// [`TargetReport`]s on one line, without their changes and diffs).
pub fn fanout_step_output_lines(fan: &FanOut) -> String {
    let s = Summary::of(fan);
    let records: Vec<TargetReport> = fan
        .targets
        .iter()
        .map(|t| {
            let mut r = TargetReport::new(&t.name, &t.report);
            r.changes.clear();
            r.diff = None;
            r
        })
        .collect();
    let json = serde_json::to_string(&records).unwrap_or_else(|_| "[]".to_string());
    format!(
        "changed={}\npushed={}\ntargets={}\ntargets-changed={}\ntargets-failed={}\ntargets-json={json}\n",
        s.changed > 0,
        s.pushed,
        s.targets,
        s.changed,
        s.failed
    )
}

/// The dotenv report over every destination (`TAGBUMP_CHANGED`, `TAGBUMP_PUSHED`,
/// `TAGBUMP_TARGETS`, `TAGBUMP_TARGETS_CHANGED`, `TAGBUMP_TARGETS_FAILED`).
pub fn fanout_dotenv(fan: &FanOut) -> String {
    let s = Summary::of(fan);
    format!(
        "TAGBUMP_CHANGED={}\nTAGBUMP_PUSHED={}\nTAGBUMP_TARGETS={}\nTAGBUMP_TARGETS_CHANGED={}\nTAGBUMP_TARGETS_FAILED={}\n",
        s.changed > 0,
        s.pushed,
        s.targets,
        s.changed,
        s.failed
    )
}

/// The Tekton results over every destination, as `(file name, value)`: `changed` and
/// `pushed` (any), `targets`, `targets-changed`, `targets-failed`; `commit-sha`,
/// `branch`, `pr-number` and `pr-url` are empty (each destination has its own: see the
/// JSON report), so that every result a task declares is written.
pub fn fanout_tekton_results(fan: &FanOut) -> Vec<(&'static str, String)> {
    let s = Summary::of(fan);
    vec![
        ("changed", (s.changed > 0).to_string()),
        ("pushed", s.pushed.to_string()),
        ("commit-sha", String::new()),
        ("branch", String::new()),
        ("pr-number", String::new()),
        ("pr-url", String::new()),
        ("targets", s.targets.to_string()),
        ("targets-changed", s.changed.to_string()),
        ("targets-failed", s.failed.to_string()),
    ]
}

/// The GitHub job summary: each destination's section ([`github_summary`]), in order.
pub fn fanout_github_summary(fan: &FanOut) -> String {
    fan.targets
        .iter()
        .map(|t| github_summary(&t.report))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bump::{self, Destination, Options, ReportedError};
    use crate::image::ImageRef;
    use crate::plan::Request;

    /// A fan-out over three directories: `a` changes, `b` is up to date, `c` names no
    /// such image; its failure worded `why` when given.
    fn three(dry_run: bool, why: Option<&str>) -> (FanOut, [tempfile::TempDir; 3]) {
        let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
        let values =
            |tag: &str| format!("image:\n  repository: ghcr.io/acme/api\n  tag: \"{tag}\"\n");
        std::fs::write(dirs[0].path().join("values.yaml"), values("1.4.2")).expect("a");
        std::fs::write(dirs[1].path().join("values.yaml"), values("1.5.0")).expect("b");
        let change = Request::Image {
            image: ImageRef::parse("ghcr.io/acme/api:1.5.0").expect("image"),
            paths: vec![],
        };
        let places = dirs
            .each_ref()
            .map(|d| Destination::Directory(d.path().into()));
        let options = Options {
            dry_run,
            ..Options::default()
        };
        let mut fan = bump::run_many(&change, &places, &options, 2, &|_, _| {}).expect("fan-out");
        if let Some(why) = why {
            fan.targets[2].report.error = Some(ReportedError {
                message: why.into(),
                kind: "image-not-found",
            });
        }
        for ((t, d), name) in fan.targets.iter_mut().zip(&dirs).zip(["a", "b", "c"]) {
            assert_eq!(t.name, d.path().display().to_string());
            t.name = name.into();
        }
        (fan, dirs)
    }

    #[test]
    fn the_text_is_a_section_per_destination_and_a_count() {
        let (fan, _dirs) = three(false, Some("no place names ghcr.io/acme/api"));
        assert_eq!(
            fanout_text(&fan),
            "== a\n\
             values.yaml:3  image.tag  1.4.2 → 1.5.0  (helm-map)\n\
             updated 1 file(s)\n\
             == b\n\
             values.yaml:3  image.tag  1.5.0 (unchanged)  (helm-map)\n\
             nothing to change: every value is already up to date\n\
             == c\n\
             failed: no place names ghcr.io/acme/api\n\
             3 repositories: 1 changed, 1 nothing to change, 1 failed\n"
        );
        assert_eq!(
            fanout_dotenv(&fan),
            "TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=false\nTAGBUMP_TARGETS=3\n\
             TAGBUMP_TARGETS_CHANGED=1\nTAGBUMP_TARGETS_FAILED=1\n"
        );
        assert_eq!(
            fanout_tekton_results(&fan),
            [
                ("changed", "true"),
                ("pushed", "false"),
                ("commit-sha", ""),
                ("branch", ""),
                ("pr-number", ""),
                ("pr-url", ""),
                ("targets", "3"),
                ("targets-changed", "1"),
                ("targets-failed", "1"),
            ]
            .map(|(k, v)| (k, v.to_string()))
        );
    }

    #[test]
    fn the_json_has_a_target_per_destination_and_says_a_dry_run() {
        let (fan, _dirs) = three(true, None);
        let json: serde_json::Value = serde_json::from_str(&fanout_json(&fan)).expect("JSON");
        assert_eq!(json["dry_run"], true);
        assert!(json.get("registry").is_none());
        let targets = json["targets"].as_array().expect("targets");
        let repos: Vec<&str> = targets.iter().filter_map(|t| t["repo"].as_str()).collect();
        assert_eq!(repos, ["a", "b", "c"]);
        assert_eq!(targets[0]["changed"], true);
        assert!(targets[0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("+  tag: \"1.5.0\"")));
        assert_eq!(targets[1]["error"], serde_json::Value::Null);
        assert_eq!(
            targets[2]["error"]["kind"],
            fan.targets[2].report.error.as_ref().expect("c failed").kind
        );
        let (fan, _dirs) = three(false, None);
        assert!(fanout_json(&fan).starts_with("{\n  \"targets\": ["));
        let lines = fanout_step_output_lines(&fan);
        assert!(
            lines.starts_with("changed=true\npushed=false\ntargets=3\ntargets-changed=1\ntargets-failed=1\ntargets-json=[{\"repo\":\"a\","),
            "{lines}"
        );
        assert!(
            !lines.contains("\"changes\":[{"),
            "no changes in the step output: {lines}"
        );
    }
}
