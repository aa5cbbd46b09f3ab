//! Applying edits to YAML text: find each target scalar, splice the new value into its
//! bytes, leave every other byte alone, then prove it with the safety net.

use std::collections::BTreeMap;
use std::fmt;

use super::aliased;
use super::block;
use super::lenient;
use super::model::{self, Document, LineIndex, Node, NodeKind, ScalarStyle};
use super::path::{KeyPath, Segment};
use super::scalar::{self, Context};
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
}

impl Edit {
    /// An edit of `path` in every document that has it.
    pub fn new(path: KeyPath, value: impl Into<String>) -> Self {
        Edit {
            path,
            value: value.into(),
            document: None,
        }
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
}

impl Change {
    /// Whether the value differs from before.
    pub fn is_change(&self) -> bool {
        self.old.as_deref() != Some(self.new.as_str())
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
    /// `--create` could not add the key.
    #[error("cannot create {path}: {reason}")]
    CannotCreate {
        /// The path.
        path: KeyPath,
        /// Why not.
        reason: String,
    },
    /// The text's aliases expand to more nodes than [`MAX_ALIAS_NODES`]: an alias bomb
    /// ("billion laughs"), which no real values file or manifest is.
    #[error("refusing to edit: its aliases expand to more than {limit} nodes (an alias bomb?)")]
    AliasBomb {
        /// The limit, [`MAX_ALIAS_NODES`].
        limit: u64,
    },
    /// The edit would also change other paths through aliases, and
    /// [`EditOptions::refuse_aliased`] is set.
    #[error("key path {path} at line {line} is under an anchor: setting it would also change {} through aliases, and edits that change aliases are refused (--no-aliased)", others.join(", "))]
    Aliased {
        /// The path asked for.
        path: KeyPath,
        /// 1-based line.
        line: usize,
        /// The other paths that would change.
        others: Vec<String>,
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

/// A byte range to replace.
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// Where one edit lands in one document.
enum Target<'a> {
    Scalar {
        node: &'a Node,
        key: Option<&'a Node>,
        flow: bool,
    },
    Missing {
        /// The deepest existing node.
        node: &'a Node,
        /// How many segments exist.
        depth: usize,
        /// Advice.
        hint: String,
    },
    /// The document does not have the path, and it cannot be created there: a sequence
    /// is too short, or a scalar stands where the path needs a mapping or sequence.
    Absent {
        /// How many segments exist.
        depth: usize,
        /// The error to report when no document has the path.
        error: EditError,
    },
}

/// The best explanation so far of why no document has an edit's path: the document in
/// which the longest prefix of the path exists (the first such document on a tie).
enum Absence<'a> {
    /// Missing keys that `--create` may add in document `.0`.
    Missing(usize, Target<'a>),
    /// An error to report.
    Refused(EditError),
}

/// Applies `edits` to `text`. Only the bytes of edited scalars (or the lines of created
/// keys) change; the result is re-parsed and compared with the intended data before it
/// is returned.
///
/// A file that yaml-rust2 refuses only for a quoted scalar's continuation line indented
/// at its key's column (which libyaml and go-yaml accept) is read through
/// [`lenient::Padded`]; any other syntax error refuses the edit.
pub fn apply(text: &str, edits: &[Edit], options: EditOptions) -> Result<Outcome, EditError> {
    let (plan, padded) = match plan(text, edits, options) {
        Err(EditError::Syntax {
            line,
            column,
            message,
        }) if lenient::is_quoted_indent(&message) => {
            let padded = lenient::Padded::new(text).map_err(|why| EditError::Syntax {
                line,
                column,
                message: format!(
                    "{message}; libyaml reads such a line, but this file cannot be checked that way: {why}"
                ),
            })?;
            let plan = plan(&padded.text, edits, options)?.map_back(&padded);
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
            Some(_) => Some(
                lenient::Padded::new(&out).map_err(|why| EditError::SafetyNet {
                    reason: format!("the result cannot be read: {why}"),
                })?,
            ),
            None => None,
        };
        let new_read = new_padded
            .as_ref()
            .map_or(out.as_str(), |p| p.text.as_str());
        check(text, &out, new_read, original, &creations, &expected)?;
    }
    Ok(Outcome { text: out, changes })
}

/// The splices an edit makes, and what the safety net needs to check them.
struct Plan {
    /// By start offset: the splice and its change record. A BTreeMap keeps source order.
    planned: BTreeMap<usize, (Splice, Change)>,
    /// Places reached that keep their value.
    changes: Vec<Change>,
    substitutions: verify::Substitutions,
    creations: Vec<(usize, KeyPath, Vec<String>, String)>,
    expected: Vec<(usize, KeyPath, String)>,
}

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
fn plan(text: &str, edits: &[Edit], options: EditOptions) -> Result<Plan, EditError> {
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
    let mut creations: Vec<(usize, KeyPath, Vec<String>, String)> = Vec::new();
    let mut expected: Vec<(usize, KeyPath, String)> = Vec::new();
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
            let (splice, keys) = create(
                text,
                &docs[d],
                node,
                &edit.path,
                depth,
                &edit.value,
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
            };
            refuse_aliased(&change, options)?;
            creations.push((d, edit.path.prefix(depth), keys, edit.value.clone()));
            expected.push((d, edit.path.clone(), edit.value.clone()));
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
            let change = Change {
                document: d,
                path: edit.path.clone(),
                line: lines.line(sc.span.start.max(node.start)),
                old: Some(sc.value.clone()),
                new: edit.value.clone(),
                aliases: Vec::new(),
            };
            if sc.value == edit.value {
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
            let context = if flow { Context::Flow } else { Context::Block };
            let splice =
                scalar_splice(text, node, key, &edit.value, context, newline).ok_or_else(|| {
                    EditError::SafetyNet {
                        reason: format!(
                            "could not place the new value of {} at line {}",
                            edit.path, change.line
                        ),
                    }
                })?;
            substitutions.insert(sc.ordinal, edit.value.clone());
            expected.push((d, edit.path.clone(), edit.value.clone()));
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

/// The safety net (see [`verify`]). yaml-rust2 reads `new_read` (`new`, or `new` padded
/// by [`lenient::Padded`]), libyaml reads `new` itself. `expected` is the original's data with the edited scalars already substituted.
fn check(
    original: &str,
    new: &str,
    new_read: &str,
    mut expected: Vec<verify::Data>,
    creations: &[(usize, KeyPath, Vec<String>, String)],
    expected_paths: &[(usize, KeyPath, String)],
) -> Result<(), EditError> {
    let net = |reason: String| EditError::SafetyNet { reason };
    for (doc, at, keys, value) in creations {
        let inserted = expected
            .get_mut(*doc)
            .is_some_and(|d| verify::insert(d, at, keys, value));
        if !inserted {
            return Err(net(format!("could not model the creation of {at}")));
        }
    }
    let actual = verify::data(new_read, &verify::Substitutions::new())
        .map_err(|e| net(format!("the result does not parse: {e}")))?;
    if actual.len() != expected.len() {
        return Err(net(format!(
            "{} documents after the edit, {} expected",
            actual.len(),
            expected.len()
        )));
    }
    for (n, (a, e)) in actual.iter().zip(&expected).enumerate() {
        if a != e {
            return Err(net(format!("document {n} differs from the intended data")));
        }
    }
    let documents = expected.len();
    // Freed before libyaml builds its own tree.
    drop((actual, expected));
    verify::cross_check(original, new, documents, expected_paths).map_err(net)
}

/// Walks `path` from `root`.
fn resolve<'a>(root: &'a Node, path: &KeyPath, lines: &LineIndex) -> Result<Target<'a>, EditError> {
    let mut node = root;
    let mut key_node: Option<&Node> = None;
    let mut flow = false;
    for (depth, seg) in path.segments().iter().enumerate() {
        let at = path.prefix(depth);
        if let NodeKind::Alias(anchor) = &node.kind {
            return Err(EditError::Alias {
                path: path.clone(),
                anchor: anchor.clone(),
                line: lines.line(node.start),
            });
        }
        match (seg, &node.kind) {
            (Segment::Key(k), NodeKind::Mapping { entries, flow: f }) => {
                flow |= *f;
                let mut matching = entries
                    .iter()
                    .filter(|(key, _)| key.as_scalar().is_some_and(|s| &s.value == k));
                let found = matching.next();
                if let (Some((first, _)), Some((second, _))) = (found, matching.next()) {
                    return Err(EditError::DuplicateKey {
                        path: path.clone(),
                        key: k.clone(),
                        first_line: lines.line(first.start),
                        second_line: lines.line(second.start),
                    });
                }
                match found {
                    Some((key, value)) => {
                        key_node = Some(key);
                        node = value;
                    }
                    None => {
                        let merges = entries.iter().find_map(|(key, v)| {
                            let is_merge = key.as_scalar().is_some_and(|s| s.value == "<<");
                            match (&v.kind, is_merge) {
                                (NodeKind::Alias(a), true) => Some(format!("*{a}")),
                                (_, true) => Some("a mapping".to_string()),
                                _ => None,
                            }
                        });
                        let hint = merges
                            .map(|m| {
                                format!(
                                    " (this mapping merges {m} with `<<`; tagbump does not edit through merge keys: edit the anchored mapping, or add the key here with --create)"
                                )
                            })
                            .unwrap_or_default();
                        return Ok(Target::Missing { node, depth, hint });
                    }
                }
            }
            (Segment::Index(i), NodeKind::Sequence { items, flow: f }) => {
                flow |= *f;
                match items.get(*i) {
                    Some(item) => {
                        key_node = None;
                        node = item;
                    }
                    None => {
                        return Ok(Target::Absent {
                            depth,
                            error: EditError::IndexOutOfRange {
                                path: path.clone(),
                                at,
                                len: items.len(),
                                index: *i,
                                line: lines.line(node.start),
                            },
                        })
                    }
                }
            }
            (Segment::Key(_), NodeKind::Scalar(s))
                if s.value.is_empty() && s.style == ScalarStyle::Plain =>
            {
                // `image:` with nothing under it: an empty mapping-to-be.
                return Ok(Target::Missing {
                    node,
                    depth,
                    hint: String::new(),
                });
            }
            (seg, _) => {
                return Ok(Target::Absent {
                    depth,
                    error: EditError::WrongKind {
                        path: path.clone(),
                        at: if at.is_empty() {
                            KeyPath::new(vec![Segment::Key("(document root)".into())])
                        } else {
                            at
                        },
                        found: node.describe(),
                        expected: match seg {
                            Segment::Key(_) => "a mapping",
                            Segment::Index(_) => "a sequence",
                        },
                        line: lines.line(node.start),
                    },
                })
            }
        }
    }
    match &node.kind {
        NodeKind::Scalar(_) => Ok(Target::Scalar {
            node,
            key: key_node,
            flow,
        }),
        NodeKind::Alias(anchor) => Err(EditError::Alias {
            path: path.clone(),
            anchor: anchor.clone(),
            line: lines.line(node.start),
        }),
        _ => Err(EditError::NotAScalar {
            path: path.clone(),
            found: node.describe(),
            line: lines.line(node.start),
        }),
    }
}

/// The splice that writes `value` into the scalar `node`.
fn scalar_splice(
    text: &str,
    node: &Node,
    key: Option<&Node>,
    value: &str,
    context: Context,
    newline: &str,
) -> Option<Splice> {
    let NodeKind::Scalar(sc) = &node.kind else {
        return None;
    };
    match sc.style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            block::rewrite(text, sc.span.start, value, newline).map(|r| Splice {
                start: r.range.start,
                end: r.range.end,
                text: r.text,
            })
        }
        _ if sc.span.is_empty() => {
            // `key:` with an empty value: write after the colon.
            let key = key?;
            let after_key = &text[key.end..];
            let colon = after_key.find(':')?;
            if !after_key[..colon].trim().is_empty() {
                return None;
            }
            let at = key.end + colon + 1;
            let mut rendered = String::new();
            if node.tag.is_some() || node.anchor.is_some() {
                // `key: !tag` / `key: &a` with an empty value: the value goes after them.
                return None;
            }
            rendered.push(' ');
            rendered.push_str(&scalar::render(value, ScalarStyle::Plain, context));
            // Keep at most the spaces that were there before a trailing comment.
            Some(Splice {
                start: at,
                end: at,
                text: rendered,
            })
        }
        style => Some(Splice {
            start: sc.span.start,
            end: sc.span.end,
            text: scalar::render_typed(
                value,
                style,
                context,
                node.tag.as_deref().is_some_and(verify::is_str_tag),
            ),
        }),
    }
}

/// The splice that adds the missing keys of `path` under `node` (the deepest existing
/// mapping), indented like its siblings. Returns the splice and the created keys.
#[allow(clippy::too_many_arguments)]
fn create(
    text: &str,
    doc: &Document,
    node: &Node,
    path: &KeyPath,
    depth: usize,
    value: &str,
    newline: &str,
    lines: &LineIndex,
) -> Result<(Splice, Vec<String>), EditError> {
    let cannot = |reason: &str| EditError::CannotCreate {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let mut keys = Vec::new();
    for seg in &path.segments()[depth..] {
        match seg {
            Segment::Key(k) => keys.push(k.clone()),
            Segment::Index(_) => {
                return Err(cannot("sequence items are not created; only mapping keys"))
            }
        }
    }
    let NodeKind::Mapping { entries, flow } = &node.kind else {
        return Err(cannot(&format!(
            "{} at line {} is {}, keys can only be added to a non-empty block mapping",
            path.prefix(depth),
            lines.line(node.start),
            node.describe()
        )));
    };
    if *flow || entries.is_empty() {
        return Err(cannot(&format!(
            "{} at line {} is a flow or empty mapping; add the key by hand once",
            path.prefix(depth),
            lines.line(node.start)
        )));
    }
    let Some((first_key, _)) = entries.first() else {
        return Err(cannot("empty mapping"));
    };
    let indent = lines.column(first_key.start) - 1;
    let step = indent_step(doc, lines);
    // After the line that ends the mapping's last value.
    let end = node.end;
    // At the end of a file without a final newline the new lines go after a line break
    // of their own, and the file still ends without one.
    let (at, at_end) = match text[end..].find('\n') {
        Some(i) => (end + i + 1, false),
        None => (text.len(), true),
    };
    let mut out = String::new();
    for (n, key) in keys.iter().enumerate() {
        if at_end {
            out.push_str(newline);
        }
        out.push_str(&" ".repeat(indent + n * step));
        let key_text = if scalar::plain_is_safe(key, Context::Block) {
            key.clone()
        } else {
            scalar::double_quoted(key)
        };
        out.push_str(&key_text);
        out.push(':');
        if n + 1 == keys.len() {
            out.push(' ');
            out.push_str(&scalar::render(value, ScalarStyle::Plain, Context::Block));
        }
        if !at_end {
            out.push_str(newline);
        }
    }
    Ok((
        Splice {
            start: at,
            end: at,
            text: out,
        },
        keys,
    ))
}

/// The document's indentation step: how far a nested block mapping is indented from its
/// parent's keys (2 when nothing is nested).
fn indent_step(doc: &Document, lines: &LineIndex) -> usize {
    fn walk(node: &Node, parent_col: Option<usize>, lines: &LineIndex) -> Option<usize> {
        match &node.kind {
            NodeKind::Mapping {
                entries,
                flow: false,
            } => {
                let col = entries.first().map(|(k, _)| lines.column(k.start))?;
                if let Some(p) = parent_col {
                    if col > p {
                        return Some(col - p);
                    }
                }
                entries.iter().find_map(|(_, v)| walk(v, Some(col), lines))
            }
            _ => None,
        }
    }
    doc.root
        .as_ref()
        .and_then(|r| walk(r, None, lines))
        .unwrap_or(2)
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.old {
            Some(old) => write!(f, "{}  {} → {}", self.path, old, self.new),
            None => write!(f, "{}  (new) → {}", self.path, self.new),
        }
    }
}
