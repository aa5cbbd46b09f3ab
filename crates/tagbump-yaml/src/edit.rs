//! Applying edits to YAML text: find each target scalar, splice the new value into its
//! bytes, leave every other byte alone, then prove it with the safety net.

mod error;
mod json;
mod net;
mod resolve;
mod splice;

use std::collections::BTreeMap;
use std::fmt;

pub use error::EditError;
pub use json::{apply_as, apply_json, json_string, Syntax};
use resolve::{resolve, Absence, Target};
use splice::{create, scalar_splice, Splice};

use super::aliased;
use super::lenient;
use super::model::{self, LineIndex, NodeKind};
use super::path::KeyPath;
use super::scalar::{self, Context};
use super::typed::{self, ScalarType, TypeChange, ValueType};
use super::verify;
use super::{aliases, MAX_ALIAS_NODES};

/// One requested change: set the scalar at `path` to `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// Where.
    pub path: KeyPath,
    /// The new string value.
    pub value: String,
    /// Which document of a multi-document file (0-based). `None`: every document in which
    /// the path exists; a document without it (a missing key, a shorter sequence, a
    /// scalar where the path goes on) is skipped, and only when no document has the path
    /// is it an error: the reason of the document holding the longest prefix of the path.
    /// `Some(n)`: document `n` must have the path.
    pub document: Option<usize>,
    /// The new value's type: [`ValueType::Auto`] keeps an int, float or bool plain
    /// where `value` is one in canonical form, and writes a string otherwise.
    pub value_type: ValueType,
}

impl Edit {
    /// An edit of `path` in every document that has it.
    pub fn new(path: KeyPath, value: impl Into<String>) -> Self {
        Edit {
            path,
            value: value.into(),
            document: None,
            value_type: ValueType::Auto,
        }
    }

    /// Gives the new value an explicit type (see [`ValueType`]).
    pub fn with_type(mut self, value_type: ValueType) -> Self {
        self.value_type = value_type;
        self
    }

    /// Restricts the edit to one document (0-based).
    pub fn in_document(mut self, document: usize) -> Self {
        self.document = Some(document);
        self
    }
}

/// How edits behave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EditOptions {
    /// Add a missing key under the deepest existing mapping instead of failing.
    pub create_missing: bool,
    /// Refuse an edit that would also change other paths through aliases (the scalar,
    /// or a mapping or sequence holding it, is anchored and aliased elsewhere). Without
    /// it such edits are made and the other paths reported in [`Change::aliases`].
    pub refuse_aliased: bool,
}

/// What happened at one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The document (0-based).
    pub document: usize,
    /// The key path.
    pub path: KeyPath,
    /// 1-based line of the value.
    pub line: usize,
    /// The old value (`None` when the key was created).
    pub old: Option<String>,
    /// The new value.
    pub new: String,
    /// Other paths of the same document that take the new value too, because they are
    /// aliases of the scalar or of a node holding it (empty when the value is unchanged).
    pub aliases: Vec<KeyPath>,
    /// The value's YAML type before and after, when they differ (`replicas: 1` set to
    /// `"x"`, `tag: 1.9` set to `"1.10"`, or any change asked for with
    /// [`Edit::value_type`]). Filling a null or empty value is not a change of type.
    pub type_change: Option<TypeChange>,
}

impl Change {
    /// Whether the value (or its type) differs from before.
    pub fn is_change(&self) -> bool {
        self.old.as_deref() != Some(self.new.as_str()) || self.type_change.is_some()
    }
}

/// The result of [`apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The new text (equal to the input when nothing changed).
    pub text: String,
    /// Every place an edit reached, changed or not, in source order.
    pub changes: Vec<Change>,
}

impl Outcome {
    /// Whether any byte changed.
    pub fn changed(&self) -> bool {
        self.changes.iter().any(Change::is_change)
    }
}

/// Why the original could not be parsed.
enum ParseFailure {
    Syntax(model::SyntaxError),
    AliasBomb,
}

impl From<model::SyntaxError> for ParseFailure {
    fn from(e: model::SyntaxError) -> Self {
        ParseFailure::Syntax(e)
    }
}

/// Applies `edits` to `text`. Only the bytes of edited scalars (or the lines of created
/// keys) change; the result is re-parsed and compared with the intended data before it
/// is returned.
///
/// A file that yaml-rust2 refuses only for lines indented at their key's column that
/// libyaml and go-yaml accept (a quoted scalar's continuation line, a flow collection's
/// closing bracket) is read with those lines indented further in a copy, once libyaml
/// has shown the copy holds the same data; any other syntax error refuses the edit.
pub fn apply(text: &str, edits: &[Edit], options: EditOptions) -> Result<Outcome, EditError> {
    apply_syntax(text, edits, options, Syntax::Yaml).map(|(outcome, _)| outcome)
}

