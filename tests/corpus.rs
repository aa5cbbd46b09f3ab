//! The shared corpus (`../shared/corpus/tasks.jsonl`, real-world Helm values files and
//! kustomizations with edit tasks): every task must produce exactly the expected bytes.
//!
//! Each line of `tasks.jsonl` names the input file, the key path, the new value and the
//! expected output file (relative to the corpus directory). Field names accepted:
//! `file`/`input`, `path`/`key`/`key_path`, `value`/`new_value`, `expected`/`expected_file`/
//! `output`, and an optional `document`.
//!
//! The corpus is material shared beside the project; when it is not there (it is
//! announced but not yet delivered) this test says so on stderr and checks nothing else.

use std::path::Path;

use tagbump::yaml::{apply, Edit, EditOptions, KeyPath};

fn field<'a>(task: &'a serde_json::Value, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| task.get(*n).and_then(|v| v.as_str()))
}

#[test]
fn every_corpus_task_produces_the_expected_bytes() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(tasks) = std::fs::read_to_string(corpus.join("tasks.jsonl")) else {
        eprintln!(
            "note: {} has no tasks.jsonl; corpus test has nothing to run",
            corpus.display()
        );
        return;
    };
    let mut failures = Vec::new();
    let mut run = 0;
    for (n, line) in tasks
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let task: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("tasks.jsonl line {}: {e}", n + 1));
        let (Some(file), Some(path), Some(value), Some(expected)) = (
            field(&task, &["file", "input"]),
            field(&task, &["path", "key", "key_path"]),
            field(&task, &["value", "new_value"]),
            field(&task, &["expected", "expected_file", "output"]),
        ) else {
            panic!(
                "tasks.jsonl line {}: missing file/path/value/expected in {line}",
                n + 1
            );
        };
        let input = std::fs::read_to_string(corpus.join(file))
            .unwrap_or_else(|e| panic!("line {}: {file}: {e}", n + 1));
        let want = std::fs::read_to_string(corpus.join(expected))
            .unwrap_or_else(|e| panic!("line {}: {expected}: {e}", n + 1));
        let mut edit = Edit::new(
            KeyPath::parse(path).unwrap_or_else(|e| panic!("line {}: {e}", n + 1)),
            value,
        );
        edit.document = task
            .get("document")
            .and_then(|d| d.as_u64())
            .map(|d| d as usize);
        run += 1;
        match apply(&input, &[edit], EditOptions::default()) {
            Ok(out) if out.text == want => {}
            Ok(_) => failures.push(format!(
                "line {}: {file} {path}: output differs from {expected}",
                n + 1
            )),
            Err(e) => failures.push(format!("line {}: {file} {path}: {e}", n + 1)),
        }
    }
    assert!(run > 0, "tasks.jsonl holds no tasks");
    assert!(
        failures.is_empty(),
        "{} of {run} corpus tasks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
