//! Printing the outcome: human-readable lines, JSON, and GitHub Actions step outputs.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::args::OutputFormat;
pub use tagbump::bump::Report;
use tagbump::targets::{NotSearched, NotSearchedReason};

/// Prints the report on stdout.
pub fn emit(report: &Report, format: OutputFormat, dry_run: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Json => {
            let mut r = report.clone();
            if !dry_run {
                r.diff = None;
            }
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        OutputFormat::Text => write_text(&mut out, report, dry_run)?,
    }
    Ok(())
}

/// The `skipped FILE: why` lines of the text form, and the one `not searched: …` line.
pub fn write_skipped(out: &mut dyn Write, report: &Report) -> Result<()> {
    for s in &report.skipped {
        writeln!(out, "skipped {}: {}", s.file.display(), s.reason)?;
    }
    if let Some(line) = not_searched_line(&report.not_searched) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The one `not searched: …` line of the text form: how many of each kind, with the
/// first few paths (none when the search entered everything).
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

/// The human-readable form.
pub fn write_text(out: &mut dyn Write, report: &Report, dry_run: bool) -> Result<()> {
    if let Some(p) = &report.promotion {
        write_promotion(out, p)?;
    }
    if let Some(r) = &report.registry {
        super::registry::write_text(out, r)?;
    }
    write_skipped(out, report)?;
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    for c in &report.changes {
        let old = c.old.as_deref().unwrap_or("(new)");
        // Why the place was touched (`image` runs): the kind, and whether it was pinned.
        let why = match (c.kind, c.pinned) {
            (Some(kind), true) => format!("  ({kind}, pinned)"),
            (Some(kind), false) => format!("  ({kind})"),
            (None, _) => String::new(),
        };
        if c.changed {
            let typed = c
                .type_changed
                .as_ref()
                .map(|t| format!("  (type {} → {})", t.from, t.to))
                .unwrap_or_default();
            writeln!(
                out,
                "{}:{}  {}  {} → {}{}{typed}{why}",
                c.file.display(),
                c.line,
                c.path,
                old,
                c.new,
                if c.aliases.is_empty() {
                    String::new()
                } else {
                    format!("  (also {} through aliases)", c.aliases.join(", "))
                }
            )?;
        } else {
            writeln!(
                out,
                "{}:{}  {}  {} (unchanged){why}",
                c.file.display(),
                c.line,
                c.path,
                old
            )?;
        }
    }
    if dry_run {
        if let Some(diff) = &report.diff {
            write!(out, "{diff}")?;
        }
        writeln!(
            out,
            "dry run: {}",
            if report.changed {
                "changes shown above were not written"
            } else {
                "nothing to change"
            }
        )?;
        return Ok(());
    }
    if !report.changed {
        writeln!(out, "nothing to change: every value is already up to date")?;
        return Ok(());
    }
    match (&report.commit, &report.branch) {
        (Some(sha), Some(branch)) => {
            let short = &sha[..sha.len().min(12)];
            let attempts = report.attempts.unwrap_or(1);
            writeln!(
                out,
                "committed {short} to {branch}{}",
                if attempts > 1 {
                    format!(" after {attempts} attempts")
                } else {
                    String::new()
                }
            )?;
        }
        _ => writeln!(out, "updated {} file(s)", report.files.len())?,
    }
    if let Some(pr) = &report.pull_request {
        writeln!(
            out,
            "{} pull request #{}: {}",
            if pr.created { "opened" } else { "updated" },
            pr.number,
            pr.url
        )?;
        if pr.merged {
            writeln!(out, "merged pull request #{}", pr.number)?;
        }
        for n in &pr.closed_superseded {
            writeln!(out, "closed superseded pull request #{n}")?;
        }
        for b in &pr.deleted_branches {
            writeln!(out, "deleted branch {b}")?;
        }
    }
    Ok(())
}

/// Appends `name=value` lines for GitHub Actions (`$GITHUB_OUTPUT`).
pub fn append_github_output(path: &Path, report: &Report) -> Result<()> {
    let files: Vec<String> = report
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let mut lines = vec![
        format!("changed={}", report.changed),
        format!("commit-sha={}", report.commit.clone().unwrap_or_default()),
        format!("branch={}", report.branch.clone().unwrap_or_default()),
        format!("pushed={}", report.pushed),
        format!("via={}", report.via.clone().unwrap_or_default()),
        format!(
            "verified={}",
            report.verified.map(|v| v.to_string()).unwrap_or_default()
        ),
        format!("files={}", serde_json::to_string(&files)?),
    ];
    match &report.pull_request {
        Some(pr) => {
            lines.push(format!("pr-number={}", pr.number));
            lines.push(format!("pr-url={}", pr.url));
            lines.push(format!("pr-merged={}", pr.merged));
        }
        None => {
            lines.push("pr-number=".to_string());
            lines.push("pr-url=".to_string());
            lines.push("pr-merged=".to_string());
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    for l in lines {
        writeln!(f, "{l}")?;
    }
    Ok(())
}

/// `promote dev → staging` and a line per image: old → new, or in sync.
fn write_promotion(out: &mut dyn Write, p: &tagbump::environments::Promotion) -> Result<()> {
    writeln!(out, "promote {} → {}", p.from, p.to)?;
    if p.images.is_empty() {
        writeln!(out, "  no image is referenced in both")?;
    }
    for i in &p.images {
        let mut new = i.from_tag.clone().unwrap_or_default();
        if let Some(d) = &i.from_digest {
            new.push('@');
            new.push_str(d);
        }
        if i.changed {
            let old = i.to_old_tag.as_deref().unwrap_or("(places disagreed)");
            writeln!(out, "  {}  {old} → {new}", i.image)?;
        } else {
            writeln!(out, "  {}  {new} (in sync)", i.image)?;
        }
    }
    Ok(())
}
