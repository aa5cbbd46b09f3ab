//! Part 2 of the corpus (`tests/corpus-data/corpus-v2`, see its `README.md`): 500 tasks on
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

use tagbump_yaml::{apply, EditOptions};

use super::{
    document_field, edits, edits_field, expected_output, get, load_tasks, per_document,
    pypath_field, text_field, CorpusTask, Node, Scalar, Step,
};

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
    let Ok([(path, value)]) = <[_; 1]>::try_from(edits_field(&v)?) else {
        return Err("a part-2 task has exactly one edit".into());
    };
    let span = v
        .get("span")
        .and_then(|s| s.as_array())
        .and_then(|s| Some((s.first()?.as_u64()? as usize, s.get(1)?.as_u64()? as usize)));
    Ok(Task {
        id: text_field(&v, "id")?,
        file: text_field(&v, "file")?,
        kind: text_field(&v, "kind")?,
        path,
        value,
        document: document_field(&v)?,
        expected: text_field(&v, "expected")?,
        pypath: pypath_field(&v)?,
        span,
        indent: v.get("indent").and_then(|i| i.as_u64()).unwrap_or(0) as usize,
    })
}

impl CorpusTask for Task {
    fn id(&self) -> &str {
        &self.id
    }

    fn file(&self) -> &str {
        &self.file
    }
}

#[test]
fn every_corpus_v2_task_passes() {
    let (corpus, tasks) = load_tasks("corpus-v2", parse_task);
    assert_eq!(tasks.len(), 500, "tasks in {}", corpus.display());
    let mut tally: BTreeMap<String, BTreeMap<Score, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (task, input) in &tasks {
        let (score, why) = score(task, input, &corpus);
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
    let edit = match edits(&[(task.path.clone(), task.value.clone())], task.document) {
        Ok(edit) => edit,
        Err(e) => return (Score::Wrong, e),
    };
    let options = EditOptions {
        create_missing: task.kind == "create",
        ..EditOptions::default()
    };
    let out = match apply(input, &edit, options) {
        Ok(o) => o.text,
        Err(e) => return (Score::Refused, format!("refused: {e}")),
    };
    let want = match expected_output(corpus, &task.expected) {
        Ok(w) => w,
        Err(e) => return (Score::Wrong, e),
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

fn edited_semantically(task: &Task, input: &str, out: &str) -> Result<(), String> {
    let (from, to) = task.span.ok_or("a task without \"span\"")?;
    let (from, to) = (byte_of_char(input, from), byte_of_char(input, to));
    if !out.starts_with(&input[..from]) || !out.ends_with(&input[to..]) {
        return Err("bytes outside the scalar's span changed".into());
    }
    per_document(task.document, &task.pypath, input, out, |old, new| {
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
    per_document(task.document, &task.pypath, input, out, |old, new| {
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
