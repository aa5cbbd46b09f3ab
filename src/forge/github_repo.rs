//! GitHub's implementation of [`ApiRepo`]: read files at a commit through GraphQL (50
//! a query) and the REST API, create one commit with GraphQL `createCommitOnBranch`
//! (compare-and-swap on `expectedHeadOid`, signed by GitHub so it shows as Verified),
//! move a branch under a lease with GraphQL `updateRefs` (`beforeOid`).
//!
//! Every request goes through the [`GitHub`] client: the same timeouts, no redirect
//! followed, 429/5xx retried per the [`super::RetryPolicy`], the token never in an error.
//!
//! Endpoints (GitHub REST docs, "Git database" and "Repositories" pages; GraphQL
//! reference, "Mutations"):
//!
//! | what | request |
//! |---|---|
//! | default branch | `GET /repos/{o}/{r}` ("Get a repository") |
//! | branch tip | `GET /repos/{o}/{r}/git/ref/heads/{b}` ("Get a reference"; 404 → none) |
//! | tree of a commit | `GET /repos/{o}/{r}/git/commits/{sha}` ("Get a commit object") |
//! | listing | `GET /repos/{o}/{r}/git/trees/{tree}?recursive=1` ("Get a tree"; `truncated`) |
//! | many files | GraphQL `repository { f0: object(expression: "{sha}:{path}") { ... on Blob { text isBinary isTruncated byteSize } } … }`, 50 a query; binary, truncated or inexact text read as below |
//! | file bytes | `GET /repos/{o}/{r}/contents/{path}?ref={sha}` ("Get repository content"), and `GET /repos/{o}/{r}/git/blobs/{sha}` ("Get a blob") for files over 1 MB, which the contents API answers without content |
//! | commit | GraphQL `createCommitOnBranch` |
//! | move a branch | GraphQL `updateRefs`; REST `POST git/refs` / `PATCH git/refs/heads/{b}` where the server has no `updateRefs` |

use base64::Engine as _;
use serde_json::{json, Value};

use super::github::{GitHub, Verb};
use super::{encode_component, plain_http_warning, ConnectOptions, ForgeError, RepoId};
use crate::land::api::{ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, Listing};
use crate::secret::Secret;

mod message;
use self::message::headline_and_body;

/// The object id git and GitHub use for "no object" (a ref that must not exist).
const ZERO_OID: &str = "0000000000000000000000000000000000000000";

const CREATE_COMMIT: &str = "mutation CreateCommitOnBranch($input: CreateCommitOnBranchInput!) { \
    createCommitOnBranch(input: $input) { commit { oid signature { isValid } } } }";

const UPDATE_REFS: &str = "mutation UpdateRefs($input: UpdateRefsInput!) { \
    updateRefs(input: $input) { clientMutationId } }";

/// Connects to the repository `repo` (`owner/name`) on the GitHub REST API at
/// `api_base` (`https://api.github.com`, or `https://HOST/api/v3` for GitHub
/// Enterprise Server, whose GraphQL endpoint is then `https://HOST/api/graphql`).
/// No request is made yet.
///
/// # Commits and their author
///
/// The commits are created by GitHub (`createCommitOnBranch`) as the token's identity
/// (the user, bot or GitHub App installation the token belongs to), and GitHub signs
/// them. GitHub does not let the caller choose the author, so
/// [`CommitRequest::author`] becomes a `Co-authored-by: Name <email>` trailer at the
/// end of the message, unless it is tagbump's default `tagbump <tagbump@localhost>`.
/// The first line of the message is the commit's headline, the rest its body.
pub fn github_repo(
    api_base: &str,
    repo: &RepoId,
    token: &Secret,
    options: &ConnectOptions,
) -> Result<Box<dyn ApiRepo>, ForgeError> {
    let (owner, name) = match repo.path.split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            (owner.to_string(), name.to_string())
        }
        _ => {
            return Err(ForgeError::Config(format!(
                "`{}` is not a GitHub repository path of the form owner/name",
                repo.path
            )))
        }
    };
    if let Some(warning) = plain_http_warning(api_base) {
        (options.log)(&token.redact(&warning));
    }
    let client = GitHub::with_options(api_base, token, options)?;
    let repo_path = format!(
        "/repos/{}/{}",
        encode_component(&owner),
        encode_component(&name)
    );
    Ok(Box::new(GitHubRepo {
        client,
        full_name: format!("{owner}/{name}"),
        repo_path,
        node_id: None,
    }))
}

