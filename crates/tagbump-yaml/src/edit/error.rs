//! Why an edit is refused.

use crate::path::KeyPath;

/// Why an edit was refused. Nothing is written when any edit of a file fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text is not YAML.
    #[error("malformed YAML at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's words.
        message: String,
    },
    /// The path does not exist.
    #[error("key path {path} not found: {}{hint}", deepest_text(deepest, *line))]
    NotFound {
        /// The path asked for.
        path: KeyPath,
        /// The longest prefix of it that exists.
        deepest: KeyPath,
        /// Line of the deepest existing node.
        line: usize,
        /// Extra advice (merge keys, `--create`).
        hint: String,
    },
    /// The path runs into a node that is not the kind it needs.
    #[error("key path {path}: {at} at line {line} is {found}, not {expected}")]
    WrongKind {
        /// The path asked for.
        path: KeyPath,
        /// The prefix where it went wrong.
        at: KeyPath,
        /// What was found.
        found: &'static str,
        /// What the path needs there.
        expected: &'static str,
        /// 1-based line.
        line: usize,
    },
    /// A sequence index past the end.
    #[error("key path {path}: {at} at line {line} has {len} items, no index {index}")]
    IndexOutOfRange {
        /// The path asked for.
        path: KeyPath,
        /// The sequence.
        at: KeyPath,
        /// Its length.
        len: usize,
        /// The index asked for.
        index: usize,
        /// 1-based line.
        line: usize,
    },
    /// The value at the path is a mapping or a sequence.
    #[error("key path {path} at line {line} holds {found}, not a scalar value; name a key inside it (e.g. {path}.tag)")]
    NotAScalar {
        /// The path asked for.
        path: KeyPath,
        /// What it holds.
        found: &'static str,
        /// 1-based line.
        line: usize,
    },
    /// The path runs through or ends at an alias.
    #[error("key path {path} at line {line} is an alias of &{anchor}; edit the anchored value instead (tagbump does not edit through aliases)")]
    Alias {
        /// The path asked for.
        path: KeyPath,
        /// The anchor the alias refers to.
        anchor: String,
        /// 1-based line.
        line: usize,
    },
    /// A key of the path appears more than once in its mapping (invalid YAML that some
    /// readers accept): which one is meant cannot be known.
    #[error("key path {path}: key {key:?} appears more than once in the same mapping (lines {first_line} and {second_line}); remove the duplicate first")]
    DuplicateKey {
        /// The path asked for.
        path: KeyPath,
        /// The duplicated key.
        key: String,
        /// Line of the first occurrence.
        first_line: usize,
        /// Line of the second.
        second_line: usize,
    },
    /// `document` past the end of the stream.
    #[error("document {document} asked for, but the file has {count} document(s)")]
    NoSuchDocument {
        /// The index asked for.
        document: usize,
        /// How many there are.
        count: usize,
    },
    /// Two edits want to change the same place differently.
    #[error("conflicting edits for {path} at line {line}: {first} and {second}")]
    Conflict {
        /// The path.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// One value.
        first: String,
        /// The other.
        second: String,
    },
    /// The value is not the type the edit asks for.
    #[error("key path {path} at line {line}: {reason}")]
    ValueType {
        /// The path.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// Why not.
        reason: String,
    },
    /// `--create` could not add the key.
    #[error("cannot create {path}: {reason}")]
    CannotCreate {
        /// The path.
        path: KeyPath,
        /// Why not.
        reason: String,
    },
    /// The text's aliases expand to more nodes than [`MAX_ALIAS_NODES`](crate::MAX_ALIAS_NODES): an alias bomb
    /// ("billion laughs"), which no real values file or manifest is.
    #[error("refusing to edit: its aliases expand to more than {limit} nodes (an alias bomb?)")]
    AliasBomb {
        /// The limit, [`MAX_ALIAS_NODES`](crate::MAX_ALIAS_NODES).
        limit: u64,
    },
    /// The edit would also change other paths through aliases, and
    /// [`EditOptions::refuse_aliased`](super::EditOptions::refuse_aliased) is set.
    #[error("key path {path} at line {line} is under an anchor: setting it would also change {} through aliases, and edits that change aliases are refused (--no-aliased)", others.join(", "))]
    Aliased {
        /// The path asked for.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// The other paths that would change.
        others: Vec<String>,
    },
    /// A JSON file ([`apply_json`](crate::apply_json)) that is not JSON.
    #[error("not JSON at line {line}, column {column}: {message}")]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's words.
        message: String,
    },
    /// An edited JSON file ([`apply_json`](crate::apply_json)) did not read back, with
    /// serde_json, as the original with exactly the new values: refused, nothing written.
    #[error("refusing to write: the edited JSON would not read back as intended ({reason}); please report this as a bug with the input file")]
    JsonSafetyNet {
        /// What differed.
        reason: String,
    },
    /// The result did not re-parse to exactly the intended data: refused, nothing written.
    #[error("refusing to write: the edited YAML would not read back as intended ({reason}); please report this as a bug with the input file")]
    SafetyNet {
        /// What differed.
        reason: String,
    },
}

fn deepest_text(deepest: &KeyPath, line: usize) -> String {
    if deepest.is_empty() {
        "no part of it exists".to_string()
    } else {
        format!("the deepest existing prefix is {deepest} (line {line})")
    }
}
