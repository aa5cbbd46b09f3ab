//! Pull requests on GitHub: open or update the one for the bot branch, labels,
//! reviewers and assignees, auto-merge (or an immediate merge when there is nothing
//! to wait for), and closing the pull requests it supersedes.
//!
//! Forge rules followed here, from GitHub's REST and GraphQL documentation:
//! - "Request reviewers for a pull request" answers 422 `Review cannot be requested
//!   from pull request author.` and then requests nobody: the author is left out
//!   (with a warning), and a 422 for a request naming several reviewers is retried one
//!   reviewer at a time, so that one refused name does not cost the others.
//! - `enablePullRequestAutoMerge` refuses a pull request that is already mergeable
//!   (`Pull request is in clean status`): it is merged at once with "Merge a pull
//!   request" (`PUT …/pulls/{n}/merge`, `merge_method`, and `sha` = the pushed commit,
//!   so that a later push by someone else is never merged: 409 then), retried while
//!   GitHub recomputes mergeability (`github_merge.rs`).
//! - "Delete a reference" removes the branch of a superseded pull request.

use octocrab::models::pulls::PullRequest as GhPull;
use serde::Deserialize;
use serde_json::{json, Value};

use super::github::{GitHub, Verb};
use super::{
    encode_component, Forge, ForgeError, ForgeKind, MergeMethod, PullRequest, PullRequestSpec,
};

/// A pull request as "List pull requests" shows it: GitHub answers a list with
/// `pull-request-simple` objects, which lack `merged`, `mergeable`, `commits` and the
/// other counts of "Get a pull request"
/// (<https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>). Only these fields
/// are read from a list; what needs more reads the single pull request.
#[derive(Debug, Deserialize)]
struct ListedPull {
    number: u64,
    head: ListedRef,
}

#[derive(Debug, Deserialize)]
struct ListedRef {
    #[serde(rename = "ref")]
    ref_field: String,
    sha: String,
    #[serde(default)]
    label: Option<String>,
}

/// What auto-merge did.
pub(super) struct AutoMerge {
    pub(super) merged: bool,
    pub(super) warning: Option<String>,
}

impl GitHub {
    fn find_open(
        &self,
        repo_path: &str,
        owner: &str,
        spec: &PullRequestSpec,
    ) -> Result<Option<ListedPull>, ForgeError> {
        let path = format!(
            "{repo_path}/pulls?state=open&head={}&base={}",
            encode_component(&format!("{owner}:{}", spec.head)),
            encode_component(&spec.base),
        );
        let pulls = self.list_json::<ListedPull>(&path)?;
        Ok(pulls
            .items
            .into_iter()
            .find(|p| p.head.ref_field == spec.head))
    }

    fn update(
        &self,
        repo_path: &str,
        number: u64,
        spec: &PullRequestSpec,
    ) -> Result<GhPull, ForgeError> {
        self.call_json(
            Verb::Patch,
            &format!("{repo_path}/pulls/{number}"),
            Some(&json!({ "title": spec.title, "body": spec.body })),
        )
    }

    fn create(&self, repo_path: &str, spec: &PullRequestSpec) -> Result<GhPull, ForgeError> {
        self.call_json(
            Verb::Post,
            &format!("{repo_path}/pulls"),
            Some(&json!({
                "title": spec.title,
                "head": spec.head,
                "base": spec.base,
                "body": spec.body,
                "draft": spec.draft,
            })),
        )
    }

    /// Runs a follow-up call (labels, reviewers, …); a 422 is returned as its message.
    fn follow_up(&self, path: &str, body: Value) -> Result<Option<String>, ForgeError> {
        match self.call(false, Verb::Post, path, Some(&body)) {
            Ok(_) => Ok(None),
            Err(ForgeError::Api {
                status: 422,
                message,
                ..
            }) => Ok(Some(message)),
            Err(e) => Err(e),
        }
    }

