//! Reading `.tagbump.yaml`: the schema checked node by node on the editor's YAML model,
//! so that every error names the line and column of the node at fault.

use std::path::{Component, Path, PathBuf};

use crate::yaml::model::{LineIndex, Node, NodeKind, ScalarStyle};

use super::error::{At, ConfigError, Overlap};
use super::{Config, Environment};

/// The keys of the top level.
const TOP_KEYS: [&str; 1] = ["environments"];
/// The keys of an environment.
const ENV_KEYS: [&str; 3] = ["paths", "from", "pr"];

/// Reads `text` (named `file` in errors) as an environments file.
pub(super) fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let readable = crate::yaml::parse_readable(text).map_err(|e| ConfigError::Syntax {
        at: At {
            file: file.to_string(),
            line: e.line,
            column: e.column,
        },
        message: e.message,
    })?;
    let reader = Reader {
        file,
        lines: LineIndex::new(&readable.text),
        text: &readable.text,
    };
    let mut roots = readable.documents.iter().filter_map(|d| d.root.as_ref());
    let Some(root) = roots.next() else {
        return Err(ConfigError::Missing {
            at: reader.at_offset(0),
            message: "the file is empty; it needs an `environments:` mapping".to_string(),
        });
    };
    if let Some(second) = roots.next() {
        return Err(ConfigError::WrongType {
            at: reader.at(second),
            what: "the environments file".to_string(),
            expected: "one YAML document".to_string(),
            found: "a second document".to_string(),
        });
    }
    let entries = reader.mapping(root, "the top level")?;
    reader.known_keys(entries, &TOP_KEYS, "at the top level")?;
    let Some(envs) = root.get("environments") else {
        return Err(ConfigError::Missing {
            at: reader.at(root),
            message: "no `environments:` mapping".to_string(),
        });
    };
    let env_entries = reader.mapping(envs, "environments")?;
    if env_entries.is_empty() {
        return Err(ConfigError::Missing {
            at: reader.at(envs),
            message: "`environments` names no environment".to_string(),
        });
    }
    let mut environments: Vec<Environment> = Vec::new();
    for (key, value) in env_entries {
        let name = reader.string(key, "an environment name")?;
        if name.is_empty() {
            return Err(ConfigError::Missing {
                at: reader.at(key),
                message: "an environment name is empty".to_string(),
            });
        }
        if let Some(first) = environments.iter().find(|e| e.name == name) {
            return Err(ConfigError::Duplicate {
                at: reader.at(key),
                what: "environment".to_string(),
                key: name,
                first_line: first.line,
            });
        }
        environments.push(reader.environment(name, key, value)?);
    }
    check_from(&reader, &environments)?;
    check_overlaps(&reader, &environments)?;
    Ok(Config {
        file: file.to_string(),
        environments,
    })
}

/// Positions and type checks over one file.
struct Reader<'f> {
    file: &'f str,
    lines: LineIndex,
    text: &'f str,
}

