//! The human-readable text of a report: the registry's choice, what the search skipped,
//! each value reached, and what was committed, pushed and opened.

use std::fmt::Write as _;

use crate::bump::{RegistryReport, Report};
use crate::environments::Promotion;
use crate::targets::{NotSearched, NotSearchedReason};

/// The whole text of a run's report (a dry run ends with its diff and says that
/// nothing was written).
pub fn report_text(report: &Report) -> String {
    let mut out = String::new();
    if let Some(p) = &report.promotion {
        out.push_str(&promotion_text(p));
    }
    if let Some(r) = &report.registry {
        out.push_str(&registry_text(r));
    }
    out.push_str(&skipped_text(report));
    for n in &report.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for c in &report.changes {
        let old = c.old.as_deref().unwrap_or("(new)");
        // Why the place was touched (`image` runs): the kind, and whether it was pinned.
        let why = match (c.kind, c.pinned) {
            (Some(kind), true) => format!("  ({kind}, pinned)"),
            (Some(kind), false) => format!("  ({kind})"),
            (None, _) => String::new(),
        };
        let at = format!("{}:{}  {}  {old}", c.file.display(), c.line, c.path);
        if !c.changed {
            let _ = writeln!(out, "{at} (unchanged){why}");
            continue;
        }
        let typed = c
            .type_changed
            .as_ref()
            .map(|t| format!("  (type {} → {})", t.from, t.to))
            .unwrap_or_default();
        let aliases = if c.aliases.is_empty() {
            String::new()
        } else {
            format!("  (also {} through aliases)", c.aliases.join(", "))
        };
        let _ = writeln!(out, "{at} → {}{aliases}{typed}{why}", c.new);
    }
    if report.dry_run {
        if let Some(diff) = &report.diff {
            out.push_str(diff);
        }
        let what = if report.changed {
            "changes shown above were not written"
        } else {
            "nothing to change"
        };
        let _ = writeln!(out, "dry run: {what}");
        return out;
    }
    if !report.changed {
        out.push_str("nothing to change: every value is already up to date\n");
        return out;
    }
    match (&report.commit, &report.branch) {
        (Some(sha), Some(branch)) => {
            let short = &sha[..sha.len().min(12)];
            let _ = match report.attempts.unwrap_or(1) {
                attempts @ 2.. => {
                    writeln!(
                        out,
                        "committed {short} to {branch} after {attempts} attempts"
                    )
                }
                _ => writeln!(out, "committed {short} to {branch}"),
            };
        }
        _ => {
            let _ = writeln!(out, "updated {} file(s)", report.files.len());
        }
    }
    if let Some(pr) = &report.pull_request {
        let verb = if pr.created { "opened" } else { "updated" };
        let _ = writeln!(out, "{verb} pull request #{}: {}", pr.number, pr.url);
        if pr.merged {
            let _ = writeln!(out, "merged pull request #{}", pr.number);
        }
        for n in &pr.closed_superseded {
            let _ = writeln!(out, "closed superseded pull request #{n}");
        }
        for b in &pr.deleted_branches {
            let _ = writeln!(out, "deleted branch {b}");
        }
    }
    out
}

