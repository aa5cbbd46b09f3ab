//! Merge requests: open or update one, reviewers and assignees by user name,
//! auto-merge, and closing superseded ones.
//!
//! Forge rules followed here, from GitLab's REST documentation ("Merge requests API"):
//! - "Merge a merge request" (`PUT …/merge_requests/:iid/merge`): `auto_merge` replaces
//!   `merge_when_pipeline_succeeds`, deprecated in 17.11; which one is sent follows
//!   `GET /version`. `sha` is always the commit tagbump pushed: GitLab refuses the
//!   merge (409 `SHA does not match HEAD of source branch`) after anyone else's push.
//!   With no pipeline to wait for, GitLab merges at once (the answer is `merged`).
//! - Right after creation GitLab is still computing mergeability and answers 405
//!   (gitlab-org/gitlab#353984): the call is retried after 1, 2, 4, 8 s within the run's
//!   deadline, and only then reported as a warning.
//! - A superseded merge request is closed with a note; its source branch is deleted
//!   ("Delete repository branch") when its one commit is the one listed (`GET
//!   …/merge_requests/:iid/commits`), i.e. nobody else pushed to it.

use std::time::{Duration, Instant};

use ::gitlab::api::projects::merge_requests::notes::CreateMergeRequestNote;
use ::gitlab::api::projects::merge_requests::{
    CreateMergeRequest, EditMergeRequest, MergeRequestStateEvent,
};
use ::gitlab::api::users::Users;
use serde::Deserialize;
use serde_json::Value;

use super::gitlab::{config, GitLab};
use super::pages::Listed;
use super::{
    encode_component, Forge, ForgeError, ForgeKind, MergeMethod, PullRequest, PullRequestSpec,
};

/// Waits before retrying a merge GitLab answered with 405 (still checking).
const NOT_YET_MERGEABLE_WAITS: [u64; 4] = [1, 2, 4, 8];

/// The first GitLab version that knows `auto_merge` on "Merge a merge request".
const AUTO_MERGE_SINCE: (u64, u64) = (17, 11);

/// The fields of a merge request this module reads.
#[derive(Debug, Deserialize)]
struct Mr {
    iid: u64,
    #[serde(default)]
    web_url: Option<String>,
    #[serde(default)]
    source_branch: String,
    #[serde(default)]
    source_project_id: Option<u64>,
    #[serde(default)]
    target_project_id: Option<u64>,
    /// Head commit of the source branch.
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    state: String,
}

#[derive(Debug, Deserialize)]
struct Commit {
    id: String,
}

/// What auto-merge did.
struct AutoMerge {
    merged: bool,
    warning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: u64,
    username: String,
}

impl GitLab {
    /// "List merge requests" (`GET projects/:id/merge_requests`) with `query`, every page.
    fn list_mrs(&self, project: &str, query: &[(&str, &str)]) -> Result<Listed<Mr>, ForgeError> {
        let path = format!("projects/{}/merge_requests", encode_component(project));
        self.list(&path, query)
    }

    fn find_open(&self, project: &str, spec: &PullRequestSpec) -> Result<Option<Mr>, ForgeError> {
        let mrs = self.list_mrs(
            project,
            &[
                ("state", "opened"),
                ("source_branch", spec.head.as_str()),
                ("target_branch", spec.base.as_str()),
            ],
        )?;
        Ok(mrs
            .items
            .into_iter()
            .find(|mr| mr.source_branch == spec.head))
    }

    fn update(
        &self,
        project: &str,
        iid: u64,
        title: &str,
        spec: &PullRequestSpec,
    ) -> Result<Mr, ForgeError> {
        let mut builder = EditMergeRequest::builder();
        builder
            .project(project)
            .merge_request(iid)
            .title(title)
            .description(spec.body.as_str());
        if !spec.labels.is_empty() {
            // Added, not replaced: labels people put on the MR by hand stay.
            for label in &spec.labels {
                builder.add_label(label.as_str());
            }
        }
        self.query(&builder.build().map_err(config)?)
    }

    fn create(
        &self,
        project: &str,
        title: &str,
        spec: &PullRequestSpec,
        reviewers: &[u64],
        assignees: &[u64],
    ) -> Result<Mr, ForgeError> {
        let mut builder = CreateMergeRequest::builder();
        builder
            .project(project)
            .source_branch(spec.head.as_str())
            .target_branch(spec.base.as_str())
            .title(title)
            .description(spec.body.as_str())
            .remove_source_branch(true);
        if !spec.labels.is_empty() {
            builder.labels(spec.labels.iter().map(String::as_str));
        }
        if !reviewers.is_empty() {
            builder.reviewers(reviewers.iter().copied());
        }
        if !assignees.is_empty() {
            builder.assignees(assignees.iter().copied());
        }
        self.query(&builder.build().map_err(config)?)
    }

