//! Rule 5: fields marked for Flux image automation.
//!
//! Flux's image-automation-controller (Setters strategy) updates a field whose line
//! ends with a marker comment naming an `ImagePolicy`
//! (<https://fluxcd.io/flux/guides/image-update/>; the controller's own `testdata/setters`
//! files mark `newName`, `newTag` and `newDigest` this way):
//!
//! ```yaml
//! image: ghcr.io/acme/api:v1.4.2 # {"$imagepolicy": "flux-system:api"}
//! tag: v1.4.2 # {"$imagepolicy": "flux-system:api:tag"}
//! ```
//!
//! `NS:POLICY` marks a whole reference, `NS:POLICY:name` the repository name,
//! `NS:POLICY:tag` the tag and `NS:POLICY:digest` the digest. A `:digest` field gets
//! the pushed image's digest; when it has none, an old digest is emptied (with a note),
//! since it would keep deploying the previous content. tagbump writes the
//! pushed image into the fields of a policy when one of the policy's whole-reference or
//! `:name` fields in the file names the image; with `--flux-policy NS:POLICY`, exactly
//! the fields of that policy, whatever they hold, and no other place.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use crate::image::ImageRef;
use crate::yaml::model::{Document, Node, NodeKind, ScalarStyle};
use crate::yaml::{KeyPath, Segment};

use super::scan::{dropped_digest, key, Scan};
use super::{FindOptions, TargetError, TargetKind};

/// A Flux `ImagePolicy`, `namespace:name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FluxPolicy {
    namespace: String,
    name: String,
}

/// A policy given as something other than `NAMESPACE:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Flux image policy {0:?}: write it as NAMESPACE:NAME, as in the marker \
     # {{\"$imagepolicy\": \"flux-system:api\"}}"
)]
pub struct FluxPolicyError(String);

impl FluxPolicy {
    /// Parses `namespace:name` (both non-empty, no further `:`).
    pub fn parse(s: &str) -> Result<FluxPolicy, FluxPolicyError> {
        let bad = || FluxPolicyError(s.to_string());
        let (namespace, name) = s.split_once(':').ok_or_else(bad)?;
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
        };
        if !part_ok(namespace) || !part_ok(name) {
            return Err(bad());
        }
        Ok(FluxPolicy {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The policy's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for FluxPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)
    }
}

impl std::str::FromStr for FluxPolicy {
    type Err = FluxPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FluxPolicy::parse(s)
    }
}

/// Which part of the reference a marked field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// The whole reference.
    Whole,
    /// The repository name.
    Name,
    /// The tag.
    Tag,
    /// The digest.
    Digest,
}

/// A marked field.
pub(super) struct Marked<'d> {
    pub(super) document: usize,
    node: &'d Node,
    path: KeyPath,
    /// `namespace:name`.
    policy: String,
    field: Field,
}

fn marker() -> &'static Regex {
    static MARKER: OnceLock<Regex> = OnceLock::new();
    MARKER.get_or_init(|| {
        Regex::new(r#"^\s*#\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]*)"\s*\}"#).expect("valid regex")
    })
}

/// The marker right after a scalar ending at byte `end`, on the same line.
fn marker_after(text: &str, end: usize) -> Option<(String, Field)> {
    let rest = text.get(end..)?;
    let line = rest.split(['\n', '\r']).next().unwrap_or(rest);
    let value = marker().captures(line)?.get(1)?.as_str();
    let mut parts = value.split(':');
    let (namespace, name) = (parts.next()?, parts.next()?);
    let field = match parts.next() {
        None => Field::Whole,
        Some("name") => Field::Name,
        Some("tag") => Field::Tag,
        Some("digest") => Field::Digest,
        Some(_) => return None,
    };
    if parts.next().is_some() || namespace.is_empty() || name.is_empty() {
        return None;
    }
    Some((format!("{namespace}:{name}"), field))
}

