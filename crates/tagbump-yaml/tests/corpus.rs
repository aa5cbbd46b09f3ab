//! The real-world corpus (`tests/corpus-data/corpus` at the workspace root, see its
//! `README.md` and `tests/corpus-data/README.md` for sources and licences): 384 files
//! copied verbatim from 19 public GitOps and Helm repositories, and 1 382 edit tasks
//! whose expectations come from an oracle independent of tagbump (PyYAML node marks).
//! Every task must pass.
//!
//! A task (`tasks.jsonl`, one per line) names a `file`, a list of `edits`
//! (`{"path", "value"}` in tagbump key-path syntax, all applied in one call, as
//! `tagbump set FILE a=.. b=..` does), an optional `document` (`--document N`) and a
//! `kind`:
//!
//! - `exact`: the output must be byte-identical to `expected/<id>.yaml`;
//! - `semantic`: a tricky value (`1.10`, `yes`, `010`, `a: b`, `#x`, leading spaces, …).
//!   The output must read back, under YAML 1.1 resolution (as Helm and Kubernetes read
//!   it), as the original data with only the scalar at `pypath` changed to exactly that
//!   string, and every line except the edited one (`line`, 0-based) must be
//!   byte-identical.
//!
//! The read-back below is this test's own: yaml-rust2's event stream turned into a tree
//! that keeps each scalar's text and whether it was plain, with YAML 1.1's implicit
//! types (<https://yaml.org/type/>) applied to plain scalars. It shares no code with the
//! editor or its safety net.
//!
//! Part 2 (`tests/corpus-data/corpus-v2`: block scalars, multi-line flow scalars,
//! `--create`) is run by the `v2` module below, with its per-kind tally printed.
//!
//! The corpus is vendored in the repository, so it runs in every clone; where its files
//! are missing the test fails (it never passes by checking nothing).

use std::path::{Path, PathBuf};

#[path = "corpus/v2.rs"]
mod v2;

use regex::Regex;
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

#[test]
fn every_corpus_task_passes() {
    let (corpus, tasks) = load_tasks("corpus", Task::parse);
    // All of them: a truncated copy fails here, not by checking fewer tasks.
    assert_eq!(tasks.len(), 1382, "tasks in {}", corpus.display());
    let yaml11 = Yaml11::new();
    let mut failures = Vec::new();
    let mut counts = (0usize, 0usize);
    for (task, input) in &tasks {
        let result = run_task(task, input, &corpus, &yaml11);
        match task.kind {
            Kind::Exact { .. } => counts.0 += 1,
            Kind::Semantic { .. } => counts.1 += 1,
        }
        if let Err(why) = result {
            failures.push(format!("{} ({}): {why}", task.id, task.file));
        }
    }
    eprintln!(
        "corpus: {} exact and {} semantic tasks, {} failed",
        counts.0,
        counts.1,
        failures.len()
    );
    assert!(counts.0 + counts.1 > 0, "tasks.jsonl holds no tasks");
    assert!(
        failures.is_empty(),
        "{} of {} corpus tasks failed:\n{}",
        failures.len(),
        counts.0 + counts.1,
        failures.join("\n")
    );
}

fn run_task(task: &Task, input: &str, corpus: &Path, yaml11: &Yaml11) -> Result<(), String> {
    let edits = edits(&task.edits, task.document)?;
    let out = apply(input, &edits, EditOptions::default())
        .map_err(|e| format!("refused: {e}"))?
        .text;
    match &task.kind {
        Kind::Exact { expected } => {
            if out == expected_output(corpus, expected)? {
                Ok(())
            } else {
                Err(format!("output differs from {expected}"))
            }
        }
        Kind::Semantic { line, pypath } => {
            let value = &task.edits[0].1;
            only_line_changed(input, &out, *line)?;
            per_document(task.document, pypath, input, &out, |old, new| {
                let Some(Node::Scalar(scalar)) = get(new, pypath) else {
                    return Err(format!("no scalar at {pypath:?} after the edit"));
                };
                let read = yaml11.read(scalar);
                if read != Read::Str(value) {
                    return Err(format!(
                        "{pypath:?} reads back as {read:?} under YAML 1.1, not the string {value:?}"
                    ));
                }
                let mut expected = old.clone();
                set(&mut expected, pypath, new_at(new, pypath));
                if &expected != new {
                    return Err(format!("data other than {pypath:?} changed"));
                }
                Ok(())
            })
        }
    }
}

