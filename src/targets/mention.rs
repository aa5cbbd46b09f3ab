//! Where a file names an image without tagbump having a place to write: the image's
//! repository found as text (in a file that could not be read as YAML, see
//! [`file_mentions_repository`]), and scalars that name the image where no tag goes
//! beside them ([`name_mentions`]).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::image::{split_image_string, ImageRef};
use crate::yaml::model::{LineIndex, Node, NodeKind};
use crate::yaml::{KeyPath, Segment};

use super::scan::{key, null_or_empty, readable, templated};
use super::TargetError;

/// The text by which a file refers to `image`: the repository path without its
/// registry (`acme/api` for `ghcr.io/acme/api`, `bitnami/redis` for
/// `docker.io/bitnami/redis`), and without `library/` for an official Docker Hub image
/// (`nginx`). Charts that keep the registry in a key of its own (`registry: ghcr.io`,
/// `repository: acme/api`) hold exactly this text too.
pub fn repository_text(image: &ImageRef) -> &str {
    let path = image.path();
    match path.strip_prefix("library/") {
        Some(rest) if image.domain() == "docker.io" && !rest.contains('/') => rest,
        _ => path,
    }
}

/// Whether `bytes` contain the image's [`repository_text`] as a name of its own: not
/// preceded by a letter, digit, `.`, `_` or `-` (so `nginx` is not found in
/// `ingress-nginx`), and not followed by a letter, digit, `_`, `-` or `/`, nor by `.`
/// and a letter or digit (`nginx-exporter`, `acme/api/v2` and `nginx.example.com` name
/// other things). A `/` before it is allowed: `ghcr.io/acme/api`.
pub fn mentions_repository(bytes: &[u8], image: &ImageRef) -> bool {
    find_name(bytes, repository_text(image).as_bytes()).is_some()
}

/// The offset of the first standalone occurrence of `needle` (see
/// [`mentions_repository`]). A match at the very end of `bytes` counts.
fn find_name(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || bytes.len() < needle.len() {
        return None;
    }
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    (0..=bytes.len() - needle.len()).find(|&at| {
        if &bytes[at..at + needle.len()] != needle {
            return false;
        }
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| name_byte(b) || b == b'.') {
            return false;
        }
        let after = bytes.get(at + needle.len()).copied();
        let next = bytes.get(at + needle.len() + 1).copied();
        match after {
            Some(b) if name_byte(b) || b == b'/' => false,
            Some(b'.') => !next.is_some_and(|n| n.is_ascii_alphanumeric()),
            _ => true,
        }
    })
}

/// Whether the file at `path` contains the image's [`repository_text`] (see
/// [`mentions_repository`]), read in pieces so that a file too large to edit is looked
/// through without holding it in memory. Only regular files are read (a FIFO could
/// block forever): anything else is `false`.
pub fn file_mentions_repository(path: &Path, image: &ImageRef) -> std::io::Result<bool> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(false);
    }
    let needle = repository_text(image).as_bytes();
    let mut file = File::open(path)?;
    let mut chunk = vec![0u8; 1 << 16];
    // The end of the previous piece: a name split between two pieces, with the byte
    // before it, is still seen whole.
    let keep = needle.len() + 2;
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut chunk)?;
        let at_end = n == 0;
        window.extend_from_slice(&chunk[..n]);
        // A match is judged only once the two bytes after it are known (or the file
        // has ended).
        let judged = if at_end {
            window.len()
        } else {
            window.len().saturating_sub(2)
        };
        if let Some(at) = find_name(&window, needle) {
            if at + needle.len() <= judged {
                return Ok(true);
            }
        }
        if at_end {
            return Ok(false);
        }
        let drop = window.len().saturating_sub(keep);
        window.drain(..drop);
    }
}

/// Why a [`NameMention`] is no place to write the tag, and so what could be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamePlace {
    /// An Argo CD Helm parameter (`- name: image.name` / `value: quay.io/acme/app`)
    /// with no parameter for the tag beside it that tagbump knows.
    ArgoCdParameter {
        /// The parameter's `name`.
        parameter: String,
    },
    /// A map whose `repository` / `name` names the image but that has no `tag` (or
    /// `digest`) key; `tag_path` is where its tag would go, if that is the key the
    /// chart reads.
    MapWithoutTag {
        /// Where the tag key would go.
        tag_path: KeyPath,
    },
    /// A map whose `repository` / `name` names the image and whose `tag` is templated
    /// (`{{ … }}`), so it is not written: its value comes from elsewhere.
    TemplatedTag {
        /// The templated tag.
        tag_path: KeyPath,
    },
    /// Any other value holding the name (or a whole reference) under a key tagbump
    /// does not write (`env[0].value`, `args[1]`).
    Value,
}

