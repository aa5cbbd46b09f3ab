//! The `tagbump` command line: argument parsing and reporting over the library.

pub mod args;
mod failure;
mod finish;
mod output;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command, reports the outcome.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    run::run(cli.command)
}
