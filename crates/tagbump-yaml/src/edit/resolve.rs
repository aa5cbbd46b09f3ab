//! Walking a key path through a document to the node an edit lands on.

use super::EditError;
use crate::model::{LineIndex, Node, NodeKind, ScalarStyle};
use crate::path::{KeyPath, Segment};

/// Where one edit lands in one document.
pub(super) enum Target<'a> {
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
pub(super) enum Absence<'a> {
    /// Missing keys that `--create` may add in document `.0`.
    Missing(usize, Target<'a>),
    /// An error to report.
    Refused(EditError),
}

/// Walks `path` from `root`.
pub(super) fn resolve<'a>(
    root: &'a Node,
    path: &KeyPath,
    lines: &LineIndex,
) -> Result<Target<'a>, EditError> {
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
