//! Reading files through GitHub's API: a scoped listing walked with the contents
//! API, and many files at once with one GraphQL query per [`READ_BATCH`] files
//! (`Repository.object`, `Blob`), with GitHub's base64 decoded for the files read
//! with REST.

use base64::Engine as _;
use serde_json::{json, Value};

use super::GitHubRepo;
use crate::forge::api_repo::ApiRepo;
use crate::forge::{encode_component, ForgeError};

/// Files read by one GraphQL query ([`ApiRepo::read_files`]).
pub(super) const READ_BATCH: usize = 50;

/// The most files one attempt reads through GitHub's API: 20 GraphQL queries of
/// [`READ_BATCH`] files.
pub(super) const MAX_BATCHED_READS: usize = 1000;

/// The most directories one scoped listing walks (one request each) before it reports
/// itself incomplete.
const MAX_WALKED_DIRECTORIES: usize = 100;

impl GitHubRepo {
    /// Adds the regular files at or under `path` (at `commit`) to `out`, reading
    /// directories with the contents API (`GET /repos/{o}/{r}/contents/{path}?ref=`,
    /// REST docs "Get repository content": a directory answers with its entries, at
    /// most 1 000 of them). Returns `false` when a directory may have been cut at that
    /// limit or the walk grew past [`MAX_WALKED_DIRECTORIES`]: the listing is then
    /// incomplete.
    pub(super) fn walk_contents(
        &mut self,
        commit: &str,
        path: &str,
        out: &mut Vec<String>,
    ) -> Result<bool, ForgeError> {
        let mut pending = vec![path.to_string()];
        let mut walked = 0usize;
        while let Some(dir) = pending.pop() {
            walked += 1;
            if walked > MAX_WALKED_DIRECTORIES {
                return Ok(false);
            }
            let encoded: Vec<String> = dir.split('/').map(encode_component).collect();
            let url = format!(
                "{}/contents/{}?ref={}",
                self.repo_path,
                encoded.join("/"),
                encode_component(commit)
            );
            let Some(content) = self.get_optional(&url)? else {
                continue;
            };
            match content.as_array() {
                Some(entries) => {
                    if entries.len() >= 1000 {
                        return Ok(false);
                    }
                    for entry in entries {
                        let Some(entry_path) = entry.get("path").and_then(Value::as_str) else {
                            continue;
                        };
                        match entry.get("type").and_then(Value::as_str) {
                            Some("file") => out.push(entry_path.to_string()),
                            Some("dir") => pending.push(entry_path.to_string()),
                            // Symbolic links and submodules are not edited.
                            _ => {}
                        }
                    }
                }
                None => {
                    if content.get("type").and_then(Value::as_str) == Some("file") {
                        out.push(dir);
                    }
                }
            }
        }
        Ok(true)
    }

    /// Reads up to [`READ_BATCH`] files at `commit` in one GraphQL query (see
    /// [`blobs_query`]). A missing path (`null` object) or one that is not a blob (a
    /// directory or submodule: `{}`) is `None`; a blob GitHub answers without its exact
    /// bytes (binary, truncated, or whose `text` does not have `byteSize` bytes) is
    /// read again with REST ([`ApiRepo::read_file`]).
    pub(super) fn read_batch(
        &mut self,
        commit: &str,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, ForgeError> {
        let what = "POST /graphql repository.object";
        let (owner, name) = self
            .full_name
            .split_once('/')
            .unwrap_or((self.full_name.as_str(), ""));
        let query = blobs_query(commit, paths);
        let (data, errors) =
            self.graphql_with(what, &query, json!({ "owner": owner, "name": name }))?;
        if !errors.is_empty() {
            return Err(self.graphql_failure(what, &errors));
        }
        let repository = match data.get("repository") {
            Some(repository) if repository.is_object() => repository.clone(),
            _ => return Err(self.decode_error(what, "no `repository`")),
        };
        let mut out = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            let alias = format!("f{i}");
            let bytes = match repository.get(&alias) {
                None => {
                    return Err(self.decode_error(what, format!("no `{alias}` in `repository`")))
                }
                Some(Value::Null) => None,
                Some(object) => match blob_bytes(object) {
                    BlobAnswer::Bytes(bytes) => Some(bytes),
                    BlobAnswer::NotABlob => None,
                    BlobAnswer::Inexact => self.read_file(commit, path)?,
                },
            };
            out.push(bytes);
        }
        Ok(out)
    }
}

