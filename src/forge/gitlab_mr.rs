//! Merge requests: open or update one, reviewers and assignees by user name,
//! auto-merge, and closing superseded ones.

use ::gitlab::api::projects::merge_requests::notes::CreateMergeRequestNote;
use ::gitlab::api::projects::merge_requests::{
    CreateMergeRequest, EditMergeRequest, MergeMergeRequest, MergeRequestState,
    MergeRequestStateEvent, MergeRequests,
};
use ::gitlab::api::users::Users;
use serde::Deserialize;
use serde_json::Value;

use super::gitlab::{config, GitLab};
use super::{Forge, ForgeError, ForgeKind, PullRequest, PullRequestSpec};

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
}

#[derive(Debug, Deserialize)]
struct User {
    id: u64,
    username: String,
}

impl GitLab {
    fn find_open(&self, project: &str, spec: &PullRequestSpec) -> Result<Option<Mr>, ForgeError> {
        let endpoint = MergeRequests::builder()
            .project(project)
            .state(MergeRequestState::Opened)
            .source_branch(spec.head.as_str())
            .target_branch(spec.base.as_str())
            .build()
            .map_err(config)?;
        let mrs: Vec<Mr> = self.query(&endpoint)?;
        Ok(mrs.into_iter().find(|mr| mr.source_branch == spec.head))
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

    fn enable_auto_merge(&self, project: &str, iid: u64) -> Result<Option<String>, ForgeError> {
        let endpoint = MergeMergeRequest::builder()
            .project(project)
            .merge_request(iid)
            .merge_when_pipeline_succeeds(true)
            .build()
            .map_err(config)?;
        match self.query::<Value, _>(&endpoint) {
            Ok(_) => Ok(None),
            Err(ForgeError::Api {
                status: status @ (405 | 406 | 422),
                message,
                ..
            }) => Ok(Some(format!(
                "merge when pipeline succeeds not set on !{iid} (HTTP {status}): {message}"
            ))),
            Err(e) => Err(e),
        }
    }

    fn close_superseded(
        &self,
        project: &str,
        prefix: &str,
        spec: &PullRequestSpec,
        current: u64,
    ) -> Result<Vec<u64>, ForgeError> {
        let endpoint = MergeRequests::builder()
            .project(project)
            .state(MergeRequestState::Opened)
            .target_branch(spec.base.as_str())
            .build()
            .map_err(config)?;
        let mrs: Vec<Mr> = self.query_list(endpoint)?;
        let mut closed = Vec::new();
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
        }
        Ok(closed)
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

        if spec.auto_merge {
            warnings.extend(self.enable_auto_merge(project, mr.iid)?);
        }
        let closed_superseded = match spec.supersede_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() => {
                self.close_superseded(project, prefix, spec, mr.iid)?
            }
            _ => Vec::new(),
        };

        Ok(PullRequest {
            number: mr.iid,
            url: mr.web_url.unwrap_or_default(),
            created,
            closed_superseded,
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
