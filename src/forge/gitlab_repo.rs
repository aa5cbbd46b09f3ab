//! GitLab's implementation of [`ApiRepo`]: read files and commit through the REST v4
//! repository API, no clone.
//!
//! Endpoints (GitLab docs, "REST API resources"):
//!
//! - default branch: `GET projects/:id` ("Projects API", *Get a single project*);
//! - branch tip: `GET projects/:id/repository/branches/:branch` ("Branches API", *Get
//!   single repository branch*), `commit.id`;
//! - listing: `GET projects/:id/repository/tree?ref=&path=&recursive=true` ("Repositories
//!   API", *List repository tree*), paginated: keyset is asked for
//!   (`pagination=keyset&per_page=100`) and the `Link: <…>; rel="next"` header followed;
//!   a GitLab that answers with offset pagination instead is followed through
//!   `x-next-page` (see gitlab-org/gitlab#427205);
//! - a file: `GET projects/:id/repository/files/:file_path?ref=` ("Repository files API",
//!   *Get file from repository*): base64 `content` and `last_commit_id`;
//! - commit: `POST projects/:id/repository/commits` ("Commits API", *Create a commit with
//!   multiple files and actions*);
//! - signature: `GET projects/:id/repository/commits/:sha/signature` ("Commits API", *Get
//!   signature of a commit*; 404 when the commit is not signed);
//! - bot branch: `POST projects/:id/repository/branches` (*Create repository branch*)
//!   and `DELETE projects/:id/repository/branches/:branch` (*Delete repository branch*),
//!   "Branches API".
//!
//! # Compare-and-swap is per edited file
//!
//! GitLab has no "expected head" for a commit. Each `update` and `delete` action carries
//! the `last_commit_id` of its file as read at [`CommitRequest::expected_head`]; GitLab
//! (`Files::MultiService`) refuses the whole commit with HTTP 400 *"The file has changed
//! since you started editing it: PATH"* when the last commit touching that file on the
//! branch is another one. A `create` fails with *"A file with this name already exists"*
//! when somebody created the file meanwhile, an `update`/`delete` with *"A file with this
//! name doesn't exist"* when somebody deleted it. All three are
//! [`CommitOutcome::Moved`]: the caller re-reads and re-applies.
//!
//! The check covers the edited files only, not the whole branch: a commit by another
//! writer to *other* files since `expected_head` is kept, and ours is created on top of
//! it (GitLab always commits on the branch's current tip). Nothing is lost and nothing
//! overwritten, since the edit only depends on the files it changes; but the new commit's
//! parent may be newer than `expected_head`.
//!
//! A `POST` retried after a 5xx whose commit did land meets its own commit: the retry is
//! refused as a changed (or existing) file, reported as moved, and the caller's re-read
//! finds nothing left to change.
//!
//! # Reads are one request per file
//!
//! GitLab has no batch read, so [`ApiRepo::read_files`] keeps the trait's default (one
//! `repository/files` request per file, in order) and [`ApiRepo::max_reads`] its default
//! ([`super::api_repo::MAX_API_READS`]). Reading with bounded concurrency was left out:
//! every read also fills the `last_commit_id` cache the commit's compare-and-swap
//! depends on, so parallel reads would need that cache merged after the fact, and the
//! reads of one search are already bounded by the cap.
//!
//! # Identity
//!
//! The commit's *committer* is the token's user (a project/group access token's bot
//! user, or the person owning a personal token). [`CommitRequest::author`] is sent as
//! `author_name`/`author_email`, which GitLab records as the commit's author.
//!
//! # Tokens
//!
//! The token goes in the `PRIVATE-TOKEN` header (personal, project and group access
//! tokens). The shared GitLab client does not tell a CI job token (`CI_JOB_TOKEN`,
//! which needs `JOB-TOKEN`) apart; job tokens cannot create commits through this API
//! anyway, so a pipeline configures a project access token.

use std::collections::{BTreeSet, HashMap};

