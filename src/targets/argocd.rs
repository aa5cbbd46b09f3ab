//! Rule 4: Argo CD sources — `Application` / `ApplicationSet` manifests and Argo CD
//! Image Updater's `.argocd-source-<app>.yaml` files.
//!
//! The fields are those of the Application CRD's `ApplicationSource`
//! (<https://argo-cd.readthedocs.io/en/stable/user-guide/application-specification/>):
//! `helm.parameters` (`name` / `value` / `forceString`), `helm.values` (a string),
//! `helm.valuesObject` (a map) and `kustomize.images` (`[old=]new[:tag][@digest]`).

use crate::image::split_image_string;
use crate::yaml::model::{Node, NodeKind, ScalarStyle};
use crate::yaml::{EditOptions, KeyPath, Segment};

use super::rules::ParsedFile;
use super::scan::{key, templated, Extra, Scan};
use super::{to_edits, FindOptions, TargetError, TargetKind};

impl<'a> Scan<'a, '_> {
    /// Rule 4 for Argo CD `Application`s (and `ApplicationSet` templates):
    /// `spec.source` and `spec.sources[*]`.
    pub(super) fn application(&mut self, root: &'a Node) -> Result<(), TargetError> {
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

    /// Rule 4: `helm.parameters`, `helm.values` and `kustomize.images` of an Argo CD
    /// source. (`helm.valuesObject` is a map like any values file: the walk finds it.)
    pub(super) fn argocd_source(
        &mut self,
        source: &'a Node,
        path: &KeyPath,
    ) -> Result<(), TargetError> {
        if let Some(helm) = source.get("helm") {
            let helm_path = path.child(key("helm"));
            self.helm_parameters(helm, &helm_path)?;
            if let Some(values) = helm.get("values") {
                self.helm_values_string(values, helm_path.child(key("values")))?;
            }
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
                self.image_string(TargetKind::ArgoCdParameter, value, value_path(i))?;
                continue;
            }
            if let Some((_, tag_name)) = self
                .options
                .argocd_parameters
                .iter()
                .find(|(wanted, _)| wanted == name)
            {
                let Some(tag_name) = tag_name else {
                    self.image_string(TargetKind::ArgoCdParameter, value, value_path(i))?;
                    continue;
                };
                let Some(repository) = self.string(value) else {
                    continue;
                };
                if !self.names_image(None, repository) {
                    continue;
                }
                let tag = find(tag_name).map(|(j, v)| (v, value_path(j)));
                let what = format!("Helm parameter {name}");
                self.tag_and_digest(
                    TargetKind::ArgoCdParameter,
                    tag,
                    None,
                    item,
                    &what,
                    (tag_name, "digest"),
                )?;
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
                TargetKind::ArgoCdParameter,
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
            // `old=new:tag`: the effective image is the new one.
            if !self.image.matches_name(raw.name) {
                continue;
            }
            let (new_reference, note) = self.compose(&raw);
            // `nginx` alone names no tag (kustomize keeps the resources' own): it is
            // pinned to the new one, and the report says so.
            let pinned = raw.tag.is_none() && raw.digest.is_none();
            let note = if pinned {
                Some(format!(
                    "pinned: {value} named no tag; it now names {new_reference}"
                ))
            } else {
                note
            };
            let new = match old_name {
                Some(old) => format!("{old}={new_reference}"),
                None => new_reference,
            };
            let extra = Extra {
                note,
                pinned,
                ..Extra::default()
            };
            self.set_with(
                TargetKind::Kustomize,
                item,
                path.child(Segment::Index(i)),
                new,
                extra,
            )?;
        }
        Ok(())
    }

    /// `helm.values`: a string holding a values file. The places inside it are found
    /// as in any values file and edited inside the string, byte for byte; the target is
    /// the whole string, with the inner places in [`super::Target::within`].
    fn helm_values_string(&mut self, node: &'a Node, path: KeyPath) -> Result<(), TargetError> {
        let Some(scalar) = node.as_scalar() else {
            return Ok(());
        };
        let inner_name = format!("{}: {path}", self.file);
        let options = FindOptions {
            app_version: false,
            ..self.options.clone()
        };
        // A string that is not YAML is Argo CD's problem to report, not a reference.
        let Ok(mut inner) = ParsedFile::parse(&inner_name, &scalar.value)
            .and_then(|parsed| parsed.find(self.image, &options))
        else {
            return Ok(());
        };
        if inner.is_empty() {
            return Ok(());
        }
        let edited = crate::yaml::apply(&scalar.value, &to_edits(&inner), EditOptions::default())
            .map_err(|e| {
            self.unwritable(
                node,
                format!(
                    "{path} holds values that refer to image {}, but they cannot be edited: {e}",
                    self.image.familiar_name()
                ),
            )
        })?;
        // Lines inside a block scalar follow its header line; a quoted string is one
        // place in the file.
        let outer = self.line(node);
        let block = matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded);
        for t in &mut inner {
            t.line = if block { outer + t.line } else { outer };
        }
        let kind = inner[0].kind;
        let notes: Vec<String> = inner
            .iter()
            .filter_map(|t| {
                t.note
                    .as_ref()
                    .map(|n| format!("{} (in {path}): {n}", t.path))
            })
            .collect();
        let extra = Extra {
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            pinned: inner.iter().any(|t| t.pinned),
            within: inner,
        };
        self.set_with(kind, node, path, edited.text, extra)?;
        Ok(())
    }
}
