//! `tagbump image` over the real-world corpus (`tests/corpus-data/corpus/files`, see its
//! `README.md`): every image an independent reading of the files finds is pushed, and
//! every place a person would expect it to touch must be found.
//!
//! The reading is this test's own, over yaml-rust2's event stream turned into its
//! `Yaml` tree with aliases kept as aliases (not `targets`, not the project's YAML
//! model). From the formats themselves, it expects:
//!
//! - an `image:` string with a tag or digest: that string;
//! - an `image:` string without either: the sibling `tag:` / `imageTag:` when the map
//!   has one (the chart joins them), else the string itself (it gets pinned);
//! - a map with `repository` (optionally after a non-null `registry`) and a `tag` key,
//!   or `name` and `tag` without `repository`: that `tag`;
//! - a kustomization's `images[]` entry with `newTag`: its `newTag`, under the entry's
//!   effective image (`newName`, else `name`);
//! - an Argo CD Application's (or `.argocd-source-*.yaml`'s) `helm.parameters`:
//!   `X.repository` / `X.name` paired with `X.tag` (the tag's `value`), `image` /
//!   `*.image` (the `value`), and each `kustomize.images` string.
//!
//! Then, for each image (normalised name), discovery runs on every file with an
//! expected place for it, pushing `<image>:tagbump-corpus`, and the places found are
//! compared with the expected ones. The figure is printed; every expected place must
//! be found.
//!
//! Deliberate exclusions (documented here, counted in the figure):
//! - files yaml-rust2 cannot read (Helm templates with `{{ … }}` outside strings);
//! - values that use templating (`{{ … }}`): tagbump never writes them;
//! - `<<` merge keys and aliases: tagbump writes an anchored value once, where it is
//!   defined, so the reading expects places at the anchor and does not look through an
//!   alias (`image: *image`) or follow `<<`;
//! - strings that hold YAML (`helm.values`): not read inside here (their fixtures are in
//!   `fixtures/targets/argocd-application-helm-values`).
//!
//! Where the corpus is absent the test says so on stderr and checks nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tagbump::image::ImageRef;
use tagbump::targets::find_in_text;
use tagbump::yaml::{KeyPath, Segment};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

/// One expected place: file (relative to `files/`), document, key path.
type Place = (String, usize, String);

#[derive(Default)]
struct Reading {
    /// Normalised image name → its expected places.
    expected: BTreeMap<String, BTreeSet<Place>>,
    /// Files yaml-rust2 could not read.
    unreadable: usize,
    /// Values skipped because they are templated.
    templated: usize,
}

fn key(name: &str) -> Segment {
    Segment::Key(name.to_string())
}

fn path_string(segments: &[Segment]) -> String {
    KeyPath::new(segments.to_vec()).to_string()
}

fn string(y: &Yaml) -> Option<&str> {
    match y {
        Yaml::String(s) => Some(s),
        _ => None,
    }
}

fn is_scalar(y: &Yaml) -> bool {
    matches!(
        y,
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_) | Yaml::Null
    )
}

fn templated(y: &Yaml) -> bool {
    string(y).is_some_and(|s| s.contains("{{"))
}

/// The normalised name of a repository written without tag or digest.
fn repository_name(s: &str) -> Option<String> {
    let image = ImageRef::parse(s).ok()?;
    (image.tag().is_none() && image.digest().is_none()).then(|| image.name())
}

struct FileReader<'r> {
    reading: &'r mut Reading,
    file: String,
    document: usize,
}