use ::gitlab::api::projects::repository::branches::{Branch, CreateBranch};
use ::gitlab::api::projects::repository::commits::{
    CommitAction, CommitActionType, CreateCommit, Signature,
};
use ::gitlab::api::projects::repository::files::{Encoding, File};
use ::gitlab::api::projects::Project;
use base64::Engine as _;
use serde::Deserialize;

use super::api_repo::{ApiRepo, BranchUpdate, CommitOutcome, CommitRequest, Listing};
use super::gitlab::{config, GitLab};
use super::{encode_component, plain_http_warning, ConnectOptions, ForgeError, RepoId};
use crate::secret::Secret;

/// Page size asked of the tree endpoint (GitLab's maximum).
const PER_PAGE: u32 = 100;

/// Upper bound on followed pages (100 000 entries at GitLab's page size), so a server
/// that keeps answering "next" cannot keep the run busy forever.
const MAX_PAGES: usize = 1000;

/// What GitLab answers (HTTP 400) when a commit lost a race; see the module docs.
const RACE_MESSAGES: [&str; 5] = [
    "has changed since you started editing it",
    "A file with this name already exists",
    "A file with this name doesn't exist",
    // Gitaly lost the branch update itself to a concurrent writer.
    "Please refresh and try again",
    "Could not update",
];

/// A GitLab project as an [`ApiRepo`], talking to `api_base` (`https://host/api/v4`)
/// with `token` through the GitLab client of this module (timeouts, no redirects,
/// retries on 429 and 5xx as set in `options`).
///
/// No request is made here: the first call checks the token (401 →
/// [`ForgeError::Auth`]) and the project (404 → [`ForgeError::NotFound`]).
pub fn gitlab_repo(
    api_base: &str,
    repo: &RepoId,
    token: &Secret,
    options: &ConnectOptions,
) -> Result<Box<dyn ApiRepo>, ForgeError> {
    if let Some(warning) = plain_http_warning(api_base) {
        (options.log)(&token.redact(&warning));
    }
    let gitlab = GitLab::unchecked(api_base, token, options)?;
    Ok(Box::new(GitLabRepo {
        gitlab,
        project: repo.path.clone(),
        files: HashMap::new(),
    }))
}

/// A file as read at a commit (commits never change, so this is a cache).
#[derive(Clone)]
struct ReadFile {
    content: Vec<u8>,
    last_commit_id: String,
}

struct GitLabRepo {
    gitlab: GitLab,
    /// `group/sub/project`.
    project: String,
    /// `(commit, path)` → the file there (`None`: no such file).
    files: HashMap<(String, String), Option<ReadFile>>,
}

#[derive(Deserialize)]
struct ProjectInfo {
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct BranchInfo {
    commit: CommitId,
}

#[derive(Deserialize)]
struct CommitId {
    id: String,
}

#[derive(Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    mode: String,
}

#[derive(Deserialize)]
struct FileInfo {
    content: String,
    #[serde(default)]
    encoding: Option<String>,
    last_commit_id: String,
}

#[derive(Deserialize)]
struct SignatureInfo {
    #[serde(default)]
    verification_status: Option<String>,
}

/// `Err(NotFound)` whose GitLab message names `thing` (e.g. `404 File Not Found`), as
/// opposed to a missing project or commit.
fn is_missing(e: &ForgeError, thing: &str) -> bool {
    matches!(e, ForgeError::NotFound { message, .. } if message.contains(thing))
}

/// A 400 answer that means "somebody else changed the branch".
fn race_reason(e: &ForgeError) -> Option<String> {
    match e {
        ForgeError::Api {
            status: 400,
            message,
            ..
        } if RACE_MESSAGES.iter().any(|m| message.contains(m)) => Some(message.clone()),
        _ => None,
    }
}

impl GitLabRepo {
    fn decode_error(&self, what: &str, message: String) -> ForgeError {
        ForgeError::Decode {
            api_base: self.gitlab.api_base.clone(),
            what: what.to_string(),
            message,
        }
    }

