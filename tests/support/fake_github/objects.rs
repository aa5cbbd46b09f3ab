//! GraphQL `repository(owner:, name:) { ALIAS: object(expression: "REV:PATH") { ... on
//! Blob { text isBinary isTruncated byteSize } } … }` for the fake GitHub, answered
//! from the bare repository with one `git cat-file --batch`.
//!
//! Like GitHub: a missing object is `null`, an object that is not a blob (a tree) is
//! `{}`; a blob is binary (`text: null`, `isBinary: true`) when it holds a NUL byte or
//! is not UTF-8, and its `text` is cut (`isTruncated: true`) past [`TEXT_LIMIT`] bytes.
//! `byteSize` is always the blob's real size.

use regex::Regex;
use serde_json::{json, Map, Value};

use super::Shared;
use crate::support::forge_server::FakeResponse;

/// Blob texts longer than this are cut (`isTruncated`).
pub const TEXT_LIMIT: usize = 512 * 1024;

/// The answer to a blob-reading query, or `None` if `query` is not one.
pub(crate) fn answer(shared: &Shared, query: &str, body: &Value) -> Option<FakeResponse> {
    let object =
        Regex::new(r#"(\w+)\s*:\s*object\s*\(\s*expression\s*:\s*"((?:[^"\\]|\\.)*)"\s*\)"#)
            .unwrap_or_else(|e| panic!("bad regex: {e}"));
    if !Regex::new(r"repository\s*\(")
        .unwrap_or_else(|e| panic!("bad regex: {e}"))
        .is_match(query)
    {
        return None;
    }
    let asked: Vec<(String, String)> = object
        .captures_iter(query)
        .filter_map(|c| {
            // A GraphQL string literal without block strings: JSON's reading of it.
            let expression: String = serde_json::from_str(&format!("\"{}\"", &c[2])).ok()?;
            Some((c[1].to_string(), expression))
        })
        .collect();
    if asked.is_empty() {
        return None;
    }
    let full_name = shared.lock().full_name.clone();
    let variable = |name: &str| {
        body.pointer(&format!("/variables/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let named = format!("{}/{}", variable("owner"), variable("name"));
    if named != full_name {
        return Some(FakeResponse::json(
            200,
            json!({ "data": { "repository": Value::Null }, "errors": [{
                "type": "NOT_FOUND", "path": ["repository"],
                "message": format!("Could not resolve to a Repository with the name '{named}'."),
            }]}),
        ));
    }
    let expressions: Vec<String> = asked.iter().map(|(_, e)| e.clone()).collect();
    let objects = shared.git.objects(&expressions);
    let mut repository = Map::new();
    for ((alias, _), object) in asked.iter().zip(objects) {
        let value = match object {
            None => Value::Null,
            Some((kind, _)) if kind != "blob" => json!({}),
            Some((_, bytes)) => blob(&bytes),
        };
        repository.insert(alias.clone(), value);
    }
    Some(FakeResponse::json(
        200,
        json!({ "data": { "repository": repository } }),
    ))
}

fn blob(bytes: &[u8]) -> Value {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) if !bytes.contains(&0) => text,
        _ => {
            return json!({ "text": Value::Null, "isBinary": true, "isTruncated": false,
                "byteSize": bytes.len() })
        }
    };
    let mut end = text.len().min(TEXT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    json!({ "text": &text[..end], "isBinary": false, "isTruncated": end < text.len(),
        "byteSize": bytes.len() })
}
