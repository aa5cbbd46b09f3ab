//! The `tagbump` command line: argument parsing and reporting over the library.

pub mod args;
mod output;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command, prints errors with their context.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    stop_cleanly_on_signals();
    match run::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP (a cancelled CI job, Ctrl-C) kill every git child with
/// its helpers (they run in their own process groups, so the terminal's signal does not
/// reach them) and remove the temporary clone, then exit with 128 + the signal number.
/// A push that was under way either completed before or never lands.
fn stop_cleanly_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        eprintln!("tagbump: warning: cannot install signal handlers; a stopped run may leave git children behind");
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            tagbump::git::cleanup();
            eprintln!(
                "tagbump: stopped by signal {signal}; git children killed, temporary clone removed"
            );
            std::process::exit(128 + signal);
        }
    });
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
