//! Part 2 of the corpus (`../shared/corpus-v2`, see its `README.md`): 500 tasks on
//! block scalars (`block`), scalars written over several lines (`flow-multiline`) and
//! `--create` of a missing key (`create`), on files of the same 19 repositories.
//! Every task must be byte-identical to `expected/<id>.yaml`.
//!
//! Each task is also scored the way the corpus README scores it, and the tally per kind
//! is printed (`exact` / `semantic` / `refused` / `wrong`), so that a regression shows
//! where it lies:
//! - `semantic` (block, flow-multiline): the output reads back as the original data with
//!   only the scalar at `pypath` changed to the value, and every byte before `span[0]`
//!   and after `span[1]` is unchanged (say, a header rewritten from `>` to `|`);
//! - `semantic` (create): the original lines all present, in order and unchanged, and
//!   exactly one line added, `newKeyCorpus: v1` indented like its siblings, reading back
//!   as the original data plus that key in the mapping at `pypath`.

use std::collections::BTreeMap;
use std::path::Path;

use tagbump::yaml::{apply, Edit, EditOptions, KeyPath};

use super::{documents, get, Node, Scalar, Step};

/// How one task came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Score {
    Exact,
    Semantic,
    Refused,
    Wrong,
}

struct Task {
    id: String,
    file: String,
    kind: String,
    path: String,
    value: String,
    document: Option<usize>,
    expected: String,
    pypath: Vec<Step>,
    /// Character offsets of the edited scalar (block, flow-multiline).
    span: Option<(usize, usize)>,
    /// The siblings' column (create).
    indent: usize,
}

fn parse_task(line: &str) -> Result<Task, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let text = |name: &str| {
        v.get(name)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("missing string field {name:?}"))
    };
    let edits = v
        .get("edits")
        .and_then(|e| e.as_array())
        .ok_or("missing \"edits\"")?;
    let [edit] = edits.as_slice() else {
        return Err("a part-2 task has exactly one edit".into());
    };
    let field = |name: &str| {
        edit.get(name)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("edit without {name:?}"))
    };
    let pypath = v
        .get("pypath")
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
        .collect::<Result<Vec<_>, String>>()?;
    let span = v
        .get("span")
        .and_then(|s| s.as_array())
        .and_then(|s| Some((s.first()?.as_u64()? as usize, s.get(1)?.as_u64()? as usize)));
    Ok(Task {
        id: text("id")?,
        file: text("file")?,
        kind: text("kind")?,
        path: field("path")?,
        value: field("value")?,
        document: v
            .get("document")
            .and_then(|d| d.as_u64())
            .map(|d| d as usize),
        expected: text("expected")?,
        pypath,
        span,
        indent: v.get("indent").and_then(|i| i.as_u64()).unwrap_or(0) as usize,
    })
}

#[test]
fn every_corpus_v2_task_passes() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus-v2");
    let Ok(tasks) = std::fs::read_to_string(corpus.join("tasks.jsonl")) else {
        eprintln!(
            "note: {} has no tasks.jsonl; the corpus part 2 test has nothing to run",
            corpus.display()
        );
        return;
    };
    let mut tally: BTreeMap<String, BTreeMap<Score, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, line) in tasks
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let task = parse_task(line).unwrap_or_else(|e| panic!("tasks.jsonl line {}: {e}", n + 1));
        let input = std::fs::read_to_string(corpus.join(&task.file))
            .unwrap_or_else(|e| panic!("{}: {}: {e}", task.id, task.file));
        let (score, why) = score(&task, &input, &corpus);
        *tally
            .entry(task.kind.clone())
            .or_default()
            .entry(score)
            .or_default() += 1;
        if score != Score::Exact {
            failures.push(format!("{} {:?} ({}): {why}", task.id, score, task.file));
        }
    }
    for (kind, scores) in &tally {
        let total: usize = scores.values().sum();
        let n = |s| scores.get(&s).copied().unwrap_or(0);
        eprintln!(
            "corpus-v2 {kind}: {total} tasks, exact {}, semantic {}, refused {}, wrong {}",
            n(Score::Exact),
            n(Score::Semantic),
            n(Score::Refused),
            n(Score::Wrong)
        );
    }
    assert!(!tally.is_empty(), "tasks.jsonl holds no tasks");
    assert!(
        failures.is_empty(),
        "{} corpus-v2 tasks are not byte-identical:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn score(task: &Task, input: &str, corpus: &Path) -> (Score, String) {
    let path = match KeyPath::parse(&task.path) {
        Ok(p) => p,
        Err(e) => return (Score::Wrong, format!("key path {:?}: {e}", task.path)),
    };
    let mut edit = Edit::new(path, task.value.clone());
    edit.document = task.document;
    let options = EditOptions {
        create_missing: task.kind == "create",
        ..EditOptions::default()
    };
    let out = match apply(input, &[edit], options) {
        Ok(o) => o.text,
        Err(e) => return (Score::Refused, format!("refused: {e}")),
    };
    let want = match std::fs::read_to_string(corpus.join(&task.expected)) {
        Ok(w) => w,
        Err(e) => return (Score::Wrong, format!("{}: {e}", task.expected)),
    };
    if out == want {
        return (Score::Exact, String::new());
    }
    let semantic = if task.kind == "create" {
        created_semantically(task, input, &out)
    } else {
        edited_semantically(task, input, &out)
    };
    match semantic {
        Ok(()) => (
            Score::Semantic,
            format!("differs from {} but reads back right", task.expected),
        ),
        Err(why) => (Score::Wrong, why),
    }
}