    /// Requests reviews from `reviewers` (`org/team` for a team), except the pull
    /// request's author.
    fn request_reviewers(
        &self,
        warnings: &mut Vec<String>,
        repo_path: &str,
        pull: &GhPull,
        reviewers: &[String],
    ) -> Result<(), ForgeError> {
        let author = pull.user.as_ref().map(|u| u.login.as_str());
        let (skipped, wanted): (Vec<&String>, Vec<&String>) = reviewers.iter().partition(|r| {
            author.is_some_and(|a| r.trim_start_matches('@').eq_ignore_ascii_case(a))
        });
        for name in skipped {
            warnings.push(format!(
                "not requesting a review from `{name}` on #{}: it is the pull request's author, and GitHub does not allow review requests to the author",
                pull.number
            ));
        }
        let path = format!("{repo_path}/pulls/{}/requested_reviewers", pull.number);
        let body = |names: &[&String]| {
            let (teams, users): (Vec<&String>, Vec<&String>) =
                names.iter().partition(|r| r.contains('/'));
            let users: Vec<&str> = users.iter().map(|u| u.trim_start_matches('@')).collect();
            let mut body = json!({ "reviewers": users });
            if !teams.is_empty() {
                let slugs: Vec<&str> = teams
                    .iter()
                    .map(|t| t.rsplit('/').next().unwrap_or(t))
                    .collect();
                body["team_reviewers"] = json!(slugs);
            }
            body
        };
        if wanted.is_empty() {
            return Ok(());
        }
        let Some(message) = self.follow_up(&path, body(&wanted))? else {
            return Ok(());
        };
        if wanted.len() == 1 {
            warnings.push(format!(
                "could not request a review from `{}`: {message}",
                wanted[0]
            ));
            return Ok(());
        }
        // GitHub refused the whole request for one name: ask for each one alone.
        for name in wanted {
            if let Some(message) = self.follow_up(&path, body(&[name]))? {
                warnings.push(format!(
                    "could not request a review from `{name}`: {message}"
                ));
            }
        }
        Ok(())
    }

    /// `--merge-method`, else the repository's: the first it allows of merge commits,
    /// squash and rebase ("Get a repository": `allow_merge_commit`, …).
    fn merge_method(
        &self,
        repo_path: &str,
        spec: &PullRequestSpec,
    ) -> Result<MergeMethod, ForgeError> {
        if let Some(method) = spec.merge_method {
            return Ok(method);
        }
        let repo: Value = self.call_json(Verb::Get, repo_path, None)?;
        let allows = |key: &str| repo.get(key).and_then(Value::as_bool) != Some(false);
        Ok(if allows("allow_merge_commit") {
            MergeMethod::Merge
        } else if allows("allow_squash_merge") {
            MergeMethod::Squash
        } else {
            MergeMethod::Rebase
        })
    }

    /// Enables auto-merge through GraphQL for exactly the pushed commit
    /// (`expectedHeadOid`); a pull request that is already mergeable is merged now.
    fn auto_merge(
        &self,
        repo_path: &str,
        pull: &GhPull,
        spec: &PullRequestSpec,
    ) -> Result<AutoMerge, ForgeError> {
        let number = pull.number;
        let warn = |text: String| AutoMerge {
            merged: false,
            warning: Some(self.token().redact(&text)),
        };
        let Some(node_id) = pull.node_id.as_deref() else {
            return Ok(warn(format!(
                "auto-merge not enabled for #{number}: GitHub did not return the pull request's node id"
            )));
        };
        let method = self.merge_method(repo_path, spec)?;
        let head_sha = spec
            .head_sha
            .clone()
            .unwrap_or_else(|| pull.head.sha.clone());
        let query = "mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!, $expectedHeadOid: GitObjectID) { \
            enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, expectedHeadOid: $expectedHeadOid}) \
            { pullRequest { number } } }";
        let body = json!({ "query": query, "variables": {
            "pullRequestId": node_id,
            "mergeMethod": method.graphql_name(),
            "expectedHeadOid": head_sha,
        } });
        let text = self.call(true, Verb::Post, "/graphql", Some(&body))?;
        let response: Value = serde_json::from_str(&text).map_err(|e| ForgeError::Decode {
            api_base: self.api_base().to_string(),
            what: "POST /graphql".into(),
            message: e.to_string(),
        })?;
        let errors: Vec<String> = response
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        e.get("message")
                            .and_then(Value::as_str)
                            .map_or_else(|| e.to_string(), str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if errors.is_empty() {
            return Ok(AutoMerge {
                merged: false,
                warning: None,
            });
        }
        if errors.iter().any(|e| e.contains("clean status")) {
            return self.merge_now(repo_path, number, method, &head_sha);
        }
        Ok(warn(format!(
            "auto-merge not enabled for #{number}: {}",
            errors.join("; ")
        )))
    }

    /// Closes the open pull requests into the same base from this repository's
    /// branches starting with `prefix` (older bumps), with a comment, and deletes their
    /// branches when tagbump's one commit is all they hold.
    fn close_superseded(
        &self,
        warnings: &mut Vec<String>,
        repo_path: &str,
        owner: &str,
        prefix: &str,
        spec: &PullRequestSpec,
        current: u64,
    ) -> Result<(Vec<u64>, Vec<String>), ForgeError> {
        let path = format!(
            "{repo_path}/pulls?state=open&base={}",
            encode_component(&spec.base)
        );
        let listed = self.list_json::<ListedPull>(&path)?;
        if listed.truncated {
            warnings.push(super::pages::truncated_warning(&format!(
                "listing the open pull requests into {} to close superseded ones",
                spec.base
            )));
        }
        let pulls = listed.items;
        let same_repo = format!("{owner}:");
        let mut closed = Vec::new();
        let mut deleted = Vec::new();
        for pull in pulls {
            let head = &pull.head.ref_field;
            let from_this_repo = pull
                .head
                .label
                .as_deref()
                .is_none_or(|label| label.starts_with(&same_repo));
            if pull.number == current
                || head == &spec.head
                || !head.starts_with(prefix)
                || !from_this_repo
            {
                continue;
            }
            self.call(
                false,
                Verb::Post,
                &format!("{repo_path}/issues/{}/comments", pull.number),
                Some(&json!({ "body": format!("Superseded by #{current}") })),
            )?;
            let closed_pull: GhPull = self.call_json(
                Verb::Patch,
                &format!("{repo_path}/pulls/{}", pull.number),
                Some(&json!({ "state": "closed" })),
            )?;
            closed.push(pull.number);
            match self.delete_bot_branch(repo_path, &pull, &closed_pull)? {
                Ok(()) => deleted.push(head.clone()),
                Err(why) => warnings.push(format!(
                    "closed #{} but kept its branch {head}: {why}",
                    pull.number
                )),
            }
        }
        Ok((closed, deleted))
    }

    /// Deletes the head branch of a closed superseded pull request if it is still as
    /// tagbump left it: one commit on top of the base ("Get a pull request" `commits`,
    /// from the answer to closing it) and the tip that was listed.
    fn delete_bot_branch(
        &self,
        repo_path: &str,
        listed: &ListedPull,
        closed: &GhPull,
    ) -> Result<Result<(), String>, ForgeError> {
        if closed.commits.is_some_and(|n| n != 1) {
            return Ok(Err(format!(
                "it holds {} commits, so someone else pushed to it",
                closed.commits.unwrap_or_default()
            )));
        }
        if closed.commits.is_none() || closed.head.sha != listed.head.sha {
            return Ok(Err("it changed while it was being closed".to_string()));
        }
        let branch = &listed.head.ref_field;
        let path = format!(
            "{repo_path}/git/refs/heads/{}",
            branch
                .split('/')
                .map(encode_component)
                .collect::<Vec<_>>()
                .join("/")
        );
        match self.call(false, Verb::Delete, &path, None) {
            Ok(_) => Ok(Ok(())),
            // "Reference does not exist": already deleted.
            Err(ForgeError::Api { status: 422, .. }) => Ok(Ok(())),
            Err(e) => Err(e),
        }
    }
}

impl Forge for GitHub {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitHub
    }

