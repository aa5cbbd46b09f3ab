//! The `tagbump` binary: a thin layer over the `tagbump` library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
