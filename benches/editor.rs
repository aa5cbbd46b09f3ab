//! Editor throughput and latency.
//!
//! - `fixtures/<case>`: one edit per fixture file (typical small values files).
//! - `large_values/<n>`: one deep edit in a synthetic umbrella-chart values file of n
//!   components (~1.3 KB each), reported as bytes/s.
//! - `corpus`: every task of `tests/corpus-data/corpus/tasks.jsonl` (vendored).
//! - `corpus_v2`: part 2 (`tests/corpus-data/corpus-v2`: block scalars, multi-line flow scalars,
//!   `--create`): every task, and per kind the task on the largest file of that kind.
//!
//! Run: `cargo bench --bench editor`. The figures for the closing note come from here.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tagbump::yaml::{apply, Edit, EditOptions, KeyPath};

#[path = "support/synth.rs"]
mod synth;

fn fixture_cases() -> Vec<(String, String, Vec<Edit>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/editor");
    let mut cases = Vec::new();
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return cases;
    };
    for d in dirs.filter_map(Result::ok) {
        let dir = d.path();
        let (Ok(input), Ok(spec)) = (
            std::fs::read_to_string(dir.join("input.yaml")),
            std::fs::read_to_string(dir.join("edits.json")),
        ) else {
            continue;
        };
        let Ok(spec) = serde_json::from_str::<serde_json::Value>(&spec) else {
            continue;
        };
        let edits: Vec<Edit> = spec["edits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some(Edit {
                    path: KeyPath::parse(e["path"].as_str()?).ok()?,
                    value: e["value"].as_str()?.to_string(),
                    document: e["document"].as_u64().map(|d| d as usize),
                    value_type: Default::default(),
                })
            })
            .collect();
        if spec["create"].as_bool() == Some(true) {
            continue;
        }
        cases.push((d.file_name().to_string_lossy().to_string(), input, edits));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

fn bench_fixtures(c: &mut Criterion) {
    let mut group = c.benchmark_group("fixtures");
    for (name, input, edits) in fixture_cases() {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&name), &input, |b, input| {
            b.iter(|| apply(input, &edits, EditOptions::default()).map(|o| o.text.len()))
        });
    }
    group.finish();
}

fn bench_large(c: &mut Criterion) {
    let mut group = c.benchmark_group("large_values");
    group.sample_size(20);
    for n in [100usize, 800] {
        let text = synth::large_values(n);
        let path = KeyPath::parse(&format!("c{}.image.tag", n - 1)).expect("path");
        let edits = vec![Edit::new(path, "9.9.9")];
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{n}-components-{}KB", text.len() / 1024)),
            &text,
            |b, t| b.iter(|| apply(t, &edits, EditOptions::default()).map(|o| o.text.len())),
        );
    }
    group.finish();
}

fn bench_corpus(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-data/corpus");
    let tasks = std::fs::read_to_string(corpus.join("tasks.jsonl"))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.join("tasks.jsonl").display()));
    let mut inputs = Vec::new();
    for line in tasks.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(task) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(file), Some(path), Some(value)) = (
            task["file"].as_str(),
            task["path"].as_str().or(task["key"].as_str()),
            task["value"].as_str().or(task["new_value"].as_str()),
        ) else {
            continue;
        };
        let (Ok(text), Ok(path)) = (
            std::fs::read_to_string(corpus.join(file)),
            KeyPath::parse(path),
        ) else {
            continue;
        };
        inputs.push((text, Edit::new(path, value)));
    }
    let total: usize = inputs.iter().map(|(t, _)| t.len()).sum();
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function(format!("{}-tasks", inputs.len()), |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|(t, e)| {
                    apply(t, std::slice::from_ref(e), EditOptions::default())
                        .map(|o| o.text.len())
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

/// One task of part 2 of the corpus: (kind, file name, text, edit, create).
type V2Task = (String, String, String, Edit, bool);

fn corpus_v2_tasks() -> Vec<V2Task> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-data/corpus-v2");
    let tasks = std::fs::read_to_string(corpus.join("tasks.jsonl"))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.join("tasks.jsonl").display()));
    let mut out = Vec::new();
    for line in tasks.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(task) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let edit = &task["edits"][0];
        let (Some(kind), Some(file), Some(path), Some(value)) = (
            task["kind"].as_str(),
            task["file"].as_str(),
            edit["path"].as_str(),
            edit["value"].as_str(),
        ) else {
            continue;
        };
        let (Ok(text), Ok(path)) = (
            std::fs::read_to_string(corpus.join(file)),
            KeyPath::parse(path),
        ) else {
            continue;
        };
        let mut edit = Edit::new(path, value);
        edit.document = task["document"].as_u64().map(|d| d as usize);
        let name = file.rsplit('/').next().unwrap_or(file).to_string();
        out.push((kind.to_string(), name, text, edit, kind == "create"));
    }
    out
}

