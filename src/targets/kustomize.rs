//! Rule 2: the `images:` list of a kustomization.

use crate::yaml::model::{Node, NodeKind};
use crate::yaml::{KeyPath, Segment};

use super::scan::{key, null_or_empty, Scan};
use super::{TargetError, TargetKind};

impl<'a> Scan<'a, '_> {
    /// Rule 2: the `images:` list of a kustomization. An entry's effective image is its
    /// `newName` where it has one (`name` is then the image being replaced), else its
    /// `name`.
    pub(super) fn kustomization(&mut self, root: &'a Node) -> Result<(), TargetError> {
        let Some(NodeKind::Sequence { items, .. }) = root.get("images").map(|n| &n.kind) else {
            return Ok(());
        };
        for (i, item) in items.iter().enumerate() {
            let name = item.get("name").and_then(|n| self.string(n));
            let new_name = item
                .get("newName")
                .filter(|n| !null_or_empty(n))
                .and_then(|n| self.string(n));
            let effective = new_name.or(name);
            if !effective.is_some_and(|n| self.names_image(None, n)) {
                continue;
            }
            let path = KeyPath::new(vec![key("images"), Segment::Index(i)]);
            let new_tag = item.get("newTag").map(|n| (n, path.child(key("newTag"))));
            let digest = item.get("digest").map(|n| (n, path.child(key("digest"))));
            let what = format!("images entry {} ({})", i, effective.unwrap_or("?"));
            let wrote = self.tag_and_digest(
                TargetKind::Kustomize,
                new_tag,
                digest,
                item,
                &what,
                ("newTag", "digest"),
            )?;
            if !wrote {
                let add = match (self.image.tag(), self.image.digest()) {
                    (Some(tag), _) => format!("newTag: \"{tag}\""),
                    (None, Some(digest)) => format!("digest: {digest}"),
                    (None, None) => String::new(),
                };
                return Err(self.unwritable(
                    item,
                    format!(
                        "{what} refers to image {} but has no `newTag` or `digest` to set; \
                         add `{add}` to it (tagbump does not add keys to kustomizations)",
                        self.image.familiar_name()
                    ),
                ));
            }
        }
        Ok(())
    }
}