/// Every marked scalar of every document, in document order.
pub(super) fn marked_fields<'d>(docs: &'d [Document], text: &str) -> Vec<Marked<'d>> {
    let mut marked = Vec::new();
    if !text.contains("$imagepolicy") {
        return marked;
    }
    for (document, doc) in docs.iter().enumerate() {
        let Some(root) = doc.root.as_ref() else {
            continue;
        };
        let mut stack = vec![(root, KeyPath::default())];
        while let Some((node, path)) = stack.pop() {
            let children: Vec<(&Node, KeyPath)> = match &node.kind {
                NodeKind::Mapping { entries, .. } => entries
                    .iter()
                    .filter_map(|(k, v)| Some((v, path.child(key(&k.as_scalar()?.value)))))
                    .collect(),
                NodeKind::Sequence { items, .. } => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (item, path.child(Segment::Index(i))))
                    .collect(),
                NodeKind::Scalar(_) | NodeKind::Alias(_) => Vec::new(),
            };
            for (child, at) in children.into_iter().rev() {
                if let NodeKind::Scalar(scalar) = &child.kind {
                    let single_line =
                        !matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded);
                    if single_line && !scalar.span.is_empty() {
                        if let Some((policy, field)) = marker_after(text, scalar.span.end) {
                            marked.push(Marked {
                                document,
                                node: child,
                                path: at.clone(),
                                policy,
                                field,
                            });
                        }
                    }
                }
                stack.push((child, at));
            }
        }
    }
    marked
}

/// The policies whose fields are written: the one given, or those with a whole or
/// `:name` field in the file that names the image.
pub(super) fn selected_policies(
    marked: &[Marked<'_>],
    image: &ImageRef,
    options: &FindOptions,
) -> HashSet<String> {
    if let Some(policy) = &options.flux_policy {
        return HashSet::from([policy.to_string()]);
    }
    marked
        .iter()
        .filter(|m| {
            let Some(value) = m.node.as_scalar().map(|s| s.value.as_str()) else {
                return false;
            };
            match m.field {
                Field::Whole => crate::image::split_image_string(value)
                    .is_some_and(|raw| image.matches_name(raw.name)),
                Field::Name => image.matches_name(value),
                Field::Tag | Field::Digest => false,
            }
        })
        .map(|m| m.policy.clone())
        .collect()
}

impl<'a> Scan<'a, '_> {
    /// Writes the marked fields of the selected policies in this document.
    pub(super) fn flux_markers(
        &mut self,
        marked: &[&Marked<'a>],
        policies: &HashSet<String>,
    ) -> Result<(), TargetError> {
        for m in marked.iter().filter(|m| policies.contains(&m.policy)) {
            let Some(value) = m.node.as_scalar().map(|s| s.value.clone()) else {
                continue;
            };
            let kind = TargetKind::FluxMarker;
            match m.field {
                Field::Whole => match self.retag(&value) {
                    Some((new, note)) => {
                        self.set(kind, m.node, m.path.clone(), new, note)?;
                    }
                    None => {
                        let note = Some(format!(
                            "{value} is marked with policy {} and now names the pushed image",
                            m.policy
                        ));
                        self.set(kind, m.node, m.path.clone(), self.image.to_string(), note)?;
                    }
                },
                Field::Name => {
                    let (new, note) = if self.image.matches_name(&value) {
                        (value.clone(), None)
                    } else {
                        let note = format!(
                            "{value} is marked with policy {}:name and now names {}",
                            m.policy,
                            self.image.familiar_name()
                        );
                        (self.image.familiar_name(), Some(note))
                    };
                    self.set(kind, m.node, m.path.clone(), new, note)?;
                }
                Field::Tag => {
                    if let Some(tag) = self.image.tag() {
                        self.set(kind, m.node, m.path.clone(), tag.to_string(), None)?;
                    }
                }
                Field::Digest => match self.image.digest() {
                    Some(digest) => {
                        self.set(kind, m.node, m.path.clone(), digest.to_string(), None)?;
                    }
                    // The old digest pinned the previous content and would override
                    // the new tag, as next to a Helm map's tag: it goes, with a note.
                    None if !value.trim().is_empty() => {
                        let note = Some(dropped_digest(&value));
                        self.set(kind, m.node, m.path.clone(), String::new(), note)?;
                    }
                    None => {}
                },
            }
        }
        Ok(())
    }
}
