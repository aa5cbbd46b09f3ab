//! The safety net: after splicing, the result is parsed again and compared with what the
//! edit was meant to produce. Any difference — a formatting bug, a value that reads back
//! as a number, a broken document — refuses the edit before anything is written.
//!
//! Two independent parsers check the result:
//! 1. `yaml-rust2`: the whole data tree of every document must equal the original's with
//!    only the edited scalars replaced (aliases of an edited anchor follow it, as YAML says).
//! 2. `serde_norway` (libyaml): each edited path must read back as exactly the requested
//!    value: the string, or the int, float or bool written plain. This catches
//!    disagreements between parsers on the quoting we chose.

use std::collections::HashMap;

use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::Yaml;

use super::aliases::{AliasCounter, TooManyAliasNodes, MAX_ALIAS_NODES};
use super::model::{for_each_event, SyntaxError};
use super::path::{KeyPath, Segment};
use super::typed::ScalarType;

/// A node's data, without formatting.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    Null,
    Scalar {
        value: String,
        /// Whether the scalar reads as a string (quoted, block, or a plain text that no
        /// schema resolves to another type).
        string: bool,
        tag: Option<String>,
    },
    Seq(Vec<Data>),
    Map(Vec<(Data, Data)>),
}

impl Data {
    pub(crate) fn string(value: &str) -> Data {
        Data::Scalar {
            value: value.to_string(),
            string: true,
            tag: None,
        }
    }
}

/// Scalar events to substitute, by their index among the stream's scalar events: the new
/// value and its type (they keep their tag).
pub(crate) type Substitutions = HashMap<usize, (String, ScalarType)>;

/// An edited path and what it must read back as: (document, path, value, type).
pub(crate) type Expected = (usize, KeyPath, String, ScalarType);

/// Builds the data of every document, replacing the given scalars. Events are taken one
/// at a time from the parser; aliases are expanded (a copy of the anchored data) only
/// while [`AliasCounter`] finds the copies within [`MAX_ALIAS_NODES`].
pub(crate) fn data(text: &str, subst: &Substitutions) -> Result<Vec<Data>, String> {
    enum Fail {
        Syntax(SyntaxError),
        Aliases,
    }
    impl From<SyntaxError> for Fail {
        fn from(e: SyntaxError) -> Fail {
            Fail::Syntax(e)
        }
    }
    let mut builder = Builder::new(subst);
    for_each_event(text, |raw| {
        builder
            .push(&raw.event)
            .map_err(|TooManyAliasNodes| Fail::Aliases)
    })
    .map_err(|fail| match fail {
        Fail::Syntax(e) => format!("line {}: {}", e.line, e.message),
        Fail::Aliases => format!("its aliases expand to more than {MAX_ALIAS_NODES} nodes"),
    })?;
    Ok(builder.docs)
}

enum Frame {
    Seq(Vec<Data>, usize),
    Map(Vec<(Data, Data)>, Option<Data>, usize),
}

/// The data of a stream, built event by event.
struct Builder<'a> {
    subst: &'a Substitutions,
    counter: AliasCounter,
    docs: Vec<Data>,
    anchors: HashMap<usize, Data>,
    stack: Vec<Frame>,
    root: Option<Data>,
    scalar_index: usize,
}

impl<'a> Builder<'a> {
    fn new(subst: &'a Substitutions) -> Self {
        Builder {
            subst,
            counter: AliasCounter::default(),
            docs: Vec::new(),
            anchors: HashMap::new(),
            stack: Vec::new(),
            root: None,
            scalar_index: 0,
        }
    }

    fn push(&mut self, event: &Event) -> Result<(), TooManyAliasNodes> {
        self.counter.event(event)?;
        let done = match event {
            Event::DocumentEnd => {
                self.docs.push(self.root.take().unwrap_or(Data::Null));
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let index = self.scalar_index;
                self.scalar_index += 1;
                let tag = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let d = match self.subst.get(&index) {
                    Some((new, ty)) => Data::Scalar {
                        value: new.clone(),
                        string: *ty == ScalarType::String,
                        tag,
                    },
                    None => {
                        let plain = *style == TScalarStyle::Plain;
                        Data::Scalar {
                            value: value.clone(),
                            string: !plain
                                || tag.as_deref().is_some_and(is_str_tag)
                                || plain_reads_as_string(value),
                            tag,
                        }
                    }
                };
                if *anchor > 0 {
                    self.anchors.insert(*anchor, d.clone());
                }
                Some(d)
            }
            Event::Alias(id) => Some(self.anchors.get(id).cloned().unwrap_or(Data::Null)),
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(Vec::new(), *anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(Vec::new(), None, *anchor));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(items, anchor)) => {
                    let d = Data::Seq(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, d.clone());
                    }
                    Some(d)
                }
                Some(Frame::Map(entries, _, anchor)) => {
                    let d = Data::Map(entries);
                    if anchor > 0 {
                        self.anchors.insert(anchor, d.clone());
                    }
                    Some(d)
                }
                None => None,
            },
            _ => None,
        };
        if let Some(d) = done {
            match self.stack.last_mut() {
                None => self.root = Some(d),
                Some(Frame::Seq(items, _)) => items.push(d),
                Some(Frame::Map(entries, key, _)) => match key.take() {
                    None => *key = Some(d),
                    Some(k) => entries.push((k, d)),
                },
            }
        }
        Ok(())
    }
}

/// `!!str` (resolved or not).
pub(crate) fn is_str_tag(tag: &str) -> bool {
    tag == "!!str" || tag == "tag:yaml.org,2002:str"
}

