//! Spans and positions of the located model.

use super::*;

fn scalar_at<'a>(doc: &'a Document, key: &str) -> &'a Scalar {
    doc.root
        .as_ref()
        .and_then(|r| r.get(key))
        .and_then(|n| n.as_scalar())
        .expect("scalar")
}

#[test]
fn spans_cover_each_style() {
    let text = "a: plain value # c\nb: 'it''s'\nc: \"x\\\"y\"\nd: |\n  one\n  two\n\ne: end\n";
    let docs = parse(text).expect("parses");
    let doc = &docs[0];
    let span = |k| {
        let s = scalar_at(doc, k);
        &text[s.span.clone()]
    };
    assert_eq!(span("a"), "plain value");
    assert_eq!(span("b"), "'it''s'");
    assert_eq!(span("c"), "\"x\\\"y\"");
    assert_eq!(span("d"), "|\n  one\n  two");
    assert_eq!(span("e"), "end");
}

#[test]
fn multibyte_text_maps_to_bytes() {
    let text = "\u{feff}name: héllo wörld\ntag: v1\n";
    let docs = parse(text).expect("parses");
    let s = scalar_at(&docs[0], "tag");
    assert_eq!(&text[s.span.clone()], "v1");
}

#[test]
fn positions_survive_non_ascii_block_scalars() {
    // yaml-rust2's character index drifts after a block scalar line with non-ASCII
    // text; positions must not.
    let text = "k: >-\n  a: [[[\u{fffd}[[[b\nz: x\n";
    let docs = parse(text).expect("parses");
    let s = scalar_at(&docs[0], "z");
    assert_eq!(&text[s.span.clone()], "x");
}

#[test]
fn multiline_plain_is_located() {
    let text = "k: one\n  two\n\n  three\nz: 1\n";
    let docs = parse(text).expect("parses");
    let s = scalar_at(&docs[0], "k");
    assert_eq!(s.value, "one two\nthree");
    assert_eq!(&text[s.span.clone()], "one\n  two\n\n  three");
}

#[test]
fn anchors_and_aliases_are_named() {
    let text = "base: &img\n  tag: v1\nother: *img\nx: &t !!str 5\n";
    let docs = parse(text).expect("parses");
    let root = docs[0].root.as_ref().expect("root");
    assert_eq!(
        root.get("base").and_then(|n| n.anchor.clone()),
        Some("img".into())
    );
    assert_eq!(
        root.get("other").map(|n| n.kind.clone()),
        Some(NodeKind::Alias("img".into()))
    );
    assert_eq!(
        root.get("x").and_then(|n| n.anchor.clone()),
        Some("t".into())
    );
}

#[test]
fn empty_block_scalars_are_located() {
    for text in [
        "config: |-\n",
        "config: |-",
        "config: >\nx: 1\n",
        "a:\n  b: |+ # c\n",
    ] {
        let docs = parse(text).unwrap_or_else(|e| panic!("{text:?}: {}", e.message));
        assert!(docs[0].root.is_some(), "{text:?}");
    }
}

#[test]
fn lone_carriage_returns_are_refused() {
    let err = parse("a: 1\rb: 2\r").expect_err("lone CR");
    assert!(err.message.contains("carriage return"));
    assert!(parse("a: 1\r\nb: 2\r\n").is_ok());
}

#[test]
fn control_characters_are_refused() {
    let err = parse("a: 1\nb: x\u{0}y\n").expect_err("NUL");
    assert_eq!((err.line, err.column), (2, 5));
    assert!(err.message.contains("U+0000"));
    assert!(parse("a: \"tab\tok\"\r\n").is_ok());
}

#[test]
fn absurd_nesting_is_refused_not_a_crash() {
    let deep = format!("{}x\n", "- ".repeat(5000));
    let err = parse(&deep).expect_err("too deep");
    assert!(err.message.contains("nesting deeper than"));
    let ok = format!("{}x\n", "- ".repeat(100));
    assert!(parse(&ok).is_ok());
}

#[test]
fn syntax_errors_carry_position() {
    let err = parse("a: [1, 2\nb: 3\n").expect_err("malformed");
    assert!(err.line >= 1);
    assert!(!err.message.is_empty());
}
