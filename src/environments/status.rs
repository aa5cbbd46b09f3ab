//! What every environment runs: for each image referenced under any environment's
//! paths, its tag, digest and number of places per environment.
//!
//! The places are found by the same search as `tagbump image`
//! ([`crate::targets::ParsedFile`], parsed once per file): the names that could be
//! images are gathered from each file ([`candidates`]) and each is searched for with a
//! probe reference
//! (the name with a made-up tag and digest). Only what that search reports counts, so
//! `status` and `image` always agree on what a place is. The probe's new values tell a
//! tag field from a digest field and from a whole reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::ser::{SerializeMap, SerializeStruct};
use serde::Serialize;

use crate::image::{split_image_string, ImageRef};
use crate::targets::{self, FindOptions, Target, TargetError, TargetKind};
use crate::yaml::model::{Document, Node, NodeKind};
use crate::yaml::Segment;

use super::{Config, ConfigError};

/// The probe's tag: no real tag field holds it.
const PROBE_TAG: &str = "tagbump-status-probe";
/// The probe's digest (hex alone for `sha` keys).
const PROBE_HEX: &str = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e";

/// Why the status could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The environments file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A path of an environment, or a file under it, could not be searched.
    #[error("environment \"{environment}\": {source}")]
    Search {
        /// The environment.
        environment: String,
        /// The cause.
        #[source]
        source: TargetError,
    },
}

impl StatusError {
    /// The stable name of the error's kind: `config` (or `io`: the environments file),
    /// `file-not-found` (a path of an environment is not there), `invalid-input` (it
    /// leads outside the repository) or `io`.
    pub fn kind(&self) -> &'static str {
        match self {
            StatusError::Config(e) => e.kind(),
            StatusError::Search { source, .. } => match source {
                TargetError::Syntax { .. } => "yaml",
                TargetError::Unwritable { .. } => "key-path",
                TargetError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    "file-not-found"
                }
                TargetError::Io { .. } => "io",
                _ => "invalid-input",
            },
        }
    }
}

/// The status of every image of every environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The environments, in the order of the file.
    pub environments: Vec<String>,
    /// The images, sorted by name.
    pub images: Vec<ImageStatus>,
    /// What was met under the paths and could not be searched, with why: entries that
    /// are not regular files or whose names are not UTF-8, files that cannot be read as
    /// YAML, references that cannot be read as places (a kustomize `images` entry with
    /// neither `newTag` nor `digest`, a place behind an alias). Not part of the JSON
    /// report; the CLI prints them as warnings.
    pub skipped: Vec<(PathBuf, String)>,
}

/// One image in every environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageStatus {
    /// The repository, normalised as `image` compares them and written in its
    /// familiar form (`nginx`, `ghcr.io/acme/api`).
    pub image: String,
    /// Per environment (in the order of the file), its state, or `None` where it does
    /// not reference the image.
    pub environments: Vec<(String, Option<EnvState>)>,
    /// Whether every environment that references the image agrees on its tag and
    /// digest (true too when only one does).
    pub in_sync: bool,
}

/// An image in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvState {
    /// The tag every place holds; `None` when they disagree (see `conflicts`) or hold none.
    pub tag: Option<String>,
    /// The digest every place holds; `None` when none does (or they disagree).
    pub digest: Option<String>,
    /// How many references: a Helm image map, a kustomize `images` entry, an image
    /// string, an Argo CD parameter pair each count once.
    pub places: usize,
    /// When the places disagree: every place with what it holds. Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

/// One place of an image in an environment whose places disagree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Conflict {
    /// The file, relative to the repository root, with `/` separators.
    pub file: String,
    /// The 1-based line of the place's tag (or digest, or reference). A place inside
    /// a YAML string (Argo CD `helm.values`) has the line of that string.
    pub line: usize,
    /// Its tag.
    pub tag: Option<String>,
    /// Its digest.
    pub digest: Option<String>,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Status", 2)?;
        st.serialize_field("environments", &self.environments)?;
        st.serialize_field("images", &self.images)?;
        st.end()
    }
}

impl Serialize for ImageStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Envs<'a>(&'a [(String, Option<EnvState>)]);
        impl Serialize for Envs<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (name, state) in self.0 {
                    map.serialize_entry(name, state)?;
                }
                map.end()
            }
        }
        let mut st = s.serialize_struct("ImageStatus", 3)?;
        st.serialize_field("image", &self.image)?;
        st.serialize_field("environments", &Envs(&self.environments))?;
        st.serialize_field("in_sync", &self.in_sync)?;
        st.end()
    }
}