/// The edits of a task, in tagbump's key-path syntax, all on `document` (or every one).
fn edits(edits: &[(String, String)], document: Option<usize>) -> Result<Vec<Edit>, String> {
    edits
        .iter()
        .map(|(path, value)| {
            let mut edit = Edit::new(
                KeyPath::parse(path).map_err(|e| format!("key path {path:?}: {e}"))?,
                value.clone(),
            );
            edit.document = document;
            Ok(edit)
        })
        .collect()
}

/// The expected output a task names (`expected/<id>.yaml`).
fn expected_output(corpus: &Path, expected: &str) -> Result<String, String> {
    std::fs::read_to_string(corpus.join(expected)).map_err(|e| format!("{expected}: {e}"))
}

/// Reads `input` and `out` back and checks them document by document: a document the
/// task does not edit (another than `document`, or one without `pypath`) must be
/// unchanged; `each` checks every edited one (old, new); at least one must be edited.
fn per_document(
    document: Option<usize>,
    pypath: &[Step],
    input: &str,
    out: &str,
    mut each: impl FnMut(&Node, &Node) -> Result<(), String>,
) -> Result<(), String> {
    let before = documents(input).map_err(|e| format!("original does not parse: {e}"))?;
    let after = documents(out).map_err(|e| format!("output does not parse: {e}"))?;
    if before.len() != after.len() {
        return Err(format!(
            "{} documents before, {} after",
            before.len(),
            after.len()
        ));
    }
    let mut edited = 0;
    for (d, (old, new)) in before.iter().zip(&after).enumerate() {
        if document.is_some_and(|want| want != d) || get(old, pypath).is_none() {
            if old != new {
                return Err(format!("document {d} changed but has no edit"));
            }
            continue;
        }
        edited += 1;
        each(old, new).map_err(|e| format!("document {d}: {e}"))?;
    }
    if edited == 0 {
        return Err(format!("no document has {pypath:?}"));
    }
    Ok(())
}

/// Every line but `line` (0-based) must be byte-identical; line endings included.
fn only_line_changed(before: &str, after: &str, line: usize) -> Result<(), String> {
    let a: Vec<&str> = before.split_inclusive('\n').collect();
    let b: Vec<&str> = after.split_inclusive('\n').collect();
    if a.len() != b.len() {
        return Err(format!("{} lines before, {} after", a.len(), b.len()));
    }
    match a
        .iter()
        .zip(&b)
        .enumerate()
        .find(|(i, (x, y))| *i != line && x != y)
    {
        Some((i, (x, y))) => Err(format!("line {i} changed: {x:?} -> {y:?}")),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------
// Tasks

struct Task {
    id: String,
    file: String,
    edits: Vec<(String, String)>,
    document: Option<usize>,
    kind: Kind,
}

enum Kind {
    Exact { expected: String },
    Semantic { line: usize, pypath: Vec<Step> },
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

impl Task {
    fn parse(line: &str) -> Result<Task, String> {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let edits = edits_field(&v)?;
        let kind = match text_field(&v, "kind")?.as_str() {
            "exact" => Kind::Exact {
                expected: text_field(&v, "expected")?,
            },
            "semantic" => {
                let line = v
                    .get("line")
                    .and_then(|l| l.as_u64())
                    .ok_or("missing \"line\"")? as usize;
                let pypath = pypath_field(&v)?;
                if edits.len() != 1 {
                    return Err("a semantic task has exactly one edit".into());
                }
                Kind::Semantic { line, pypath }
            }
            other => return Err(format!("unknown kind {other:?}")),
        };
        Ok(Task {
            id: text_field(&v, "id")?,
            file: text_field(&v, "file")?,
            edits,
            document: document_field(&v)?,
            kind,
        })
    }
}

impl CorpusTask for Task {
    fn id(&self) -> &str {
        &self.id
    }

    fn file(&self) -> &str {
        &self.file
    }
}

/// A task of either part: what it is called and the file it edits.
trait CorpusTask {
    fn id(&self) -> &str;
    fn file(&self) -> &str;
}

/// The corpus part `dir` vendored in the repository: `tests/corpus-data/<dir>` at the
/// workspace root (shared with the benchmarks; not in this crate's package).
fn corpus_dir(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus-data")
        .join(dir)
}

/// The tasks of `tests/corpus-data/<dir>/tasks.jsonl` (one per non-empty line, read with
/// `parse`), each with the text of the file it edits, and the corpus directory. A missing
/// or empty `tasks.jsonl`, a line that does not parse, or a file that cannot be read,
/// fails the test.
fn load_tasks<T: CorpusTask>(
    dir: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> (PathBuf, Vec<(T, String)>) {
    let corpus = corpus_dir(dir);
    let tasks = std::fs::read_to_string(corpus.join("tasks.jsonl")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the corpus is vendored in the repository (copy new parts from \
             the shared folder into tests/corpus-data/)",
            corpus.join("tasks.jsonl").display()
        )
    });
    let tasks = tasks
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            let task = parse(line).unwrap_or_else(|e| panic!("tasks.jsonl line {}: {e}", n + 1));
            let input = std::fs::read_to_string(corpus.join(task.file()))
                .unwrap_or_else(|e| panic!("{}: {}: {e}", task.id(), task.file()));
            (task, input)
        })
        .collect::<Vec<_>>();
    assert!(!tasks.is_empty(), "{}: no tasks", corpus.display());
    (corpus, tasks)
}

