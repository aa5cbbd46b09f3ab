//! Property tests for the YAML editor: random documents built from the constructs real
//! values files use (nested block mappings, indented and indentless sequences, flow
//! collections, every scalar style, comments, blank lines, anchors, CRLF), edited at a
//! random scalar with a random new value. For every case:
//! - the edit succeeds (the safety net never trips on a correct edit);
//! - every byte before and after the edited scalar is unchanged, where the scalar's bytes
//!   are those the generator wrote (offsets recorded while rendering, not the editor's spans);
//! - yaml-rust2 (not the editor's parser) reads the result back as the generated tree with
//!   only the edited scalar changed to the new value.
//!
//! Block scalars of every header have their own generator (`editor_props/blocks.rs`).

use proptest::prelude::*;

#[path = "editor_props/blocks.rs"]
mod blocks;
use crate::corpus::Node;
use std::ops::Range;
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath, Segment};

#[derive(Clone, Debug)]
enum Style {
    Plain,
    Single,
    Double,
}

#[derive(Clone, Debug)]
enum Tree {
    Leaf(String, Style),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
    FlowMap(Vec<(String, String)>),
    FlowSeq(Vec<String>),
}

const PLAIN_VALUES: &[&str] = &[
    "v1",
    "1.2.3",
    "nginx",
    "ghcr.io/acme/api",
    "true",
    "10",
    "a b",
    "x-y_z",
    "latest",
    "registry.example.com:5000/team/app",
    "IfNotPresent",
    "1.27-alpine",
    "é✓",
];
const QUOTED_VALUES: &[&str] = &[
    "it's",
    "a\"b",
    "1.10",
    "",
    "with: colon",
    "# hash",
    "tab\there",
    "ünï",
];

fn leaf() -> impl Strategy<Value = Tree> {
    prop_oneof![
        prop::sample::select(PLAIN_VALUES).prop_map(|v| Tree::Leaf(v.to_string(), Style::Plain)),
        prop::sample::select(QUOTED_VALUES)
            .prop_map(|v| Tree::Leaf(v.replace('\t', " "), Style::Single)),
        prop::sample::select(QUOTED_VALUES).prop_map(|v| Tree::Leaf(v.to_string(), Style::Double)),
        prop::collection::vec(
            ("[a-z]{1,5}", prop::sample::select(&["v1", "x", "1.2"][..])),
            1..3
        )
        .prop_map(|kv| Tree::FlowMap(dedup(
            kv.into_iter().map(|(k, v)| (k, v.to_string())).collect()
        ))),
        prop::collection::vec(prop::sample::select(&["a", "v2", "z9"][..]), 1..4)
            .prop_map(|v| Tree::FlowSeq(v.into_iter().map(str::to_string).collect())),
    ]
}

fn dedup<T>(kv: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut seen = std::collections::HashSet::new();
    kv.into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(("[a-z]{1,6}", inner.clone()), 1..5)
                .prop_map(|kv| Tree::Map(dedup(kv))),
            prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
        ]
    })
}

fn root() -> impl Strategy<Value = Tree> {
    prop::collection::vec(("[a-z]{1,6}", tree()), 1..6).prop_map(|kv| Tree::Map(dedup(kv)))
}

/// Renders a tree as block YAML. `deco` drives comments, blank lines, indentation width
/// and indentless sequences, so that the same tree comes out in many layouts.
/// It records the byte range of every value scalar it writes, by path.
struct Renderer<'a> {
    deco: &'a [u8],
    n: usize,
    out: String,
    step: usize,
    path: Vec<Segment>,
    spans: Vec<(Vec<Segment>, Range<usize>)>,
}