/// Whether a plain scalar is a string for YAML 1.2 (`yaml-rust2`'s resolution) and the
/// YAML 1.1 rules Helm's Go YAML follows.
fn plain_reads_as_string(value: &str) -> bool {
    matches!(Yaml::from_str(value), Yaml::String(_))
        && !super::scalar::resolves_to_non_string(value)
}

/// Adds `keys…: value` at the end of the mapping at `at` (created keys are appended).
pub(crate) fn insert(
    doc: &mut Data,
    at: &KeyPath,
    keys: &[String],
    value: &str,
    ty: ScalarType,
) -> bool {
    let mut node = doc;
    for seg in at.segments() {
        node = match (node, seg) {
            (Data::Map(entries), Segment::Key(k)) => {
                match entries.iter_mut().find(|(key, _)| is_key(key, k)) {
                    Some((_, v)) => v,
                    None => return false,
                }
            }
            (Data::Seq(items), Segment::Index(i)) => match items.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    let Data::Map(entries) = node else {
        return false;
    };
    let mut new = Data::Scalar {
        value: value.to_string(),
        string: ty == ScalarType::String,
        tag: None,
    };
    for key in keys.iter().skip(1).rev() {
        new = Data::Map(vec![(Data::string(key), new)]);
    }
    match keys.first() {
        Some(first) => {
            entries.push((Data::string(first), new));
            true
        }
        None => false,
    }
}

fn is_key(d: &Data, k: &str) -> bool {
    matches!(d, Data::Scalar { value, .. } if value == k)
}

/// The second, independent check: with libyaml (through `serde_norway`), every edited path
/// of the new text reads back as the requested value, of the requested type. Skipped (returns `Ok`) when
/// libyaml cannot read the original either, since then it has nothing to compare.
pub(crate) fn cross_check(
    original: &str,
    new: &str,
    documents: usize,
    expected: &[Expected],
) -> Result<(), String> {
    // The original is only read by libyaml when needed: when the result is unreadable
    // (was the original readable?), when the document counts disagree, or when a path
    // is missing in the result (was it there before?).
    let before = std::cell::OnceCell::new();
    let before = || before.get_or_init(|| serde_docs(original).ok());
    let after = match serde_docs(new) {
        Ok(after) => after,
        Err(_) if before().is_none() => return Ok(()),
        Err(e) => return Err(format!("libyaml cannot read the result: {e}")),
    };
    if after.len() != documents {
        match before() {
            None => return Ok(()),
            Some(b) if b.len() != after.len() => {
                return Err(format!(
                    "libyaml reads {} documents in the result, {} in the original",
                    after.len(),
                    b.len()
                ))
            }
            Some(_) => {}
        }
    }
    for (doc, path, value, ty) in expected {
        let Some(d) = after.get(*doc) else {
            continue;
        };
        match lookup(d, path) {
            Some(v) if reads_as(v, value, *ty) => {}
            Some(other) => {
                return Err(format!(
                    "libyaml reads {path} as {other:?}, not the {ty} {value:?}"
                ))
            }
            None => {
                let had_parent = before()
                    .as_ref()
                    .and_then(|b| b.get(*doc))
                    .and_then(|b| lookup(b, &path.prefix(path.len() - 1)))
                    .is_some();
                if had_parent {
                    return Err(format!("libyaml does not find {path} in the result"));
                }
            }
        }
    }
    Ok(())
}

/// Whether libyaml's `v` is `value` as a `ty`.
fn reads_as(v: &serde_norway::Value, value: &str, ty: ScalarType) -> bool {
    use serde_norway::Value;
    match (ty, v) {
        (ScalarType::String, Value::String(s)) => s == value,
        (ScalarType::Bool, Value::Bool(b)) => b.to_string() == value,
        (ScalarType::Int, Value::Number(n)) => match value.parse::<i64>() {
            Ok(want) => n.as_i64() == Some(want),
            Err(_) => value
                .parse::<u64>()
                .is_ok_and(|want| n.as_u64() == Some(want)),
        },
        (ScalarType::Float, Value::Number(n)) => {
            n.is_f64()
                && value
                    .parse::<f64>()
                    .is_ok_and(|want| n.as_f64() == Some(want))
        }
        _ => false,
    }
}

/// libyaml's reading of every document of `text`.
pub(crate) fn libyaml_data(text: &str) -> Result<Vec<serde_norway::Value>, String> {
    serde_docs(text).map_err(|e| e.to_string())
}

fn serde_docs(text: &str) -> Result<Vec<serde_norway::Value>, serde_norway::Error> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(text)
        .map(serde_norway::Value::deserialize)
        .collect()
}

fn lookup<'a>(mut v: &'a serde_norway::Value, path: &KeyPath) -> Option<&'a serde_norway::Value> {
    for seg in path.segments() {
        while let serde_norway::Value::Tagged(t) = v {
            v = &t.value;
        }
        v = match seg {
            Segment::Key(k) => v.as_mapping()?.iter().find_map(|(key, val)| {
                let matches = match key {
                    serde_norway::Value::String(s) => s == k,
                    serde_norway::Value::Number(n) => n.to_string() == *k,
                    serde_norway::Value::Bool(b) => b.to_string() == *k,
                    _ => false,
                };
                matches.then_some(val)
            })?,
            Segment::Index(i) => v.as_sequence()?.get(*i)?,
        };
    }
    while let serde_norway::Value::Tagged(t) = v {
        v = &t.value;
    }
    Some(v)
}
