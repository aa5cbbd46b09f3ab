//! A format-preserving YAML editor.
//!
//! [`apply`] sets scalars at key paths and returns new text in which only the bytes of
//! the edited scalars differ: comments, blank lines, indentation, key order, quoting of
//! other values, flow collections, anchors, document markers, BOM, CRLF and a missing
//! final newline all stay as they were. The result is re-parsed and compared with the
//! intended data before it is returned ([`EditError::SafetyNet`] otherwise).
//!
//! ```
//! use tagbump_yaml::{apply, Edit, EditOptions, KeyPath};
//!
//! let values = "image:\n  repository: ghcr.io/acme/api   # the API\n  tag: \"1.4.2\"\n";
//! let edit = Edit::new(KeyPath::parse("image.tag")?, "1.5.0");
//! let out = apply(values, &[edit], EditOptions::default())?;
//! assert_eq!(out.text, "image:\n  repository: ghcr.io/acme/api   # the API\n  tag: \"1.5.0\"\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`apply_json`] edits JSON the same way (JSON is YAML flow syntax): new values are
//! written as JSON and the result is also read back with serde_json.
//!
//! The editor works on text only: reading and writing files is the job of
//! `tagbump::yaml::file`. It is a crate of its own so that it can be built for speed
//! while the rest of tagbump (network clients, CLI) is built for size; `tagbump`
//! re-exports it as `tagbump::yaml`.

mod aliased;
mod aliases;
mod block;
mod edit;
mod lenient;
pub mod model;
mod path;
pub mod scalar;
pub mod typed;
mod verify;

pub use aliases::MAX_ALIAS_NODES;
pub use edit::{
    apply, apply_as, apply_json, json_string, Change, Edit, EditError, EditOptions, Outcome, Syntax,
};
pub use lenient::{parse_readable, Readable};
pub use path::{KeyPath, PathError, Segment};
pub use typed::{ScalarType, TypeChange, ValueType};

/// The README's example, run as a doc test so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
