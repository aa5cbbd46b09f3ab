//! Block scalars (`|`, `>`, with chomping and indentation indicators): where one stands
//! in the text, and how a new value is written into it keeping its header.
//!
//! A value is written in the block's own style. Literal content is the value's lines as
//! they are; folded content is their folded spelling (YAML 1.2 §8.1.3): a line break
//! between two lines that do not start with white space is written as an empty line,
//! since a single break there would read back as a space; breaks next to a more-indented
//! line, and every other empty line, are written as they are. Long lines are kept as
//! they are (folding them is optional). The header keeps its bytes while its chomping
//! can hold the value's trailing line breaks (strip: none, clip: one, keep: one or
//! more) and the value's first line does not start with a space; otherwise the
//! chomping indicator is set to what the value needs and an indentation indicator is
//! added.

use std::ops::Range;

/// Finds the `|`/`>` header of the block scalar whose first content character is at
/// `content`: on the nearest non-blank line above it — or at `content` itself when the
/// scalar is `empty` (no content lines).
pub(crate) fn header_before(text: &str, content: usize, empty: bool) -> Option<usize> {
    let mut line_start = text[..content].rfind('\n').map_or(0, |i| i + 1);
    // A block scalar without content: the parser points at the header itself.
    if empty && header_in_line(text, line_start) == Some(content) {
        return Some(content);
    }
    while line_start > 0 {
        let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[prev_start..line_start - 1];
        if !line.trim().is_empty() {
            return header_in_line(text, prev_start);
        }
        line_start = prev_start;
    }
    None
}

/// The position of a block scalar header (`|`, `>-`, `|2+` …) on the line starting at
/// `line_start`: an indicator preceded by white space (or the line start) and followed
/// only by indentation/chomping indicators, white space and an optional comment.
fn header_in_line(text: &str, line_start: usize) -> Option<usize> {
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'|' && *b != b'>' {
            continue;
        }
        if i > 0 && !bytes[i - 1].is_ascii_whitespace() {
            continue;
        }
        let rest = &line[i + 1..];
        let indicators = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
            .unwrap_or(rest.len());
        let after = &rest[indicators..];
        let trimmed = after.trim_start();
        if indicators <= 2
            && (trimmed.is_empty() || (trimmed.starts_with('#') && after.len() > trimmed.len()))
        {
            return Some(line_start + i);
        }
    }
    None
}

/// Where a block scalar's pieces stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlockLayout {
    /// End of the header's indicators (`|2-`), before any comment.
    pub header_end: usize,
    /// Start of the first content line (after the header's line break).
    pub content_start: usize,
    /// End of the last non-empty content line (before its line break).
    pub end: usize,
    /// Indentation of the content, in spaces.
    pub indent: usize,
}

/// Lays out the block scalar whose header (`|` or `>`) is at `start`.
pub(crate) fn layout(text: &str, start: usize) -> Option<BlockLayout> {
    let rest = text.get(start..)?;
    let first = rest.chars().next()?;
    if first != '|' && first != '>' {
        return None;
    }
    let header_len = 1 + rest[1..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-' || *c == '+')
        .count();
    let explicit: Option<usize> = rest[1..header_len]
        .chars()
        .find(|c| c.is_ascii_digit())
        .and_then(|c| c.to_digit(10))
        .map(|d| d as usize);
    let header_end = start + header_len;
    // The content starts on the next line; at the end of the input there is none.
    let content_start = text[header_end..]
        .find('\n')
        .map_or(text.len(), |i| header_end + i + 1);
    let parent_indent = parent_indent(text, start);
    let mut indent: Option<usize> = explicit.map(|d| parent_indent + d);
    let mut end = content_start;
    let mut offset = content_start;
    for line in text[content_start..].split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let spaces = content.chars().take_while(|c| *c == ' ').count();
        let blank = content.trim().is_empty();
        if !blank {
            let want = *indent.get_or_insert(spaces);
            if spaces < want || (explicit.is_none() && want <= parent_indent) {
                break;
            }
            end = offset + content.len();
        }
        offset += line.len();
    }
    Some(BlockLayout {
        header_end,
        content_start,
        end: end.max(content_start),
        indent: indent.unwrap_or(parent_indent + 2),
    })
}

/// The indentation of the node that holds the block scalar whose header is at `start`,
/// to which an indentation indicator is added: the column of the key on the header's
/// line (past any `- ` of compact sequence items), or for a sequence item `- |` the
/// column of its dash (YAML 1.2 §8.2.1, §8.2.2).
fn parent_indent(text: &str, start: usize) -> usize {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = &text.as_bytes()[line_start..start];
    let mut col = 0;
    let mut dash = None;
    loop {
        while line.get(col) == Some(&b' ') {
            col += 1;
        }
        if line.get(col) == Some(&b'-') && matches!(line.get(col + 1), None | Some(b' ')) {
            dash = Some(col);
            col += 1;
            continue;
        }
        break;
    }
    if col < line.len() {
        col
    } else {
        dash.unwrap_or(col)
    }
}

/// The chomping indicator of a block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

impl Chomp {
    fn of(header: &str) -> Chomp {
        if header.contains('-') {
            Chomp::Strip
        } else if header.contains('+') {
            Chomp::Keep
        } else {
            Chomp::Clip
        }
    }

    fn indicator(self) -> &'static str {
        match self {
            Chomp::Strip => "-",
            Chomp::Clip => "",
            Chomp::Keep => "+",
        }
    }

    /// Whether content ending in `trailing` line breaks reads back with this chomping.
    /// (Clip or keep content that ends the input without a line break reads as no break
    /// in libyaml and as one in yaml-rust2: such a value is written with strip.)
    fn holds(self, trailing: usize) -> bool {
        match self {
            Chomp::Strip => trailing == 0,
            Chomp::Clip => trailing == 1,
            Chomp::Keep => trailing >= 1,
        }
    }
}

