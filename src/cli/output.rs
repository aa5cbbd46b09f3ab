//! Printing the report on stdout: its text ([`tagbump::outputs::report_text`]) or JSON.

use std::io::Write;

use anyhow::Result;

use super::args::OutputFormat;
pub use tagbump::bump::Report;

/// Prints the report on stdout (a JSON report keeps its diff only in a dry run).
pub fn emit(report: &Report, format: OutputFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            let mut r = report.clone();
            if !r.dry_run {
                r.diff = None;
            }
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        OutputFormat::Text => out.write_all(text(report).as_bytes())?,
    }
    Ok(())
}

/// The report's text, the rejected tags' reasons naming the filter flags.
pub fn text(report: &Report) -> String {
    flagged(tagbump::outputs::report_text(report))
}

/// `text` with the rejected tags' reasons naming the filter flags (the library names
/// the filters, not the flags).
pub fn flagged(text: String) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.starts_with("registry: rejected ") {
                super::advice::filter_words(line)
            } else {
                line.to_string()
            }
        })
        .collect()
}
