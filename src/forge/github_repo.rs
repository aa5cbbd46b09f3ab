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

use super::api_repo::{ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, Listing};
use super::github::{GitHub, Verb};
use super::{encode_component, plain_http_warning, ConnectOptions, ForgeError, RepoId};
use crate::secret::Secret;

mod graphql;
mod message;
mod read;
mod refs;
use self::graphql::is_stale_head;
use self::message::headline_and_body;
use self::read::{decode_base64, MAX_BATCHED_READS, READ_BATCH};
use self::refs::{encode_ref, moved_branch};

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

impl GitHubRepo {
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
