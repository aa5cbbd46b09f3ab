//! A read-only model of a YAML stream that remembers where every node stands in the
//! source text (byte offsets), built from `yaml-rust2`'s event parser.
//!
//! `yaml-rust2` reports the *start* of each event as a character index. This module turns
//! that into byte offsets and works out where each scalar *ends* from its style (plain,
//! quoted, block), checking the raw text against the parsed value so that a span is only
//! ever reported when it provably covers the scalar.

use std::ops::Range;

use super::block;

mod spans;
pub(crate) use spans::scalar_end;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// How a scalar is written in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

/// A scalar node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    /// The parsed value.
    pub value: String,
    /// How it is written.
    pub style: ScalarStyle,
    /// Byte range of the scalar's text in the source (quotes and block header included;
    /// a block scalar's trailing blank lines excluded). Empty for an empty plain scalar
    /// (`key:` with nothing after it).
    pub span: Range<usize>,
    /// Position of this scalar among all scalar events of the stream (keys included),
    /// counting from 0. Identifies the scalar across re-parses of the same text.
    pub ordinal: usize,
}

/// One node of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// Byte offset where the node's content starts (after its anchor and tag).
    pub start: usize,
    /// Byte offset just after the node's content.
    pub end: usize,
    /// `&name` on this node, if any.
    pub anchor: Option<String>,
    /// The node's tag (`!!str`, `!custom`), if any.
    pub tag: Option<String>,
}

/// The kinds of node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A scalar.
    Scalar(Scalar),
    /// A mapping: entries in source order.
    Mapping {
        /// Key/value pairs.
        entries: Vec<(Node, Node)>,
        /// `{ … }` rather than block style.
        flow: bool,
    },
    /// A sequence.
    Sequence {
        /// Items in order.
        items: Vec<Node>,
        /// `[ … ]` rather than block style.
        flow: bool,
    },
    /// `*name`.
    Alias(String),
}

impl Node {
    /// The scalar, when this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in this mapping (compared with the key scalar's parsed value).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes of `key` in this mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Mapping { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// A short word for error messages: "a mapping", "a sequence", …
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(_) => "a scalar",
            NodeKind::Mapping { .. } => "a mapping",
            NodeKind::Sequence { .. } => "a sequence",
            NodeKind::Alias(_) => "an alias",
        }
    }
}

/// One document of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The root node (`None` for an empty document).
    pub root: Option<Node>,
}

/// A parse failure with its position (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What the parser said.
    pub message: String,
}

/// Byte offsets ↔ lines.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text` (after `\n`).
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte offset of the start of 1-based `line` (the end of the text past the last).
    pub fn offset_of_line(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or_else(|| self.starts.last().copied().unwrap_or(0))
    }

    /// Byte offset of the start of the line holding `byte`.
    pub fn line_start(&self, byte: usize) -> usize {
        self.starts[self.line(byte) - 1]
    }

    /// 1-based column (in bytes) of a byte offset.
    pub fn column(&self, byte: usize) -> usize {
        byte - self.line_start(byte) + 1
    }
}

/// Converts the parser's positions into byte offsets.
///
/// yaml-rust2's `Marker::index` is meant to count characters but, in block scalars, adds
/// whole lines by their byte length, so it drifts after non-ASCII text. Its line number
/// is exact and its column is counted afresh on every line, so the byte offset is taken
/// from (line, column) instead.
///
/// On a line with non-ASCII text the column is counted out in characters, from the last
/// position asked for on the same line when that lies before: events come in source
/// order, so a long line (a minified flow collection) is walked once, not once per event.
struct Positions<'a> {
    text: &'a str,
    lines: LineIndex,
    ascii: bool,
    /// The last (line, column, byte offset) worked out.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        Positions {
            text,
            lines: LineIndex::new(text),
            ascii: text.is_ascii(),
            last: std::cell::Cell::new((0, 0, 0)),
        }
    }

    fn byte(&self, mark: &Marker) -> usize {
        let line = mark.line().max(1);
        let Some(&start) = self.lines.starts.get(line - 1) else {
            return self.text.len();
        };
        if self.ascii {
            return (start + mark.col()).min(self.text.len());
        }
        let end = self
            .lines
            .starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let col = mark.col();
        let (from_col, from) = match self.last.get() {
            (l, c, b) if l == line && c <= col => (c, b),
            _ => (0, start),
        };
        let byte = self.text[from..end]
            .char_indices()
            .nth(col - from_col)
            .map_or(end, |(i, _)| from + i);
        self.last.set((line, col, byte));
        byte
    }
}

/// An event with its byte offset.
#[derive(Clone, Debug)]
pub(crate) struct RawEvent {
    pub event: Event,
    pub byte: usize,
}

/// Deeper nesting than this is refused: no values file needs it, and it keeps every
/// walk over the tree (and dropping it) far from the stack's limit.
pub const MAX_DEPTH: usize = 512;