/// A scalar that names the image's repository where tagbump has no place to write the
/// tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameMention {
    /// The document of the file (0-based).
    pub document: usize,
    /// Where the scalar is in its document.
    pub path: KeyPath,
    /// 1-based line.
    pub line: usize,
    /// The scalar's value.
    pub value: String,
    /// What the place is, and so what could be written instead.
    pub place: NamePlace,
}

/// The mapping holding a node and the node's key there (`None` in a sequence or at the
/// root).
type Parent<'a> = Option<(&'a Node, &'a str)>;

/// Every scalar of `text` whose value names the image's repository: whole
/// (`quay.io/acme/app`, or a reference `quay.io/acme/app:1.0` under a key tagbump does
/// not write), or as a `repository` / `name` after a sibling `registry`. Meant for a
/// file in which [`find_in_text_with`](super::find_in_text_with) found no place: it
/// says where the image is named instead, and what kind of place that is.
pub fn name_mentions(
    file_name: &str,
    text: &str,
    image: &ImageRef,
) -> Result<Vec<NameMention>, TargetError> {
    let readable = readable(file_name, text)?;
    let lines = LineIndex::new(&readable.text);
    let mut found = Vec::new();
    for (document, doc) in readable.documents.iter().enumerate() {
        let Some(root) = doc.root.as_ref() else {
            continue;
        };
        let mut stack: Vec<(&Node, KeyPath, Parent<'_>)> = vec![(root, KeyPath::default(), None)];
        while let Some((node, path, parent)) = stack.pop() {
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    for (k, v) in entries.iter().rev() {
                        let Some(name) = k.as_scalar().map(|s| s.value.as_str()) else {
                            continue;
                        };
                        stack.push((v, path.child(key(name)), Some((node, name))));
                    }
                }
                NodeKind::Sequence { items, .. } => {
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push((item, path.child(Segment::Index(i)), None));
                    }
                }
                NodeKind::Scalar(scalar) => {
                    if !names(image, parent, &scalar.value) || has_a_tag(parent) {
                        continue;
                    }
                    let parent_path = path.prefix(path.len().saturating_sub(1));
                    found.push(NameMention {
                        document,
                        line: lines.line(scalar.span.start.max(node.start)),
                        value: scalar.value.clone(),
                        place: place(parent, &parent_path),
                        path,
                    });
                }
                NodeKind::Alias(_) => {}
            }
        }
    }
    found.sort_by_key(|m| (m.document, m.line));
    Ok(found)
}

/// Whether `value` (of key `parent.1` in the mapping `parent.0`, if in a mapping) names
/// the image: whole, or, for `repository` / `name`, after the map's `registry`.
fn names(image: &ImageRef, parent: Parent<'_>, value: &str) -> bool {
    if templated(value) || value.trim().is_empty() {
        return false;
    }
    if split_image_string(value).is_some_and(|raw| image.matches_name(raw.name)) {
        return true;
    }
    let Some((map, "repository" | "name")) = parent else {
        return false;
    };
    map.get("registry")
        .filter(|r| !null_or_empty(r))
        .and_then(Node::as_scalar)
        .filter(|r| !templated(&r.value))
        .is_some_and(|registry| {
            image.matches_name(&format!(
                "{}/{value}",
                registry.value.trim().trim_end_matches('/')
            ))
        })
}

/// Whether the name is a map's `repository` / `name` beside a `tag` that is a place
/// (not templated): then it is no name-only mention (the search restricted to a Flux
/// policy, say, left the place out on purpose).
fn has_a_tag(parent: Parent<'_>) -> bool {
    let Some((map, "repository" | "name")) = parent else {
        return false;
    };
    map.get("tag")
        .and_then(Node::as_scalar)
        .is_some_and(|tag| !templated(&tag.value))
}

