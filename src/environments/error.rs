//! Why a `.tagbump.yaml` was refused: every problem names the file and the line and
//! column of the node at fault.

use std::path::PathBuf;

/// Where in the configuration file a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    /// The file as given (relative to the repository root for the default one).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A `.tagbump.yaml` that cannot be used. Nothing is read or written when one is
/// returned. [`ConfigError::kind`] is `config` for every problem with the file's
/// contents and `io` when it could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (it does not exist, is not UTF-8, …).
    #[error("cannot read the environments file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML.
    #[error("{at}: malformed YAML: {message}")]
    Syntax {
        /// Where.
        at: At,
        /// The parser's words.
        message: String,
    },
    /// A key that the schema does not have.
    #[error("{at}: unknown key `{key}` {place}; expected {expected}")]
    UnknownKey {
        /// Where the key is.
        at: At,
        /// The key.
        key: String,
        /// `at the top level` or `in environment "dev"`.
        place: String,
        /// The keys allowed there.
        expected: String,
    },
    /// A value of the wrong type.
    #[error("{at}: {what} must be {expected}, not {found}")]
    WrongType {
        /// Where the value is.
        at: At,
        /// What the value is (`environments`, `paths of environment "dev"`, …).
        what: String,
        /// What it must be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// A required key or value is absent or empty.
    #[error("{at}: {message}")]
    Missing {
        /// Where it is missing (the enclosing node).
        at: At,
        /// What is missing.
        message: String,
    },
    /// The same key twice in one mapping.
    #[error("{at}: {what} `{key}` is given twice (first at line {first_line})")]
    Duplicate {
        /// Where the second one is.
        at: At,
        /// `environment` or `key`.
        what: String,
        /// The key.
        key: String,
        /// Line of the first.
        first_line: usize,
    },
    /// A path that is absolute or leaves the repository.
    #[error("{at}: path `{path}` of environment \"{environment}\" {reason}; paths are relative to the repository root and stay inside it")]
    BadPath {
        /// Where the path is.
        at: At,
        /// The environment.
        environment: String,
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `from` names no environment.
    #[error("{at}: environment \"{environment}\" is promoted from \"{from}\", which is not an environment of this file (environments: {known})")]
    UnknownFrom {
        /// Where the `from` value is.
        at: At,
        /// The environment.
        environment: String,
        /// The name it gives.
        from: String,
        /// The environments there are, comma-separated.
        known: String,
    },
    /// `from` chains that come back to where they started.
    #[error("{at}: the `from` chain is a cycle: {}", cycle.join(" → "))]
    Cycle {
        /// Where the first `from` of the cycle is.
        at: At,
        /// The environments of the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// Two environments claim the same files.
    #[error("{0}")]
    Overlap(Box<Overlap>),
}

impl ConfigError {
    /// The stable name of the error's kind: `io` when the file could not be read,
    /// `config` for everything wrong in it.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Io { .. } => "io",
            _ => "config",
        }
    }

    /// Where in the file the problem is (`None` for [`ConfigError::Io`]).
    pub fn at(&self) -> Option<&At> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Syntax { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::WrongType { at, .. }
            | ConfigError::Missing { at, .. }
            | ConfigError::Duplicate { at, .. }
            | ConfigError::BadPath { at, .. }
            | ConfigError::UnknownFrom { at, .. }
            | ConfigError::Cycle { at, .. } => Some(at),
            ConfigError::Overlap(o) => Some(&o.at),
        }
    }
}

/// Two environments claiming the same files ([`ConfigError::Overlap`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: path `{path}` of environment \"{environment}\" overlaps path `{other_path}` of environment \"{other}\" (line {other_line}); {relation}")]
pub struct Overlap {
    /// Where the later path is.
    pub at: At,
    /// Its environment.
    pub environment: String,
    /// The path.
    pub path: String,
    /// The other environment.
    pub other: String,
    /// Its path.
    pub other_path: String,
    /// The other path's line.
    pub other_line: usize,
    /// `they are the same path` or `one is inside the other`, and what follows.
    pub relation: String,
}