/// Runs the event parser over `text`, collecting the events.
#[cfg(test)]
pub(crate) fn events(text: &str) -> Result<Vec<RawEvent>, SyntaxError> {
    let mut out = Vec::new();
    for_each_event(text, |raw| {
        out.push(raw);
        Ok::<(), SyntaxError>(())
    })?;
    Ok(out)
}

/// Runs the event parser over `text`, handing each event to `f` as it comes (the
/// events of a large file are never all held at once).
pub(crate) fn for_each_event<E: From<SyntaxError>>(
    text: &str,
    mut f: impl FnMut(RawEvent) -> Result<(), E>,
) -> Result<(), E> {
    // yaml-rust2 reads a leading byte order mark as part of the first scalar: parse what
    // follows it, and shift every position by its length.
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let body = &text[bom..];
    let map = Positions::new(body);
    let error_at = |byte: usize, message: String| {
        let lines = LineIndex::new(text);
        SyntaxError {
            line: lines.line(byte),
            column: lines.column(byte),
            message,
        }
    };
    // YAML allows only printable characters (tab, line breaks and the rest of Unicode
    // but C0/C1 controls, surrogates and U+FFFE/U+FFFF). yaml-rust2 would stop reading
    // silently at a NUL: refuse such input instead.
    if let Some((byte, c)) = body.char_indices().find(|(_, c)| !is_printable(*c)) {
        return Err(E::from(error_at(
            bom + byte,
            format!(
                "control character U+{:04X} is not allowed in YAML",
                c as u32
            ),
        )));
    }
    // A carriage return alone is a line break for YAML; tagbump keeps LF and CRLF files
    // byte for byte but does not handle the pre-2001 Mac convention.
    if let Some(byte) = body
        .match_indices('\r')
        .map(|(i, _)| i)
        .find(|i| body.as_bytes().get(i + 1) != Some(&b'\n'))
    {
        return Err(E::from(error_at(
            bom + byte,
            "a carriage return without a line feed (old Mac line ending) is not supported; use LF or CRLF".to_string(),
        )));
    }
    let mut parser = Parser::new_from_str(body);
    let mut depth = 0usize;
    loop {
        let (event, mark): (Event, Marker) = parser
            .next_token()
            .map_err(|e| E::from(error_at(bom + map.byte(e.marker()), e.info().to_string())))?;
        let byte = bom + map.byte(&mark);
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(E::from(error_at(
                        byte,
                        format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
                    )));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        let end = matches!(event, Event::StreamEnd);
        f(RawEvent { event, byte })?;
        if end {
            return Ok(());
        }
    }
}

/// YAML's `c-printable` set.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Parses a YAML stream into documents with source positions.
pub fn parse(text: &str) -> Result<Vec<Document>, SyntaxError> {
    parse_observed(text, |_| Ok::<(), SyntaxError>(()))
}

/// Like [`parse`], showing each event to `observe` first (the editor counts aliases
/// with it); an error from `observe` stops the parse.
pub(crate) fn parse_observed<E: From<SyntaxError>>(
    text: &str,
    mut observe: impl FnMut(&Event) -> Result<(), E>,
) -> Result<Vec<Document>, E> {
    let mut builder = Builder::new(text);
    for_each_event(text, |raw| {
        observe(&raw.event)?;
        builder.push(&raw).map_err(E::from)
    })?;
    Ok(builder.docs)
}

enum Frame {
    Mapping {
        node: Node,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
    Sequence {
        node: Node,
        items: Vec<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    lines: LineIndex,
    docs: Vec<Document>,
    stack: Vec<Frame>,
    root: Option<Node>,
    prev_end: usize,
    ordinal: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder {
            text,
            lines: LineIndex::new(text),
            docs: Vec::new(),
            stack: Vec::new(),
            root: None,
            prev_end: 0,
            ordinal: 0,
        }
    }

    fn error(&self, byte: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.lines.line(byte),
            column: self.lines.column(byte),
            message: message.into(),
        }
    }