impl FileReader<'_> {
    fn expect(&mut self, name: String, at: &[Segment]) {
        self.reading.expected.entry(name).or_default().insert((
            self.file.clone(),
            self.document,
            path_string(at),
        ));
    }

    fn get<'y>(map: &'y Yaml, k: &str) -> Option<&'y Yaml> {
        match map {
            Yaml::Hash(h) => h.get(&Yaml::String(k.to_string())),
            _ => None,
        }
    }

    /// Any YAML node: Helm maps and image strings everywhere.
    fn node(&mut self, y: &Yaml, at: &mut Vec<Segment>) {
        match y {
            Yaml::Hash(h) => {
                self.map(y, at);
                for (k, v) in h {
                    let Some(k) = string(k) else { continue };
                    if k == "<<" {
                        continue;
                    }
                    at.push(key(k));
                    self.node(v, at);
                    at.pop();
                }
            }
            Yaml::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(Segment::Index(i));
                    self.node(item, at);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn map(&mut self, map: &Yaml, at: &mut Vec<Segment>) {
        // `image:` strings.
        if let Some(image) = Self::get(map, "image") {
            if templated(image) {
                self.reading.templated += 1;
            } else if let Some(parsed) = string(image).and_then(|s| ImageRef::parse(s).ok()) {
                let untagged = parsed.tag().is_none() && parsed.digest().is_none();
                let sibling = ["tag", "imageTag"]
                    .into_iter()
                    .find(|k| Self::get(map, k).is_some_and(is_scalar));
                match (untagged, sibling) {
                    (true, Some(tag)) => {
                        if Self::get(map, tag).is_some_and(templated) {
                            self.reading.templated += 1;
                        } else {
                            at.push(key(tag));
                            self.expect(parsed.name(), at);
                            at.pop();
                        }
                    }
                    _ => {
                        at.push(key("image"));
                        self.expect(parsed.name(), at);
                        at.pop();
                    }
                }
            }
        }
        // `repository` (+ `registry`) or `name`, with a `tag`.
        let Some(tag) = Self::get(map, "tag").filter(|t| is_scalar(t)) else {
            return;
        };
        let repository = Self::get(map, "repository")
            .or_else(|| Self::get(map, "name"))
            .and_then(string);
        let Some(repository) = repository else {
            return;
        };
        if repository.contains("{{") || templated(tag) {
            self.reading.templated += 1;
            return;
        }
        let registry = Self::get(map, "registry")
            .and_then(string)
            .map(str::trim)
            .filter(|r| !r.is_empty() && *r != "~" && !r.eq_ignore_ascii_case("null"));
        if registry.is_some_and(|r| r.contains("{{")) {
            self.reading.templated += 1;
            return;
        }
        let written = match registry {
            Some(r) => format!("{}/{repository}", r.trim_end_matches('/')),
            None => repository.to_string(),
        };
        if let Some(name) = repository_name(&written) {
            at.push(key("tag"));
            self.expect(name, at);
            at.pop();
        }
    }

    fn kustomization(&mut self, root: &Yaml) {
        let Some(Yaml::Array(items)) = Self::get(root, "images") else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let effective = Self::get(item, "newName")
                .and_then(string)
                .or_else(|| Self::get(item, "name").and_then(string));
            let (Some(effective), Some(_)) = (effective, Self::get(item, "newTag")) else {
                continue;
            };
            if let Some(name) = repository_name(effective) {
                self.expect(name, &[key("images"), Segment::Index(i), key("newTag")]);
            }
        }
    }

    fn application(&mut self, root: &Yaml) {
        let api = Self::get(root, "apiVersion").and_then(string);
        let kind = Self::get(root, "kind").and_then(string);
        if !api.is_some_and(|a| a.starts_with("argoproj.io/")) || kind != Some("Application") {
            return;
        }
        let Some(spec) = Self::get(root, "spec") else {
            return;
        };
        if let Some(source) = Self::get(spec, "source") {
            self.argocd_source(source, vec![key("spec"), key("source")]);
        }
        if let Some(Yaml::Array(sources)) = Self::get(spec, "sources") {
            for (i, source) in sources.iter().enumerate() {
                self.argocd_source(source, vec![key("spec"), key("sources"), Segment::Index(i)]);
            }
        }
    }

    fn argocd_source(&mut self, source: &Yaml, at: Vec<Segment>) {
        let helm = Self::get(source, "helm");
        if let Some(Yaml::Array(params)) = helm.and_then(|h| Self::get(h, "parameters")) {
            let named: Vec<(usize, &str, &Yaml)> = params
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    Some((
                        i,
                        Self::get(p, "name").and_then(string)?,
                        Self::get(p, "value")?,
                    ))
                })
                .collect();
            let value_at = |i: usize| {
                let mut p = at.clone();
                p.extend([
                    key("helm"),
                    key("parameters"),
                    Segment::Index(i),
                    key("value"),
                ]);
                p
            };
            for &(_, name, value) in &named {
                if templated(value) {
                    continue;
                }
                let prefix = name
                    .strip_suffix("repository")
                    .or_else(|| name.strip_suffix("name"))
                    .filter(|p| p.is_empty() || p.ends_with('.'));
                if let Some(prefix) = prefix {
                    let tag_name = format!("{prefix}tag");
                    let repo = string(value).and_then(repository_name);
                    let tag = named.iter().find(|(_, n, _)| *n == tag_name);
                    if let (Some(repo), Some((j, _, _))) = (repo, tag) {
                        self.expect(repo, &value_at(*j));
                    }
                }
            }
            for &(i, name, value) in &named {
                if name == "image" || name.ends_with(".image") {
                    if let Some(parsed) = string(value).and_then(|s| ImageRef::parse(s).ok()) {
                        self.expect(parsed.name(), &value_at(i));
                    }
                }
            }
        }
        let images = Self::get(source, "kustomize").and_then(|k| Self::get(k, "images"));
        if let Some(Yaml::Array(images)) = images {
            for (i, item) in images.iter().enumerate() {
                let Some(s) = string(item) else { continue };
                let reference = s.split_once('=').map_or(s, |(_, new)| new);
                if let Ok(parsed) = ImageRef::parse(reference) {
                    let mut p = at.clone();
                    p.extend([key("kustomize"), key("images"), Segment::Index(i)]);
                    self.expect(parsed.name(), &p);
                }
            }
        }
    }
}

