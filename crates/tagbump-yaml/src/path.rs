//! Key paths: `image.tag`, `containers[0].image`, `podAnnotations."app.kubernetes.io/version"`.

use std::fmt;
use std::str::FromStr;

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from a document's root to a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct KeyPath {
    segments: Vec<Segment>,
}

/// A key path that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key path {path:?}: {reason}")]
pub struct PathError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl KeyPath {
    /// Builds a path from segments.
    pub fn new(segments: Vec<Segment>) -> Self {
        KeyPath { segments }
    }

    /// Parses `a.b[0]."c.d"`. Keys with dots, slashes, brackets or quotes are written in
    /// double or single quotes (`"app.kubernetes.io/version"`); `\"` and `\\` escape inside
    /// double quotes, `''` inside single quotes.
    pub fn parse(text: &str) -> Result<KeyPath, PathError> {
        let err = |reason: &str| PathError {
            path: text.to_string(),
            reason: reason.to_string(),
        };
        let chars: Vec<char> = text.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        let mut expect_key = true;
        if chars.is_empty() {
            return Err(err("the path is empty"));
        }
        while i < chars.len() {
            match chars[i] {
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .ok_or_else(|| err("unclosed '['"))?;
                    let inner: String = chars[i + 1..i + close].iter().collect();
                    let index = inner
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| err(&format!("'[{inner}]' is not a sequence index")))?;
                    segments.push(Segment::Index(index));
                    i += close + 1;
                    expect_key = false;
                }
                '.' if !expect_key => {
                    i += 1;
                    expect_key = true;
                    if i == chars.len() {
                        return Err(err("the path ends with '.'"));
                    }
                }
                '.' => return Err(err("empty key between dots")),
                quote @ ('"' | '\'') if expect_key => {
                    let mut key = String::new();
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(err("unclosed quote")),
                            Some('\\') if quote == '"' => {
                                key.push(*chars.get(i + 1).ok_or_else(|| err("dangling '\\'"))?);
                                i += 2;
                            }
                            Some('\'') if quote == '\'' && chars.get(i + 1) == Some(&'\'') => {
                                key.push('\'');
                                i += 2;
                            }
                            Some(c) if *c == quote => {
                                i += 1;
                                break;
                            }
                            Some(c) => {
                                key.push(*c);
                                i += 1;
                            }
                        }
                    }
                    segments.push(Segment::Key(key));
                    expect_key = false;
                }
                _ if expect_key => {
                    let start = i;
                    while i < chars.len() && !matches!(chars[i], '.' | '[') {
                        if matches!(chars[i], ']' | '"' | '\'') {
                            return Err(err(&format!(
                                "unexpected '{}' in a key (quote keys that contain it)",
                                chars[i]
                            )));
                        }
                        i += 1;
                    }
                    segments.push(Segment::Key(chars[start..i].iter().collect()));
                    expect_key = false;
                }
                c => return Err(err(&format!("expected '.' or '[' before '{c}'"))),
            }
        }
        Ok(KeyPath { segments })
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The first `n` segments.
    pub fn prefix(&self, n: usize) -> KeyPath {
        KeyPath {
            segments: self.segments[..n.min(self.segments.len())].to_vec(),
        }
    }

    /// A path with one more segment.
    pub fn child(&self, segment: Segment) -> KeyPath {
        let mut segments = self.segments.clone();
        segments.push(segment);
        KeyPath { segments }
    }

    /// Whether the path has no segments (the document root).
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.segments.len()
    }
}

impl FromStr for KeyPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyPath::parse(s)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("(root)");
        }
        for (n, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !k.is_empty() && !k.contains(['.', '[', ']', '"', '\'']);
                    if plain {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &str) -> Vec<Segment> {
        KeyPath::parse(p).expect("parses").segments
    }

    #[test]
    fn parses_the_documented_forms() {
        use Segment::{Index, Key};
        assert_eq!(
            keys("image.tag"),
            vec![Key("image".into()), Key("tag".into())]
        );
        assert_eq!(
            keys("spec.template.spec.containers[0].image"),
            vec![
                Key("spec".into()),
                Key("template".into()),
                Key("spec".into()),
                Key("containers".into()),
                Index(0),
                Key("image".into())
            ]
        );
        assert_eq!(
            keys("podAnnotations.\"app.kubernetes.io/version\""),
            vec![
                Key("podAnnotations".into()),
                Key("app.kubernetes.io/version".into())
            ]
        );
        assert_eq!(keys("a.'it''s'"), vec![Key("a".into()), Key("it's".into())]);
        assert_eq!(keys("images[1]"), vec![Key("images".into()), Index(1)]);
        assert_eq!(keys("[2].x"), vec![Index(2), Key("x".into())]);
        assert_eq!(keys("a/b.c-d"), vec![Key("a/b".into()), Key("c-d".into())]);
    }

    #[test]
    fn rejects_malformed_paths() {
        for p in [
            "", ".a", "a.", "a..b", "a[x]", "a[0", "a.\"b", "a]b", "a[0]b",
        ] {
            assert!(KeyPath::parse(p).is_err(), "{p:?} should be rejected");
        }
    }

    #[test]
    fn display_round_trips() {
        for p in ["image.tag", "a[0].b", "x.\"a.b/c\"", "[3]"] {
            let parsed = KeyPath::parse(p).expect("parses");
            assert_eq!(
                KeyPath::parse(&parsed.to_string()).expect("reparses"),
                parsed
            );
        }
    }
}