impl Reader<'_> {
    fn at_offset(&self, byte: usize) -> At {
        At {
            file: self.file.to_string(),
            line: self.lines.line(byte),
            column: self.lines.column(byte),
        }
    }

    fn at(&self, node: &Node) -> At {
        let mut start = node.as_scalar().map_or(node.start, |s| s.span.start);
        if let NodeKind::Sequence { flow: false, .. } = node.kind {
            // A block sequence starts at its first `-`, not at the first item's content.
            let before = &self.text[self.lines.line_start(start)..start];
            if let Some(dash) = before.trim_end().strip_suffix('-') {
                start = self.lines.line_start(start) + dash.len();
            }
        }
        self.at_offset(start)
    }

    fn wrong(&self, node: &Node, what: &str, expected: &str) -> ConfigError {
        ConfigError::WrongType {
            at: self.at(node),
            what: what.to_string(),
            expected: expected.to_string(),
            found: found(node),
        }
    }

    fn mapping<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], ConfigError> {
        match &node.kind {
            NodeKind::Mapping { entries, .. } => Ok(entries),
            _ => Err(self.wrong(node, what, "a mapping")),
        }
    }

    /// A string scalar (quoted, or plain and not a YAML null, boolean or number).
    fn string(&self, node: &Node, what: &str) -> Result<String, ConfigError> {
        match &node.kind {
            NodeKind::Scalar(s)
                if s.style != ScalarStyle::Plain || plain_kind(&s.value) == "a string" =>
            {
                Ok(s.value.clone())
            }
            _ => Err(self.wrong(node, what, "a string")),
        }
    }

    /// Every key is one of `allowed`, and none is given twice.
    fn known_keys(
        &self,
        entries: &[(Node, Node)],
        allowed: &[&str],
        place: &str,
    ) -> Result<(), ConfigError> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (key, _) in entries {
            let name = key.as_scalar().map(|s| s.value.as_str());
            let Some(name) = name.filter(|n| allowed.contains(n)) else {
                return Err(ConfigError::UnknownKey {
                    at: self.at(key),
                    key: name.map_or_else(|| found(key), str::to_string),
                    place: place.to_string(),
                    expected: allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if let Some((_, first_line)) = seen.iter().find(|(k, _)| *k == name) {
                return Err(ConfigError::Duplicate {
                    at: self.at(key),
                    what: "key".to_string(),
                    key: name.to_string(),
                    first_line: *first_line,
                });
            }
            seen.push((name, self.at(key).line));
        }
        Ok(())
    }

    fn environment(
        &self,
        name: String,
        key: &Node,
        value: &Node,
    ) -> Result<Environment, ConfigError> {
        let here = format!("environment \"{name}\"");
        let entries = self.mapping(value, &here)?;
        self.known_keys(entries, &ENV_KEYS, &format!("in {here}"))?;
        let Some(paths_node) = value.get("paths") else {
            return Err(ConfigError::Missing {
                at: self.at(key),
                message: format!(
                    "{here} has no `paths`; list the directories or files it deploys from"
                ),
            });
        };
        let what = format!("`paths` of {here}");
        let NodeKind::Sequence { items, .. } = &paths_node.kind else {
            return Err(self.wrong(paths_node, &what, "a list of paths"));
        };
        if items.is_empty() {
            return Err(ConfigError::Missing {
                at: self.at(paths_node),
                message: format!("{what} is empty; list the directories or files it deploys from"),
            });
        }
        let mut paths = Vec::new();
        for item in items {
            let written = self.string(item, &format!("a path of {here}"))?;
            let path = relative_path(&written).map_err(|reason| ConfigError::BadPath {
                at: self.at(item),
                environment: name.clone(),
                path: written.clone(),
                reason: reason.to_string(),
            })?;
            paths.push(PathEntry {
                path,
                written,
                line: self.at(item).line,
                column: self.at(item).column,
            });
        }
        let from = match value.get("from") {
            None => None,
            Some(node) => {
                let from = self.string(node, &format!("`from` of {here}"))?;
                Some((from, self.at(node)))
            }
        };
        let pr = match value.get("pr") {
            None => None,
            Some(node) => Some(match node.as_scalar() {
                Some(s) if s.style == ScalarStyle::Plain && plain_kind(&s.value) == "a boolean" => {
                    matches!(s.value.as_str(), "true" | "True" | "TRUE")
                }
                _ => return Err(self.wrong(node, &format!("`pr` of {here}"), "true or false")),
            }),
        };
        Ok(Environment {
            line: self.at(key).line,
            name,
            paths: paths.iter().map(|p| p.path.clone()).collect(),
            from: from.as_ref().map(|(f, _)| f.clone()),
            pr,
            path_places: paths,
            from_at: from.map(|(_, at)| at),
        })
    }
}

/// A path as read, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PathEntry {
    pub(super) path: PathBuf,
    pub(super) written: String,
    pub(super) line: usize,
    pub(super) column: usize,
}

