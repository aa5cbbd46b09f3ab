//! The editor's own tests: the real-world corpora, fixtures in → bytes out, property tests
//! and hostile YAML, against this crate's API only.
//!
//! One test binary (`autotests = false`); a module per file. The data (the vendored corpus
//! `tests/corpus-data`, the fixtures `fixtures/editor*`) stays at the workspace root, where
//! the benchmarks read it too; none of it is in this crate's package.

#[path = "corpus.rs"]
mod corpus;
#[path = "editor_fixtures.rs"]
mod editor_fixtures;
#[path = "editor_props.rs"]
mod editor_props;
#[path = "hostile_yaml.rs"]
mod hostile_yaml;
