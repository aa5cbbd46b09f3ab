//! Which other paths an edit changes through aliases.
//!
//! Setting a scalar that stands under an anchor (`base: &img {tag: v1}` … `other: *img`)
//! changes every alias of that anchor too: YAML reads `other.tag` as a copy of
//! `base.tag`. That is correct, but the user asked for one path; the editor reports the
//! others (and refuses the edit when told to, [`EditOptions::refuse_aliased`]).
//!
//! An anchor can stand on the scalar itself or on any mapping or sequence holding it; an
//! alias refers to the last anchor of that name before it in the same document. Aliases
//! that stand inside anchored nodes are followed too (`wrap: &w {in: *img}` … `x: *w`
//! changes `x.in.tag`), and so are merge keys (`<<: *img` copies `tag` into the mapping
//! unless it sets `tag` itself; among several merged mappings the first to have a key
//! wins, which is not told apart here: each is reported).
//!
//! [`EditOptions::refuse_aliased`]: super::EditOptions::refuse_aliased

use std::collections::HashSet;

use super::model::{Node, NodeKind};
use super::path::{KeyPath, Segment};

/// At most this many paths are reported for one edit (the alias-bomb check bounds what
/// parses at all; this bounds the report).
const MAX_REPORTED: usize = 1000;

/// The anchors and aliases of one document.
struct Index {
    /// (name, start) of every anchored node, in source order.
    anchors: Vec<(String, usize)>,
    /// Every alias node, in source order.
    aliases: Vec<Alias>,
}

/// An alias node.
struct Alias {
    name: String,
    start: usize,
    /// Where its copy stands: the alias's own path, or for a merge key (`<<: *a`, or
    /// `<<: [*a, *b]`) the path of the mapping it merges into.
    path: KeyPath,
    /// For a merge: the keys the mapping sets itself, which win over merged ones.
    overridden: Option<Vec<String>>,
}

impl Index {
    fn of(root: &Node) -> Index {
        let mut index = Index {
            anchors: Vec::new(),
            aliases: Vec::new(),
        };
        index.walk(root, KeyPath::default());
        index.anchors.sort_by_key(|(_, s)| *s);
        index.aliases.sort_by_key(|a| a.start);
        index
    }

    fn walk(&mut self, node: &Node, path: KeyPath) {
        if let Some(name) = &node.anchor {
            self.anchors.push((name.clone(), node.start));
        }
        match &node.kind {
            NodeKind::Alias(name) => self.aliases.push(Alias {
                name: name.clone(),
                start: node.start,
                path,
                overridden: None,
            }),
            NodeKind::Mapping { entries, .. } => {
                let own_keys = || {
                    entries
                        .iter()
                        .filter_map(|(k, _)| k.as_scalar().map(|s| s.value.clone()))
                        .filter(|k| k != "<<")
                        .collect::<Vec<_>>()
                };
                for (key, value) in entries {
                    let Some(k) = key.as_scalar() else {
                        continue;
                    };
                    if k.value == "<<" {
                        let merged: Vec<&Node> = match &value.kind {
                            NodeKind::Sequence { items, .. } => items.iter().collect(),
                            _ => vec![value],
                        };
                        for m in merged {
                            if let NodeKind::Alias(name) = &m.kind {
                                self.aliases.push(Alias {
                                    name: name.clone(),
                                    start: m.start,
                                    path: path.clone(),
                                    overridden: Some(own_keys()),
                                });
                            }
                        }
                        continue;
                    }
                    self.walk(value, path.child(Segment::Key(k.value.clone())));
                }
            }
            NodeKind::Sequence { items, .. } => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, path.child(Segment::Index(i)));
                }
            }
            NodeKind::Scalar(_) => {}
        }
    }

    /// The aliases that refer to the anchor `name` on the node at `start`: after it and
    /// before the next anchor of the same name.
    fn aliases_of<'a>(&'a self, name: &'a str, start: usize) -> impl Iterator<Item = &'a Alias> {
        let until = self
            .anchors
            .iter()
            .find(|(n, s)| n == name && *s > start)
            .map_or(usize::MAX, |(_, s)| *s);
        self.aliases
            .iter()
            .filter(move |a| a.name == name && a.start > start && a.start < until)
    }
}