/// Reads every environment of `config` under `root` and reports what each runs.
/// Nothing is written.
pub fn status(root: &Path, config: &Config) -> Result<Status, StatusError> {
    // image name → environment index → places
    let mut found: BTreeMap<String, BTreeMap<usize, Vec<Conflict>>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for (index, env) in config.environments.iter().enumerate() {
        let search = |source| StatusError::Search {
            environment: env.name.clone(),
            source,
        };
        let files = targets::find_yaml_files(root, &env.paths).map_err(search)?;
        let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        skipped.extend(files.skipped.into_iter().map(|(path, why)| {
            (
                path.strip_prefix(&real_root)
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
                why,
            )
        }));
        for path in files.files {
            let rel = path.strip_prefix(&real_root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            // What cannot be read is reported and left out, as `image` skips it while
            // walking; a path that is not there at all is an error (above).
            let text = match crate::yaml::file::read_text(&path) {
                Ok(text) => text,
                Err(e) => {
                    skipped.push((PathBuf::from(&name), e.to_string()));
                    continue;
                }
            };
            let (images, unread) = match file_places(&name, &text) {
                Ok(found) => found,
                Err(e) => {
                    skipped.push((PathBuf::from(&name), e.to_string()));
                    continue;
                }
            };
            skipped.extend(unread.into_iter().map(|why| (PathBuf::from(&name), why)));
            for (image, places) in images {
                found
                    .entry(image)
                    .or_default()
                    .entry(index)
                    .or_default()
                    .extend(places);
            }
        }
    }
    let environments: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
    let images = found
        .into_iter()
        .map(|(image, per_env)| {
            let envs: Vec<(String, Option<EnvState>)> = environments
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), per_env.get(&i).map(|p| state(p.clone()))))
                .collect();
            let states: Vec<&EnvState> = envs.iter().filter_map(|(_, s)| s.as_ref()).collect();
            let in_sync = states.iter().all(|s| s.conflicts.is_empty())
                && states
                    .windows(2)
                    .all(|w| (&w[0].tag, &w[0].digest) == (&w[1].tag, &w[1].digest));
            ImageStatus {
                image,
                environments: envs,
                in_sync,
            }
        })
        .collect();
    Ok(Status {
        environments,
        images,
        skipped,
    })
}

/// One environment's state from its places.
fn state(mut places: Vec<Conflict>) -> EnvState {
    let first = (places[0].tag.clone(), places[0].digest.clone());
    let agree = places
        .iter()
        .all(|p| (&p.tag, &p.digest) == (&first.0, &first.1));
    if agree {
        EnvState {
            tag: first.0,
            digest: first.1,
            places: places.len(),
            conflicts: Vec::new(),
        }
    } else {
        places.sort();
        EnvState {
            tag: None,
            digest: None,
            places: places.len(),
            conflicts: places,
        }
    }
}

/// Every image the search finds in one file, with its places, and the references it
/// could not read as places (why, for each: `image` would refuse them too).
type FilePlaces = (BTreeMap<String, Vec<Conflict>>, Vec<String>);