/// The GraphQL query reading `paths` at `commit`: one aliased `object` per path
/// (`f0`, `f1`, …), the repository given as `$owner`/`$name`. Each expression is a
/// GraphQL string literal (JSON's escapes are a subset of GraphQL's).
fn blobs_query(commit: &str, paths: &[String]) -> String {
    let mut query = String::from(
        "query ReadBlobs($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {",
    );
    for (i, path) in paths.iter().enumerate() {
        let expression = Value::String(format!("{commit}:{}", path.trim_matches('/')));
        query.push_str(&format!(
            " f{i}: object(expression: {expression}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
        ));
    }
    query.push_str(" } }");
    query
}

/// What one aliased `object` of [`blobs_query`] says.
#[derive(Debug, PartialEq, Eq)]
enum BlobAnswer {
    /// The file's exact bytes.
    Bytes(Vec<u8>),
    /// Not a blob (`{}`: a directory or a submodule).
    NotABlob,
    /// A blob whose bytes GitHub did not give as text: read it another way.
    Inexact,
}

fn blob_bytes(object: &Value) -> BlobAnswer {
    let Some(fields) = object.as_object() else {
        return BlobAnswer::Inexact;
    };
    if fields.is_empty() {
        return BlobAnswer::NotABlob;
    }
    let binary = object.get("isBinary").and_then(Value::as_bool);
    let truncated = object.get("isTruncated").and_then(Value::as_bool);
    let size = object.get("byteSize").and_then(Value::as_u64);
    let text = object.get("text").and_then(Value::as_str);
    match (binary, truncated, size, text) {
        (Some(false), Some(false), Some(size), Some(text)) if text.len() as u64 == size => {
            BlobAnswer::Bytes(text.as_bytes().to_vec())
        }
        _ => BlobAnswer::Inexact,
    }
}

/// GitHub's base64 (with line breaks) to bytes.
pub(super) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("invalid base64 content: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blobs_query_aliases_each_path_and_escapes_it() {
        let paths = vec!["apps/a.yaml".to_string(), "odd \"name\\.yaml".to_string()];
        let query = blobs_query("abc123", &paths);
        assert!(query.contains(r#"f0: object(expression: "abc123:apps/a.yaml")"#));
        assert!(query.contains(r#"f1: object(expression: "abc123:odd \"name\\.yaml")"#));
        assert!(query.contains("repository(owner: $owner, name: $name)"));
        assert_eq!(query.matches("... on Blob").count(), 2);
    }

    #[test]
    fn only_exact_text_is_taken_from_a_blob() {
        let text =
            json!({ "text": "a: 1\n", "isBinary": false, "isTruncated": false, "byteSize": 5 });
        assert_eq!(blob_bytes(&text), BlobAnswer::Bytes(b"a: 1\n".to_vec()));
        assert_eq!(blob_bytes(&json!({})), BlobAnswer::NotABlob);
        for inexact in [
            json!({ "text": null, "isBinary": true, "isTruncated": false, "byteSize": 3 }),
            json!({ "text": "a", "isBinary": false, "isTruncated": true, "byteSize": 9 }),
            json!({ "text": "a", "isBinary": false, "isTruncated": false, "byteSize": 2 }),
            json!("text"),
        ] {
            assert_eq!(blob_bytes(&inexact), BlobAnswer::Inexact, "{inexact}");
        }
    }
}
