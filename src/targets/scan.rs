//! Walking the documents of one YAML text and collecting [`Target`]s.

use std::collections::HashSet;
use std::path::Path;

use crate::image::{split_image_string, ImageRef, RawImageString};
use crate::yaml::model::{self, LineIndex, Node, NodeKind};
use crate::yaml::{KeyPath, Segment};

use super::{Target, TargetError, TargetKind};

/// How deep `<<` merge keys are followed (they may refer to each other).
const MAX_MERGE_DEPTH: usize = 16;

/// The role a file plays, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Any YAML: Helm values, manifests, Argo CD applications.
    Plain,
    /// `kustomization.yaml`, `kustomization.yml`, `Kustomization`.
    Kustomization,
    /// `.argocd-source-<app>.yaml` (or `.argocd-source.yaml`).
    ArgoCdSource,
}

fn role(file_name: &str) -> Role {
    let base = Path::new(file_name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file_name);
    if matches!(
        base,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) {
        Role::Kustomization
    } else if base.starts_with(".argocd-source")
        && (base.ends_with(".yaml") || base.ends_with(".yml"))
    {
        Role::ArgoCdSource
    } else {
        Role::Plain
    }
}

fn key(name: &str) -> Segment {
    Segment::Key(name.to_string())
}

fn templated(value: &str) -> bool {
    value.contains("{{")
}

/// Finds the targets of every document of `text`.
pub(super) fn scan(
    file_name: &str,
    text: &str,
    image: &ImageRef,
) -> Result<Vec<Target>, TargetError> {
    let docs = model::parse(text).map_err(|e| TargetError::Syntax {
        file: file_name.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    let lines = LineIndex::new(text);
    let role = role(file_name);
    let mut targets = Vec::new();
    for (document, doc) in docs.iter().enumerate() {
        let Some(root) = doc.root.as_ref() else {
            continue;
        };
        let mut scan = Scan {
            file: file_name,
            image,
            lines: &lines,
            document,
            anchors: Vec::new(),
            found: Vec::new(),
            claimed: HashSet::new(),
            aliases: Vec::new(),
        };
        scan.collect_anchors(root);
        // The specific rules first: they claim their scalars, so the generic walk
        // cannot produce a second target for the same place.
        match role {
            Role::Kustomization => scan.kustomization(root)?,
            Role::ArgoCdSource => scan.argocd_source(root, &KeyPath::default())?,
            Role::Plain => {}
        }
        scan.application(root)?;
        scan.walk(root)?;
        scan.check_aliases()?;
        scan.found.sort_by_key(|(start, _)| *start);
        targets.extend(scan.found.into_iter().map(|(_, t)| t));
    }
    Ok(targets)
}

/// An alias that stands where a value should be written.
struct PendingAlias<'a> {
    node: &'a Node,
    path: KeyPath,
    anchor: String,
}

/// An anchored node and where it is.
struct Anchor<'a> {
    name: &'a str,
    node: &'a Node,
    path: KeyPath,
}

