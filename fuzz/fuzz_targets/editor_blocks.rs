//! Fuzzes block-scalar edits: the first input byte picks a block's header (`|`/`>`,
//! strip/clip/keep, an indentation indicator or none), whether it is nested, what
//! follows it (empty lines, a key, a comment, the end of the file with or without a
//! final newline) and LF or CRLF; the second picks the old content; the rest of the
//! input is the new value (any text, line breaks and leading spaces included).
//!
//! Invariants: never panics; an edit either fails cleanly or yields text in which libyaml
//! reads exactly the new value at the key and everything else as before, every byte
//! before the header is unchanged, the block keeps its style, and what follows the
//! block's trailing empty lines is unchanged.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run editor_blocks -- -max_total_time=300`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath};

const OLD: [&str; 4] = [
    "old one\n",
    "old one\n\nold two\n",
    "old\n  more indented\nold\n",
    "a: b\n# c\n",
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (a, b) = (data[0], data[1]);
    let value = String::from_utf8_lossy(&data[2..]).to_string();
    let style = if a & 1 == 0 { '|' } else { '>' };
    let chomp = ["", "-", "+"][usize::from(a >> 1) % 3];
    let indicator = [None, Some(1usize), Some(2)][usize::from(a >> 3) % 3];
    let nested = a & 0x20 != 0;
    let tail = usize::from(b >> 2) % 4;
    let empty_after = usize::from(b >> 4) % 3;
    let crlf = b & 0x40 != 0;

    let parent = if nested { 2 } else { 0 };
    let pad = " ".repeat(parent);
    let content_pad = " ".repeat(parent + indicator.unwrap_or(2));
    let digit = indicator.map(|d| d.to_string()).unwrap_or_default();
    let mut prefix = String::from("first: 1\n");
    if nested {
        prefix.push_str("outer:\n");
    }
    prefix.push_str(&format!("{pad}block: "));
    let mut block = format!("{style}{digit}{chomp}\n");
    for line in OLD[usize::from(b) % 4].lines() {
        if !line.is_empty() {
            block.push_str(&content_pad);
            block.push_str(line);
        }
        block.push('\n');
    }
    let after = match tail {
        0 => format!("{pad}next: 2\nlast: 3\n"),
        1 => "# a comment\nlast: 3\n".to_string(),
        _ => String::new(),
    };
    let mut input = format!("{prefix}{block}{}{after}", "\n".repeat(empty_after));
    if tail == 3 {
        while input.ends_with('\n') {
            input.pop();
        }
    }
    let newline = if crlf { "\r\n" } else { "\n" };
    let input = input.replace('\n', newline);
    let prefix = prefix.replace('\n', newline);
    let after = after.replace('\n', newline);

    let path = if nested { "outer.block" } else { "block" };
    let edit = Edit::new(KeyPath::parse(path).expect("path"), value.clone());
    let Ok(out) = apply(&input, &[edit], EditOptions::default()) else {
        return;
    };
    let out = out.text;
    assert!(out.starts_with(&prefix), "bytes before the header changed");
    assert!(
        out[prefix.len()..].starts_with(style),
        "the block changed its style"
    );
    assert!(out.ends_with(&after), "bytes after the block changed");
    let mut want: serde_norway::Value = serde_norway::from_str(&input).expect("input reads");
    if nested {
        want["outer"]["block"] = serde_norway::Value::String(value.clone());
    } else {
        want["block"] = serde_norway::Value::String(value.clone());
    }
    let got: serde_norway::Value = serde_norway::from_str(&out).expect("libyaml reads the result");
    assert_eq!(got, want, "libyaml reads other data");
});
