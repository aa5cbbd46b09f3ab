//! The `tagbump` command line: argument parsing and reporting over the library.

mod advice;
pub mod args;
mod failure;
mod fanout;
mod finish;
mod land;
mod native;
mod options;
mod output;
mod promote;
mod registry;
mod run;
mod status;

use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

use clap::Parser;

/// Parses the arguments, runs the command, reports the outcome.
pub fn main() -> ExitCode {
    let mut cli = args::Cli::parse();
    cli.command.split_repo_lines();
    stop_cleanly_on_signals();
    failure::hide_secrets(tagbump::credentials::known_secrets(
        &|k: &str| std::env::var(k).ok(),
        token_env(&cli.command),
    ));
    let code = run::run(cli.command);
    if STOP_SIGNAL.load(Ordering::SeqCst) != 0 {
        // A signal stopped the run (its git child was killed, which is how `run`
        // returned): the signal thread exits with 128 + the signal number.
        loop {
            std::thread::park();
        }
    }
    code
}

/// The signal that is stopping the run, 0 if none.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The variable named with `--token-env`, if any.
fn token_env(command: &args::Command) -> Option<&str> {
    match command {
        args::Command::Image(a) => a.common.git.token_env.as_deref(),
        args::Command::Set(a) => a.common.git.token_env.as_deref(),
        args::Command::Promote(a) => a.common.git.token_env.as_deref(),
        args::Command::Status(a) => a.remote.token_env.as_deref(),
        args::Command::Completions { .. } => None,
    }
}

/// Windows: Ctrl-C reaches the whole console process group, git children included.
#[cfg(not(unix))]
fn stop_cleanly_on_signals() {}

/// SIGINT, SIGTERM and SIGHUP (a cancelled CI job, Ctrl-C) kill every git child with
/// its helpers (they run in their own process groups, so the terminal's signal does not
/// reach them) and remove the temporary clone, then exit with 128 + the signal number.
/// A push that was under way either completed before or never lands.
#[cfg(unix)]
fn stop_cleanly_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        eprintln!("tagbump: warning: cannot install signal handlers; a stopped run may leave git children behind");
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            STOP_SIGNAL.store(signal, Ordering::SeqCst);
            tagbump::git::cleanup();
            eprintln!(
                "tagbump: stopped by signal {signal}; git children killed, temporary clone removed"
            );
            std::process::exit(128 + signal);
        }
    });
}
