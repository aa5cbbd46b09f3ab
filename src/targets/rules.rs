//! Which rules run over one YAML file, in which order: Flux markers over the whole
//! file first, then per document the rule of the file's role (kustomization, Argo CD
//! source override, chart), Argo CD applications and the generic walk.
//!
//! Kept apart from `scan` (the state every rule shares) so that the rules, `flux`
//! among them, import `scan` and this file imports them, without a circle.

use std::path::Path;

use crate::image::ImageRef;
use crate::yaml::model::LineIndex;
use crate::yaml::KeyPath;

use super::flux::{self, Marked};
use super::scan::{readable, Scan};
use super::{FindOptions, Target, TargetError};

/// The role a file plays, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Any YAML: Helm values, manifests, Argo CD applications.
    Plain,
    /// `kustomization.yaml`, `kustomization.yml`, `Kustomization`.
    Kustomization,
    /// `.argocd-source-<app>.yaml` (or `.argocd-source.yaml`).
    ArgoCdSource,
    /// A chart's `Chart.yaml`.
    Chart,
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
    } else if base == "Chart.yaml" {
        Role::Chart
    } else {
        Role::Plain
    }
}

/// One YAML file parsed once, as the search reads it, to be searched for any number
/// of images without parsing it again (`tagbump status` asks one file about every name
/// in it).
pub struct ParsedFile<'t> {
    file_name: &'t str,
    readable: crate::yaml::Readable<'t>,
    lines: LineIndex,
    role: Role,
}

impl std::fmt::Debug for ParsedFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedFile")
            .field("file_name", &self.file_name)
            .field("documents", &self.readable.documents.len())
            .finish()
    }
}

impl<'t> ParsedFile<'t> {
    /// Parses `text`. `file_name` names the file in errors and decides its role
    /// (kustomization, Argo CD override file, `Chart.yaml`), as in
    /// [`find_in_text_with`](super::find_in_text_with).
    ///
    /// # Errors
    ///
    /// [`TargetError::Syntax`] when the text is not YAML.
    pub fn parse(file_name: &'t str, text: &'t str) -> Result<Self, TargetError> {
        // Lines that libyaml reads but yaml-rust2 refuses are read through a padded copy
        // (same lines); every offset is into that copy.
        let readable = readable(file_name, text)?;
        let lines = LineIndex::new(&readable.text);
        Ok(ParsedFile {
            file_name,
            readable,
            lines,
            role: role(file_name),
        })
    }

    /// The file's documents as parsed.
    pub fn documents(&self) -> &[crate::yaml::model::Document] {
        &self.readable.documents
    }

    /// Every place in the file that refers to `image`, in source order: what
    /// [`find_in_text_with`](super::find_in_text_with) returns for the same text.
    ///
    /// # Errors
    ///
    /// [`TargetError::NothingToWrite`] for an image with neither tag nor digest, and
    /// [`TargetError::Unwritable`] for a reference that cannot be updated.
    pub fn find(
        &self,
        image: &ImageRef,
        options: &FindOptions,
    ) -> Result<Vec<Target>, TargetError> {
        super::has_something_to_write(image)?;
        let text: &str = &self.readable.text;
        let docs = &self.readable.documents;
        let file_name = self.file_name;
        // Flux markers first, over the whole file: a policy's fields belong together
        // even when only one of them names the image.
        let marked = flux::marked_fields(docs, text);
        let policies = flux::selected_policies(&marked, image, options);
        let mut targets = Vec::new();
        for (document, doc) in docs.iter().enumerate() {
            let Some(root) = doc.root.as_ref() else {
                continue;
            };
            let mut scan = Scan::new(file_name, image, options, &self.lines, document, root);
            // The specific rules first: they claim their scalars, so the generic walk
            // cannot produce a second target for the same place.
            let here: Vec<&Marked<'_>> = marked.iter().filter(|m| m.document == document).collect();
            scan.flux_markers(&here, &policies)?;
            if options.flux_policy.is_none() {
                match self.role {
                    Role::Kustomization => scan.kustomization(root)?,
                    Role::ArgoCdSource => scan.argocd_source(root, &KeyPath::default())?,
                    Role::Chart => scan.app_version(root)?,
                    Role::Plain => {}
                }
                scan.application(root)?;
                scan.walk(root)?;
            }
            targets.extend(scan.finish()?);
        }
        Ok(targets)
    }
}
