//! Property tests for the YAML editor: random documents built from the constructs real
//! values files use (nested block mappings, indented and indentless sequences, flow
//! collections, every scalar style, comments, blank lines, anchors, CRLF), edited at a
//! random scalar with a random new value. For every case:
//! - the edit succeeds (the safety net never trips on a correct edit);
//! - every byte before and after the edited scalar is unchanged;
//! - the result reads back with the new value at the path.
//!
//! Block scalars of every header have their own generator (`editor_props/blocks.rs`).

use proptest::prelude::*;

#[path = "editor_props/blocks.rs"]
mod blocks;
use tagbump::yaml::{apply, model, Edit, EditOptions, KeyPath, Segment};

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
struct Renderer<'a> {
    deco: &'a [u8],
    n: usize,
    out: String,
    step: usize,
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

    fn inline(&mut self, t: &Tree) -> Option<String> {
        match t {
            Tree::Leaf(v, s) => Some(Self::scalar(v, s)),
            Tree::FlowMap(kv) => Some(format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Tree::FlowSeq(items) => Some(format!("[{}]", items.join(", "))),
            _ => None,
        }
    }

    fn map(&mut self, kv: &[(String, Tree)], indent: usize) {
        for (k, v) in kv {
            self.decorate(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str(k);
            self.out.push(':');
            match self.inline(v) {
                Some(s) => {
                    let anchor = if self.pick(10) == 0 { " &anc" } else { "" };
                    self.out.push_str(anchor);
                    self.out.push(' ');
                    self.out.push_str(&s);
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
        }
    }

    fn seq(&mut self, items: &[Tree], indent: usize) {
        for item in items {
            self.decorate(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str("- ");
            match self.inline(item) {
                Some(s) => {
                    self.out.push_str(&s);
                    self.out.push('\n');
                }
                None => match item {
                    Tree::Map(kv) => {
                        // First key on the dash line, the rest aligned under it.
                        let mut first = true;
                        let inner = indent + 2;
                        for (k, v) in kv {
                            if !first {
                                self.out.push_str(&" ".repeat(inner));
                            }
                            first = false;
                            self.out.push_str(k);
                            self.out.push(':');
                            match self.inline(v) {
                                Some(s) => {
                                    self.out.push(' ');
                                    self.out.push_str(&s);
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
                        }
                    }
                    Tree::Seq(inner) => {
                        self.out.push('\n');
                        self.seq(inner, indent + self.step);
                    }
                    _ => {}
                },
            }
        }
    }
}

fn render(t: &Tree, deco: &[u8]) -> String {
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
    };
    if deco.get(1).copied().unwrap_or(0) % 3 == 0 {
        r.out.push_str("# header\n---\n");
    }
    if let Tree::Map(kv) = t {
        r.map(kv, 0);
    }
    r.out
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

/// The scalar at `path` in the first document.
fn scalar_at<'a>(docs: &'a [model::Document], path: &KeyPath) -> Option<&'a model::Scalar> {
    let mut node = docs.first()?.root.as_ref()?;
    for seg in path.segments() {
        node = match (seg, &node.kind) {
            (Segment::Key(k), _) => node.get(k)?,
            (Segment::Index(i), model::NodeKind::Sequence { items, .. }) => items.get(*i)?,
            _ => return None,
        };
    }
    node.as_scalar()
}

fn value_at(text: &str, path: &KeyPath) -> Option<String> {
    let docs = model::parse(text).ok()?;
    scalar_at(&docs, path).map(|s| s.value.clone())
}

fn check(input: &str, path: &KeyPath, value: &str) -> Result<(), TestCaseError> {
    let out = apply(
        input,
        &[Edit::new(path.clone(), value)],
        EditOptions::default(),
    )
    .map_err(|e| TestCaseError::fail(format!("edit of {path} refused: {e}\n---\n{input}")))?;
    prop_assert_eq!(value_at(&out.text, path), Some(value.to_string()));
    // Only the edited scalar's bytes differ: the input before and after its span is
    // kept as it was (no comment, key, indentation or line break outside it moved).
    let docs = model::parse(input).map_err(|e| TestCaseError::fail(e.message))?;
    let span = find_span(&docs, path).ok_or_else(|| TestCaseError::fail("no span"))?;
    let (head, tail) = (&input[..span.start], &input[span.end..]);
    prop_assert!(
        out.text.len() >= head.len() + tail.len()
            && out.text.starts_with(head)
            && out.text.ends_with(tail),
        "bytes outside {} changed (scalar at {:?})\n--- input\n{}\n--- output\n{}",
        path,
        span,
        input,
        out.text
    );
    Ok(())
}

fn find_span(docs: &[model::Document], path: &KeyPath) -> Option<std::ops::Range<usize>> {
    scalar_at(docs, path).map(|s| s.span.clone())
}

proptest! {
    // 400 cases in CI; more with TAGBUMP_PROPTEST_CASES=20000 cargo test --test editor editor_props.
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
        let mut input = render(&t, &deco);
        if crlf {
            input = input.replace('\n', "\r\n");
        }
        check(&input, &path, &value)?;
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
        let input = render(&t, &deco);
        let current = value_at(&input, &path).ok_or_else(|| TestCaseError::fail(format!("no value at {path}\n{input}")))?;
        let out = apply(&input, &[Edit::new(path, current)], EditOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&out.text, &input);
        prop_assert!(!out.changed());
    }
}