/// [`apply`] writing new values in `syntax`; also returns what was written where
/// (document, path, value, type), for [`apply_json`]'s own check.
fn apply_syntax(
    text: &str,
    edits: &[Edit],
    options: EditOptions,
    syntax: Syntax,
) -> Result<(Outcome, Vec<verify::Expected>), EditError> {
    let (plan, padded) = match plan(text, edits, options, syntax) {
        Err(EditError::Syntax {
            line,
            column,
            message,
        }) if lenient::may_pad(&message) => {
            let padded = lenient::Padded::new(text).map_err(|refusal| match refusal {
                lenient::Refusal::NotLenient => EditError::Syntax {
                    line,
                    column,
                    message: message.clone(),
                },
                lenient::Refusal::Cannot(why) => EditError::Syntax {
                    line,
                    column,
                    message: format!(
                        "{message}; libyaml reads such a line, but this file cannot be checked that way: {why}"
                    ),
                },
            })?;
            let plan = plan(&padded.text, edits, options, syntax)?.map_back(&padded);
            (plan, Some(padded))
        }
        other => (other?, None),
    };
    let Plan {
        planned,
        mut changes,
        substitutions,
        creations,
        expected,
    } = plan;
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0;
    for (start, (splice, change)) in planned {
        out.push_str(&text[cursor..start]);
        out.push_str(&splice.text);
        cursor = splice.end;
        changes.push(change);
    }
    out.push_str(&text[cursor..]);
    changes.sort_by_key(|c| (c.document, c.line));

    if out != text {
        let original_read = padded.as_ref().map_or(text, |p| p.text.as_str());
        let original =
            verify::data(original_read, &substitutions).map_err(|reason| EditError::SafetyNet {
                reason: format!("the original does not parse again: {reason}"),
            })?;
        // A padded original: the result is padded the same way (proved neutral by
        // libyaml) before yaml-rust2 reads it.
        let new_padded = match padded {
            Some(_) => {
                Some(
                    lenient::Padded::new(&out).map_err(|refusal| EditError::SafetyNet {
                        reason: match refusal {
                            lenient::Refusal::NotLenient => "the result cannot be read".into(),
                            lenient::Refusal::Cannot(why) => {
                                format!("the result cannot be read: {why}")
                            }
                        },
                    })?,
                )
            }
            None => None,
        };
        let new_read = new_padded
            .as_ref()
            .map_or(out.as_str(), |p| p.text.as_str());
        net::check(text, &out, new_read, original, &creations, &expected)?;
    }
    Ok((Outcome { text: out, changes }, expected))
}

/// The splices an edit makes, and what the safety net needs to check them.
struct Plan {
    /// By start offset: the splice and its change record. A BTreeMap keeps source order.
    planned: BTreeMap<usize, (Splice, Change)>,
    /// Places reached that keep their value.
    changes: Vec<Change>,
    substitutions: verify::Substitutions,
    creations: Vec<Creation>,
    expected: Vec<verify::Expected>,
}

/// Keys created: (document, the mapping's path, the new keys, the value, its type).
pub(super) type Creation = (usize, KeyPath, Vec<String>, String, ScalarType);

impl Plan {
    /// The plan of a padded text, in the original's byte offsets.
    fn map_back(self, padded: &lenient::Padded) -> Plan {
        let planned = self
            .planned
            .into_values()
            .map(|(splice, change)| {
                let start = padded.to_original(splice.start);
                let end = padded.to_original(splice.end);
                (
                    start,
                    (
                        Splice {
                            start,
                            end,
                            text: splice.text,
                        },
                        change,
                    ),
                )
            })
            .collect();
        Plan { planned, ..self }
    }
}

