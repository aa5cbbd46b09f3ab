//! Printing the report on stdout: its text ([`tagbump::outputs::report_text`]) or JSON.

use std::io::Write;

use anyhow::Result;

use super::args::OutputFormat;
pub use tagbump::bump::Report;

/// Prints the report on stdout (a JSON report keeps its diff only in a dry run).
pub fn emit(report: &Report, format: OutputFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut r = flagged(report);
    match format {
        OutputFormat::Json => {
            if !r.dry_run {
                r.diff = None;
            }
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        OutputFormat::Text => out.write_all(tagbump::outputs::report_text(&r).as_bytes())?,
    }
    Ok(())
}

/// The report with the rejected tags' reasons naming the filter flags (the library
/// names the filters, not the flags).
pub fn flagged(report: &Report) -> Report {
    let mut r = report.clone();
    if let Some(registry) = &mut r.registry {
        super::advice::flag_registry(registry);
    }
    r
}