impl Renderer<'_> {
    fn pick(&mut self, m: u8) -> u8 {
        let b = self
            .deco
            .get(self.n % self.deco.len().max(1))
            .copied()
            .unwrap_or(0);
        self.n += 1;
        b % m
    }

    fn scalar(value: &str, style: &Style) -> String {
        match style {
            Style::Plain => value.to_string(),
            Style::Single => format!("'{}'", value.replace('\'', "''")),
            Style::Double => format!(
                "\"{}\"",
                value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\t', "\\t")
            ),
        }
    }

    fn trailing(&mut self) -> &'static str {
        match self.pick(6) {
            0 => "  # note",
            1 => " #: tricky # comment",
            _ => "",
        }
    }

    fn decorate(&mut self, indent: usize) {
        match self.pick(8) {
            0 => self.out.push('\n'),
            1 => {
                self.out.push_str(&" ".repeat(indent));
                self.out
                    .push_str("# a comment: with [brackets] and 'quotes'\n");
            }
            _ => {}
        }
    }

    /// The text of an inline node, with the ranges (relative to it) of its scalars.
    fn inline(t: &Tree) -> Option<Inline> {
        let mut text = String::new();
        let mut spans = Vec::new();
        match t {
            Tree::Leaf(v, s) => {
                text = Self::scalar(v, s);
                spans.push((Vec::new(), 0..text.len()));
            }
            Tree::FlowMap(kv) => {
                text.push('{');
                for (i, (k, v)) in kv.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(k);
                    text.push_str(": ");
                    spans.push((
                        vec![Segment::Key(k.clone())],
                        text.len()..text.len() + v.len(),
                    ));
                    text.push_str(v);
                }
                text.push('}');
            }
            Tree::FlowSeq(items) => {
                text.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    spans.push((vec![Segment::Index(i)], text.len()..text.len() + v.len()));
                    text.push_str(v);
                }
                text.push(']');
            }
            _ => return None,
        }
        Some(Inline { text, spans })
    }

    /// Appends an inline node at the current path, recording where its scalars went.
    fn push_inline(&mut self, inline: Inline) {
        let base = self.out.len();
        for (rel, r) in inline.spans {
            let mut p = self.path.clone();
            p.extend(rel);
            self.spans.push((p, base + r.start..base + r.end));
        }
        self.out.push_str(&inline.text);
    }

    fn map(&mut self, kv: &[(String, Tree)], indent: usize) {
        for (k, v) in kv {
            self.path.push(Segment::Key(k.clone()));
            self.decorate(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str(k);
            self.out.push(':');
            match Self::inline(v) {
                Some(s) => {
                    let anchor = if self.pick(10) == 0 { " &anc" } else { "" };
                    self.out.push_str(anchor);
                    self.out.push(' ');
                    self.push_inline(s);
                    let t = self.trailing();
                    self.out.push_str(t);
                    self.out.push('\n');
                }
                None => {
                    let t = self.trailing();
                    self.out.push_str(t);
                    self.out.push('\n');
                    match v {
                        Tree::Map(inner) => self.map(inner, indent + self.step),
                        Tree::Seq(items) => {
                            let seq_indent = if self.pick(2) == 0 {
                                indent
                            } else {
                                indent + self.step
                            };
                            self.seq(items, seq_indent);
                        }
                        _ => {}
                    }
                }
            }
            self.path.pop();
        }
    }

    fn seq(&mut self, items: &[Tree], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            self.path.push(Segment::Index(i));
            self.decorate(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str("- ");
            match Self::inline(item) {
                Some(s) => {
                    self.push_inline(s);
                    self.out.push('\n');
                }
                None => match item {
                    Tree::Map(kv) => {
                        // First key on the dash line, the rest aligned under it.
                        let mut first = true;
                        let inner = indent + 2;
                        for (k, v) in kv {
                            self.path.push(Segment::Key(k.clone()));
                            if !first {
                                self.out.push_str(&" ".repeat(inner));
                            }
                            first = false;
                            self.out.push_str(k);
                            self.out.push(':');
                            match Self::inline(v) {
                                Some(s) => {
                                    self.out.push(' ');
                                    self.push_inline(s);
                                    self.out.push('\n');
                                }
                                None => {
                                    self.out.push('\n');
                                    match v {
                                        Tree::Map(m) => self.map(m, inner + self.step),
                                        Tree::Seq(s) => self.seq(s, inner + self.step),
                                        _ => {}
                                    }
                                }
                            }
                            self.path.pop();
                        }
                    }
                    Tree::Seq(inner) => {
                        self.out.push('\n');
                        self.seq(inner, indent + self.step);
                    }
                    _ => {}
                },
            }
            self.path.pop();
        }
    }
}

struct Inline {
    text: String,
    spans: Vec<(Vec<Segment>, Range<usize>)>,
}

/// A rendered document and the byte range of every value scalar in it, by path.
struct Rendered {
    text: String,
    spans: Vec<(Vec<Segment>, Range<usize>)>,
}

impl Rendered {
    fn span(&self, path: &KeyPath) -> Option<Range<usize>> {
        self.spans
            .iter()
            .find(|(p, _)| p.as_slice() == path.segments())
            .map(|(_, r)| r.clone())
    }