/// Locates every edit in `text` and plans its splice.
fn plan(
    text: &str,
    edits: &[Edit],
    options: EditOptions,
    syntax: Syntax,
) -> Result<Plan, EditError> {
    // The safety net expands aliases: an alias bomb is refused while parsing, before
    // anything is expanded.
    let mut counter = aliases::AliasCounter::default();
    let docs = model::parse_observed(text, |event| {
        counter.event(event).map_err(|_| ParseFailure::AliasBomb)
    })
    .map_err(|failure| match failure {
        ParseFailure::Syntax(e) => EditError::Syntax {
            line: e.line,
            column: e.column,
            message: e.message,
        },
        ParseFailure::AliasBomb => EditError::AliasBomb {
            limit: MAX_ALIAS_NODES,
        },
    })?;
    let lines = LineIndex::new(text);
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };

    // By scalar start: (edit path, value, change record). BTreeMap keeps source order.
    let mut planned: BTreeMap<usize, (Splice, Change)> = BTreeMap::new();
    let mut substitutions = verify::Substitutions::new();
    let mut creations: Vec<Creation> = Vec::new();
    let mut expected: Vec<verify::Expected> = Vec::new();
    let mut changes = Vec::new();

    for edit in edits {
        let candidates: Vec<usize> = match edit.document {
            Some(d) if d >= docs.len() => {
                return Err(EditError::NoSuchDocument {
                    document: d,
                    count: docs.len(),
                })
            }
            Some(d) => vec![d],
            None => (0..docs.len()).collect(),
        };
        let mut resolved = Vec::new();
        // A document without the path is skipped; only when no document has it is the
        // deepest reason reported (or, with `create_missing`, the key created there).
        let mut best: Option<(usize, Absence)> = None;
        for d in candidates {
            let Some(root) = docs[d].root.as_ref() else {
                continue;
            };
            match resolve(root, &edit.path, &lines)? {
                t @ Target::Scalar { .. } => resolved.push((d, t)),
                t @ Target::Missing { depth, .. } => {
                    keep_deepest(&mut best, depth, Absence::Missing(d, t))
                }
                Target::Absent { depth, error } => {
                    keep_deepest(&mut best, depth, Absence::Refused(error))
                }
            }
        }
        if resolved.is_empty() {
            let (d, node, depth, hint) = match best {
                Some((_, Absence::Refused(error))) => return Err(error),
                Some((_, Absence::Missing(d, Target::Missing { node, depth, hint }))) => {
                    (d, node, depth, hint)
                }
                _ => {
                    return Err(EditError::NotFound {
                        path: edit.path.clone(),
                        deepest: KeyPath::default(),
                        line: 1,
                        hint: if docs.iter().all(|d| d.root.is_none()) {
                            " (the file holds no YAML data)".into()
                        } else {
                            String::new()
                        },
                    })
                }
            };
            if !options.create_missing {
                return Err(EditError::NotFound {
                    path: edit.path.clone(),
                    deepest: edit.path.prefix(depth),
                    line: lines.line(node.start),
                    hint: if hint.is_empty() {
                        " (use --create to add it)".into()
                    } else {
                        hint
                    },
                });
            }
            if syntax == Syntax::Json {
                return Err(EditError::CannotCreate {
                    path: edit.path.clone(),
                    reason: "keys are not added to JSON files; add the key by hand once".into(),
                });
            }
            let new_type = edit.value_type.explicit().unwrap_or(ScalarType::String);
            if new_type != ScalarType::String {
                check_type(edit, lines.line(node.start))?;
            }
            let (splice, keys) = create(
                text,
                &docs[d],
                node,
                &edit.path,
                depth,
                &edit.value,
                new_type != ScalarType::String,
                newline,
                &lines,
            )?;
            let line =
                lines.line(splice.start) + usize::from(splice.text.starts_with(['\r', '\n']));
            let change = Change {
                document: d,
                path: edit.path.clone(),
                line,
                old: None,
                new: edit.value.clone(),
                aliases: docs[d]
                    .root
                    .as_ref()
                    .map(|root| aliased::followers(root, &edit.path))
                    .unwrap_or_default(),
                type_change: None,
            };
            refuse_aliased(&change, options)?;
            creations.push((
                d,
                edit.path.prefix(depth),
                keys,
                edit.value.clone(),
                new_type,
            ));
            expected.push((d, edit.path.clone(), edit.value.clone(), new_type));
            insert_planned(&mut planned, splice, change, &edit.path)?;
            continue;
        }
        for (d, target) in resolved {
            let Target::Scalar { node, key, flow } = target else {
                continue;
            };
            let NodeKind::Scalar(sc) = &node.kind else {
                continue;
            };
            let line = lines.line(sc.span.start.max(node.start));
            let context = if flow { Context::Flow } else { Context::Block };
            let old_type = old_type(node);
            let new_type = new_type(edit, old_type, context, line, syntax)?;
            let change = Change {
                document: d,
                path: edit.path.clone(),
                line,
                old: Some(sc.value.clone()),
                new: edit.value.clone(),
                aliases: Vec::new(),
                type_change: match old_type {
                    Some(from) if from != ScalarType::Null && from != new_type => {
                        Some(TypeChange { from, to: new_type })
                    }
                    _ => None,
                },
            };
            if !change.is_change() {
                changes.push(change);
                continue;
            }
            let change = Change {
                aliases: docs[d]
                    .root
                    .as_ref()
                    .map(|root| aliased::followers(root, &edit.path))
                    .unwrap_or_default(),
                ..change
            };
            refuse_aliased(&change, options)?;
            let plain = new_type != ScalarType::String;
            let splice = match syntax {
                Syntax::Yaml => {
                    scalar_splice(text, node, key, &edit.value, plain, context, newline)
                }
                Syntax::Json => json::splice(node, &edit.value, plain),
            }
            .ok_or_else(|| EditError::SafetyNet {
                reason: format!(
                    "could not place the new value of {} at line {}",
                    edit.path, change.line
                ),
            })?;
            substitutions.insert(sc.ordinal, (edit.value.clone(), new_type));
            expected.push((d, edit.path.clone(), edit.value.clone(), new_type));
            insert_planned(&mut planned, splice, change, &edit.path)?;
        }
    }

    Ok(Plan {
        planned,
        changes,
        substitutions,
        creations,
        expected,
    })
}