/// The anchored nodes along `path` from `root` (the root and the final node included),
/// each with its name, start and the number of segments that lead to it. The walk stops
/// at an alias or where the path leaves the tree.
fn anchored_along(root: &Node, path: &KeyPath) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut node = root;
    for depth in 0..=path.len() {
        if let Some(name) = &node.anchor {
            out.push((name.clone(), node.start, depth));
        }
        let Some(seg) = path.segments().get(depth) else {
            break;
        };
        let next = match (seg, &node.kind) {
            (Segment::Key(k), NodeKind::Mapping { .. }) => node.get(k),
            (Segment::Index(i), NodeKind::Sequence { items, .. }) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    out
}

/// The other paths of the document whose value is the scalar at `path`, through
/// aliases of it or of a node holding it; in the order found, without repeats.
pub(crate) fn followers(root: &Node, path: &KeyPath) -> Vec<KeyPath> {
    if !has_alias(root) {
        return Vec::new();
    }
    let index = Index::of(root);
    let mut found = Vec::new();
    let mut seen: HashSet<KeyPath> = HashSet::new();
    let mut queue = vec![path.clone()];
    while let Some(p) = queue.pop() {
        for (name, start, depth) in anchored_along(root, &p) {
            for alias in index.aliases_of(&name, start) {
                let suffix = &p.segments()[depth..];
                if let Some(own) = &alias.overridden {
                    // A merge copies the anchored mapping's keys, except those the
                    // mapping sets itself.
                    match suffix.first() {
                        Some(Segment::Key(k)) if !own.contains(k) => {}
                        _ => continue,
                    }
                }
                let mut segments = alias.path.segments().to_vec();
                segments.extend_from_slice(suffix);
                let full = KeyPath::new(segments);
                if found.len() < MAX_REPORTED && seen.insert(full.clone()) {
                    found.push(full.clone());
                    queue.push(full);
                }
            }
        }
    }
    found
}

fn has_alias(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Alias(_) => true,
        NodeKind::Mapping { entries, .. } => entries.iter().any(|(_, v)| has_alias(v)),
        NodeKind::Sequence { items, .. } => items.iter().any(has_alias),
        NodeKind::Scalar(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse;

    fn followers_of(text: &str, path: &str) -> Vec<String> {
        let docs = parse(text).expect("parses");
        let root = docs[0].root.as_ref().expect("root");
        followers(root, &KeyPath::parse(path).expect("path"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_anchored_scalar_reports_its_aliases() {
        let text = "a: &t v1\nb: *t\nc: [*t, x]\n";
        assert_eq!(followers_of(text, "a"), ["b", "c[0]"]);
    }

    #[test]
    fn an_anchored_mapping_reports_the_same_key_under_its_aliases() {
        let text = "base: &img\n  tag: v1\nother: *img\nwrap: &w\n  in: *img\nx: *w\n";
        assert_eq!(
            followers_of(text, "base.tag"),
            ["other.tag", "wrap.in.tag", "x.in.tag"]
        );
    }

    #[test]
    fn a_merge_key_copies_what_the_mapping_does_not_set_itself() {
        let text = "d: &d\n  tag: v1\n  name: x\napi:\n  <<: *d\n  name: api\n";
        assert_eq!(followers_of(text, "d.tag"), ["api.tag"]);
        assert!(followers_of(text, "d.name").is_empty());
    }

    #[test]
    fn a_redefined_anchor_splits_its_aliases() {
        let text = "a: &t 1\nb: *t\nc: &t 2\nd: *t\n";
        assert_eq!(followers_of(text, "a"), ["b"]);
        assert_eq!(followers_of(text, "c"), ["d"]);
    }

    #[test]
    fn no_anchor_no_followers() {
        assert!(followers_of("a: &t 1\nb: 2\n", "b").is_empty());
        assert!(followers_of("a: 1\nb: 2\n", "a").is_empty());
    }
}
