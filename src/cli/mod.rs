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
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