/// What a plain scalar is to YAML 1.2's core schema, for messages and type checks.
fn plain_kind(value: &str) -> &'static str {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => "null",
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => "a boolean",
        v if v.parse::<f64>().is_ok() || v.starts_with("0x") || v.starts_with("0o") => "a number",
        _ => "a string",
    }
}

/// The node's type, for messages.
fn found(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar(s) if s.style == ScalarStyle::Plain => match plain_kind(&s.value) {
            "a string" => format!("the string `{}`", s.value),
            kind => format!("{kind} (`{}`)", s.value),
        },
        NodeKind::Scalar(s) => format!("the string `{}`", s.value),
        _ => node.describe().to_string(),
    }
}

/// `written` as a path relative to the repository root, `./` and trailing `/` removed
/// (`.` is the whole repository), or why it is not one.
fn relative_path(written: &str) -> Result<PathBuf, &'static str> {
    if written.trim().is_empty() {
        return Err("is empty");
    }
    // `/x`, `\\server\\x`, `C:\\x` and `C:x` are absolute (or drive-relative) somewhere.
    if written.starts_with(['/', '\\']) || written.as_bytes().get(1) == Some(&b':') {
        return Err("is absolute");
    }
    let mut out = PathBuf::new();
    for part in written.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err("leaves the repository (`..`)"),
            p => out.push(p),
        }
    }
    if out.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err("is not a plain relative path");
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

/// Every `from` names another environment, and following them never comes back.
fn check_from(reader: &Reader<'_>, envs: &[Environment]) -> Result<(), ConfigError> {
    let known = || {
        envs.iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for env in envs {
        if let (Some(from), Some(at)) = (&env.from, &env.from_at) {
            if !envs.iter().any(|e| &e.name == from) {
                return Err(ConfigError::UnknownFrom {
                    at: at.clone(),
                    environment: env.name.clone(),
                    from: from.clone(),
                    known: known(),
                });
            }
        }
    }
    for env in envs {
        let mut chain = vec![env.name.clone()];
        let mut here = env;
        while let Some(from) = &here.from {
            let Some(next) = envs.iter().find(|e| &e.name == from) else {
                break;
            };
            if let Some(start) = chain.iter().position(|n| n == &next.name) {
                if start != 0 {
                    // The cycle does not start here; it is reported from its first
                    // member in file order.
                    break;
                }
                chain.push(next.name.clone());
                let at = env.from_at.clone().unwrap_or_else(|| reader.at_offset(0));
                return Err(ConfigError::Cycle { at, cycle: chain });
            }
            chain.push(next.name.clone());
            here = next;
        }
    }
    Ok(())
}

/// No path of one environment is the same as, or inside, a path of another.
fn check_overlaps(reader: &Reader<'_>, envs: &[Environment]) -> Result<(), ConfigError> {
    for (i, env) in envs.iter().enumerate() {
        for p in &env.path_places {
            for other in &envs[..i] {
                for q in &other.path_places {
                    let relation = if p.path == q.path {
                        "they are the same path"
                    } else if inside(&p.path, &q.path) || inside(&q.path, &p.path) {
                        "one is inside the other"
                    } else {
                        continue;
                    };
                    return Err(ConfigError::Overlap(Box::new(Overlap {
                        at: At {
                            file: reader.file.to_string(),
                            line: p.line,
                            column: p.column,
                        },
                        environment: env.name.clone(),
                        path: p.written.clone(),
                        other: other.name.clone(),
                        other_path: q.written.clone(),
                        other_line: q.line,
                        relation: format!(
                            "{relation}, so a file would belong to both environments"
                        ),
                    })));
                }
            }
        }
    }
    Ok(())
}

/// Whether `path` lies inside `dir` (`.` holds everything).
fn inside(path: &Path, dir: &Path) -> bool {
    dir == Path::new(".") || path.starts_with(dir)
}