/// Byte offset of character `n` of `text`.
fn byte_of_char(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

/// The documents the task edits (all, or the one it names) and the rest.
fn per_document(
    task: &Task,
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
        if task.document.is_some_and(|want| want != d) || get(old, &task.pypath).is_none() {
            if old != new {
                return Err(format!("document {d} changed but has no edit"));
            }
            continue;
        }
        edited += 1;
        each(old, new).map_err(|e| format!("document {d}: {e}"))?;
    }
    if edited == 0 {
        return Err("no document has the path".into());
    }
    Ok(())
}

fn edited_semantically(task: &Task, input: &str, out: &str) -> Result<(), String> {
    let (from, to) = task.span.ok_or("a task without \"span\"")?;
    let (from, to) = (byte_of_char(input, from), byte_of_char(input, to));
    if !out.starts_with(&input[..from]) || !out.ends_with(&input[to..]) {
        return Err("bytes outside the scalar's span changed".into());
    }
    per_document(task, input, out, |old, new| {
        let Some(Node::Scalar(scalar)) = get(new, &task.pypath) else {
            return Err("no scalar at the path after the edit".into());
        };
        if scalar.text != task.value || scalar.tag.is_some() {
            return Err(format!("the scalar reads back as {:?}", scalar.text));
        }
        let mut expected = old.clone();
        super::set(&mut expected, &task.pypath, Node::Scalar(scalar.clone()));
        if &expected != new {
            return Err("data other than the scalar changed".into());
        }
        Ok(())
    })
}

fn created_semantically(task: &Task, input: &str, out: &str) -> Result<(), String> {
    let a: Vec<&str> = input.lines().collect();
    let b: Vec<&str> = out.lines().collect();
    let line = format!("{}newKeyCorpus: v1", " ".repeat(task.indent));
    let Some(at) = b.iter().position(|l| *l == line) else {
        return Err(format!("no line {line:?}"));
    };
    let mut rest = b.clone();
    rest.remove(at);
    if rest != a {
        return Err("the original lines are not all there, unchanged and in order".into());
    }
    per_document(task, input, out, |old, new| {
        let Some(Node::Map(after)) = get(new, &task.pypath) else {
            return Err("no mapping at the path after the edit".into());
        };
        let mut expected = old.clone();
        let mut entries = match get(old, &task.pypath) {
            Some(Node::Map(entries)) => entries.clone(),
            _ => return Err("no mapping at the path before the edit".into()),
        };
        let key = Node::Scalar(Scalar {
            text: "newKeyCorpus".into(),
            plain: true,
            tag: None,
        });
        let Some(pos) = after.iter().position(|(k, _)| *k == key) else {
            return Err("the new key is not in the mapping".into());
        };
        entries.insert(pos, after[pos].clone());
        super::set(&mut expected, &task.pypath, Node::Map(entries));
        if &expected != new {
            return Err("the data differ from the original plus the new key".into());
        }
        Ok(())
    })
}
