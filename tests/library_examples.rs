//! The Rust examples under `examples/` (the library's documentation) are built and
//! run with `cargo run --example`, as a reader would run them, and must succeed.

use std::process::Command;

/// `cargo run --example NAME`: its stdout; panics with its output when it fails.
fn run_example(name: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--locked", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn in_async_runtime_gets_errors_not_panics_from_both_clients() {
    let stdout = run_example("in_async_runtime");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    // Both calls reached the refused port and said so.
    assert!(lines[0].starts_with("GitHub client: "), "{stdout}");
    assert!(lines[0].contains("127.0.0.1"), "{stdout}");
    assert!(
        lines[1].starts_with("registry client: 127.0.0.1:"),
        "{stdout}"
    );
    assert!(lines[1].contains("listing tags"), "{stdout}");
}
