//! The editor and the reference finder: the real-world corpora, fixtures in → bytes out,
//! property tests, hostile input, image references and target discovery.
//!
//! One test binary per area (each binary links the whole stack); a module per former
//! test file.

#[path = "corpus.rs"]
mod corpus;
#[path = "corpus_images.rs"]
mod corpus_images;
#[path = "editor_fixtures.rs"]
mod editor_fixtures;
#[path = "editor_props.rs"]
mod editor_props;
#[path = "hostile_yaml.rs"]
mod hostile_yaml;
#[path = "image_reference.rs"]
mod image_reference;
#[path = "targets.rs"]
mod targets;
