//! The state of scanning one YAML document for [`Target`]s and what every rule shares
//! (anchors, names, writing a tag and digest). The rules themselves live in `walk`
//! (Helm maps, image strings), `kustomize`, `argocd`, `flux` and `chart`; `rules` runs
//! them over a file's documents.

use std::collections::HashSet;

use crate::image::{split_image_string, ImageRef, RawImageString};
use crate::yaml::model::{LineIndex, Node, NodeKind, ScalarStyle};
use crate::yaml::{KeyPath, Segment};

use super::{FindOptions, Target, TargetError, TargetKind};

/// How deep `<<` merge keys are followed (they may refer to each other).
const MAX_MERGE_DEPTH: usize = 16;

pub(super) fn key(name: &str) -> Segment {
    Segment::Key(name.to_string())
}

pub(super) fn templated(value: &str) -> bool {
    value.contains("{{")
}

/// Whether a node is YAML's null written plainly (`null`, `~`, nothing) or an empty
/// string: a `registry` written so means "no registry".
pub(super) fn null_or_empty(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Scalar(scalar) if scalar.style == ScalarStyle::Plain => {
            matches!(scalar.value.trim(), "" | "~" | "null" | "Null" | "NULL")
        }
        NodeKind::Scalar(scalar) => scalar.value.trim().is_empty(),
        _ => false,
    }
}

/// `text` parsed as the search reads it ([`crate::yaml::parse_readable`]: lines libyaml
/// reads but yaml-rust2 refuses go through a padded copy); a syntax error names `file_name`.
pub(super) fn readable<'a>(
    file_name: &str,
    text: &'a str,
) -> Result<crate::yaml::Readable<'a>, TargetError> {
    crate::yaml::parse_readable(text).map_err(|e| TargetError::Syntax {
        file: file_name.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// An alias that stands where a value should be written.
pub(super) struct PendingAlias<'a> {
    node: &'a Node,
    path: KeyPath,
    anchor: String,
}

/// An anchored node and where it is.
pub(super) struct Anchor<'a> {
    pub(super) name: &'a str,
    pub(super) node: &'a Node,
    pub(super) path: KeyPath,
}

/// The state of scanning one document.
pub(super) struct Scan<'a, 't> {
    pub(super) file: &'t str,
    pub(super) image: &'t ImageRef,
    pub(super) options: &'t FindOptions,
    pub(super) lines: &'t LineIndex,
    pub(super) document: usize,
    /// Anchored nodes in document order.
    anchors: Vec<Anchor<'a>>,
    /// Targets with the byte offset of their scalar.
    found: Vec<(usize, Target)>,
    /// Ordinals of the scalars that already have a target (or must not get one).
    pub(super) claimed: HashSet<usize>,
    /// Aliases where a value should have been written.
    aliases: Vec<PendingAlias<'a>>,
}

/// What a target carries besides its place and value.
#[derive(Default)]
pub(super) struct Extra {
    pub(super) note: Option<String>,
    pub(super) pinned: bool,
    pub(super) within: Vec<Target>,
}

impl<'a, 't> Scan<'a, 't> {
    /// A scan of document number `document` of `file`, its anchors collected.
    pub(super) fn new(
        file: &'t str,
        image: &'t ImageRef,
        options: &'t FindOptions,
        lines: &'t LineIndex,
        document: usize,
        root: &'a Node,
    ) -> Self {
        let mut scan = Scan {
            file,
            image,
            options,
            lines,
            document,
            anchors: Vec::new(),
            found: Vec::new(),
            claimed: HashSet::new(),
            aliases: Vec::new(),
        };
        scan.collect_anchors(root);
        scan
    }

    /// The document's targets in document order, once every rule has run.
    ///
    /// # Errors
    ///
    /// An alias that stands where a value should be written.
    pub(super) fn finish(mut self) -> Result<Vec<Target>, TargetError> {
        self.check_aliases()?;
        self.found.sort_by_key(|(start, _)| *start);
        Ok(self.found.into_iter().map(|(_, t)| t).collect())
    }
}