    /// The same document with CRLF line breaks; the ranges move with the text (no scalar
    /// the generator writes holds a line break).
    fn crlf(self) -> Rendered {
        let shift = |at: usize| at + self.text[..at].matches('\n').count();
        let spans = self
            .spans
            .iter()
            .map(|(p, r)| (p.clone(), shift(r.start)..shift(r.end)))
            .collect();
        Rendered {
            text: self.text.replace('\n', "\r\n"),
            spans,
        }
    }
}

fn render(t: &Tree, deco: &[u8]) -> Rendered {
    let step = if deco.first().copied().unwrap_or(0) % 2 == 0 {
        2
    } else {
        4
    };
    let mut r = Renderer {
        deco,
        n: 1,
        out: String::new(),
        step,
        path: Vec::new(),
        spans: Vec::new(),
    };
    if deco.get(1).copied().unwrap_or(0) % 3 == 0 {
        r.out.push_str("# header\n---\n");
    }
    if let Tree::Map(kv) = t {
        r.map(kv, 0);
    }
    Rendered {
        text: r.out,
        spans: r.spans,
    }
}

/// Every scalar leaf's path (values only, not keys), flow collections included.
fn leaf_paths(t: &Tree, prefix: Vec<Segment>, out: &mut Vec<KeyPath>) {
    match t {
        Tree::Leaf(..) => out.push(KeyPath::new(prefix)),
        Tree::Map(kv) => {
            for (k, v) in kv {
                let mut p = prefix.clone();
                p.push(Segment::Key(k.clone()));
                leaf_paths(v, p, out);
            }
        }
        Tree::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(Segment::Index(i));
                leaf_paths(v, p, out);
            }
        }
        Tree::FlowMap(kv) => {
            for (k, _) in kv {
                let mut p = prefix.clone();
                p.push(Segment::Key(k.clone()));
                out.push(KeyPath::new(p));
            }
        }
        Tree::FlowSeq(items) => {
            for i in 0..items.len() {
                let mut p = prefix.clone();
                p.push(Segment::Index(i));
                out.push(KeyPath::new(p));
            }
        }
    }
}

fn new_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "v1.5.0",
                "1.10",
                "010",
                "true",
                "null",
                "~",
                "1e3",
                "0x1F",
                "yes",
                "2024-01-01",
                "*x",
                "&a",
                "!t",
                "%p",
                "@at",
                "`b",
                "a: b",
                "a #b",
                "",
                " lead",
                "trail ",
                "it's",
                "say \"hi\"",
                "back\\slash",
                "multi\nline",
                "ünïcødé ✓",
                "sha256:abc",
                "{x}",
                "[y]",
                "a,b",
                "- dash",
                "---",
                "...",
                "#",
                "ghcr.io/acme/api:v2",
                "tab\tin",
            ][..]
        )
        .prop_map(str::to_string),
        "[ -~]{0,16}",
    ]
}

/// The data of a document as an independent parser (yaml-rust2's event parser, not the
/// editor's) reads it: scalars as their text, mapping keys as theirs.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    Scalar(String),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

/// yaml-rust2's reading of the one document in `text`, through the corpus tests' event
/// reader (`corpus::documents`).
fn read_back(text: &str) -> Result<Data, String> {
    let mut docs = crate::corpus::documents(text)?;
    if docs.len() != 1 {
        return Err(format!("{} documents, not one", docs.len()));
    }
    read_data(docs.remove(0))
}