/// The `skipped FILE: why` lines, and the one `not searched: …` line.
pub fn skipped_text(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.skipped {
        let _ = writeln!(out, "skipped {}: {}", s.file.display(), s.reason);
    }
    if let Some(line) = not_searched_line(&report.not_searched) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The one `not searched: …` line: how many of each kind, with the first few paths
/// (none when the search entered everything).
pub fn not_searched_line(list: &[NotSearched]) -> Option<String> {
    type Group = (&'static str, &'static str, fn(NotSearchedReason) -> bool);
    const GROUPS: [Group; 4] = [
        ("directory", "directories", NotSearchedReason::is_directory),
        ("hidden file", "hidden files", |r| {
            r == NotSearchedReason::HiddenFile
        }),
        (
            "symbolic link out of the tree or to nothing",
            "symbolic links out of the tree or to nothing",
            |r| {
                matches!(
                    r,
                    NotSearchedReason::LinkOutside | NotSearchedReason::DanglingLink
                )
            },
        ),
        (
            "JSON file that is not a Kubernetes object",
            "JSON files that are not Kubernetes objects",
            |r| r == NotSearchedReason::NotKubernetesJson,
        ),
    ];
    const SHOWN: usize = 3;
    let parts: Vec<String> = GROUPS
        .iter()
        .filter_map(|(one, many, belongs)| {
            let paths: Vec<String> = list
                .iter()
                .filter(|n| belongs(n.reason))
                .map(|n| n.path.display().to_string())
                .collect();
            let noun = match paths.len() {
                0 => return None,
                1 => one,
                _ => many,
            };
            let more = if paths.len() > SHOWN { " …" } else { "" };
            let shown = paths[..paths.len().min(SHOWN)].join(", ");
            Some(format!("{} {noun} ({shown}{more})", paths.len()))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("not searched: {}", parts.join(", ")))
}

/// The registry's lines: the strategy's choice with its runners-up and the rejected
/// tags, the digest pinned or verified.
pub fn registry_text(r: &RegistryReport) -> String {
    let mut out = String::new();
    if let Some(s) = &r.strategy {
        let _ = writeln!(out, "registry: {} chose {}: {}", s.name, s.tag, s.reason);
        let candidates: Vec<String> = s
            .candidates
            .iter()
            .map(|c| {
                if c.key == c.tag {
                    c.tag.clone()
                } else {
                    format!("{} ({})", c.tag, c.key)
                }
            })
            .collect();
        let (considered, listed) = (s.considered, s.listed);
        let _ = writeln!(
            out,
            "registry: candidates ({considered} of {listed} listed): {}",
            candidates.join(", ")
        );
        for rej in &s.rejected {
            let _ = writeln!(out, "registry: rejected {}: {}", rej.tag, rej.reason);
        }
    }
    if let Some(d) = &r.digest {
        let what = if r.verified { "verified" } else { "pinned" };
        let platform = d
            .platform
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let _ = if d.tag.is_empty() {
            writeln!(out, "registry: {what} {}{platform}", d.digest)
        } else {
            writeln!(out, "registry: {what} {} → {}{platform}", d.tag, d.digest)
        };
    }
    if let Some(v) = r.verification.as_ref().filter(|v| v.identity.is_some()) {
        let _ = writeln!(
            out,
            "registry: signature verified: {} by {} (issuer {}; {}{}; {})",
            v.digest,
            v.identity.as_deref().unwrap_or_default(),
            v.issuer.as_deref().unwrap_or_default(),
            v.log_index
                .map(|i| format!("log index {i}, "))
                .unwrap_or_default(),
            v.signed_at
                .as_deref()
                .map(|t| format!("signed {t}"))
                .unwrap_or_default(),
            v.location
        );
    } else if let Some(v) = &r.verification {
        let _ = writeln!(
            out,
            "registry: signature verified: {} by {} key {} ({}, {} signature(s) checked)",
            v.digest, v.key_algorithm, v.key_fingerprint, v.location, v.signatures_checked
        );
        for a in &v.attestations {
            let _ = writeln!(
                out,
                "registry: attestation verified: {} by key {} ({}){}",
                a.predicate_type,
                a.key_fingerprint,
                a.location,
                a.provenance
                    .as_deref()
                    .map(|p| format!(", provenance named by {p}"))
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// `promote dev → staging` and a line per image: old → new, or in sync.
pub fn promotion_text(p: &Promotion) -> String {
    let mut out = format!("promote {} → {}\n", p.from, p.to);
    if p.images.is_empty() {
        out.push_str("  no image is referenced in both\n");
    }
    for i in &p.images {
        let mut new = i.from_tag.clone().unwrap_or_default();
        if let Some(d) = &i.from_digest {
            new.push('@');
            new.push_str(d);
        }
        if i.changed {
            let old = i.to_old_tag.as_deref().unwrap_or("(places disagreed)");
            let _ = writeln!(out, "  {}  {old} → {new}", i.image);
        } else {
            let _ = writeln!(out, "  {}  {new} (in sync)", i.image);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bump::{PrReport, RejectedTag, Skipped, StrategyReport};
    use crate::environments::PromotedImage;
    use crate::outputs::tests::pushed;
    use crate::plan::TypeChanged;
    use crate::registry::strategy::{Candidate, Rejection};
    use crate::registry::Pinned;
    use crate::targets::TargetKind;

    #[test]
    fn a_pushed_change_names_each_value_the_commit_and_the_pull_request() {
        let mut report = pushed();
        report.changes[0].kind = Some(TargetKind::HelmMap);
        report.changes[0].aliases = vec!["web.tag".into()];
        let mut same = report.changes[0].clone();
        (same.path, same.line, same.changed, same.pinned) = ("x.tag".into(), 9, false, true);
        let mut typed = same.clone();
        (typed.changed, typed.kind, typed.old) = (true, None, None);
        typed.type_changed = Some(TypeChanged {
            from: "int".into(),
            to: "string".into(),
        });
        report.changes.extend([same, typed]);
        report.attempts = Some(3);
        report.notes = vec!["the digest was dropped".into()];
        report.pull_request = Some(PrReport {
            number: 12,
            url: "https://github.com/acme/gitops-config/pull/12".into(),
            merged: true,
            closed_superseded: vec![9],
            deleted_branches: vec!["tagbump/api-1.4.2".into()],
            ..PrReport::default()
        });
        assert_eq!(
            report_text(&report),
            "note: the digest was dropped\n\
             apps/api/values.yaml:7  image.tag  1.4.2 → 1.5.0  (also web.tag through aliases)  (helm-map)\n\
             apps/api/values.yaml:9  x.tag  1.4.2 (unchanged)  (helm-map, pinned)\n\
             apps/api/values.yaml:9  x.tag  (new) → 1.5.0  (also web.tag through aliases)  (type int → string)\n\
             committed 0123456789ab to main after 3 attempts\n\
             updated pull request #12: https://github.com/acme/gitops-config/pull/12\n\
             merged pull request #12\n\
             closed superseded pull request #9\n\
             deleted branch tagbump/api-1.4.2\n"
        );
    }

    #[test]
    fn dry_runs_unchanged_runs_and_plain_directories_say_what_happened() {
        let mut report = pushed();
        report.changes.clear();
        report.dry_run = true;
        assert_eq!(
            report_text(&report),
            "--- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n@@ -7 +7 @@\n\
             -  tag: 1.4.2\n+  tag: 1.5.0\ndry run: changes shown above were not written\n"
        );
        report.changed = false;
        report.diff = None;
        assert_eq!(report_text(&report), "dry run: nothing to change\n");
        report.dry_run = false;
        assert_eq!(
            report_text(&report),
            "nothing to change: every value is already up to date\n"
        );
        let local = Report {
            changed: true,
            files: vec!["a.yaml".into(), "b.yaml".into()],
            ..Report::default()
        };
        assert_eq!(report_text(&local), "updated 2 file(s)\n");
    }

    #[test]
    fn skipped_files_and_what_was_not_searched_are_one_line_each() {
        let not = |path: &str, reason| NotSearched {
            path: path.into(),
            reason,
        };
        let report = Report {
            skipped: vec![Skipped {
                file: "bad.yaml".into(),
                reason: "malformed YAML at line 2".into(),
            }],
            not_searched: vec![
                not(".git", NotSearchedReason::HiddenDirectory),
                not("node_modules", NotSearchedReason::NodeModules),
                not("chart/templates", NotSearchedReason::ChartTemplates),
                not("x/.hidden", NotSearchedReason::HiddenDirectory),
                not(".env.yaml", NotSearchedReason::HiddenFile),
                not("pkg.json", NotSearchedReason::NotKubernetesJson),
            ],
            ..Report::default()
        };
        assert_eq!(
            skipped_text(&report),
            "skipped bad.yaml: malformed YAML at line 2\n\
             not searched: 4 directories (.git, node_modules, chart/templates …), \
             1 hidden file (.env.yaml), 1 JSON file that is not a Kubernetes object (pkg.json)\n"
        );
        assert_eq!(not_searched_line(&[]), None);
    }

    #[test]
    #[allow(clippy::field_reassign_with_default)] // one field set at a time, as the run fills it
    fn the_registry_lines_give_the_choice_its_rivals_and_the_digest() {
        let mut r = RegistryReport::default();
        r.strategy = Some(StrategyReport {
            name: "semver",
            tag: "v1.5.0".into(),
            reason: "the highest version".into(),
            listed: 10,
            considered: 2,
            candidates: vec![
                Candidate {
                    tag: "v1.5.0".into(),
                    key: "1.5.0".into(),
                },
                Candidate {
                    tag: "b".into(),
                    key: "b".into(),
                },
            ],
            rejected: vec![RejectedTag::new("v2.0.0-rc.1", Rejection::PreRelease)],
        });
        r.digest = Some(Pinned {
            tag: "v1.5.0".into(),
            digest: "sha256:abc".into(),
            media_type: String::new(),
            platform: Some("linux/arm64".into()),
        });
        assert_eq!(
            registry_text(&r),
            "registry: semver chose v1.5.0: the highest version\n\
             registry: candidates (2 of 10 listed): v1.5.0 (1.5.0), b\n\
             registry: rejected v2.0.0-rc.1: a pre-release (allow with a -0 constraint, e.g. 2.x-0)\n\
             registry: pinned v1.5.0 → sha256:abc (linux/arm64)\n"
        );
        r.strategy = None;
        r.verified = true;
        r.digest = Some(Pinned {
            tag: String::new(),
            digest: "sha256:abc".into(),
            media_type: String::new(),
            platform: None,
        });
        assert_eq!(registry_text(&r), "registry: verified sha256:abc\n");
    }

    #[test]
    fn a_promotion_is_a_line_per_image() {
        let image = |name: &str, old: Option<&str>, changed| PromotedImage {
            image: name.into(),
            from_tag: Some("1.5.0".into()),
            from_digest: None,
            to_old_tag: old.map(str::to_string),
            changed,
        };
        let mut digest = image("ghcr.io/acme/web", None, true);
        digest.from_digest = Some("sha256:abc".into());
        let p = Promotion {
            from: "dev".into(),
            to: "prod".into(),
            images: vec![
                image("ghcr.io/acme/api", Some("1.4.2"), true),
                image("ghcr.io/acme/db", Some("1.5.0"), false),
                digest,
            ],
        };
        assert_eq!(
            promotion_text(&p),
            "promote dev → prod\n  ghcr.io/acme/api  1.4.2 → 1.5.0\n  ghcr.io/acme/db  1.5.0 (in sync)\n\
             \x20 ghcr.io/acme/web  (places disagreed) → 1.5.0@sha256:abc\n"
        );
        let none = Promotion {
            from: "dev".into(),
            to: "prod".into(),
            images: vec![],
        };
        assert_eq!(
            promotion_text(&none),
            "promote dev → prod\n  no image is referenced in both\n"
        );
    }
}