/// What kind of place a name at `key` of `map` (at `map_path`) is.
fn place(parent: Parent<'_>, map_path: &KeyPath) -> NamePlace {
    let Some((map, key_name)) = parent else {
        return NamePlace::Value;
    };
    let segments = map_path.segments();
    let in_parameters = segments.len() >= 2
        && matches!(&segments[segments.len() - 2], Segment::Key(k) if k == "parameters");
    if key_name == "value" && in_parameters {
        if let Some(parameter) = map.get("name").and_then(Node::as_scalar) {
            return NamePlace::ArgoCdParameter {
                parameter: parameter.value.clone(),
            };
        }
    }
    if matches!(key_name, "repository" | "name") {
        let tag_path = map_path.child(key("tag"));
        return match map.get("tag").and_then(Node::as_scalar) {
            Some(tag) if templated(&tag.value) => NamePlace::TemplatedTag { tag_path },
            _ => NamePlace::MapWithoutTag { tag_path },
        };
    }
    NamePlace::Value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).expect("image")
    }

    #[test]
    fn the_text_looked_for_drops_the_registry_and_library() {
        assert_eq!(repository_text(&image("nginx:1")), "nginx");
        assert_eq!(repository_text(&image("bitnami/redis:7")), "bitnami/redis");
        assert_eq!(repository_text(&image("ghcr.io/acme/api:v1")), "acme/api");
        assert_eq!(repository_text(&image("quay.io/library/x:v1")), "library/x");
    }

    #[test]
    fn a_name_counts_only_standing_on_its_own() {
        let nginx = image("nginx:1.27");
        for yes in [
            "image: nginx:1.25",
            "repository: library/nginx\n",
            "image: docker.io/nginx@sha256:abc",
            "  - \"nginx\"",
            "nginx.",
            "nginx",
        ] {
            assert!(mentions_repository(yes.as_bytes(), &nginx), "{yes}");
        }
        for no in [
            "image: ingress-nginx/controller:v1",
            "name: nginx-exporter",
            "host: nginx.example.com",
            "repo: nginx/unit",
            "my_nginx",
            "",
        ] {
            assert!(!mentions_repository(no.as_bytes(), &nginx), "{no}");
        }
    }

    #[test]
    fn a_large_file_is_read_in_pieces_and_a_name_across_two_pieces_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let api = image("ghcr.io/acme/api:v2");
        let path = dir.path().join("big.yaml");
        for at in [
            0,
            (1 << 16) - 4,
            (1 << 16) - 8,
            (1 << 16) - 9,
            1 << 16,
            3 << 16,
        ] {
            let mut bytes = vec![b' '; 4 << 16];
            bytes[at..at + 8].copy_from_slice(b"acme/api");
            std::fs::write(&path, &bytes).expect("write");
            assert!(file_mentions_repository(&path, &api).expect("read"), "{at}");
            // Followed by a name byte, it is another name.
            bytes[at + 8] = b'2';
            std::fs::write(&path, &bytes).expect("write");
            assert!(
                !file_mentions_repository(&path, &api).expect("read"),
                "{at}"
            );
        }
        // At the very end of the file.
        let mut bytes = vec![b' '; 1 << 16];
        bytes.extend_from_slice(b"acme/api");
        std::fs::write(&path, &bytes).expect("write");
        assert!(file_mentions_repository(&path, &api).expect("read"));
    }

    #[test]
    fn names_without_a_place_for_a_tag_are_listed_with_what_kind_of_place_they_are() {
        let quarkus = image("quay.io/acme/quarkus:1.2");
        let text = "\
image:
  name: quay.io/acme/quarkus
other:
  registry: quay.io
  repository: acme/quarkus
templated:
  repository: quay.io/acme/quarkus
  tag: \"{{ .Values.global.tag }}\"
env:
  - name: IMAGE
    value: quay.io/acme/quarkus:1.0
args: [--image, quay.io/acme/quarkus]
spec:
  source:
    helm:
      parameters:
        - name: app.image
          value: quay.io/acme/quarkus
unrelated: quay.io/acme/other
placed:
  repository: quay.io/acme/quarkus
  tag: \"1.0\"
";
        let found = name_mentions("values.yaml", text, &quarkus).expect("parses");
        let got: Vec<(usize, String, NamePlace)> = found
            .iter()
            .map(|m| (m.line, m.path.to_string(), m.place.clone()))
            .collect();
        let path = |p: &str| KeyPath::parse(p).expect("path");
        assert_eq!(
            got,
            vec![
                (
                    2,
                    "image.name".into(),
                    NamePlace::MapWithoutTag {
                        tag_path: path("image.tag")
                    }
                ),
                (
                    5,
                    "other.repository".into(),
                    NamePlace::MapWithoutTag {
                        tag_path: path("other.tag")
                    }
                ),
                (
                    7,
                    "templated.repository".into(),
                    NamePlace::TemplatedTag {
                        tag_path: path("templated.tag")
                    }
                ),
                (11, "env[0].value".into(), NamePlace::Value),
                (12, "args[1]".into(), NamePlace::Value),
                (
                    18,
                    "spec.source.helm.parameters[0].value".into(),
                    NamePlace::ArgoCdParameter {
                        parameter: "app.image".into()
                    }
                ),
            ]
        );
    }
}
