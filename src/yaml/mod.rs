//! The format-preserving YAML editor (the `tagbump-yaml` crate, re-exported here) and
//! [`file`](mod@file), which reads and writes the files it edits.
//!
//! [`apply`] sets scalars at key paths and returns new text in which only the bytes of
//! the edited scalars differ: comments, blank lines, indentation, key order, quoting of
//! other values, flow collections, anchors, document markers, BOM, CRLF and a missing
//! final newline all stay as they were. The result is re-parsed and compared with the
//! intended data before it is returned ([`EditError::SafetyNet`] otherwise).
//!
//! ```
//! use tagbump::yaml::{apply, Edit, EditOptions, KeyPath};
//!
//! let values = "image:\n  repository: ghcr.io/acme/api   # the API\n  tag: \"1.4.2\"\n";
//! let edit = Edit::new(KeyPath::parse("image.tag")?, "1.5.0");
//! let out = apply(values, &[edit], EditOptions::default())?;
//! assert_eq!(out.text, "image:\n  repository: ghcr.io/acme/api   # the API\n  tag: \"1.5.0\"\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The editor works on text only; [`file`](mod@file) reads and writes files atomically.

pub mod file;

pub use tagbump_yaml::*;