    /// The file at `commit`, from the cache or `GET repository/files/:path?ref=`.
    fn file(&mut self, commit: &str, path: &str) -> Result<Option<ReadFile>, ForgeError> {
        let key = (commit.to_string(), path.to_string());
        if let Some(cached) = self.files.get(&key) {
            return Ok(cached.clone());
        }
        let endpoint = File::builder()
            .project(self.project.as_str())
            .file_path(path)
            .ref_(commit)
            .build()
            .map_err(config)?;
        let read = match self.gitlab.query::<FileInfo, _>(&endpoint) {
            Ok(info) => Some(self.decode_file(path, info)?),
            Err(e) if is_missing(&e, "File Not Found") => None,
            Err(e) => return Err(e),
        };
        self.files.insert(key, read.clone());
        Ok(read)
    }

    fn decode_file(&self, path: &str, info: FileInfo) -> Result<ReadFile, ForgeError> {
        let what = format!("GET /projects/…/repository/files/{path}");
        if info.encoding.as_deref().is_some_and(|e| e != "base64") {
            return Err(self.decode_error(&what, "file content is not base64".to_string()));
        }
        let compact: String = info
            .content
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let content = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| self.decode_error(&what, format!("invalid base64 content: {e}")))?;
        Ok(ReadFile {
            content,
            last_commit_id: info.last_commit_id,
        })
    }

    /// Regular files (blobs that are not symlinks or submodules) under `path` (`""`:
    /// the whole tree) at `commit`, following every page.
    fn tree(&self, commit: &str, path: &str) -> Result<Vec<String>, ForgeError> {
        let project = encode_component(&self.project);
        let base = format!(
            "{}/projects/{project}/repository/tree",
            self.gitlab.api_base
        );
        let mut query = format!(
            "ref={}&recursive=true&per_page={PER_PAGE}&pagination=keyset",
            encode_component(commit)
        );
        if !path.is_empty() {
            query.push_str(&format!("&path={}", encode_component(path)));
        }
        let what = format!("GET /projects/{project}/repository/tree");
        let mut url = format!("{base}?{query}");
        let mut files = Vec::new();
        for _ in 0..MAX_PAGES {
            let response = match self.gitlab.raw(http::Method::GET, &url, &what) {
                Ok(response) => response,
                // A path that is not a directory.
                Err(e) if is_missing(&e, "Tree Not Found") => return Ok(files),
                Err(e) => return Err(e),
            };
            let entries: Vec<TreeEntry> = serde_json::from_slice(response.body())
                .map_err(|e| self.decode_error(&what, format!("not a tree listing: {e}")))?;
            files.extend(
                entries
                    .into_iter()
                    .filter(|e| e.kind == "blob" && e.mode != "120000")
                    .map(|e| e.path),
            );
            let headers = response.headers();
            let link = headers
                .get_all(http::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link);
            let next_page = headers
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            url = match (link, next_page) {
                (Some(link), _) => link,
                (None, Some(page)) => format!("{base}?{query}&page={page}"),
                (None, None) => return Ok(files),
            };
        }
        Err(self.decode_error(
            &what,
            format!("more than {MAX_PAGES} pages; giving up on the listing"),
        ))
    }

    /// `Some(true)` when GitLab verified the commit's signature, `Some(false)` when it is
    /// unsigned or not verified, `None` when that could not be found out (the commit
    /// landed either way, so a failure here is not an error).
    fn verified(&self, commit: &str) -> Option<bool> {
        let endpoint = Signature::builder()
            .project(self.project.as_str())
            .commit(commit)
            .build()
            .ok()?;
        match self.gitlab.query::<SignatureInfo, _>(&endpoint) {
            Ok(info) => Some(info.verification_status.as_deref() == Some("verified")),
            Err(e) if is_missing(&e, "Not Found") => Some(false),
            Err(_) => None,
        }
    }

    fn create_branch(&self, branch: &str, to: &str) -> Result<BranchUpdate, ForgeError> {
        let endpoint = CreateBranch::builder()
            .project(self.project.as_str())
            .branch(branch)
            .ref_(to)
            .build()
            .map_err(config)?;
        match self.gitlab.query::<serde_json::Value, _>(&endpoint) {
            Ok(_) => Ok(BranchUpdate::Updated),
            Err(ForgeError::Api {
                status: 400,
                message,
                ..
            }) if message.contains("already exists") => Ok(BranchUpdate::Moved { reason: message }),
            Err(e) => Err(e),
        }
    }
}

