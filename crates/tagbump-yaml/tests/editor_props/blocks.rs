//! Block scalars of every header (`|`/`>`, strip/clip/keep chomping, with and without an
//! indentation indicator), at the top, nested, or in a sequence item, followed by empty lines, a key, a comment or
//! the end of the file (with or without a final newline), LF or CRLF, set to values with
//! leading spaces, empty lines, more-indented lines and trailing line breaks. For every
//! case:
//! - the edit succeeds;
//! - libyaml and yaml-rust2 both read the new value at the key, and everything else as
//!   before (the oracle is the two parsers and the generator, never the editor's model);
//! - every byte before the header is unchanged, the block keeps its style (`|` or `>`),
//!   and its header keeps its bytes whenever its chomping fits the value and the value's
//!   first line does not start with a space;
//! - what follows the block's trailing empty lines is unchanged, and a file that ended
//!   without a final newline still does when the value does not end in a line break.

use proptest::prelude::*;
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath};

const LINES: &[&str] = &[
    "alpha",
    "beta gamma ",
    "  more indented",
    "",
    "# not a comment",
    "key: value",
    "- item",
    "x",
    "   three spaces",
    "ünïcode ✓",
];

fn block_value() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(LINES), 1..6),
        0..4usize,
    )
        .prop_map(|(lines, trailing)| format!("{}{}", lines.join("\n"), "\n".repeat(trailing)))
}

#[derive(Clone, Copy, Debug)]
enum Tail {
    Key,
    Comment,
    EndOfFile { final_newline: bool },
}

fn tail() -> impl Strategy<Value = Tail> {
    prop_oneof![
        Just(Tail::Key),
        Just(Tail::Comment),
        any::<bool>().prop_map(|final_newline| Tail::EndOfFile { final_newline }),
    ]
}

/// libyaml's reading of the documents.
fn libyaml(text: &str) -> serde_norway::Value {
    serde_norway::from_str(text).expect("libyaml reads it")
}

/// yaml-rust2's reading.
fn yaml_rust2(text: &str) -> yaml_rust2::Yaml {
    yaml_rust2::YamlLoader::load_from_str(text)
        .expect("yaml-rust2 reads it")
        .into_iter()
        .next()
        .expect("one document")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn block_scalars_of_every_header_take_any_value(
        folded in any::<bool>(),
        chomp in prop::sample::select(&["", "-", "+"][..]),
        indicator in prop::sample::select(&[None, Some(1usize), Some(2), Some(4)][..]),
        nesting in 0..3usize,
        comment in any::<bool>(),
        old_lines in prop::collection::vec(prop::sample::select(&["old one", "old two", ""][..]), 1..4),
        empty_after in 0..3usize,
        tail in tail(),
        crlf in any::<bool>(),
        value in block_value(),
    ) {
        // 0: a top-level key; 1: a nested key; 2: a key of a mapping in a sequence item.
        let parent = if nesting == 0 { 0 } else { 2 };
        let pad = " ".repeat(parent);
        let content_pad = " ".repeat(parent + indicator.unwrap_or(2));
        let style = if folded { '>' } else { '|' };
        let digit = indicator.map(|d| d.to_string()).unwrap_or_default();
        let header = format!("{style}{digit}{chomp}");
        let mut prefix = String::from("first: 1\n");
        match nesting {
            0 => prefix.push_str("block: "),
            1 => prefix.push_str("outer:\n  block: "),
            _ => prefix.push_str("outer:\n- block: "),
        }
        let mut block = header.clone();
        if comment {
            block.push_str("  # a comment");
        }
        block.push('\n');
        // Old content: non-empty first and last lines.
        let mut old = vec!["old first"];
        old.extend(old_lines.iter().copied());
        old.push("old last");
        for l in &old {
            if !l.is_empty() {
                block.push_str(&content_pad);
                block.push_str(l);
            }
            block.push('\n');
        }
        let blanks = "\n".repeat(empty_after);
        let after = match tail {
            Tail::Key => format!("{pad}next: 2\nlast: 3\n"),
            Tail::Comment => "# a comment at the left\nlast: 3\n".to_string(),
            Tail::EndOfFile { .. } => String::new(),
        };
        let mut input = format!("{prefix}{block}{blanks}{after}");
        let no_final_newline = matches!(tail, Tail::EndOfFile { final_newline: false });
        if no_final_newline {
            while input.ends_with('\n') {
                input.pop();
            }
        }
        let (input, newline) = if crlf {
            (input.replace('\n', "\r\n"), "\r\n")
        } else {
            (input, "\n")
        };
        let path = ["block", "outer.block", "outer[0].block"][nesting];
        let edit = Edit::new(KeyPath::parse(path).expect("path"), value.clone());
        let out = apply(&input, &[edit], EditOptions::default())
            .unwrap_or_else(|e| panic!("refused: {e}\n--- input\n{input}"))
            .text;

        // Both parsers read the new value, and the rest as before.
        let mut want = libyaml(&input);
        let mut want_r = yaml_rust2(&input);
        let key = |k: &str| yaml_rust2::Yaml::String(k.into());
        let new_value = yaml_rust2::Yaml::String(value.clone());
        if nesting > 0 {
            let outer_l = &mut want["outer"];
            let holder = if nesting == 2 { &mut outer_l[0] } else { outer_l };
            holder["block"] = serde_norway::Value::String(value.clone());
            let outer_r = want_r.as_mut_hash().and_then(|h| h.get_mut(&key("outer")));
            let holder = match outer_r {
                Some(yaml_rust2::Yaml::Array(items)) => items.first_mut(),
                other => other,
            };
            // The block must be where the generator put it: no silent skip of the oracle.
            let v = holder
                .and_then(|h| h.as_mut_hash())
                .and_then(|o| o.get_mut(&key("block")))
                .expect("yaml-rust2 reads the block in the input");
            *v = new_value;
        } else {
            want["block"] = serde_norway::Value::String(value.clone());
            let v = want_r
                .as_mut_hash()
                .and_then(|h| h.get_mut(&key("block")))
                .expect("yaml-rust2 reads the block in the input");
            *v = new_value;
        }
        prop_assert_eq!(libyaml(&out), want, "libyaml\n--- out\n{}", out);
        prop_assert_eq!(yaml_rust2(&out), want_r, "yaml-rust2\n--- out\n{}", out);

        // Bytes before the header, the style, the header when it fits.
        let prefix_nl = prefix.replace('\n', newline);
        prop_assert!(out.starts_with(&prefix_nl));
        let written_header = out[prefix_nl.len()..].split(['\r', '\n', ' ']).next().unwrap_or("");
        prop_assert!(written_header.starts_with(style), "style of {}", written_header);
        let body = value.trim_end_matches('\n');
        let trailing = value.len() - body.len();
        let fits = match chomp {
            "-" => trailing == 0,
            "+" => trailing >= 1,
            _ => trailing == 1,
        };
        let first_spaced = body.split('\n').find(|l| !l.is_empty()).is_some_and(|l| l.starts_with(' '));
        if fits && (indicator.is_some() || !first_spaced) && !body.is_empty() {
            prop_assert_eq!(written_header, header.as_str());
        }

        // What follows the block (past its empty lines) is unchanged.
        let after_nl = after.replace('\n', newline);
        prop_assert!(out.ends_with(&after_nl), "tail\n--- out\n{}", out);
        if no_final_newline && trailing == 0 && !body.is_empty() {
            prop_assert!(!out.ends_with('\n'), "a final newline appeared\n--- out\n{:?}", out);
        }
    }
}
