//! Just enough of Rust's lexical grammar for `layers`: tokens without comments, strings
//! and characters, and the module paths a file names through `crate::` and `super::`
//! (in `use` declarations and in expressions alike).

/// A token; literals and other punctuation are dropped or kept as `Other`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Open(char),
    Close(char),
    Other(char),
}

/// A token and the line it starts on (1-based).
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tokens of `src`, comments (line, block, nested, doc) and string, byte string,
/// raw string and character literals skipped.
pub fn tokens(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a quoted literal starting at the opening quote `c[i]`; returns the index after it.
    let skip_quoted = |mut i: usize, quote: char, line: &mut usize| {
        i += 1;
        while i < c.len() && c[i] != quote {
            if c[i] == '\n' {
                *line += 1;
            }
            i += if c[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_quoted(i, '"', &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' || (at(i + 1) != '\0' && at(i + 2) == '\'') {
                i = skip_quoted(i, '\'', &mut line); // a character
            } else {
                i += 1; // a lifetime or label: its name follows as an identifier
            }
        } else if ident_start(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            match (word.as_str(), at(i)) {
                ("r" | "br" | "cr", '"' | '#')
                    if at(i) == '"' || matches!(at(i + 1), '"' | '#') =>
                {
                    let mut hashes = 0;
                    while at(i) == '#' {
                        hashes += 1;
                        i += 1;
                    }
                    i += 1; // the opening quote
                    while i < c.len() {
                        if c[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                            i += 1 + hashes;
                            break;
                        }
                        if c[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
                ("r", '#') => {} // a raw identifier: `r#name` reads on as `#`, `name`
                ("b" | "c", '"') => i = skip_quoted(i, '"', &mut line),
                ("b", '\'') => i = skip_quoted(i, '\'', &mut line),
                _ => out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                }),
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
        } else {
            let tok = match ch {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Tok::PathSep
                }
                '{' | '(' | '[' => Tok::Open(ch),
                '}' | ')' | ']' => Tok::Close(ch),
                _ => Tok::Other(ch),
            };
            out.push(Token { tok, line });
            i += 1;
        }
    }
    out
}

/// A module path a file names, absolute (from its crate's root), and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub path: Vec<String>,
    pub line: usize,
}

fn ident(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i).map(|t| &t.tok) {
        Some(Tok::Ident(name)) => Some(name),
        _ => None,
    }
}

fn is(tokens: &[Token], i: usize, tok: &Tok) -> bool {
    tokens.get(i).is_some_and(|t| t.tok == *tok)
}

/// Every path starting with `crate` or `super` in a file whose module path is
/// `module`, resolved to an absolute path (`use` groups expanded, inline `mod x { … }`
/// blocks followed for `super`). Visibilities (`pub(crate)`, `pub(super)`,
/// `pub(in …)`) are not references.
pub fn references(src: &str, module: &[String]) -> Vec<Reference> {
    let tokens = tokens(src);
    let mut scope: Vec<String> = module.to_vec();
    // Inline modules open: the brace depth their body started at.
    let mut inline: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].tok {
            Tok::Open('{') => depth += 1,
            Tok::Close('}') => {
                if inline.last() == Some(&depth) {
                    inline.pop();
                    scope.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(name), true) =
                    (ident(&tokens, i + 1), is(&tokens, i + 2, &Tok::Open('{')))
                {
                    scope.push(name.to_string());
                    inline.push(depth + 1);
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(kw) if kw == "crate" || kw == "super" => {
                let after_sep = i > 0 && is(&tokens, i - 1, &Tok::PathSep);
                let visibility = i > 1
                    && is(&tokens, i - 1, &Tok::Open('('))
                    && ident(&tokens, i - 2) == Some("pub");
                let pub_in = i > 0 && ident(&tokens, i - 1) == Some("in");
                if !after_sep && !visibility && !pub_in {
                    let line = tokens[i].line;
                    let base = if kw == "crate" {
                        Some(Vec::new())
                    } else {
                        scope.split_last().map(|(_, parent)| parent.to_vec())
                    };
                    if let Some(base) = base {
                        let mut paths = Vec::new();
                        i = tree(&tokens, i + 1, base, &mut paths);
                        out.extend(paths.into_iter().map(|path| Reference { path, line }));
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads the rest of a path after its first segment (`prefix` already resolved):
/// `::name`, `::super`, `::self`, `::*`, `::{…}` groups; pushes every complete path to
/// `out` and returns the index after the path.
fn tree(tokens: &[Token], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    while is(tokens, i, &Tok::PathSep) {
        i += 1;
        match tokens.get(i).map(|t| &t.tok) {
            Some(Tok::Ident(name)) if name == "super" => {
                path.pop();
            }
            Some(Tok::Ident(name)) if name == "self" => {}
            Some(Tok::Ident(name)) => path.push(name.clone()),
            Some(Tok::Open('{')) => return group(tokens, i + 1, path, out),
            _ => break, // `*`, `<` of a turbofish: the path ends here
        }
        i += 1;
    }
    out.push(path);
    i
}

/// The items of a `{ a, b::c, d::{e, f}, self, g as h }` group, starting after `{`.
fn group(tokens: &[Token], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    while i < tokens.len() {
        match &tokens[i].tok {
            Tok::Close('}') => return i + 1,
            Tok::Ident(name) if name == "self" => {
                i = tree(tokens, i + 1, prefix.clone(), out);
            }
            Tok::Ident(name) if name == "super" => {
                let mut up = prefix.clone();
                up.pop();
                i = tree(tokens, i + 1, up, out);
            }
            Tok::Ident(name) if name == "as" => i += 2,
            Tok::Ident(name) => {
                let mut path = prefix.clone();
                path.push(name.clone());
                i = tree(tokens, i + 1, path, out);
            }
            Tok::Open('{') => i = group(tokens, i + 1, prefix.clone(), out),
            _ => i += 1,
        }
    }
    i
}