/// The target of a `Link` header's `rel="next"` entry.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

impl ApiRepo for GitLabRepo {
    fn describe(&self) -> String {
        format!("GitLab API ({})", self.project)
    }

    fn default_branch(&mut self) -> Result<String, ForgeError> {
        let endpoint = Project::builder()
            .project(self.project.as_str())
            .build()
            .map_err(config)?;
        let info: ProjectInfo = self.gitlab.query(&endpoint)?;
        info.default_branch
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                self.decode_error(
                    "GET /projects/:id",
                    "the project has no default branch (is the repository empty?)".to_string(),
                )
            })
    }

    fn branch_tip(&mut self, branch: &str) -> Result<Option<String>, ForgeError> {
        let endpoint = Branch::builder()
            .project(self.project.as_str())
            .branch(branch)
            .build()
            .map_err(config)?;
        match self.gitlab.query::<BranchInfo, _>(&endpoint) {
            Ok(info) => Ok(Some(info.commit.id)),
            Err(e) if is_missing(&e, "Branch Not Found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list_files(&mut self, commit: &str, under: &[String]) -> Result<Listing, ForgeError> {
        let mut paths = BTreeSet::new();
        let whole = under.is_empty() || under.iter().any(|p| p.trim_matches('/').is_empty());
        let roots: Vec<&str> = if whole {
            vec![""]
        } else {
            under.iter().map(|p| p.trim_matches('/')).collect()
        };
        for root in roots {
            let found = self.tree(commit, root)?;
            if found.is_empty() && !root.is_empty() {
                // Not a directory: maybe a file, which names itself.
                if self.file(commit, root)?.is_some() {
                    paths.insert(root.to_string());
                }
            }
            paths.extend(found);
        }
        Ok(Listing {
            paths: paths.into_iter().collect(),
            complete: true,
        })
    }

    fn read_file(&mut self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, ForgeError> {
        Ok(self.file(commit, path)?.map(|f| f.content))
    }

    fn commit(&mut self, request: &CommitRequest<'_>) -> Result<CommitOutcome, ForgeError> {
        let mut actions = Vec::with_capacity(request.changes.len());
        for change in request.changes {
            // What the file was where the edit was computed: its `last_commit_id` is
            // the compare-and-swap token.
            let before = self.file(request.expected_head, &change.path)?;
            let mut action = CommitAction::builder();
            action.file_path(change.path.as_str());
            match (&change.content, &before) {
                (Some(content), None) => {
                    action.action(CommitActionType::Create);
                    action.content(content.as_slice());
                    action.encoding(Encoding::Base64);
                }
                (Some(content), Some(before)) => {
                    action.action(CommitActionType::Update);
                    action.content(content.as_slice());
                    action.encoding(Encoding::Base64);
                    action.last_commit_id(before.last_commit_id.clone());
                }
                (None, before) => {
                    action.action(CommitActionType::Delete);
                    if let Some(before) = before {
                        action.last_commit_id(before.last_commit_id.clone());
                    }
                }
            }
            actions.push(action.build().map_err(config)?);
        }
        let endpoint = CreateCommit::builder()
            .project(self.project.as_str())
            .branch(request.branch)
            .commit_message(request.message)
            .author_name(request.author.name.as_str())
            .author_email(request.author.email.as_str())
            .actions(actions)
            .build()
            .map_err(config)?;
        match self.gitlab.query::<CommitId, _>(&endpoint) {
            Ok(created) => {
                let verified = self.verified(&created.id);
                Ok(CommitOutcome::Created {
                    commit: created.id,
                    verified,
                })
            }
            Err(e) => match race_reason(&e) {
                Some(reason) => Ok(CommitOutcome::Moved { reason }),
                None => Err(e),
            },
        }
    }

    /// GitLab cannot move a branch: there is no ref update with an expected old value.
    /// An existing branch is therefore moved by checking that its tip is still
    /// `expected`, deleting it and creating it again at `to`. Two windows remain, both
    /// small and both only for the bot's own branch: a writer that moves the branch
    /// between the check and the delete loses that commit (it is still reachable from
    /// its merge request's history); one that creates the branch between the delete and
    /// the create wins, and this answers [`BranchUpdate::Moved`]. (`POST
    /// repository/commits` with `start_sha` and `force` would rewrite the branch in one
    /// call, but without any lease at all, and only with a new commit, not to `to`.)
    fn delete_branch(&mut self, branch: &str) -> Result<(), ForgeError> {
        // `DELETE repository/branches/:branch` (REST v4 "Branches"), escaped by hand
        // like in `set_branch`; a branch that is already gone is fine.
        let project = encode_component(&self.project);
        let path = format!(
            "projects/{project}/repository/branches/{}",
            encode_component(branch)
        );
        let url = format!("{}/{path}", self.gitlab.api_base);
        match self
            .gitlab
            .raw(http::Method::DELETE, &url, &format!("DELETE /{path}"))
        {
            Ok(_) => Ok(()),
            Err(e) if is_missing(&e, "Branch Not Found") => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn set_branch(
        &mut self,
        branch: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<BranchUpdate, ForgeError> {
        let Some(expected) = expected else {
            return self.create_branch(branch, to);
        };
        let moved = |reason: String| Ok(BranchUpdate::Moved { reason });
        match self.branch_tip(branch)? {
            None => return moved(format!("branch `{branch}` was deleted")),
            Some(tip) if tip != expected => {
                return moved(format!(
                    "branch `{branch}` is at {tip}, expected {expected}"
                ))
            }
            Some(tip) if tip == to => return Ok(BranchUpdate::Updated),
            Some(_) => {}
        }
        // `DELETE repository/branches/:branch`, sent by hand: the crate's `DeleteBranch`
        // does not escape the `/` of names like `tagbump/app`.
        let project = encode_component(&self.project);
        let path = format!(
            "projects/{project}/repository/branches/{}",
            encode_component(branch)
        );
        let url = format!("{}/{path}", self.gitlab.api_base);
        match self
            .gitlab
            .raw(http::Method::DELETE, &url, &format!("DELETE /{path}"))
        {
            Ok(_) => {}
            Err(e) if is_missing(&e, "Branch Not Found") => {
                return moved(format!("branch `{branch}` was deleted"))
            }
            Err(e) => return Err(e),
        }
        self.create_branch(branch, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_finds_the_next_page() {
        let header = r#"<https://gl.example/api/v4/projects/1/repository/tree?page_token=a&pagination=keyset>; rel="next", <https://gl.example/x>; rel="first""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://gl.example/api/v4/projects/1/repository/tree?page_token=a&pagination=keyset")
        );
        assert_eq!(next_link(r#"<https://gl.example/x>; rel="last""#), None);
    }

    #[test]
    fn race_messages_are_recognised() {
        let api = |message: &str| ForgeError::Api {
            api_base: "https://gl.example/api/v4".into(),
            what: "POST /projects/1/repository/commits".into(),
            status: 400,
            message: message.into(),
        };
        assert!(race_reason(&api(
            "The file has changed since you started editing it: apps/a.yaml"
        ))
        .is_some());
        assert!(race_reason(&api("A file with this name already exists")).is_some());
        assert!(race_reason(&api("branch is protected")).is_none());
    }
}
