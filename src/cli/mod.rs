//! The `tagbump` command line: argument parsing and reporting over the library.

pub mod args;
mod output;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command, prints errors with their context.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match run::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by `: ` (like `{err:#}`), leaving out a cause whose
/// text is already part of an outer message: library errors often repeat their source
/// in their own message.
fn error_chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[test]
    fn a_cause_repeated_by_its_parent_is_printed_once() {
        let inner = std::io::Error::other("disk full");
        let outer = anyhow::Error::new(inner)
            .context("writing failed: disk full")
            .context("cannot apply x");
        assert_eq!(
            error_chain(&outer),
            "cannot apply x: writing failed: disk full"
        );
        let plain = anyhow::anyhow!("root cause").context("outer");
        assert_eq!(error_chain(&plain), "outer: root cause");
    }
}
