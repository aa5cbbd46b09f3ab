//! `tagbump status` over the vendored corpora: every file of
//! `tests/corpus-data/corpus` and `tests/corpus-data/corpus-v2` (2 316 YAML files of
//! public repositories) as two environments, `a` and `b`.
//!
//! `status` asks each file about every name in it that could be an image; the file is
//! parsed once ([`tagbump::targets::ParsedFile`]) and searched once per name.
//!
//! Run: `cargo bench --bench status`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use tagbump::environments::{status, Config};

fn bench_status(c: &mut Criterion) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-data");
    let config = Config::parse(
        ".tagbump.yaml",
        "environments:\n  a: { paths: [corpus] }\n  b: { paths: [corpus-v2] }\n",
    )
    .expect("the bench's environments parse");
    let once = status(&data, &config).expect("status over the corpus");
    println!(
        "status over the corpus: {} images, {} files left out",
        once.images.len(),
        once.skipped.len()
    );
    let mut group = c.benchmark_group("status");
    group.sample_size(10);
    group.bench_function("corpus_and_corpus_v2", |b| {
        b.iter(|| status(&data, &config).expect("status over the corpus"))
    });
    group.finish();
}

criterion_group!(benches, bench_status);
criterion_main!(benches);