    /// Takes the next event.
    fn push(&mut self, raw: &RawEvent) -> Result<(), SyntaxError> {
        {
            let byte = raw.byte;
            let finished: Option<Node> = match &raw.event {
                Event::Nothing | Event::StreamStart | Event::StreamEnd => None,
                Event::DocumentStart => {
                    self.root = None;
                    None
                }
                Event::DocumentEnd => {
                    self.docs.push(Document {
                        root: self.root.take(),
                    });
                    None
                }
                Event::Alias(_) => {
                    let name = alias_name(self.text, byte);
                    Some(Node {
                        end: byte + 1 + name.len(),
                        kind: NodeKind::Alias(name),
                        start: byte,
                        anchor: None,
                        tag: None,
                    })
                }
                Event::Scalar(value, style, anchor_id, tag) => {
                    self.ordinal += 1;
                    let style = convert_style(*style);
                    let span = if value.is_empty() && style == ScalarStyle::Plain {
                        // An empty scalar has no text; the parser points at whatever comes next.
                        let at = self.prev_end.min(byte);
                        at..at
                    } else {
                        // The parser marks a block scalar at its first content character;
                        // its text starts at the `|`/`>` header.
                        let start = match style {
                            ScalarStyle::Literal | ScalarStyle::Folded => block::header_before(
                                self.text,
                                byte,
                                value.trim_matches('\n').is_empty(),
                            ),
                            _ => Some(byte),
                        };
                        let end = start
                            .and_then(|start| scalar_end(self.text, start, style, value))
                            .ok_or_else(|| {
                                self.error(byte, "could not locate the text of this scalar")
                            })?;
                        start.unwrap_or(byte)..end
                    };
                    Some(Node {
                        start: span.start,
                        end: span.end,
                        anchor: self.anchor(*anchor_id, byte),
                        tag: tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix)),
                        kind: NodeKind::Scalar(Scalar {
                            value: value.clone(),
                            style,
                            span,
                            ordinal: self.ordinal - 1,
                        }),
                    })
                }
                Event::MappingStart(anchor_id, tag) | Event::SequenceStart(anchor_id, tag) => {
                    let is_map = matches!(raw.event, Event::MappingStart(..));
                    let node = Node {
                        kind: NodeKind::Alias(String::new()),
                        start: byte,
                        end: byte,
                        anchor: self.anchor(*anchor_id, byte),
                        tag: tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix)),
                    };
                    self.stack.push(if is_map {
                        Frame::Mapping {
                            node,
                            entries: Vec::new(),
                            pending_key: None,
                        }
                    } else {
                        Frame::Sequence {
                            node,
                            items: Vec::new(),
                        }
                    });
                    None
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    let frame = self
                        .stack
                        .pop()
                        .ok_or_else(|| self.error(byte, "unbalanced collection end"))?;
                    Some(self.close(frame, byte))
                }
            };
            if let Some(node) = finished {
                self.prev_end = node.end;
                match self.stack.last_mut() {
                    None => self.root = Some(node),
                    Some(Frame::Sequence { items, .. }) => items.push(node),
                    Some(Frame::Mapping {
                        entries,
                        pending_key,
                        ..
                    }) => match pending_key.take() {
                        None => *pending_key = Some(node),
                        Some(key) => entries.push((key, node)),
                    },
                }
            }
        }
        Ok(())
    }

    fn close(&self, frame: Frame, byte: usize) -> Node {
        let (mut node, kind, last_end) = match frame {
            Frame::Mapping { node, entries, .. } => {
                let last = entries.last().map(|(_, v)| v.end);
                let flow = self.text.as_bytes().get(node.start) == Some(&b'{');
                (node, NodeKind::Mapping { entries, flow }, last)
            }
            Frame::Sequence { node, items } => {
                let last = items.last().map(|v| v.end);
                let flow = self.text.as_bytes().get(node.start) == Some(&b'[');
                (node, NodeKind::Sequence { items, flow }, last)
            }
        };
        let flow = matches!(
            kind,
            NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. }
        );
        if flow {
            node.end = (byte + 1).min(self.text.len());
        } else {
            // The parser's mark for a block collection is not where it starts: use the
            // first child's start.
            let first = match &kind {
                NodeKind::Mapping { entries, .. } => entries.first().map(|(k, _)| k.start),
                NodeKind::Sequence { items, .. } => items.first().map(|i| i.start),
                _ => None,
            };
            node.start = first.unwrap_or(node.start);
            node.end = last_end.unwrap_or(node.start);
        }
        node.kind = kind;
        node
    }

    /// Recovers the name of the anchor standing before the node at `byte`.
    fn anchor(&self, anchor_id: usize, byte: usize) -> Option<String> {
        if anchor_id == 0 {
            return None;
        }
        Some(anchor_name_before(self.text, byte).unwrap_or_else(|| format!("#{anchor_id}")))
    }
}

fn convert_style(style: TScalarStyle) -> ScalarStyle {
    match style {
        TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        TScalarStyle::Literal => ScalarStyle::Literal,
        TScalarStyle::Folded => ScalarStyle::Folded,
        _ => ScalarStyle::Plain,
    }
}

fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}')
}

fn alias_name(text: &str, byte: usize) -> String {
    text.get(byte + 1..)
        .unwrap_or("")
        .chars()
        .take_while(|c| is_name_char(*c))
        .collect()
}

/// Finds `&name` before `byte`, skipping white space and a tag.
fn anchor_name_before(text: &str, byte: usize) -> Option<String> {
    let before = text.get(..byte)?;
    let mut tokens = before.split_whitespace().rev();
    for _ in 0..2 {
        let token = tokens.next()?;
        if let Some(name) = token.strip_prefix('&') {
            return Some(name.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests;
