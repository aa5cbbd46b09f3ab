//! GraphQL through the [`GitHub`] client: one request and its `data` and `errors`
//! (GitHub answers both with HTTP 200), an error that is not a race as a typed
//! [`ForgeError`], and `createCommitOnBranch`'s answer to a stale `expectedHeadOid`.
//!
//! [`GitHub`]: crate::forge::GitHub

use serde_json::{json, Value};

use super::GitHubRepo;
use crate::forge::github::Verb;
use crate::forge::ForgeError;

/// One entry of a GraphQL `errors` array.
#[derive(Debug)]
pub(super) struct GqlError {
    pub(super) kind: Option<String>,
    pub(super) message: String,
}

impl GitHubRepo {
    /// One GraphQL request with `variables: { input }`: the `data` and the `errors`
    /// (HTTP 200 either way).
    pub(super) fn graphql(
        &self,
        what: &str,
        query: &str,
        input: Value,
    ) -> Result<(Value, Vec<GqlError>), ForgeError> {
        self.graphql_with(what, query, json!({ "input": input }))
    }

    /// One GraphQL request with these `variables`.
    pub(super) fn graphql_with(
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
    pub(super) fn graphql_failure(&self, what: &str, errors: &[GqlError]) -> ForgeError {
        let api_base = self.client.api_base().to_string();
        let message = crate::forge::excerpt(
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
}

/// `createCommitOnBranch`'s answer to a stale `expectedHeadOid`.
pub(super) fn is_stale_head(error: &GqlError) -> bool {
    error.kind.as_deref() == Some("STALE_DATA")
        || error.message.contains("Expected branch to point to")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::github::graphql_base;

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
}