/// The state of scanning one document.
struct Scan<'a, 't> {
    file: &'t str,
    image: &'t ImageRef,
    lines: &'t LineIndex,
    document: usize,
    /// Anchored nodes in document order.
    anchors: Vec<Anchor<'a>>,
    /// Targets with the byte offset of their scalar.
    found: Vec<(usize, Target)>,
    /// Ordinals of the scalars that already have a target.
    claimed: HashSet<usize>,
    /// Aliases where a value should have been written.
    aliases: Vec<PendingAlias<'a>>,
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
    fn anchor_of(&self, alias: &Node) -> Option<&Anchor<'a>> {
        let NodeKind::Alias(name) = &alias.kind else {
            return None;
        };
        self.anchors
            .iter()
            .rev()
            .find(|anchor| anchor.name == name && anchor.node.start < alias.start)
    }

    /// The node an alias refers to, or the node itself.
    fn resolve(&self, node: &'a Node) -> Option<&'a Node> {
        match &node.kind {
            NodeKind::Alias(_) => self.anchor_of(node).map(|anchor| anchor.node),
            _ => Some(node),
        }
    }

    /// The string value of a scalar node (through an alias).
    fn string(&self, node: &'a Node) -> Option<&'a str> {
        self.resolve(node)?
            .as_scalar()
            .map(|scalar| scalar.value.as_str())
    }

    /// The value of `key` in `map`, looking through `<<` merge keys when `map` has no
    /// such key of its own.
    fn lookup(&self, map: &'a Node, key: &str) -> Option<&'a Node> {
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

    fn line(&self, node: &Node) -> usize {
        let at = match &node.kind {
            NodeKind::Scalar(scalar) => scalar.span.start.max(node.start),
            _ => node.start,
        };
        self.lines.line(at)
    }

    fn unwritable(&self, node: &Node, reason: String) -> TargetError {
        TargetError::Unwritable {
            file: self.file.to_string(),
            line: self.line(node),
            reason,
        }
    }

    /// Records that the scalar `node` at `path` should become `new`. Returns whether
    /// the place will be written: not when its value is templated.
    fn set(
        &mut self,
        kind: TargetKind,
        node: &'a Node,
        path: KeyPath,
        new: String,
        note: Option<String>,
    ) -> Result<bool, TargetError> {
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

    /// Whether a repository written as `registry` + `repository` names the image.
    fn names_image(&self, registry: Option<&str>, repository: &str) -> bool {
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
    fn retag(&self, s: &str) -> Option<(String, Option<String>)> {
        if templated(s) {
            return None;
        }
        let raw = split_image_string(s)?;
        if !self.image.matches_name(raw.name) {
            return None;
        }
        Some(self.compose(&raw))
    }

    fn compose(&self, raw: &RawImageString<'_>) -> (String, Option<String>) {
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
    fn tag_and_digest(
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
                wrote_digest = self.set(kind, node, path, new.to_string(), None)?;
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

    /// Rules 1 and 3, everywhere: Helm-style maps and `image:` strings.
    /// (Iterative, so that deeply nested input cannot exhaust the stack.)
    fn walk(&mut self, root: &'a Node) -> Result<(), TargetError> {
        let mut stack = vec![(root, KeyPath::default())];
        while let Some((node, path)) = stack.pop() {
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    self.helm_map(node, &path)?;
                    for (k, v) in entries.iter().rev() {
                        let Some(name) = k.as_scalar().map(|s| s.value.as_str()) else {
                            continue;
                        };
                        if name == "<<" {
                            continue;
                        }
                        let child = path.child(key(name));
                        if name == "image" {
                            self.image_string(TargetKind::ManifestImage, v, child.clone())?;
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

    /// A scalar holding a whole reference (`ghcr.io/acme/api:v1.4.2`).
    fn image_string(
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
        // An alias of an image string: the anchored string is the same reference to the
        // same image wherever it is used, so it is edited where it is defined.
        if let Some(anchor) = self.anchor_of(node) {
            let (anchored, at) = (anchor.node, anchor.path.clone());
            let note = Some(match note {
                Some(note) => format!("{note}; edited through alias *{} at {path}", anchor.name),
                None => format!("edited through alias *{} at {path}", anchor.name),
            });
            self.set(kind, anchored, at, new, note)?;
            return Ok(());
        }
        self.set(kind, node, path, new, note)?;
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
            .and_then(|node| self.string(node));
        if !self.names_image(registry, repository) {
            return Ok(());
        }
        let tag = map.get("tag").map(|n| (n, path.child(key("tag"))));
        let digest = map.get("digest").map(|n| (n, path.child(key("digest"))));
        let what = format!("the map at {}", display_path(path));
        self.tag_and_digest(
            TargetKind::HelmValues,
            tag,
            digest,
            map,
            &what,
            ("tag", "digest"),
        )?;
        Ok(())
    }

    /// Rule 2: the `images:` list of a kustomization.
    fn kustomization(&mut self, root: &'a Node) -> Result<(), TargetError> {
        let Some(NodeKind::Sequence { items, .. }) = root.get("images").map(|n| &n.kind) else {
            return Ok(());
        };
        for (i, item) in items.iter().enumerate() {
            let name = item.get("name").and_then(|n| self.string(n));
            let new_name = item.get("newName").and_then(|n| self.string(n));
            let matches = [name, new_name]
                .into_iter()
                .flatten()
                .any(|n| self.names_image(None, n));
            if !matches {
                continue;
            }
            let path = KeyPath::new(vec![key("images"), Segment::Index(i)]);
            let new_tag = item.get("newTag").map(|n| (n, path.child(key("newTag"))));
            let digest = item.get("digest").map(|n| (n, path.child(key("digest"))));
            let what = format!("images entry {} ({})", i, name.or(new_name).unwrap_or("?"));
            let wrote = self.tag_and_digest(
                TargetKind::Kustomization,
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

    /// Rule 4 for Argo CD `Application`s (and `ApplicationSet` templates):
    /// `spec.source` and `spec.sources[*]`.
    fn application(&mut self, root: &'a Node) -> Result<(), TargetError> {
        let kind = root.get("kind").and_then(|n| self.string(n));
        let api = root.get("apiVersion").and_then(|n| self.string(n));
        if !api.is_some_and(|a| a.starts_with("argoproj.io/")) {
            return Ok(());
        }
        let Some(spec) = root.get("spec") else {
            return Ok(());
        };
        let (spec, base) = match kind {
            Some("Application") => (spec, KeyPath::new(vec![key("spec")])),
            Some("ApplicationSet") => match spec.get("template").and_then(|t| t.get("spec")) {
                Some(inner) => (
                    inner,
                    KeyPath::new(vec![key("spec"), key("template"), key("spec")]),
                ),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        if let Some(source) = spec.get("source") {
            self.argocd_source(source, &base.child(key("source")))?;
        }
        if let Some(NodeKind::Sequence { items, .. }) = spec.get("sources").map(|n| &n.kind) {
            let sources = base.child(key("sources"));
            for (i, source) in items.iter().enumerate() {
                self.argocd_source(source, &sources.child(Segment::Index(i)))?;
            }
        }
        Ok(())
    }

    /// Rule 4: `helm.parameters` and `kustomize.images` of an Argo CD source.
    fn argocd_source(&mut self, source: &'a Node, path: &KeyPath) -> Result<(), TargetError> {
        if let Some(helm) = source.get("helm") {
            self.helm_parameters(helm, &path.child(key("helm")))?;
        }
        if let Some(kustomize) = source.get("kustomize") {
            self.kustomize_images(kustomize, &path.child(key("kustomize")))?;
        }
        Ok(())
    }

    fn helm_parameters(&mut self, helm: &'a Node, path: &KeyPath) -> Result<(), TargetError> {
        let Some(NodeKind::Sequence { items, .. }) = helm.get("parameters").map(|n| &n.kind) else {
            return Ok(());
        };
        let path = path.child(key("parameters"));
        let params: Vec<(usize, &'a str, &'a Node, &'a Node)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let name = item.get("name").and_then(|n| self.string(n))?;
                Some((i, name, item.get("value")?, item))
            })
            .collect();
        let find = |wanted: &str| {
            params
                .iter()
                .find(|(_, name, _, _)| *name == wanted)
                .map(|(i, _, value, _)| (*i, *value))
        };
        let value_path = |i: usize| path.child(Segment::Index(i)).child(key("value"));
        for &(i, name, value, item) in &params {
            if name == "image" || name.ends_with(".image") {
                self.image_string(TargetKind::ArgoCdSource, value, value_path(i))?;
                continue;
            }
            let (prefix, last) = match name.rsplit_once('.') {
                Some((prefix, last)) => (format!("{prefix}."), last),
                None => (String::new(), name),
            };
            if last != "repository" && last != "name" {
                continue;
            }
            let Some(repository) = self.string(value) else {
                continue;
            };
            let registry = find(&format!("{prefix}registry")).and_then(|(_, v)| self.string(v));
            if !self.names_image(registry, repository) {
                continue;
            }
            let tag = find(&format!("{prefix}tag")).map(|(j, v)| (v, value_path(j)));
            let digest = find(&format!("{prefix}digest")).map(|(j, v)| (v, value_path(j)));
            let what = format!("Helm parameter {name}");
            let keys = (format!("{prefix}tag"), format!("{prefix}digest"));
            self.tag_and_digest(
                TargetKind::ArgoCdSource,
                tag,
                digest,
                item,
                &what,
                (&keys.0, &keys.1),
            )?;
        }
        Ok(())
    }

    /// `kustomize.images`: `nginx:1.2.3`, `nginx=registry/nginx:1.2.3`, `…@sha256:…`.
    fn kustomize_images(&mut self, kustomize: &'a Node, path: &KeyPath) -> Result<(), TargetError> {
        let Some(NodeKind::Sequence { items, .. }) = kustomize.get("images").map(|n| &n.kind)
        else {
            return Ok(());
        };
        let path = path.child(key("images"));
        for (i, item) in items.iter().enumerate() {
            let Some(value) = self.string(item) else {
                continue;
            };
            if templated(value) {
                continue;
            }
            let (old_name, reference) = match value.split_once('=') {
                Some((old, new)) => (Some(old), new),
                None => (None, value),
            };
            let Some(raw) = split_image_string(reference) else {
                continue;
            };
            let old_name_matches = old_name
                .and_then(split_image_string)
                .is_some_and(|old| self.image.matches_name(old.name));
            if !old_name_matches && !self.image.matches_name(raw.name) {
                continue;
            }
            let (new_reference, note) = self.compose(&raw);
            let new = match old_name {
                Some(old) => format!("{old}={new_reference}"),
                None => new_reference,
            };
            self.set(
                TargetKind::ArgoCdSource,
                item,
                path.child(Segment::Index(i)),
                new,
                note,
            )?;
        }
        Ok(())
    }
}

fn dropped_digest(old: &str) -> String {
    format!(
        "dropped the old digest {old}: it pinned the previous image and would override the new tag"
    )
}

fn display_path(path: &KeyPath) -> String {
    if path.is_empty() {
        "the document root".to_string()
    } else {
        path.to_string()
    }
}
