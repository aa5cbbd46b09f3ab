//! Environments declared in the config repository (`.tagbump.yaml`) and what each of
//! them runs ([`status`]).
//!
//! ```yaml
//! environments:
//!   dev:     { paths: [envs/dev] }
//!   staging: { paths: [envs/staging], from: dev }
//!   prod:    { paths: [envs/prod, clusters/prod/apps.yaml], from: staging, pr: true }
//! ```
//!
//! - `environments` (required): a mapping from environment name to environment, in
//!   the order they are written (which is the order of every report).
//! - `paths` (required, not empty): directories or files relative to the repository
//!   root. Absolute paths and `..` are refused. No path of one environment may be the
//!   same as, or lie inside, a path of another: every file belongs to one environment.
//! - `from` (optional): the environment this one is promoted from. It must name another
//!   environment, and following `from` must never come back (a cycle).
//! - `pr` (optional, `true` or `false`): whether a promotion into this environment opens
//!   a pull request by default.
//!
//! Any other key, at the top level or in an environment, is an error. Every
//! [`ConfigError`] names the file and the line and column of the node at fault.
//! `schemas/tagbump.schema.json` is the same schema for editors (JSON Schema 2020-12).
//!
//! This module reads files under one directory; it knows nothing of git or forges.

mod config;
mod error;
mod promote;
mod render;
mod status;

use std::path::{Path, PathBuf};

pub use error::{At, ConfigError, Overlap};
pub use promote::{
    pair, promote, PromoteError, PromoteRequest, Promoted, PromotedImage, Promotion,
};
pub use status::{status, Conflict, EnvState, ImageStatus, Status, StatusError};

/// The file read at the repository root when no other is given.
pub const CONFIG_FILE: &str = ".tagbump.yaml";

/// The environments of one config repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file they were read from, as named in errors.
    pub file: String,
    /// The environments, in the order written.
    pub environments: Vec<Environment>,
}

/// One environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// Its directories and files, relative to the repository root (`.` for the
    /// whole repository), as written without `./` and trailing `/`.
    pub paths: Vec<PathBuf>,
    /// The environment it is promoted from.
    pub from: Option<String>,
    /// Whether promotions into it open a pull request (`None`: not said).
    pub pr: Option<bool>,
    /// The line of its name.
    pub line: usize,
    path_places: Vec<config::PathEntry>,
    from_at: Option<At>,
}

impl Config {
    /// Reads `text` as an environments file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        config::parse(file, text)
    }

    /// Reads the environments of the repository at `root`: `config` when given (a path
    /// relative to the current directory, or absolute; it may lie outside the
    /// repository), else `root/.tagbump.yaml`. The paths in it are relative to `root`
    /// either way.
    pub fn load(root: &Path, config: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, shown) = match config {
            Some(file) => (file.to_path_buf(), file.display().to_string()),
            None => (root.join(CONFIG_FILE), CONFIG_FILE.to_string()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        config::parse(&shown, &text)
    }

    /// The environment named `name`.
    pub fn get(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The names of the environments, in order.
    pub fn names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }
}