struct GitHubRepo {
    client: GitHub,
    /// `owner/name`.
    full_name: String,
    /// `/repos/{owner}/{name}`, encoded.
    repo_path: String,
    /// The repository's GraphQL id (`node_id`), once read.
    node_id: Option<String>,
}

/// One entry of a GraphQL `errors` array.
#[derive(Debug)]
struct GqlError {
    kind: Option<String>,
    message: String,
}

/// Files read by one GraphQL query ([`ApiRepo::read_files`]).
const READ_BATCH: usize = 50;

/// The most files one attempt reads through GitHub's API: 20 GraphQL queries of
/// [`READ_BATCH`] files.
const MAX_BATCHED_READS: usize = 1000;

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
    fn walk_contents(
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

    fn decode_error(&self, what: &str, message: impl Into<String>) -> ForgeError {
        ForgeError::Decode {
            api_base: self.client.api_base().to_string(),
            what: what.to_string(),
            message: message.into(),
        }
        .redacted(self.client.token())
    }

    /// `GET path` as JSON.
    fn get(&self, path: &str) -> Result<Value, ForgeError> {
        let text = self.client.call(false, Verb::Get, path, None)?;
        serde_json::from_str(&text).map_err(|e| {
            let what = format!("GET {}", path.split('?').next().unwrap_or(path));
            self.decode_error(&what, e.to_string())
        })
    }

    /// `GET path`, with a 404 as `None`.
    fn get_optional(&self, path: &str) -> Result<Option<Value>, ForgeError> {
        match self.get(path) {
            Ok(value) => Ok(Some(value)),
            Err(ForgeError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /repos/{o}/{r}`; remembers the repository's GraphQL id.
    fn repository(&mut self) -> Result<Value, ForgeError> {
        let repo = self.get(&self.repo_path)?;
        if let Some(id) = repo.get("node_id").and_then(Value::as_str) {
            self.node_id = Some(id.to_string());
        }
        Ok(repo)
    }

    /// One GraphQL request with `variables: { input }`: the `data` and the `errors`
    /// (HTTP 200 either way).
    fn graphql(
        &self,
        what: &str,
        query: &str,
        input: Value,
    ) -> Result<(Value, Vec<GqlError>), ForgeError> {
        self.graphql_with(what, query, json!({ "input": input }))
    }

    /// One GraphQL request with these `variables`.
    fn graphql_with(
        &self,
        what: &str,
        query: &str,
        variables: Value,
    ) -> Result<(Value, Vec<GqlError>), ForgeError> {
        let body = json!({ "query": query, "variables": variables });
        let text = self
            .client
            .call(true, Verb::Post, "/graphql", Some(&body))?;
        let response: Value =
            serde_json::from_str(&text).map_err(|e| self.decode_error(what, e.to_string()))?;
        let errors = response
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| GqlError {
                        kind: e.get("type").and_then(Value::as_str).map(str::to_string),
                        message: e
                            .get("message")
                            .and_then(Value::as_str)
                            .map_or_else(|| e.to_string(), str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let data = response.get("data").cloned().unwrap_or(Value::Null);
        Ok((data, errors))
    }

    /// A GraphQL error that is not a race, as a typed error.
    fn graphql_failure(&self, what: &str, errors: &[GqlError]) -> ForgeError {
        let api_base = self.client.api_base().to_string();
        let message = super::excerpt(
            &errors
                .iter()
                .map(|e| match &e.kind {
                    Some(kind) => format!("{kind}: {}", e.message),
                    None => e.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
        let kind = errors.first().and_then(|e| e.kind.as_deref());
        match kind {
            Some("NOT_FOUND") => ForgeError::NotFound {
                api_base,
                what: what.to_string(),
                message,
                hint: "GitHub also answers NOT_FOUND when the token has no access to a private repository".into(),
            },
            Some("FORBIDDEN") => ForgeError::Forbidden { api_base, message },
            // GraphQL reports its errors with HTTP 200.
            _ => ForgeError::Api {
                api_base,
                what: what.to_string(),
                status: 200,
                message,
            },
        }
        .redacted(self.client.token())
    }

    /// Reads up to [`READ_BATCH`] files at `commit` in one GraphQL query (see
    /// [`blobs_query`]). A missing path (`null` object) or one that is not a blob (a
    /// directory or submodule: `{}`) is `None`; a blob GitHub answers without its exact
    /// bytes (binary, truncated, or whose `text` does not have `byteSize` bytes) is
    /// read again with REST ([`ApiRepo::read_file`]).
    fn read_batch(
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

    /// Moves a branch with REST where the server has no GraphQL `updateRefs` (older
    /// GitHub Enterprise Server): check-then-set, see [`ApiRepo::set_branch`] there.
    fn set_branch_rest(
        &mut self,
        branch: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<BranchUpdate, ForgeError> {
        let Some(expected) = expected else {
            let body = json!({ "ref": format!("refs/heads/{branch}"), "sha": to });
            let path = format!("{}/git/refs", self.repo_path);
            return match self.client.call(false, Verb::Post, &path, Some(&body)) {
                Ok(_) => Ok(BranchUpdate::Updated),
                Err(ForgeError::Api {
                    status: 422,
                    message,
                    ..
                }) if message.contains("Reference already exists") => {
                    if self.branch_tip(branch)?.as_deref() == Some(to) {
                        // Already where we want it (e.g. our own earlier attempt).
                        return Ok(BranchUpdate::Updated);
                    }
                    Ok(BranchUpdate::Moved {
                        reason: format!(
                            "branch `{branch}` was created by somebody else: {message}"
                        ),
                    })
                }
                Err(e) => Err(e),
            };
        };
        // GitHub's REST API has no atomic lease for a ref update: this is
        // check-then-set, with a window of one round trip between the two.
        let tip = self.branch_tip(branch)?;
        if tip.as_deref() != Some(expected) {
            return Ok(moved_branch(branch, expected, tip.as_deref(), None));
        }
        let path = format!("{}/git/refs/heads/{}", self.repo_path, encode_ref(branch));
        let body = json!({ "sha": to, "force": true });
        self.client.call(false, Verb::Patch, &path, Some(&body))?;
        Ok(BranchUpdate::Updated)
    }
}

impl ApiRepo for GitHubRepo {
    fn describe(&self) -> String {
        format!("GitHub API ({})", self.full_name)
    }

    fn default_branch(&mut self) -> Result<String, ForgeError> {
        let repo = self.repository()?;
        repo.get("default_branch")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                self.decode_error(&format!("GET {}", self.repo_path), "no `default_branch`")
            })
    }

    /// A missing branch is `None`; so is a missing repository (GitHub answers both
    /// with 404): [`ApiRepo::default_branch`] tells them apart.
    fn branch_tip(&mut self, branch: &str) -> Result<Option<String>, ForgeError> {
        let path = format!("{}/git/ref/heads/{}", self.repo_path, encode_ref(branch));
        let Some(reference) = self.get_optional(&path)? else {
            return Ok(None);
        };
        reference
            .pointer("/object/sha")
            .and_then(Value::as_str)
            .map(|sha| Some(sha.to_string()))
            .ok_or_else(|| self.decode_error("GET git/ref", "no `object.sha`"))
    }

    fn list_files(&mut self, commit: &str, under: &[String]) -> Result<Listing, ForgeError> {
        let roots: Vec<&str> = under.iter().map(|u| u.trim_matches('/')).collect();
        if !roots.is_empty() && roots.iter().all(|r| !r.is_empty()) {
            // Only these paths: walk them with the contents API, so that the transfer
            // does not grow with the rest of the repository (the recursive tree below
            // lists every file).
            let mut paths = Vec::new();
            let mut complete = true;
            for root in roots {
                complete &= self.walk_contents(commit, root, &mut paths)?;
            }
            paths.sort();
            paths.dedup();
            return Ok(Listing { paths, complete });
        }
        let path = format!(
            "{}/git/commits/{}",
            self.repo_path,
            encode_component(commit)
        );
        let commit_object = self.get(&path)?;
        let tree = commit_object
            .pointer("/tree/sha")
            .and_then(Value::as_str)
            .ok_or_else(|| self.decode_error("GET git/commits", "no `tree.sha`"))?
            .to_string();
        let path = format!(
            "{}/git/trees/{}?recursive=1",
            self.repo_path,
            encode_component(&tree)
        );
        let listing = self.get(&path)?;
        let entries = listing
            .get("tree")
            .and_then(Value::as_array)
            .ok_or_else(|| self.decode_error("GET git/trees", "no `tree` array"))?;
        let under: Vec<&str> = under.iter().map(|u| u.trim_matches('/')).collect();
        let wanted = |path: &str| {
            under.is_empty()
                || under.iter().any(|u| {
                    u.is_empty()
                        || path == *u
                        || path
                            .strip_prefix(u)
                            .is_some_and(|rest| rest.starts_with('/'))
                })
        };
        let mut paths: Vec<String> = entries
            .iter()
            .filter(|e| e.get("type").and_then(Value::as_str) == Some("blob"))
            // Regular files only: symbolic links (120000) are blobs too.
            .filter(|e| e.get("mode").and_then(Value::as_str) != Some("120000"))
            .filter_map(|e| e.get("path").and_then(Value::as_str))
            .filter(|p| wanted(p))
            .map(str::to_string)
            .collect();
        paths.sort();
        paths.dedup();
        let truncated = listing
            .get("truncated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Listing {
            paths,
            complete: !truncated,
        })
    }

    fn read_file(&mut self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, ForgeError> {
        let encoded: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(encode_component)
            .collect();
        let url = format!(
            "{}/contents/{}?ref={}",
            self.repo_path,
            encoded.join("/"),
            encode_component(commit)
        );
        let Some(content) = self.get_optional(&url)? else {
            return Ok(None);
        };
        // A directory answers with an array; symbolic links and submodules have
        // their own `type`.
        if content.get("type").and_then(Value::as_str) != Some("file") {
            return Ok(None);
        }
        let encoding = content.get("encoding").and_then(Value::as_str);
        let text = content.get("content").and_then(Value::as_str);
        match (encoding, text) {
            (Some("base64"), Some(text)) => decode_base64(text)
                .map(Some)
                .map_err(|e| self.decode_error("GET contents", e)),
            // Files over 1 MB come without content (`encoding: none`): read the blob.
            _ => {
                let sha = content
                    .get("sha")
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.decode_error("GET contents", "no `sha`"))?;
                let url = format!("{}/git/blobs/{}", self.repo_path, encode_component(sha));
                let blob = self.get(&url)?;
                match (
                    blob.get("encoding").and_then(Value::as_str),
                    blob.get("content").and_then(Value::as_str),
                ) {
                    (Some("base64"), Some(text)) => decode_base64(text)
                        .map(Some)
                        .map_err(|e| self.decode_error("GET git/blobs", e)),
                    _ => Err(self.decode_error("GET git/blobs", "no base64 `content`")),
                }
            }
        }
    }

    /// GraphQL, [`READ_BATCH`] files a query (`repository { f0: object(expression:
    /// "<commit>:<path>") { ... on Blob { text isBinary isTruncated byteSize } } … }`,
    /// GraphQL reference: `Repository.object`, `Blob`); binary and truncated blobs are
    /// read with REST, one request each.
    fn read_files(
        &mut self,
        commit: &str,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, ForgeError> {
        let mut out = Vec::with_capacity(paths.len());
        for batch in paths.chunks(READ_BATCH) {
            out.extend(self.read_batch(commit, batch)?);
        }
        Ok(out)
    }

    /// [`MAX_BATCHED_READS`]: reads are batched, so a search costs one request per
    /// [`READ_BATCH`] files.
    fn max_reads(&self) -> usize {
        MAX_BATCHED_READS
    }

    /// GraphQL `createCommitOnBranch`; a stale `expectedHeadOid` (GitHub answers HTTP
    /// 200 with an error of type `STALE_DATA`, "Expected branch to point to "…" but it
    /// did not. Pull and try again.") is [`CommitOutcome::Moved`]. `verified` is the
    /// commit's `signature.isValid` (`false` when GitHub did not sign it).
    ///
    /// A 5xx answer is retried like every call; if GitHub had created the commit
    /// anyway, the retry finds the branch moved and answers `Moved`, and the caller's
    /// re-read finds its edit already there.
    fn commit(&mut self, request: &CommitRequest<'_>) -> Result<CommitOutcome, ForgeError> {
        let (headline, body) = headline_and_body(request.message, request.author);
        let engine = base64::engine::general_purpose::STANDARD;
        let mut additions = Vec::new();
        let mut deletions = Vec::new();
        for change in request.changes {
            match &change.content {
                Some(bytes) => {
                    additions.push(json!({ "path": change.path, "contents": engine.encode(bytes) }))
                }
                None => deletions.push(json!({ "path": change.path })),
            }
        }
        let input = json!({
            "branch": {
                "repositoryNameWithOwner": self.full_name,
                "branchName": request.branch,
            },
            "expectedHeadOid": request.expected_head,
            "fileChanges": { "additions": additions, "deletions": deletions },
            "message": { "headline": headline, "body": body },
        });
        let what = "POST /graphql createCommitOnBranch";
        let (data, errors) = self.graphql(what, CREATE_COMMIT, input)?;
        if let Some(stale) = errors.iter().find(|e| is_stale_head(e)) {
            return Ok(CommitOutcome::Moved {
                reason: self.client.token().redact(&stale.message),
            });
        }
        if !errors.is_empty() {
            return Err(self.graphql_failure(what, &errors));
        }
        let commit = data
            .pointer("/createCommitOnBranch/commit/oid")
            .and_then(Value::as_str)
            .ok_or_else(|| self.decode_error(what, "no `createCommitOnBranch.commit.oid`"))?;
        let verified = match data.pointer("/createCommitOnBranch/commit/signature") {
            Some(Value::Null) => Some(false),
            Some(signature) => signature.get("isValid").and_then(Value::as_bool),
            None => None,
        };
        Ok(CommitOutcome::Created {
            commit: commit.to_string(),
            verified,
        })
    }

    /// GraphQL `updateRefs` with `beforeOid` = `expected` (all zeros: must not exist)
    /// and `force` (the bot branch may be rebuilt on a new base): an atomic lease.
    /// GitHub answers a stale `beforeOid` with a generic error, so on any error the
    /// branch is read again: already at `to` → [`BranchUpdate::Updated`] (nothing to
    /// do), moved → [`BranchUpdate::Moved`], else the error.
    ///
    /// Where GraphQL has no `updateRefs` (older GitHub Enterprise Server), REST is
    /// used: `POST git/refs` to create (422 "Reference already exists" →
    /// [`BranchUpdate::Moved`]), and to move, `PATCH git/refs/heads/{b}` with
    /// `force` after reading the ref again and checking that it is still `expected`.
    /// REST has no atomic lease, so this is check-then-set with a window of one
    /// round trip.
    fn delete_branch(&mut self, branch: &str) -> Result<(), ForgeError> {
        // REST "Delete a reference": 204, or 422 "Reference does not exist".
        let path = format!("{}/git/refs/heads/{}", self.repo_path, encode_ref(branch));
        match self.client.call(false, Verb::Delete, &path, None) {
            Ok(_) => Ok(()),
            Err(ForgeError::Api { status: 422, .. } | ForgeError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn set_branch(
        &mut self,
        branch: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<BranchUpdate, ForgeError> {
        let repository_id = match self.node_id.clone() {
            Some(id) => id,
            None => {
                self.repository()?;
                self.node_id
                    .clone()
                    .ok_or_else(|| self.decode_error("GET repository", "no `node_id`"))?
            }
        };
        let input = json!({
            "repositoryId": repository_id,
            "refUpdates": [{
                "name": format!("refs/heads/{branch}"),
                "afterOid": to,
                "beforeOid": expected.unwrap_or(ZERO_OID),
                "force": true,
            }],
        });
        let what = "POST /graphql updateRefs";
        let (_, errors) = self.graphql(what, UPDATE_REFS, input)?;
        if errors.is_empty() {
            return Ok(BranchUpdate::Updated);
        }
        if errors.iter().any(|e| {
            e.message.contains("updateRefs")
                && (e.message.contains("doesn't exist") || e.message.contains("does not exist"))
        }) {
            return self.set_branch_rest(branch, to, expected);
        }
        let tip = self.branch_tip(branch)?;
        if tip.as_deref() == Some(to) {
            // Already where we want it: an earlier attempt whose answer was lost
            // (a retried 5xx) or a writer that did the same.
            return Ok(BranchUpdate::Updated);
        }
        if tip.as_deref() != expected {
            let said = errors.first().map(|e| e.message.as_str());
            return Ok(moved_branch(
                branch,
                expected.unwrap_or("nothing (a new branch)"),
                tip.as_deref(),
                said,
            ));
        }
        Err(self.graphql_failure(what, &errors))
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

fn moved_branch(
    branch: &str,
    expected: &str,
    tip: Option<&str>,
    said: Option<&str>,
) -> BranchUpdate {
    let now = tip.unwrap_or("nothing (deleted)");
    let mut reason = format!("branch `{branch}` is at {now}, expected {expected}");
    if let Some(said) = said {
        reason.push_str(&format!(" (GitHub: {said})"));
    }
    BranchUpdate::Moved { reason }
}

/// A ref name in a URL: each `/`-separated part percent-encoded.
fn encode_ref(branch: &str) -> String {
    branch
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// GitHub's base64 (with line breaks) to bytes.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("invalid base64 content: {e}"))
}

/// `createCommitOnBranch`'s answer to a stale `expectedHeadOid`.
fn is_stale_head(error: &GqlError) -> bool {
    error.kind.as_deref() == Some("STALE_DATA")
        || error.message.contains("Expected branch to point to")
}

#[cfg(test)]
mod tests {
    use super::super::github::graphql_base;
    use super::*;

    #[test]
    fn graphql_lives_beside_rest_except_on_enterprise_server() {
        assert_eq!(
            graphql_base("https://api.github.com"),
            "https://api.github.com"
        );
        assert_eq!(
            graphql_base("https://api.github.com/"),
            "https://api.github.com"
        );
        assert_eq!(
            graphql_base("https://ghe.corp/api/v3"),
            "https://ghe.corp/api"
        );
        assert_eq!(
            graphql_base("https://ghe.corp/api/v3/"),
            "https://ghe.corp/api"
        );
        assert_eq!(
            graphql_base("http://127.0.0.1:8080/prefix"),
            "http://127.0.0.1:8080/prefix"
        );
    }

    #[test]
    fn a_stale_head_is_recognised_by_type_or_message() {
        let typed = GqlError {
            kind: Some("STALE_DATA".into()),
            message: "x".into(),
        };
        let worded = GqlError {
            kind: None,
            message: "Expected branch to point to \"abc\" but it did not.  Pull and try again."
                .into(),
        };
        let other = GqlError {
            kind: Some("NOT_FOUND".into()),
            message: "Could not resolve to a Repository".into(),
        };
        assert!(is_stale_head(&typed) && is_stale_head(&worded) && !is_stale_head(&other));
    }

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

    #[test]
    fn refs_are_encoded_per_segment() {
        assert_eq!(encode_ref("tagbump/api 1"), "tagbump/api%201");
    }
}