/// The documents of `text` as yaml-rust2 `Yaml` trees, with plain scalars typed as
/// YAML's core schema reads them and aliases left as [`Yaml::Alias`].
fn load(text: &str) -> Result<Vec<Yaml>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    // Open collections, and for mappings the key waiting for its value.
    let mut stack: Vec<(Yaml, Option<Yaml>)> = Vec::new();
    loop {
        let (event, _) = parser.next_token().map_err(|e| e.to_string())?;
        let node = match event {
            Event::StreamEnd => return Ok(docs),
            Event::Scalar(text, TScalarStyle::Plain, _, None) => Yaml::from_str(&text),
            Event::Scalar(text, ..) => Yaml::String(text),
            Event::Alias(id) => Yaml::Alias(id),
            Event::SequenceStart(..) => {
                stack.push((Yaml::Array(Vec::new()), None));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((Yaml::Hash(Hash::new()), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((node, _)) => node,
                None => return Err("unbalanced collection end".into()),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some((Yaml::Array(items), _)) => items.push(node),
            Some((Yaml::Hash(entries), pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    entries.insert(key, node);
                }
            },
            Some(_) => return Err("scalar on the collection stack".into()),
        }
    }
}

fn read_corpus(root: &Path, reading: &mut Reading) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read corpus dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, path));
            }
        }
    }
    files.sort();
    for (rel, path) in &files {
        let text = std::fs::read_to_string(path).expect("corpus file is UTF-8");
        let Ok(docs) = load(&text) else {
            reading.unreadable += 1;
            continue;
        };
        let base = Path::new(rel)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        for (document, doc) in docs.iter().enumerate() {
            let mut reader = FileReader {
                reading,
                file: rel.clone(),
                document,
            };
            reader.node(doc, &mut Vec::new());
            if matches!(
                base.as_str(),
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            ) {
                reader.kustomization(doc);
            }
            if base.starts_with(".argocd-source") {
                reader.argocd_source(doc, Vec::new());
            }
            reader.application(doc);
        }
    }
    files
}

#[test]
fn every_image_place_in_the_corpus_is_found() {
    // Vendored in the repository: a missing corpus fails, it is not skipped.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-data/corpus/files");
    assert!(root.is_dir(), "{} is missing", root.display());
    let mut reading = Reading::default();
    let files = read_corpus(&root, &mut reading);
    assert_eq!(files.len(), 384, "files under {}", root.display());
    let texts: BTreeMap<&str, String> = files
        .iter()
        .map(|(rel, path)| {
            (
                rel.as_str(),
                std::fs::read_to_string(path).expect("corpus file"),
            )
        })
        .collect();

    let (mut expected_total, mut found_total) = (0usize, 0usize);
    let mut misses = Vec::new();
    // Places found that the reading does not expect (Flux markers on other keys, …):
    // printed so that a reader can judge them, not counted as failures.
    let mut extras = Vec::new();
    for (name, places) in &reading.expected {
        let image = ImageRef::parse(&format!("{name}:tagbump-corpus")).expect("image");
        let by_file: BTreeSet<&str> = places.iter().map(|(f, _, _)| f.as_str()).collect();
        let mut found: BTreeSet<Place> = BTreeSet::new();
        for file in by_file {
            match find_in_text(file, &texts[file], &image) {
                Ok(targets) => found.extend(
                    targets
                        .iter()
                        .map(|t| (file.to_string(), t.document, t.path.to_string())),
                ),
                Err(e) => misses.push(format!("{name}: {file}: discovery failed: {e}")),
            }
        }
        expected_total += places.len();
        for place in places {
            if found.contains(place) {
                found_total += 1;
            } else {
                misses.push(format!(
                    "{name}: {} #{} {} not found",
                    place.0, place.1, place.2
                ));
            }
        }
        for (file, document, path) in found.difference(places) {
            extras.push(format!("{name}: {file} #{document} {path}"));
        }
    }
    eprintln!(
        "corpus images: {} files ({} unreadable by yaml-rust2, {} templated values skipped), \
         {} images, {found_total} of {expected_total} expected places found, \
         {} more places found than the independent reading expects{}",
        files.len(),
        reading.unreadable,
        reading.templated,
        reading.expected.len(),
        extras.len(),
        extras
            .iter()
            .map(|e| format!("\n  more: {e}"))
            .collect::<String>(),
    );
    assert!(
        expected_total > 0,
        "the reading found no image in the corpus"
    );
    assert!(
        misses.is_empty(),
        "{} of {expected_total} expected places missed:\n{}",
        misses.len(),
        misses.join("\n")
    );
}