    fn ensure_pull_request(&self, spec: &PullRequestSpec) -> Result<PullRequest, ForgeError> {
        let (owner, name) = match spec.repo.path.split_once('/') {
            Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
                (owner, name)
            }
            _ => {
                return Err(ForgeError::Config(format!(
                    "`{}` is not a GitHub repository path of the form owner/name",
                    spec.repo.path
                )))
            }
        };
        let repo_path = format!(
            "/repos/{}/{}",
            encode_component(owner),
            encode_component(name)
        );
        let mut warnings = Vec::new();

        let (pull, created) = match self.find_open(&repo_path, owner, spec)? {
            Some(existing) => (self.update(&repo_path, existing.number, spec)?, false),
            None => match self.create(&repo_path, spec) {
                Ok(pull) => (pull, true),
                // Someone (or an earlier, interrupted attempt) opened it meanwhile.
                Err(e @ ForgeError::Api { status: 422, .. })
                    if e.to_string().contains("already exists") =>
                {
                    match self.find_open(&repo_path, owner, spec)? {
                        Some(existing) => (self.update(&repo_path, existing.number, spec)?, false),
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let number = pull.number;

        if !spec.labels.is_empty() {
            let path = format!("{repo_path}/issues/{number}/labels");
            if let Some(m) = self.follow_up(&path, json!({ "labels": spec.labels }))? {
                warnings.push(format!("could not add labels: {m}"));
            }
        }
        if created && !spec.reviewers.is_empty() {
            self.request_reviewers(&mut warnings, &repo_path, &pull, &spec.reviewers)?;
        }
        if created && !spec.assignees.is_empty() {
            let path = format!("{repo_path}/issues/{number}/assignees");
            if let Some(m) = self.follow_up(&path, json!({ "assignees": spec.assignees }))? {
                warnings.push(format!("could not add assignees: {m}"));
            }
        }
        let mut merged = false;
        if spec.auto_merge {
            let outcome = self.auto_merge(&repo_path, &pull, spec)?;
            merged = outcome.merged;
            warnings.extend(outcome.warning);
        }
        let (closed_superseded, deleted_branches) = match spec.supersede_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() => {
                self.close_superseded(&mut warnings, &repo_path, owner, prefix, spec, number)?
            }
            _ => (Vec::new(), Vec::new()),
        };

        Ok(PullRequest {
            number,
            url: pull
                .html_url
                .as_ref()
                .map_or_else(|| pull.url.clone(), |u| u.to_string()),
            created,
            closed_superseded,
            deleted_branches,
            merged,
            warnings,
        })
    }
}
