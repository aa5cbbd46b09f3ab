//! Fuzzes the YAML editor: arbitrary text (valid YAML or not), an edit of one of its
//! scalars (picked by the input) to a value taken from the input.
//!
//! Invariants: never panics; an edit either fails cleanly or yields text that reads
//! back with the new value at the path, with every byte outside the edited scalar
//! unchanged.
//!
//! Block scalars have their own target, `editor_blocks`.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run editor -- -max_total_time=300`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagbump_yaml::model::{self, Node, NodeKind};
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath, Segment};

fn leaves(node: &Node, prefix: Vec<Segment>, out: &mut Vec<(KeyPath, std::ops::Range<usize>)>) {
    match &node.kind {
        NodeKind::Scalar(s) => out.push((KeyPath::new(prefix), s.span.clone())),
        NodeKind::Mapping { entries, .. } => {
            for (k, v) in entries {
                if let Some(key) = k.as_scalar() {
                    let mut p = prefix.clone();
                    p.push(Segment::Key(key.value.clone()));
                    leaves(v, p, out);
                }
            }
        }
        NodeKind::Sequence { items, .. } => {
            for (i, v) in items.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(Segment::Index(i));
                leaves(v, p, out);
            }
        }
        NodeKind::Alias(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // Layout: [pick] [value length n] YAML text … [n bytes of new value]
    if data.len() < 2 {
        return;
    }
    let pick = data[0] as usize;
    let n = (data[1] as usize % 24).min(data.len() - 2);
    let text = String::from_utf8_lossy(&data[2..data.len() - n]).to_string();
    let value = String::from_utf8_lossy(&data[data.len() - n..]).to_string();

    // Must not panic, whatever the input.
    let Ok(docs) = model::parse(&text) else {
        let _ = apply(&text, &[Edit::new(KeyPath::parse("a").unwrap(), value)], EditOptions::default());
        return;
    };
    let Some(root) = docs.first().and_then(|d| d.root.as_ref()) else {
        return;
    };
    let mut all = Vec::new();
    leaves(root, Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let (path, span) = all[pick % all.len()].clone();
    let edit = Edit::new(path.clone(), value.clone()).in_document(0);
    let Ok(out) = apply(&text, &[edit], EditOptions::default()) else {
        return;
    };
    if out.text == text {
        return;
    }
    if !span.is_empty() {
        // Only the scalar's bytes changed: the text around its span is kept (a block
        // scalar written with keep chomping takes in the empty lines after it).
        let mut tail = &text[span.end..];
        if matches!(text.as_bytes().get(span.start), Some(b'|' | b'>')) {
            let first_line = tail.find('\n').map_or(tail.len(), |i| i + 1);
            let mut rest = &tail[first_line..];
            while let Some(line) = rest.split_inclusive('\n').next().filter(|l| l.trim().is_empty()) {
                rest = &rest[line.len()..];
            }
            tail = rest;
        }
        let head = &text[..span.start];
        assert!(
            out.text.len() >= head.len() + tail.len()
                && out.text.starts_with(head)
                && out.text.ends_with(tail),
            "bytes outside {path} changed"
        );
    }
    let docs = model::parse(&out.text).expect("result parses");
    let mut node = docs[0].root.as_ref().expect("root");
    for seg in path.segments() {
        node = match (seg, &node.kind) {
            (Segment::Key(k), _) => node.get(k).expect("key"),
            (Segment::Index(i), NodeKind::Sequence { items, .. }) => &items[*i],
            _ => panic!("path vanished"),
        };
    }
    assert_eq!(node.as_scalar().map(|s| s.value.as_str()), Some(value.as_str()));
});