/// [`EditError::Aliased`] when `change` reaches other paths through aliases and the
/// options refuse that.
fn refuse_aliased(change: &Change, options: EditOptions) -> Result<(), EditError> {
    if options.refuse_aliased && !change.aliases.is_empty() {
        return Err(EditError::Aliased {
            path: change.path.clone(),
            line: change.line,
            others: change.aliases.iter().map(ToString::to_string).collect(),
        });
    }
    Ok(())
}

/// The type of the scalar `node` holds, as Helm reads it; `None` under a tag other
/// than `!!str` (its type is the tag's business).
fn old_type(node: &model::Node) -> Option<ScalarType> {
    let NodeKind::Scalar(sc) = &node.kind else {
        return None;
    };
    match node.tag.as_deref() {
        Some(tag) if verify::is_str_tag(tag) => Some(ScalarType::String),
        Some(_) => None,
        None if sc.style == model::ScalarStyle::Plain => Some(typed::plain_type(&sc.value)),
        None => Some(ScalarType::String),
    }
}

/// The type the new value is written as: the one asked for, or (auto) the old value's
/// int, float or bool type where the new text is that type in canonical form and can
/// stand plain there, else a string. In JSON the plain value must also be a JSON
/// number or boolean.
fn new_type(
    edit: &Edit,
    old: Option<ScalarType>,
    context: Context,
    line: usize,
    syntax: Syntax,
) -> Result<ScalarType, EditError> {
    if let Some(ty) = edit.value_type.explicit() {
        if ty != ScalarType::String {
            check_type(edit, line)?;
            if syntax == Syntax::Json && !json::is_literal(ty, &edit.value) {
                return Err(EditError::ValueType {
                    path: edit.path.clone(),
                    line,
                    reason: format!("{:?} is not a JSON {ty}", edit.value),
                });
            }
        }
        return Ok(ty);
    }
    Ok(match old {
        Some(ty)
            if ty.is_typed()
                && typed::is_canonical(ty, &edit.value)
                && scalar::plain_is_syntactically_safe(&edit.value, context)
                && (syntax == Syntax::Yaml || json::is_literal(ty, &edit.value)) =>
        {
            ty
        }
        _ => ScalarType::String,
    })
}

/// [`EditError::ValueType`] when the edit's value is not its explicit type.
fn check_type(edit: &Edit, line: usize) -> Result<(), EditError> {
    edit.value_type
        .check(&edit.value)
        .map_err(|reason| EditError::ValueType {
            path: edit.path.clone(),
            line,
            reason,
        })
}

/// Keeps `absence` if its document has a longer prefix of the path than the best so far.
fn keep_deepest<'a>(best: &mut Option<(usize, Absence<'a>)>, depth: usize, absence: Absence<'a>) {
    if best.as_ref().is_none_or(|(deepest, _)| depth > *deepest) {
        *best = Some((depth, absence));
    }
}

fn insert_planned(
    planned: &mut BTreeMap<usize, (Splice, Change)>,
    splice: Splice,
    change: Change,
    path: &KeyPath,
) -> Result<(), EditError> {
    for (other, prev) in planned.values() {
        let same = other.start == splice.start && other.end == splice.end;
        if same && other.text == splice.text {
            return Ok(());
        }
        let overlap = same
            || (other.start < splice.end && splice.start < other.end)
            || (other.start == other.end && splice.start < other.start && other.start < splice.end)
            || (splice.start == splice.end
                && other.start < splice.start
                && splice.start < other.end);
        if overlap {
            return Err(EditError::Conflict {
                path: path.clone(),
                line: change.line,
                first: format!("{} = {}", prev.path, prev.new),
                second: format!("{} = {}", change.path, change.new),
            });
        }
    }
    planned.insert(splice.start, (splice, change));
    Ok(())
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.old {
            Some(old) => write!(f, "{}  {} → {}", self.path, old, self.new),
            None => write!(f, "{}  (new) → {}", self.path, self.new),
        }
    }
}
