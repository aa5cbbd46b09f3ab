//! GitHub's pull request rules, as its documentation states them, shared by both fake
//! GitHubs (the in-memory one of [`super::ForgeServer`] and the one on a real repository
//! in `fake_github/pulls.rs`): each function decides one rule and returns GitHub's
//! answer, so that the two fakes cannot drift apart.

use serde_json::{json, Value};

use super::FakeResponse;

/// docs.github.com, "Create a pull request".
pub const DOC_CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
/// docs.github.com, "Request reviewers for a pull request".
pub const DOC_REVIEWERS: &str =
    "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request";
/// docs.github.com, "Merge a pull request".
pub const DOC_MERGE: &str = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request";

/// 422 "Validation Failed" with one error object ("Create a pull request").
pub fn validation_failed(error: Value) -> FakeResponse {
    FakeResponse::json(
        422,
        json!({ "message": "Validation Failed", "errors": [error], "documentation_url": DOC_CREATE, "status": "422" }),
    )
}

/// An open pull request for the same head and base already exists.
pub fn already_exists(owner: &str, head: &str) -> FakeResponse {
    validation_failed(json!({ "resource": "PullRequest", "code": "custom",
        "message": format!("A pull request already exists for {owner}:{head}.") }))
}

/// "Request reviewers for a pull request": naming the author is refused as a whole
/// (nobody is requested).
pub fn author_as_reviewer(reviewers: &[String], author: &str) -> Option<FakeResponse> {
    reviewers
        .iter()
        .any(|r| r.eq_ignore_ascii_case(author))
        .then(|| {
            FakeResponse::json(
                422,
                json!({ "message": "Review cannot be requested from pull request author.",
                    "documentation_url": DOC_REVIEWERS, "status": "422" }),
            )
        })
}

/// GraphQL `enablePullRequestAutoMerge`: refused when there is nothing left to wait for
/// ("clean status"), or when `expectedHeadOid` is not the head; `None`: enabled.
pub fn auto_merge_refusal(
    mergeable_now: bool,
    expected_head: Option<&str>,
    head: &str,
) -> Option<FakeResponse> {
    let message = if mergeable_now {
        "Pull request Pull request is in clean status".to_string()
    } else if expected_head.is_some_and(|oid| oid != head) {
        "Head branch was modified. Review and try the merge again.".to_string()
    } else {
        return None;
    };
    Some(FakeResponse::json(
        200,
        json!({ "data": { "enablePullRequestAutoMerge": null }, "errors": [{ "type": "UNPROCESSABLE",
            "path": ["enablePullRequestAutoMerge"], "message": message }] }),
    ))
}

/// "Merge a pull request": 409 when `sha` is not the head, 405 when the pull request
/// cannot be merged; `None`: it may be merged.
pub fn merge_refusal(sha: Option<&str>, head: &str, mergeable: bool) -> Option<FakeResponse> {
    if sha.is_some_and(|sha| sha != head) {
        return Some(FakeResponse::json(
            409,
            json!({ "message": "Head branch was modified. Review and try the merge again.", "documentation_url": DOC_MERGE }),
        ));
    }
    (!mergeable).then(|| {
        FakeResponse::json(
            405,
            json!({ "message": "Pull Request is not mergeable", "documentation_url": DOC_MERGE }),
        )
    })
}

/// "Merge a pull request" right after the base branch moved, while GitHub recomputes
/// mergeability in the background (akuity/kargo#5761; "Get a pull request": `mergeable`
/// is null meanwhile): 405, and the same request succeeds once that is done.
pub fn base_modified() -> FakeResponse {
    FakeResponse::json(
        405,
        json!({ "message": "Base branch was modified. Review and try the merge again.", "documentation_url": DOC_MERGE }),
    )
}

/// "Merge a pull request": 200 with the merge commit.
pub fn merged(commit: &str) -> FakeResponse {
    FakeResponse::json(
        200,
        json!({ "sha": commit, "merged": true, "message": "Pull Request successfully merged" }),
    )
}
