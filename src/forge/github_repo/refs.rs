//! Moving a branch where GraphQL `updateRefs` is missing (REST `git/refs`, older
//! GitHub Enterprise Server), what a branch that moved under us is reported as, and
//! a ref name as it goes into a URL.

use serde_json::json;

use super::GitHubRepo;
use crate::forge::api_repo::{ApiRepo, BranchUpdate};
use crate::forge::github::Verb;
use crate::forge::{encode_component, ForgeError};

impl GitHubRepo {
    /// Moves a branch with REST where the server has no GraphQL `updateRefs` (older
    /// GitHub Enterprise Server): check-then-set, see [`ApiRepo::set_branch`] there.
    pub(super) fn set_branch_rest(
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

pub(super) fn moved_branch(
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
pub(super) fn encode_ref(branch: &str) -> String {
    branch
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_encoded_per_segment() {
        assert_eq!(encode_ref("tagbump/api 1"), "tagbump/api%201");
    }
}
