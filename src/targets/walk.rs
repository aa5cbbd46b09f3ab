//! Rules 1 and 3, everywhere in a document: Helm-style maps (`repository` + `tag`, an
//! untagged `image` + a sibling `tag` / `imageTag`) and `image:` strings.

use crate::image::split_image_string;
use crate::yaml::model::{Node, NodeKind};
use crate::yaml::{KeyPath, Segment};

use super::scan::{display_path, key, null_or_empty, Extra, Scan, DIGEST_KEYS};
use super::{TargetError, TargetKind};

/// Keys that hold the tag of an untagged `image:` string next to them.
const SIBLING_TAG_KEYS: [&str; 2] = ["tag", "imageTag"];
/// Keys that hold the digest of an untagged `image:` string next to them.
const SIBLING_DIGEST_KEYS: [&str; 2] = ["digest", "imageDigest"];

impl<'a> Scan<'a, '_> {
    /// Walks the whole document (iteratively, so that deeply nested input cannot
    /// exhaust the stack).
    pub(super) fn walk(&mut self, root: &'a Node) -> Result<(), TargetError> {
        let mut stack = vec![(root, KeyPath::default())];
        while let Some((node, path)) = stack.pop() {
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    self.helm_map(node, &path)?;
                    self.image_with_sibling_tag(node, &path)?;
                    for (k, v) in entries.iter().rev() {
                        let Some(name) = k.as_scalar().map(|s| s.value.as_str()) else {
                            continue;
                        };
                        if name == "<<" {
                            continue;
                        }
                        let child = path.child(key(name));
                        if name == "image" {
                            self.image_string(TargetKind::ImageString, v, child.clone())?;
                        }
                        stack.push((v, child));
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
        Ok(())
    }

    /// A scalar holding a whole reference (`ghcr.io/acme/api:v1.4.2`). One without tag
    /// or digest (`busybox`) gets the new tag and is reported as pinned.
    pub(super) fn image_string(
        &mut self,
        kind: TargetKind,
        node: &'a Node,
        path: KeyPath,
    ) -> Result<(), TargetError> {
        let Some(value) = self.string(node) else {
            return Ok(());
        };
        let Some((new, note)) = self.retag(value) else {
            return Ok(());
        };
        let pinned =
            split_image_string(value).is_some_and(|raw| raw.tag.is_none() && raw.digest.is_none());
        let note = if pinned {
            Some(format!(
                "pinned: {value} named no tag (Kubernetes pulls it as :latest); it now names {new}"
            ))
        } else {
            note
        };
        // An alias of an image string: the anchored string is the same reference to the
        // same image wherever it is used, so it is edited where it is defined.
        if let Some(anchor) = self.anchor_of(node) {
            let (anchored, at) = (anchor.node, anchor.path.clone());
            let note = Some(match note {
                Some(note) => format!("{note}; edited through alias *{} at {path}", anchor.name),
                None => format!("edited through alias *{} at {path}", anchor.name),
            });
            let extra = Extra {
                note,
                pinned,
                ..Extra::default()
            };
            self.set_with(kind, anchored, at, new, extra)?;
            return Ok(());
        }
        let extra = Extra {
            note,
            pinned,
            ..Extra::default()
        };
        self.set_with(kind, node, path, new, extra)?;
        Ok(())
    }

    /// Rule 1: `{registry?, repository, tag, digest?}` or `{name, tag, digest?}`.
    fn helm_map(&mut self, map: &'a Node, path: &KeyPath) -> Result<(), TargetError> {
        let Some(repository) = self
            .lookup(map, "repository")
            .or_else(|| self.lookup(map, "name"))
            .and_then(|node| self.string(node))
        else {
            return Ok(());
        };
        let registry = self
            .lookup(map, "registry")
            .and_then(|node| self.resolve(node))
            .filter(|node| !null_or_empty(node))
            .and_then(|node| self.string(node));
        if !self.names_image(registry, repository) {
            return Ok(());
        }
        let tag = map.get("tag").map(|n| (n, path.child(key("tag"))));
        let digest_key = DIGEST_KEYS
            .into_iter()
            .find(|k| map.get(k).is_some())
            .unwrap_or("digest");
        let digest = map
            .get(digest_key)
            .map(|n| (n, path.child(key(digest_key))));
        let what = format!("the map at {}", display_path(path));
        self.tag_and_digest(
            TargetKind::HelmMap,
            tag,
            digest,
            map,
            &what,
            ("tag", digest_key),
        )?;
        Ok(())
    }

    /// Rule 1, second layout: `{image: repo, tag: v1}` (or `imageTag`). The `image`
    /// string names a repository without tag or digest and the chart joins it with the
    /// sibling, so the sibling is the place to write and the string stays as it is.
    fn image_with_sibling_tag(&mut self, map: &'a Node, path: &KeyPath) -> Result<(), TargetError> {
        let Some(image) = map.get("image") else {
            return Ok(());
        };
        let Some(value) = self.string(image) else {
            return Ok(());
        };
        let Some(raw) = split_image_string(value) else {
            return Ok(());
        };
        if raw.tag.is_some() || raw.digest.is_some() || !self.names_image(None, raw.name) {
            return Ok(());
        }
        let Some(tag_key) = SIBLING_TAG_KEYS.into_iter().find(|k| map.get(k).is_some()) else {
            return Ok(());
        };
        let digest_key = SIBLING_DIGEST_KEYS
            .into_iter()
            .find(|k| map.get(k).is_some())
            .unwrap_or("digest");
        let tag = map.get(tag_key).map(|n| (n, path.child(key(tag_key))));
        let digest = map
            .get(digest_key)
            .map(|n| (n, path.child(key(digest_key))));
        let what = format!("the map at {}", display_path(path));
        self.tag_and_digest(
            TargetKind::HelmMap,
            tag,
            digest,
            map,
            &what,
            (tag_key, digest_key),
        )?;
        // The string itself is not a place: appending the tag to it would render
        // `repo:new:old`.
        if let Some(scalar) = self.resolve(image).and_then(Node::as_scalar) {
            self.claimed.insert(scalar.ordinal);
        }
        Ok(())
    }
}