fn bench_corpus_v2(c: &mut Criterion) {
    let tasks = corpus_v2_tasks();
    assert!(!tasks.is_empty(), "corpus part 2: no tasks");
    let run = |t: &V2Task| {
        let options = EditOptions {
            create_missing: t.4,
            ..EditOptions::default()
        };
        apply(&t.2, std::slice::from_ref(&t.3), options)
            .map(|o| o.text.len())
            .unwrap_or(0)
    };
    let mut group = c.benchmark_group("corpus_v2");
    let total: usize = tasks.iter().map(|t| t.2.len()).sum();
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function(format!("{}-tasks", tasks.len()), |b| {
        b.iter(|| tasks.iter().map(run).sum::<usize>())
    });
    // Per kind, the task on the largest file.
    let mut kinds: Vec<&str> = tasks.iter().map(|t| t.0.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let Some(largest) = tasks
            .iter()
            .filter(|t| t.0 == kind)
            .max_by_key(|t| t.2.len())
        else {
            continue;
        };
        group.throughput(Throughput::Bytes(largest.2.len() as u64));
        group.bench_function(
            format!("largest-{kind}-{}-{}KB", largest.1, largest.2.len() / 1024),
            |b| b.iter(|| run(largest)),
        );
    }
    group.finish();
}

/// The same job as a user runs it from a pipeline: one process per bump, on a file on
/// disk — `tagbump set` against `yq -y -i` (kislyuk's yq, PyYAML round trip; the
/// "yq-style" recipe of the tutorials), when `yq` is installed.
fn bench_process_vs_yq(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = synth::large_values(100);
    let file = dir.path().join("values.yaml");
    let mut group = c.benchmark_group("process");
    group.sample_size(10);
    let tagbump = env!("CARGO_BIN_EXE_tagbump");
    let mut n = 0u64;
    group.bench_function(format!("tagbump-set-{}KB", text.len() / 1024), |b| {
        b.iter(|| {
            std::fs::write(&file, &text).expect("write");
            n += 1;
            let status = std::process::Command::new(tagbump)
                .args(["set", "-C"])
                .arg(dir.path())
                .args(["values.yaml", &format!("c99.image.tag=2.0.{n}")])
                .stdout(std::process::Stdio::null())
                .status()
                .expect("run tagbump");
            assert!(status.success());
        })
    });
    let has_yq = std::process::Command::new("yq")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_yq {
        group.bench_function(format!("yq-y-i-{}KB", text.len() / 1024), |b| {
            b.iter(|| {
                std::fs::write(&file, &text).expect("write");
                n += 1;
                let status = std::process::Command::new("yq")
                    .args(["-y", "-i", &format!(".c99.image.tag = \"2.0.{n}\"")])
                    .arg(&file)
                    .status()
                    .expect("run yq");
                assert!(status.success());
            })
        });
    } else {
        eprintln!("yq not installed: comparison skipped");
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_fixtures,
    bench_large,
    bench_corpus,
    bench_corpus_v2,
    bench_process_vs_yq
);
criterion_main!(benches);