fn text_field(v: &serde_json::Value, name: &str) -> Result<String, String> {
    v.get(name)
        .and_then(|x| x.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("missing string field {name:?}"))
}

/// `edits`: at least one `{"path", "value"}`.
fn edits_field(v: &serde_json::Value) -> Result<Vec<(String, String)>, String> {
    let edits = v
        .get("edits")
        .and_then(|e| e.as_array())
        .ok_or("missing \"edits\"")?
        .iter()
        .map(|e| {
            let path = e.get("path").and_then(|p| p.as_str());
            let value = e.get("value").and_then(|p| p.as_str());
            match (path, value) {
                (Some(p), Some(v)) => Ok((p.to_string(), v.to_string())),
                _ => Err(format!("edit without path/value: {e}")),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    if edits.is_empty() {
        return Err("a task without edits".into());
    }
    Ok(edits)
}

/// `document`: a number, or absent / null for every document.
fn document_field(v: &serde_json::Value) -> Result<Option<usize>, String> {
    match v.get("document") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(d) => Ok(Some(
            d.as_u64().ok_or("\"document\" is not a number")? as usize
        )),
    }
}

/// `pypath`: the edited node's path as the oracle wrote it (keys and indexes).
fn pypath_field(v: &serde_json::Value) -> Result<Vec<Step>, String> {
    v.get("pypath")
        .and_then(|p| p.as_array())
        .ok_or("missing \"pypath\"")?
        .iter()
        .map(|s| match s {
            serde_json::Value::String(k) => Ok(Step::Key(k.clone())),
            serde_json::Value::Number(i) => i
                .as_u64()
                .map(|i| Step::Index(i as usize))
                .ok_or_else(|| format!("bad index {i}")),
            other => Err(format!("bad pypath step {other}")),
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// An independent read-back: yaml-rust2 events → a tree of scalars as written.

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scalar {
    pub(crate) text: String,
    plain: bool,
    /// The tag's suffix, e.g. `str` for `!!str`.
    tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias(usize),
}

/// The documents of `text` as yaml-rust2's event parser reads them (also the editor
/// property tests' read-back).
pub(crate) fn documents(text: &str) -> Result<Vec<Node>, String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(body);
    let mut docs = Vec::new();
    // Open collections: the node being built, and for maps a pending key.
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    loop {
        let (event, _) = parser.next_token().map_err(|e| e.to_string())?;
        let node = match event {
            Event::StreamEnd => return Ok(docs),
            Event::Scalar(text, style, _, tag) => Node::Scalar(Scalar {
                text,
                plain: style == TScalarStyle::Plain,
                tag: tag.map(|t| t.suffix),
            }),
            Event::Alias(id) => Node::Alias(id),
            Event::SequenceStart(..) => {
                stack.push((Node::Seq(Vec::new()), None));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((Node::Map(Vec::new()), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((node, _)) => node,
                None => return Err("unbalanced collection end".into()),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(entries), pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Some(_) => return Err("scalar on the collection stack".into()),
        }
    }
}

fn key_is(node: &Node, key: &str) -> bool {
    matches!(node, Node::Scalar(s) if s.text == key)
}

fn get<'a>(node: &'a Node, path: &[Step]) -> Option<&'a Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match (node, first) {
        (Node::Map(entries), Step::Key(k)) => entries
            .iter()
            .find(|(key, _)| key_is(key, k))
            .map(|(_, v)| v),
        (Node::Seq(items), Step::Index(i)) => items.get(*i),
        _ => None,
    }?;
    get(child, rest)
}

fn new_at(node: &Node, path: &[Step]) -> Node {
    get(node, path).cloned().unwrap_or(Node::Seq(Vec::new()))
}

fn set(node: &mut Node, path: &[Step], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = match (node, first) {
        (Node::Map(entries), Step::Key(k)) => entries
            .iter_mut()
            .find(|(key, _)| key_is(key, k))
            .map(|(_, v)| v),
        (Node::Seq(items), Step::Index(i)) => items.get_mut(*i),
        _ => None,
    };
    if let Some(child) = child {
        set(child, rest, value);
    }
}

// ---------------------------------------------------------------------------------
// YAML 1.1 implicit typing of plain scalars, from the type repository at
// https://yaml.org/type/ (bool, null, int, float, timestamp, merge, value). The float
// pattern is the spec's as YAML 1.1 parsers apply it (PyYAML, the corpus oracle, and
// go-yaml v2): digits, one dot, digits; the spec's literal `[0-9.]*` would also take
// `1.2.3`, which no parser reads as a number.

#[derive(Debug, PartialEq)]
enum Read<'a> {
    Str(&'a str),
    /// Resolved to a non-string type: the type's name.
    Other(&'static str),
}

struct Yaml11 {
    types: Vec<(&'static str, Regex)>,
}

impl Yaml11 {
    fn new() -> Yaml11 {
        let types = [
            (
                "bool",
                r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            ),
            ("null", r"^(?:~|null|Null|NULL|)$"),
            (
                "int",
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
            (
                "float",
                r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
            (
                "timestamp",
                r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
            ),
            ("merge", r"^<<$"),
            ("value", r"^=$"),
        ];
        Yaml11 {
            types: types
                .into_iter()
                .map(|(name, re)| (name, Regex::new(re).expect("valid regex")))
                .collect(),
        }
    }

    fn read<'a>(&self, scalar: &'a Scalar) -> Read<'a> {
        match scalar.tag.as_deref() {
            Some("str") => return Read::Str(&scalar.text),
            Some(_) => return Read::Other("explicitly tagged"),
            None => {}
        }
        if scalar.plain {
            if let Some((name, _)) = self.types.iter().find(|(_, re)| re.is_match(&scalar.text)) {
                return Read::Other(name);
            }
        }
        Read::Str(&scalar.text)
    }
}

#[test]
fn the_yaml11_reader_knows_the_implicit_types() {
    let y = Yaml11::new();
    let plain = |t: &str| Scalar {
        text: t.into(),
        plain: true,
        tag: None,
    };
    for (text, ty) in [
        ("yes", "bool"),
        ("Off", "bool"),
        ("~", "null"),
        ("", "null"),
        ("010", "int"),
        ("1_000", "int"),
        ("1:20", "int"),
        ("0x1F", "int"),
        ("1.10", "float"),
        (".inf", "float"),
        ("2001-12-14", "timestamp"),
        ("<<", "merge"),
    ] {
        assert_eq!(y.read(&plain(text)), Read::Other(ty), "{text}");
    }
    for text in ["v1.10", "1.2.3", "latest", "abc123", "on-call"] {
        assert_eq!(y.read(&plain(text)), Read::Str(text), "{text}");
    }
    let quoted = Scalar {
        text: "yes".into(),
        plain: false,
        tag: None,
    };
    assert_eq!(y.read(&quoted), Read::Str("yes"));
}