    /// User names to ids; unknown names become warnings.
    fn resolve_users(
        &self,
        names: &[String],
        role: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<u64>, ForgeError> {
        let mut ids = Vec::new();
        for name in names {
            let name = name.trim_start_matches('@');
            let endpoint = Users::builder().username(name).build().map_err(config)?;
            let users: Vec<User> = self.query(&endpoint)?;
            match users.iter().find(|u| u.username.eq_ignore_ascii_case(name)) {
                Some(user) => ids.push(user.id),
                None => warnings.push(format!("unknown GitLab user `{name}`, not added as {role}")),
            }
        }
        Ok(ids)
    }

    /// Whether the server knows `auto_merge` (GitLab 17.11 and later); unknown
    /// versions get the deprecated parameter, which every version still accepts.
    fn knows_auto_merge(&self) -> bool {
        let url = format!("{}/version", self.api_base);
        let Ok(response) = self.raw(http::Method::GET, &url, "GET /version") else {
            return false;
        };
        let version: Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let text = version.get("version").and_then(Value::as_str).unwrap_or("");
        let mut parts = text
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u64>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(major), Some(minor)) => (major, minor) >= AUTO_MERGE_SINCE,
            _ => false,
        }
    }

    fn auto_merge(
        &self,
        project: &str,
        mr: &Mr,
        spec: &PullRequestSpec,
    ) -> Result<AutoMerge, ForgeError> {
        let iid = mr.iid;
        let flag = if self.knows_auto_merge() {
            "auto_merge"
        } else {
            "merge_when_pipeline_succeeds"
        };
        let mut form = vec![(flag, "true".to_string())];
        if let Some(sha) = spec.head_sha.clone().or_else(|| mr.sha.clone()) {
            form.push(("sha", sha));
        }
        match spec.merge_method {
            Some(MergeMethod::Squash) => form.push(("squash", "true".to_string())),
            Some(MergeMethod::Merge) => form.push(("squash", "false".to_string())),
            Some(MergeMethod::Rebase) | None => {}
        }
        let path = format!(
            "projects/{}/merge_requests/{iid}/merge",
            encode_component(project)
        );
        let url = format!("{}/{path}", self.api_base);
        let what = format!("PUT /{path}");
        let mut waits = NOT_YET_MERGEABLE_WAITS.iter();
        loop {
            match self.raw_form(http::Method::PUT, &url, &what, &form) {
                Ok(response) => {
                    let merged = serde_json::from_slice::<Mr>(response.body())
                        .is_ok_and(|mr| mr.state == "merged");
                    return Ok(AutoMerge {
                        merged,
                        warning: None,
                    });
                }
                Err(ForgeError::Api { status: 405, .. }) if self.may_wait(&mut waits) => {}
                Err(ForgeError::Api {
                    status: status @ (405 | 406 | 409 | 422),
                    message,
                    ..
                }) => {
                    let why = if status == 409 {
                        " (the source branch moved after tagbump pushed to it)"
                    } else {
                        ""
                    };
                    return Ok(AutoMerge {
                        merged: false,
                        warning: Some(format!(
                            "auto-merge not set on !{iid} (HTTP {status}{why}): {message}"
                        )),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sleeps the next of `waits` unless that would pass the deadline.
    fn may_wait(&self, waits: &mut std::slice::Iter<'_, u64>) -> bool {
        let Some(wait) = waits.next().map(|s| Duration::from_secs(*s)) else {
            return false;
        };
        let deadline = self.retrier.deadline;
        if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|t| t >= d)) {
            return false;
        }
        (self.retrier.sleeper)(wait);
        true
    }

    fn close_superseded(
        &self,
        warnings: &mut Vec<String>,
        project: &str,
        prefix: &str,
        spec: &PullRequestSpec,
        current: u64,
    ) -> Result<(Vec<u64>, Vec<String>), ForgeError> {
        let listed = self.list_mrs(
            project,
            &[("state", "opened"), ("target_branch", spec.base.as_str())],
        )?;
        if listed.truncated {
            warnings.push(super::pages::truncated_warning(&format!(
                "listing the open merge requests into {} to close superseded ones",
                spec.base
            )));
        }
        let mrs = listed.items;
        let mut closed = Vec::new();
        let mut deleted = Vec::new();
        for mr in mrs {
            let same_project = match (mr.source_project_id, mr.target_project_id) {
                (Some(source), Some(target)) => source == target,
                _ => true,
            };
            if mr.iid == current
                || mr.source_branch == spec.head
                || !mr.source_branch.starts_with(prefix)
                || !same_project
            {
                continue;
            }
            let note = CreateMergeRequestNote::builder()
                .project(project)
                .merge_request(mr.iid)
                .body(format!("Superseded by !{current}"))
                .build()
                .map_err(config)?;
            self.query::<Value, _>(&note)?;
            let close = EditMergeRequest::builder()
                .project(project)
                .merge_request(mr.iid)
                .state_event(MergeRequestStateEvent::Close)
                .build()
                .map_err(config)?;
            self.query::<Value, _>(&close)?;
            closed.push(mr.iid);
            match self.delete_bot_branch(project, &mr)? {
                Ok(()) => deleted.push(mr.source_branch.clone()),
                Err(why) => warnings.push(format!(
                    "closed !{} but kept its branch {}: {why}",
                    mr.iid, mr.source_branch
                )),
            }
        }
        Ok((closed, deleted))
    }

    /// Deletes the source branch of a closed superseded merge request if it still
    /// holds only the one commit that was listed.
    fn delete_bot_branch(&self, project: &str, mr: &Mr) -> Result<Result<(), String>, ForgeError> {
        let project = encode_component(project);
        let path = format!("projects/{project}/merge_requests/{}/commits", mr.iid);
        let url = format!("{}/{path}", self.api_base);
        let response = self.raw(http::Method::GET, &url, &format!("GET /{path}"))?;
        let commits: Vec<Commit> =
            serde_json::from_slice(response.body()).map_err(|e| ForgeError::Decode {
                api_base: self.api_base.clone(),
                what: format!("GET /{path}"),
                message: e.to_string(),
            })?;
        if commits.len() != 1 {
            return Ok(Err(format!(
                "it holds {} commits, so someone else pushed to it",
                commits.len()
            )));
        }
        if mr.sha.as_deref() != Some(commits[0].id.as_str()) {
            return Ok(Err("it changed while it was being closed".to_string()));
        }
        let path = format!(
            "projects/{project}/repository/branches/{}",
            encode_component(&mr.source_branch)
        );
        let url = format!("{}/{path}", self.api_base);
        match self.raw(http::Method::DELETE, &url, &format!("DELETE /{path}")) {
            Ok(_) => Ok(Ok(())),
            Err(ForgeError::NotFound { .. }) => Ok(Ok(())),
            Err(e) => Err(e),
        }
    }
}

impl Forge for GitLab {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitLab
    }

    fn ensure_pull_request(&self, spec: &PullRequestSpec) -> Result<PullRequest, ForgeError> {
        let project = spec.repo.path.as_str();
        let title = if spec.draft && !is_draft_title(&spec.title) {
            format!("Draft: {}", spec.title)
        } else {
            spec.title.clone()
        };
        let mut warnings = Vec::new();

        let (mr, created) = match self.find_open(project, spec)? {
            Some(existing) => (self.update(project, existing.iid, &title, spec)?, false),
            None => {
                let reviewers = self.resolve_users(&spec.reviewers, "reviewer", &mut warnings)?;
                let assignees = self.resolve_users(&spec.assignees, "assignee", &mut warnings)?;
                match self.create(project, &title, spec, &reviewers, &assignees) {
                    Ok(mr) => (mr, true),
                    // Someone (or an earlier, interrupted attempt) opened it meanwhile.
                    Err(e @ ForgeError::Api { status: 409, .. })
                    | Err(e @ ForgeError::Api { status: 422, .. })
                        if e.to_string().contains("already exists") =>
                    {
                        match self.find_open(project, spec)? {
                            Some(existing) => {
                                (self.update(project, existing.iid, &title, spec)?, false)
                            }
                            None => return Err(e),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        };

        let mut merged = false;
        if spec.auto_merge {
            let outcome = self.auto_merge(project, &mr, spec)?;
            merged = outcome.merged;
            warnings.extend(outcome.warning);
        }
        let (closed_superseded, deleted_branches) = match spec.supersede_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() => {
                self.close_superseded(&mut warnings, project, prefix, spec, mr.iid)?
            }
            _ => (Vec::new(), Vec::new()),
        };

        Ok(PullRequest {
            number: mr.iid,
            url: mr.web_url.unwrap_or_default(),
            created,
            closed_superseded,
            deleted_branches,
            merged,
            warnings,
        })
    }
}

fn is_draft_title(title: &str) -> bool {
    let lower = title.trim_start().to_ascii_lowercase();
    ["draft:", "[draft]", "(draft)"]
        .iter()
        .any(|p| lower.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_titles_are_recognised() {
        assert!(is_draft_title("Draft: bump"));
        assert!(is_draft_title("[Draft] bump"));
        assert!(!is_draft_title("bump drafts"));
    }
}