/// A read-back node as [`Data`]: scalars as their text, keys as theirs, no aliases.
fn read_data(node: Node) -> Result<Data, String> {
    Ok(match node {
        Node::Scalar(scalar) => Data::Scalar(scalar.text),
        Node::Alias(_) => return Err("an alias in the generated document".into()),
        Node::Seq(items) => Data::Seq(items.into_iter().map(read_data).collect::<Result<_, _>>()?),
        Node::Map(entries) => Data::Map(
            entries
                .into_iter()
                .map(|(key, value)| match key {
                    Node::Scalar(key) => Ok((key.text, read_data(value)?)),
                    other => Err(format!("a collection as a key: {other:?}")),
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The data the generator meant.
fn data(t: &Tree) -> Data {
    match t {
        Tree::Leaf(v, _) => Data::Scalar(v.clone()),
        Tree::Map(kv) => Data::Map(kv.iter().map(|(k, v)| (k.clone(), data(v))).collect()),
        Tree::Seq(items) => Data::Seq(items.iter().map(data).collect()),
        Tree::FlowMap(kv) => Data::Map(
            kv.iter()
                .map(|(k, v)| (k.clone(), Data::Scalar(v.clone())))
                .collect(),
        ),
        Tree::FlowSeq(items) => Data::Seq(items.iter().cloned().map(Data::Scalar).collect()),
    }
}

/// The scalar at `path` in the generated data.
fn leaf_at<'a>(mut d: &'a mut Data, path: &KeyPath) -> Option<&'a mut String> {
    for seg in path.segments() {
        d = match (seg, d) {
            (Segment::Key(k), Data::Map(entries)) => {
                &mut entries.iter_mut().find(|(key, _)| key == k)?.1
            }
            (Segment::Index(i), Data::Seq(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    match d {
        Data::Scalar(s) => Some(s),
        _ => None,
    }
}

fn check(t: &Tree, input: &Rendered, path: &KeyPath, value: &str) -> Result<(), TestCaseError> {
    let text = &input.text;
    let out = apply(
        text,
        &[Edit::new(path.clone(), value)],
        EditOptions::default(),
    )
    .map_err(|e| TestCaseError::fail(format!("edit of {path} refused: {e}\n---\n{text}")))?;
    // The result reads back (independently) as the generated tree with only the edited
    // scalar changed.
    let mut want = data(t);
    *leaf_at(&mut want, path).ok_or_else(|| TestCaseError::fail(format!("no leaf at {path}")))? =
        value.to_string();
    prop_assert_eq!(
        read_back(&out.text),
        Ok(want),
        "data of the result\n--- input\n{}\n--- output\n{}",
        text,
        out.text
    );
    // Only the edited scalar's bytes differ: the input before and after the bytes the
    // generator wrote for it is kept as it was (no comment, key, indentation or line break
    // outside it moved).
    let span = input
        .span(path)
        .ok_or_else(|| TestCaseError::fail(format!("the generator recorded no span for {path}")))?;
    let (head, tail) = (&text[..span.start], &text[span.end..]);
    prop_assert!(
        out.text.len() >= head.len() + tail.len()
            && out.text.starts_with(head)
            && out.text.ends_with(tail),
        "bytes outside {} changed (scalar at {:?})\n--- input\n{}\n--- output\n{}",
        path,
        span,
        text,
        out.text
    );
    Ok(())
}

/// A rendered tree, checked before any edit: yaml-rust2 reads the generated tree, and the
/// generator recorded one range per leaf.
fn rendered(t: &Tree, deco: &[u8], crlf: bool) -> Result<Rendered, TestCaseError> {
    let mut r = render(t, deco);
    if crlf {
        r = r.crlf();
    }
    prop_assert_eq!(read_back(&r.text), Ok(data(t)), "generated\n{}", r.text);
    let mut paths = Vec::new();
    leaf_paths(t, Vec::new(), &mut paths);
    prop_assert_eq!(r.spans.len(), paths.len());
    Ok(r)
}

proptest! {
    // 400 cases in CI; more with TAGBUMP_PROPTEST_CASES=20000 cargo test -p tagbump-yaml --test editor editor_props.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TAGBUMP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_edits_touch_only_their_scalar(
        t in root(),
        deco in prop::collection::vec(any::<u8>(), 1..64),
        pick in any::<prop::sample::Index>(),
        value in new_value(),
        crlf in any::<bool>(),
    ) {
        let mut paths = Vec::new();
        leaf_paths(&t, Vec::new(), &mut paths);
        prop_assume!(!paths.is_empty());
        let path = pick.get(&paths).clone();
        let input = rendered(&t, &deco, crlf)?;
        check(&t, &input, &path, &value)?;
    }

    #[test]
    fn editing_to_the_same_value_changes_nothing(
        t in root(),
        deco in prop::collection::vec(any::<u8>(), 1..64),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut paths = Vec::new();
        leaf_paths(&t, Vec::new(), &mut paths);
        let path = pick.get(&paths).clone();
        let input = rendered(&t, &deco, false)?.text;
        // The value the generator wrote there, not the editor's reading of it.
        let mut generated = data(&t);
        let current = leaf_at(&mut generated, &path)
            .ok_or_else(|| TestCaseError::fail(format!("no value at {path}\n{input}")))?
            .clone();
        let out = apply(&input, &[Edit::new(path, current)], EditOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&out.text, &input);
        prop_assert!(!out.changed());
    }
}