fn file_places(name: &str, text: &str) -> Result<FilePlaces, TargetError> {
    let mut out: BTreeMap<String, Vec<Conflict>> = BTreeMap::new();
    let mut unread = Vec::new();
    // Parsed once: each candidate is searched in the same parse.
    let parsed = targets::ParsedFile::parse(name, text)?;
    for candidate in candidates(parsed.documents()) {
        let Ok(probe) = ImageRef::parse(&format!(
            "{}:{PROBE_TAG}@sha256:{PROBE_HEX}",
            candidate.name()
        )) else {
            continue;
        };
        let found = match parsed.find(&probe, &FindOptions::default()) {
            Ok(found) => found,
            Err(TargetError::Unwritable { line, reason, .. }) => {
                unread.push(format!(
                    "line {line}: {}",
                    reason.replace(PROBE_TAG, "…").replace(PROBE_HEX, "…")
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        let places = places(name, &found);
        if !places.is_empty() {
            out.entry(candidate.familiar_name())
                .or_default()
                .extend(places);
        }
    }
    Ok((out, unread))
}

/// What one field of a place holds.
enum Field {
    Tag(String),
    Digest(Option<String>),
    Reference(Option<String>, Option<String>),
}

/// The field a target is, from the value the probe gives it.
fn field(target: &Target) -> Option<Field> {
    let new = after_equals(&target.new);
    let old = after_equals(&target.old);
    if new == PROBE_TAG {
        return Some(Field::Tag(old.to_string()));
    }
    if new == PROBE_HEX || new.strip_prefix("sha256:") == Some(PROBE_HEX) {
        return Some(Field::Digest(digest(old)));
    }
    if new.contains(PROBE_TAG) || new.contains(PROBE_HEX) {
        let raw = split_image_string(old)?;
        return Some(Field::Reference(
            raw.tag.map(|(t, _)| t.to_string()),
            raw.digest.map(|(d, _)| d.to_string()),
        ));
    }
    // A name field (a Flux `:name` marker): not a place of its own.
    None
}

/// An Argo CD `kustomize.images` item's image (after `=`).
fn after_equals(s: &str) -> &str {
    s.rsplit_once('=').map_or(s, |(_, r)| r)
}

/// A digest as the report shows it: `None` for an empty value, `sha256:` added to the
/// hex alone (a `sha` key).
fn digest(old: &str) -> Option<String> {
    let old = old.trim();
    if old.is_empty() {
        None
    } else if old.contains(':') {
        Some(old.to_string())
    } else {
        Some(format!("sha256:{old}"))
    }
}

/// The targets of one image in one file as places: the fields of one Helm map,
/// kustomize entry or Argo CD parameter list form one place per tag (or reference),
/// paired in order with the digests beside them.
fn places(file: &str, found: &[Target]) -> Vec<Conflict> {
    // (group, line, field) in source order; a YAML string's places keep its line.
    let mut fields: Vec<(String, usize, Field)> = Vec::new();
    for t in found {
        if t.kind == TargetKind::AppVersion {
            continue;
        }
        if t.within.is_empty() {
            if let Some(f) = field(t) {
                fields.push((group(t, None), t.line, f));
            }
        } else {
            for w in &t.within {
                if let Some(f) = field(w) {
                    fields.push((group(w, Some(t)), t.line, f));
                }
            }
        }
    }
    let mut groups: Vec<String> = Vec::new();
    for (g, _, _) in &fields {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    let mut out = Vec::new();
    for g in groups {
        let mut refs: Vec<(usize, Option<String>, Option<String>)> = Vec::new();
        let mut digests: Vec<(usize, Option<String>)> = Vec::new();
        for (_, line, f) in fields.iter().filter(|(h, _, _)| *h == g) {
            match f {
                Field::Tag(tag) => refs.push((*line, Some(tag.clone()), None)),
                Field::Reference(tag, d) => refs.push((*line, tag.clone(), d.clone())),
                Field::Digest(d) => digests.push((*line, d.clone())),
            }
        }
        let tag_fields = refs.len();
        if refs.is_empty() {
            refs = digests
                .iter()
                .map(|(line, d)| (*line, None, d.clone()))
                .collect();
        } else {
            for (i, (_, d)) in digests.iter().enumerate().take(tag_fields) {
                if refs[i].2.is_none() {
                    refs[i].2 = d.clone();
                }
            }
        }
        out.extend(refs.into_iter().map(|(line, tag, digest)| Conflict {
            file: file.to_string(),
            line,
            tag: tag.filter(|t| !t.trim().is_empty()),
            digest,
        }));
    }
    out
}

/// The node a target's field belongs to: the map holding it, or for an Argo CD
/// parameter (`…parameters[i].value`) the parameter list.
fn group(t: &Target, outer: Option<&Target>) -> String {
    let segments = t.path.segments();
    let up = match (t.kind, segments) {
        (TargetKind::ArgoCdParameter, [.., Segment::Index(_), Segment::Key(v)]) if v == "value" => {
            2
        }
        _ => 1,
    };
    let parent = t.path.prefix(segments.len().saturating_sub(up));
    match outer {
        Some(o) => format!("{}:{} > {}:{parent}", o.document, o.path, t.document),
        None => format!("{}:{parent}", t.document),
    }
}

/// The repository names in one file that could be images: every string that parses as
/// a reference (its name; after `=` too), `registry` + `repository` (or `name`) pairs,
/// and the same inside strings that hold YAML. The search decides which are images.
fn candidates(documents: &[Document]) -> Vec<ImageRef> {
    let mut names: Vec<String> = Vec::new();
    for doc in documents {
        if let Some(root) = &doc.root {
            collect(root, &mut names, 0);
        }
    }
    let mut out: Vec<ImageRef> = Vec::new();
    for n in names {
        if let Ok(image) = ImageRef::parse(&n) {
            if image.tag().is_none()
                && image.digest().is_none()
                && !out.iter().any(|o| o.same_repository(&image))
            {
                out.push(image);
            }
        }
    }
    out
}

fn collect(node: &Node, names: &mut Vec<String>, depth: usize) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match &node.kind {
            NodeKind::Scalar(s) => {
                let value = s.value.trim();
                if value.contains('\n') {
                    if depth == 0 {
                        if let Ok(inner) = crate::yaml::parse_readable(value) {
                            for doc in &inner.documents {
                                if let Some(root) = &doc.root {
                                    collect(root, names, depth + 1);
                                }
                            }
                        }
                    }
                    continue;
                }
                for part in [value, after_equals(value)] {
                    if let Some(raw) = split_image_string(part) {
                        names.push(raw.name.to_string());
                    }
                }
            }
            NodeKind::Mapping { entries, .. } => {
                let text = |key: &str| {
                    node.get(key)
                        .and_then(Node::as_scalar)
                        .map(|s| s.value.trim().to_string())
                };
                if let (Some(registry), Some(repo)) = (
                    text("registry"),
                    text("repository").or_else(|| text("name")),
                ) {
                    if !registry.is_empty() {
                        names.push(format!("{}/{repo}", registry.trim_end_matches('/')));
                    }
                }
                stack.extend(entries.iter().map(|(_, v)| v));
            }
            NodeKind::Sequence { items, .. } => stack.extend(items.iter()),
            NodeKind::Alias(_) => {}
        }
    }
}