/// A block scalar rewritten: the byte range it replaces and the new text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rewrite {
    /// What is replaced.
    pub range: Range<usize>,
    /// The new bytes.
    pub text: String,
}

/// Writes `value` into the block scalar whose header is at `start`, in its own style
/// (literal or folded). `None` when the block cannot be laid out.
pub(crate) fn rewrite(text: &str, start: usize, value: &str, newline: &str) -> Option<Rewrite> {
    let layout = layout(text, start)?;
    let header = &text[start..layout.header_end];
    let folded = header.starts_with('>');
    let explicit: Option<usize> = header
        .chars()
        .find(char::is_ascii_digit)
        .and_then(|c| c.to_digit(10))
        .map(|d| d as usize);
    let body = value.trim_end_matches('\n');
    let trailing = value.len() - body.len();
    let old_chomp = Chomp::of(header);
    let has_content = layout.end > layout.content_start;
    // The start of the line after the old content (or after the header, without
    // content), and past the empty lines there: the end of a keep block's value.
    let after_content = if has_content {
        text[layout.end..]
            .find('\n')
            .map_or(text.len(), |i| layout.end + i + 1)
    } else {
        layout.content_start
    };
    let blank_end = skip_blank_lines(text, after_content);
    let chomp = if body.is_empty() {
        // Only empty lines: kept line breaks (keep), or nothing at all.
        // (A clip header that ends the input reads as one line break in yaml-rust2.)
        match (trailing, old_chomp) {
            (0, Chomp::Keep) => Chomp::Strip,
            (0, Chomp::Clip) if blank_end == text.len() => Chomp::Strip,
            (0, c) => c,
            _ => Chomp::Keep,
        }
    } else if old_chomp.holds(trailing) {
        old_chomp
    } else {
        match trailing {
            0 => Chomp::Strip,
            1 => Chomp::Clip,
            _ => Chomp::Keep,
        }
    };
    // A first line starting with a space needs an indentation indicator: without one
    // the space would be read as indentation.
    let parent_indent = parent_indent(text, start);
    let needs_indicator = body
        .split('\n')
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with([' ', '\t']));
    let indicator_digit = match explicit {
        Some(d) => Some(d),
        None if needs_indicator => {
            let d = layout
                .indent
                .checked_sub(parent_indent)
                .filter(|d| (1..=9).contains(d))?;
            Some(d)
        }
        None => None,
    };
    let mut out = if chomp == old_chomp && indicator_digit == explicit {
        header.to_string()
    } else {
        let style = if folded { '>' } else { '|' };
        let digit = indicator_digit.map(|d| d.to_string()).unwrap_or_default();
        format!("{style}{digit}{}", chomp.indicator())
    };
    // Whatever followed the indicators on the header line (a comment) and its line break.
    let header_rest = &text[layout.header_end..layout.content_start];
    out.push_str(header_rest);
    let header_broken = header_rest.ends_with('\n');
    if !header_broken && (!body.is_empty() || chomp == Chomp::Keep) {
        out.push_str(newline);
    }
    let pad = " ".repeat(layout.indent);
    if !body.is_empty() {
        let lines = content_lines(body, folded);
        let content: Vec<String> = lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{l}")
                }
            })
            .collect();
        out.push_str(&content.join(newline));
    }
    // The end of what is replaced, and the line breaks written after the content.
    let (end, breaks) = if chomp == Chomp::Keep {
        // The value's trailing line breaks are all written (the first ends the last
        // content line), replacing the old content and the empty lines after it, which
        // belonged to the old value (keep) or would join the new one.
        (blank_end, trailing)
    } else if body.is_empty() {
        // No content any more: the old content lines go with their line breaks.
        (after_content, 0)
    } else if has_content {
        // The old content's last line break stays and ends the new content; at the end
        // of the input there is none, and clip needs one.
        let at_end = layout.end == text.len();
        (layout.end, usize::from(at_end && chomp == Chomp::Clip))
    } else {
        // A block without content: the content line needs its own line break, unless it
        // ends the input (strip).
        let at_end = layout.content_start == text.len();
        (
            layout.content_start,
            usize::from(!at_end || chomp == Chomp::Clip),
        )
    };
    for _ in 0..breaks {
        out.push_str(newline);
    }
    Some(Rewrite {
        range: start..end,
        text: out,
    })
}

/// Past the empty (blank) lines from `at` (a line start): the start of the next line
/// with text, or the end of the input.
fn skip_blank_lines(text: &str, mut at: usize) -> usize {
    for line in text[at..].split_inclusive('\n') {
        if !line.trim().is_empty() {
            return at;
        }
        at += line.len();
    }
    text.len()
}

/// The content lines (without indentation) that spell `body` in a literal or folded
/// block.
fn content_lines(body: &str, folded: bool) -> Vec<&str> {
    let lines: Vec<&str> = body.split('\n').collect();
    if !folded {
        return lines;
    }
    // A text line: not empty and not more-indented (starting with white space).
    let is_text = |l: &str| !l.is_empty() && !l.starts_with([' ', '\t']);
    let mut out = Vec::with_capacity(lines.len() * 2);
    for (i, line) in lines.iter().enumerate() {
        out.push(*line);
        if line.is_empty() {
            continue;
        }
        // The next line with text: when both are text lines, the break between them
        // (and the empty lines) fold, so one more empty line is written.
        if let Some(next) = lines[i + 1..].iter().find(|l| !l.is_empty()) {
            if is_text(line) && is_text(next) {
                out.push("");
            }
        }
    }
    out
}
