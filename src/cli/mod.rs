//! The `tagbump` command line: argument parsing and reporting over the library.

pub mod args;
mod output;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command, prints errors with their context.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    // Every token tagbump may read is hidden from the final message, wherever in the
    // chain a URL or a library message put it.
    let secrets = tagbump::credentials::known_secrets(
        &|k: &str| std::env::var(k).ok(),
        token_env(&cli.command),
    );
    match run::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            let message = tagbump::credentials::redact(&error_chain(&err), &secrets);
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The variable named with `--token-env`, if any.
fn token_env(command: &args::Command) -> Option<&str> {
    match command {
        args::Command::Image(a) => a.common.git.token_env.as_deref(),
        args::Command::Set(a) => a.common.git.token_env.as_deref(),
        args::Command::Completions { .. } => None,
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
