//! "Merge a pull request" on GitHub for the pushed commit only, waiting out the
//! recomputation of mergeability after the base branch moved.
//!
//! docs.github.com, "Merge a pull request" (`PUT /repos/{owner}/{repo}/pulls/{n}/merge`):
//! `sha` must match the head, else 409 (someone pushed after tagbump: never merged);
//! 405 when the pull request cannot be merged. Right after the base branch moved
//! (another pull request merged, a concurrent bump pushed), GitHub answers 405 `Base
//! branch was modified. Review and try the merge again.` while it recomputes
//! mergeability in the background (akuity/kargo#5761: "nearly every image push" when
//! many pipelines merge at once). "Get a pull request" says `mergeable: null` while
//! that job runs ("After giving the job time to complete, resubmit the request").
//!
//! So such a 405 is retried: with backoff (1 s doubling to 10 s, jittered, for at
//! most two minutes, never past the run's deadline), re-reading the pull request
//! first: merged by someone else meanwhile (for our commit) is success; closed, or a
//! head that is no longer the pushed commit, ends the attempts with a warning.

use std::time::Duration;

use serde_json::{json, Value};

use super::github::{GitHub, Verb};
use super::github_pr::AutoMerge;
use super::{ForgeError, MergeMethod};
use crate::retry::{Backoff, RetryPolicy};

/// How long and how patiently "Base branch was modified" is retried.
fn recompute_policy() -> RetryPolicy {
    RetryPolicy {
        retry_for: Duration::from_secs(120),
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(10),
        max_attempts: None,
    }
}

/// GitHub's 405 while it recomputes mergeability after the base moved.
fn base_was_modified(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("base branch was modified")
}

impl GitHub {
    /// "Merge a pull request" for `sha` only. 405 (not mergeable), 409 (the head moved)
    /// and 422 are warnings; 405 "Base branch was modified" is retried (module docs).
    pub(super) fn merge_now(
        &self,
        repo_path: &str,
        number: u64,
        method: MergeMethod,
        sha: &str,
    ) -> Result<AutoMerge, ForgeError> {
        let body = json!({ "merge_method": method.rest_name(), "sha": sha });
        let path = format!("{repo_path}/pulls/{number}/merge");
        let retrier = self.retrier();
        let mut backoff = Backoff::start(&recompute_policy(), retrier.deadline);
        let warn = |text: String| AutoMerge {
            merged: false,
            warning: Some(text),
        };
        loop {
            let message = match self.call(false, Verb::Put, &path, Some(&body)) {
                Ok(_) => {
                    return Ok(AutoMerge {
                        merged: true,
                        warning: None,
                    })
                }
                Err(ForgeError::Api {
                    status: 405,
                    message,
                    ..
                }) if base_was_modified(&message) => message,
                Err(ForgeError::Api {
                    status: status @ (405 | 409 | 422),
                    message,
                    ..
                }) => {
                    return Ok(warn(format!(
                        "#{number} is already mergeable, so GitHub refuses auto-merge, but merging it now failed (HTTP {status}): {message}"
                    )))
                }
                Err(e) => return Err(e),
            };
            let Some(delay) = backoff.next_delay() else {
                return Ok(warn(format!(
                    "#{number} not merged: GitHub still answered HTTP 405 ({message}) after {} attempts in {} s; the pull request stays open",
                    backoff.attempt(),
                    backoff.elapsed().as_secs()
                )));
            };
            (retrier.log)(&format!(
                "#{number}: GitHub is recomputing whether it can be merged (HTTP 405: {message}); merging again in {} ms",
                delay.as_millis()
            ));
            (retrier.sleeper)(delay);
            let pull: Value =
                self.call_json(Verb::Get, &format!("{repo_path}/pulls/{number}"), None)?;
            let head = pull
                .pointer("/head/sha")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if head != sha {
                return Ok(warn(format!(
                    "#{number} not merged: its head is now {} (not the commit tagbump pushed, {}); somebody pushed to the branch",
                    short(head),
                    short(sha)
                )));
            }
            if pull.get("merged").and_then(Value::as_bool) == Some(true) {
                return Ok(AutoMerge {
                    merged: true,
                    warning: None,
                });
            }
            if pull.get("state").and_then(Value::as_str) != Some("open") {
                return Ok(warn(format!(
                    "#{number} not merged: it was closed meanwhile"
                )));
            }
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recomputation_405_is_retried() {
        assert!(base_was_modified(
            "Base branch was modified. Review and try the merge again."
        ));
        assert!(!base_was_modified("Pull Request is not mergeable"));
        assert!(!base_was_modified(
            "Head branch was modified. Review and try the merge again."
        ));
    }
}