impl<'a> Scan<'a, '_> {
    /// Collects anchored nodes in document order (iteratively, like [`Scan::walk`]).
    fn collect_anchors(&mut self, root: &'a Node) {
        let mut stack = vec![(root, KeyPath::default())];
        while let Some((node, path)) = stack.pop() {
            if let Some(name) = &node.anchor {
                self.anchors.push(Anchor {
                    name,
                    node,
                    path: path.clone(),
                });
            }
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    for (k, v) in entries.iter().rev() {
                        if let Some(name) = k.as_scalar() {
                            stack.push((v, path.child(key(&name.value))));
                        }
                    }
                }
                NodeKind::Sequence { items, .. } => {
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push((item, path.child(Segment::Index(i))));
                    }
                }
                NodeKind::Scalar(_) | NodeKind::Alias(_) => {}
            }
        }
    }

    /// The anchor an alias refers to: the latest one of that name before it.
    pub(super) fn anchor_of(&self, alias: &Node) -> Option<&Anchor<'a>> {
        let NodeKind::Alias(name) = &alias.kind else {
            return None;
        };
        self.anchors
            .iter()
            .rev()
            .find(|anchor| anchor.name == name && anchor.node.start < alias.start)
    }

    /// The node an alias refers to, or the node itself.
    pub(super) fn resolve(&self, node: &'a Node) -> Option<&'a Node> {
        match &node.kind {
            NodeKind::Alias(_) => self.anchor_of(node).map(|anchor| anchor.node),
            _ => Some(node),
        }
    }

    /// The string value of a scalar node (through an alias).
    pub(super) fn string(&self, node: &'a Node) -> Option<&'a str> {
        self.resolve(node)?
            .as_scalar()
            .map(|scalar| scalar.value.as_str())
    }

    /// The value of `key` in `map`, looking through `<<` merge keys when `map` has no
    /// such key of its own.
    pub(super) fn lookup(&self, map: &'a Node, key: &str) -> Option<&'a Node> {
        self.lookup_at(map, key, 0)
    }

    fn lookup_at(&self, map: &'a Node, key: &str, depth: usize) -> Option<&'a Node> {
        if let Some(value) = map.get(key) {
            return Some(value);
        }
        if depth >= MAX_MERGE_DEPTH {
            return None;
        }
        let merge = map.get("<<")?;
        let sources: Vec<&'a Node> = match &merge.kind {
            NodeKind::Sequence { items, .. } => items.iter().collect(),
            _ => vec![merge],
        };
        sources
            .into_iter()
            .filter_map(|source| self.resolve(source))
            .find_map(|source| self.lookup_at(source, key, depth + 1))
    }

    pub(super) fn line(&self, node: &Node) -> usize {
        let at = match &node.kind {
            NodeKind::Scalar(scalar) => scalar.span.start.max(node.start),
            _ => node.start,
        };
        self.lines.line(at)
    }

    pub(super) fn unwritable(&self, node: &Node, reason: String) -> TargetError {
        TargetError::Unwritable {
            file: self.file.to_string(),
            line: self.line(node),
            reason,
        }
    }

    /// Records that the scalar `node` at `path` should become `new`. Returns whether
    /// the place will be written: not when its value is templated.
    pub(super) fn set(
        &mut self,
        kind: TargetKind,
        node: &'a Node,
        path: KeyPath,
        new: String,
        note: Option<String>,
    ) -> Result<bool, TargetError> {
        let extra = Extra {
            note,
            ..Extra::default()
        };
        self.set_with(kind, node, path, new, extra)
    }

    /// [`Scan::set`] with everything a target can carry.
    pub(super) fn set_with(
        &mut self,
        kind: TargetKind,
        node: &'a Node,
        path: KeyPath,
        new: String,
        extra: Extra,
    ) -> Result<bool, TargetError> {
        let Extra {
            note,
            pinned,
            within,
        } = extra;
        match &node.kind {
            NodeKind::Scalar(scalar) => {
                if templated(&scalar.value) {
                    return Ok(false);
                }
                if !self.claimed.insert(scalar.ordinal) {
                    return Ok(true);
                }
                let target = Target {
                    kind,
                    document: self.document,
                    line: self.line(node),
                    path,
                    old: scalar.value.clone(),
                    new,
                    note,
                    pinned,
                    within,
                };
                self.found.push((scalar.span.start.max(node.start), target));
                Ok(true)
            }
            NodeKind::Alias(anchor) => {
                self.aliases.push(PendingAlias {
                    node,
                    path,
                    anchor: anchor.clone(),
                });
                Ok(true)
            }
            NodeKind::Mapping { .. } | NodeKind::Sequence { .. } => Err(self.unwritable(
                node,
                format!(
                    "{path} refers to image {} but holds {}, not a value tagbump can set",
                    self.image.familiar_name(),
                    node.describe()
                ),
            )),
        }
    }

    /// An alias is fine where a value should be written only if the anchored scalar
    /// itself is being written (the alias then follows it).
    fn check_aliases(&self) -> Result<(), TargetError> {
        for pending in &self.aliases {
            let anchored = self.resolve(pending.node);
            let followed = anchored
                .and_then(Node::as_scalar)
                .is_some_and(|scalar| self.claimed.contains(&scalar.ordinal));
            if !followed {
                let at = anchored
                    .map(|n| format!(" (line {})", self.line(n)))
                    .unwrap_or_default();
                return Err(self.unwritable(
                    pending.node,
                    format!(
                        "{} is an alias of &{}{at}, which refers to image {}; tagbump does not \
                         edit through aliases, so set the anchored value instead",
                        pending.path,
                        pending.anchor,
                        self.image.familiar_name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether a repository written as `registry` + `repository` names the image. A
    /// blank registry is no registry (callers pass `None` for a null one).
    pub(super) fn names_image(&self, registry: Option<&str>, repository: &str) -> bool {
        if templated(repository) || repository.is_empty() {
            return false;
        }
        match registry {
            Some(registry) if templated(registry) => false,
            Some(registry) if !registry.trim().is_empty() => self.image.matches_name(&format!(
                "{}/{repository}",
                registry.trim().trim_end_matches('/')
            )),
            _ => self.image.matches_name(repository),
        }
    }

    /// `s` with its tag and digest replaced by the image's, if `s` is a reference to the
    /// image; the note says when an old digest was dropped.
    pub(super) fn retag(&self, s: &str) -> Option<(String, Option<String>)> {
        if templated(s) {
            return None;
        }
        let raw = split_image_string(s)?;
        if !self.image.matches_name(raw.name) {
            return None;
        }
        Some(self.compose(&raw))
    }

    pub(super) fn compose(&self, raw: &RawImageString<'_>) -> (String, Option<String>) {
        let mut out = raw.name.to_string();
        // A reference pinned by digest alone stays that way when it gets a new digest.
        let digest_only = raw.tag.is_none() && raw.digest.is_some();
        let new_tag = self
            .image
            .tag()
            .filter(|_| !(digest_only && self.image.digest().is_some()));
        match (new_tag, raw.tag.as_ref().map(|(tag, _)| *tag)) {
            (Some(tag), _) | (None, Some(tag)) => {
                out.push(':');
                out.push_str(tag);
            }
            (None, None) => {}
        }
        let mut note = None;
        match (self.image.digest(), &raw.digest) {
            (Some(digest), _) => {
                out.push('@');
                out.push_str(digest);
            }
            (None, Some((old, _))) => note = Some(dropped_digest(old)),
            (None, None) => {}
        }
        (out, note)
    }

    /// A `tag` / `digest` pair next to a matching repository: writes the image's tag and
    /// digest where there are keys for them, and empties an old digest when only the
    /// tag is new. `group` is the node holding them, `what` names it for messages and
    /// `keys` are the names of the tag and digest keys. Returns whether anything new
    /// will be written.
    pub(super) fn tag_and_digest(
        &mut self,
        kind: TargetKind,
        tag: Option<(&'a Node, KeyPath)>,
        digest: Option<(&'a Node, KeyPath)>,
        group: &'a Node,
        what: &str,
        keys: (&str, &str),
    ) -> Result<bool, TargetError> {
        let has_keys = tag.is_some() || digest.is_some();
        let digest_missing_note = (self.image.digest().is_some() && digest.is_none()).then(|| {
            format!(
                "the new image's digest was not written: {what} has no `{}` key",
                keys.1
            )
        });
        let mut wrote_tag = false;
        if let (Some(new), Some((node, path))) = (self.image.tag(), tag) {
            wrote_tag = self.set(kind, node, path, new.to_string(), digest_missing_note)?;
        }
        let mut wrote_digest = false;
        match (self.image.digest(), digest) {
            (Some(new), Some((node, path))) => {
                let new = digest_in_form(keys.1, self.string(node), new);
                wrote_digest = self.set(kind, node, path, new, None)?;
            }
            // An old digest would override the new tag; it only goes when the tag is set.
            (None, Some((node, path))) if wrote_tag => {
                if let Some(old) = self.string(node).filter(|old| !old.trim().is_empty()) {
                    let note = Some(dropped_digest(old));
                    self.set(kind, node, path, String::new(), note)?;
                }
            }
            _ => {}
        }
        let wrote = wrote_tag || wrote_digest;
        if !wrote && has_keys && self.image.tag().is_none() {
            return Err(self.unwritable(
                group,
                format!(
                    "{what} refers to image {} but has no `{}` key for the new digest {}; \
                     add one",
                    self.image.familiar_name(),
                    keys.1,
                    self.image.digest().unwrap_or_default()
                ),
            ));
        }
        Ok(wrote)
    }
}

/// Keys of an image map that hold a digest, in order of preference: `digest`
/// (`sha256:…`), and `sha` (kube-prometheus-stack: the hex alone, its templates write
/// `@sha256:{{ .sha }}`).
pub(super) const DIGEST_KEYS: [&str; 2] = ["digest", "sha"];

/// The new digest `new` (`sha256:…`) in the form of the value it replaces: the hex alone
/// where the old value has no `algorithm:` prefix, or is empty under a `sha` key (which
/// holds the hex alone); the whole digest otherwise.
pub(super) fn digest_in_form(key: &str, old: Option<&str>, new: &str) -> String {
    let hex = new.split_once(':').map_or(new, |(_, hex)| hex);
    match old.map(str::trim) {
        Some(old) if !old.is_empty() && !old.contains(':') => hex.to_string(),
        Some(old) if !old.is_empty() => new.to_string(),
        _ if key == "sha" => hex.to_string(),
        _ => new.to_string(),
    }
}

pub(super) fn dropped_digest(old: &str) -> String {
    format!(
        "dropped the old digest {old}: it pinned the previous image and would override the new tag"
    )
}

pub(super) fn display_path(path: &KeyPath) -> String {
    if path.is_empty() {
        "the document root".to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::digest_in_form;

    #[test]
    fn a_new_digest_takes_the_form_of_the_value_it_replaces() {
        let new = "sha256:4b2b1e";
        assert_eq!(digest_in_form("sha", Some(""), new), "4b2b1e");
        assert_eq!(digest_in_form("sha", None, new), "4b2b1e");
        assert_eq!(digest_in_form("sha", Some("e542f0"), new), "4b2b1e");
        assert_eq!(digest_in_form("sha", Some("sha256:e542f0"), new), new);
        assert_eq!(digest_in_form("digest", Some(""), new), new);
        assert_eq!(digest_in_form("digest", Some("sha256:e542f0"), new), new);
        assert_eq!(digest_in_form("digest", Some("e542f0"), new), "4b2b1e");
    }
}
