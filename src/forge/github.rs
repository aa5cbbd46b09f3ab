//! GitHub (github.com and GitHub Enterprise Server) through `octocrab`.
//!
//! Requests go through octocrab's raw HTTP methods (`_get`, `_post`, `_patch`)
//! so that status codes and rate-limit headers stay visible for the retry
//! logic; response bodies are decoded into octocrab's models.
//!
//! octocrab is built without its `follow-redirect` feature, so a `3xx` answer comes
//! back as it is and becomes [`ForgeError::Redirect`]: the token never follows a
//! redirect (tests/forge_api.rs proves it against a second server). Its `timeout`
//! feature gives connect / read / write timeouts; each exchange is in addition cut at
//! `connect + read` (and the overall deadline) by a tokio timer.

use std::fmt;

use octocrab::Octocrab;
use serde_json::Value;

use super::pages::{next_link, under_api_base, Listed, MAX_PAGES, PER_PAGE};
use super::{
    error_chain, excerpt, host_of, origin_of, redirect_target, wait_until, ConnectOptions, Failure,
    ForgeError, Retrier, RetryPolicy, Sleeper, Timeouts,
};
use crate::secret::Secret;

const NOT_FOUND_HINT: &str =
    "GitHub also answers 404 when the token has no access to a private repository";

/// A GitHub connection. Owns a small current-thread tokio runtime and blocks on
/// octocrab's futures. Usable from inside another tokio runtime too: there, each
/// exchange runs on a thread of its own, and the runtime is shut down in the
/// background when the connection is dropped (see the crate's "Async code" section).
pub struct GitHub {
    /// `None` only while being dropped.
    rt: Option<tokio::runtime::Runtime>,
    rest: Octocrab,
    graphql: Octocrab,
    api_base: String,
    token: Secret,
    retrier: Retrier,
    timeouts: Timeouts,
}

impl Drop for GitHub {
    fn drop(&mut self) {
        // Dropping a runtime inside another one panics; shutting it down in the
        // background does not (its tasks are octocrab's idle request buffers).
        if let Some(rt) = self.rt.take() {
            if crate::blocking::in_runtime() {
                rt.shutdown_background();
            }
        }
    }
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Verb {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
            Verb::Patch => "PATCH",
            Verb::Put => "PUT",
        })
    }
}

impl GitHub {
    /// Connects to the REST API at `api_base` (`https://api.github.com`, or
    /// `https://<host>/api/v3` for GitHub Enterprise Server). GraphQL goes to
    /// `<api_base>/graphql`, or `https://<host>/api/graphql` for an `/api/v3` base.
    /// No request is made yet. Uses the default [`Timeouts`].
    pub fn new(
        api_base: &str,
        token: &Secret,
        retry: RetryPolicy,
        sleeper: Sleeper,
    ) -> Result<GitHub, ForgeError> {
        let options = ConnectOptions {
            retry,
            sleeper,
            ..ConnectOptions::default()
        };
        GitHub::with_options(api_base, token, &options)
    }

    /// Like [`GitHub::new`] with every option (timeouts, deadline).
    pub fn with_options(
        api_base: &str,
        token: &Secret,
        options: &ConnectOptions,
    ) -> Result<GitHub, ForgeError> {
        let timeouts = options.timeouts;
        let api_base = api_base.trim_end_matches('/').to_string();
        let graphql_base = graphql_base(&api_base);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ForgeError::Config(format!("cannot start an async runtime: {e}")))?;
        let build = |base: &str| -> Result<Octocrab, ForgeError> {
            // octocrab spawns its request buffer onto the current runtime.
            let _guard = rt.enter();
            Octocrab::builder()
                .base_uri(base)
                .map_err(|e| ForgeError::Config(format!("invalid GitHub API URL `{base}`: {e}")))?
                .personal_token(token.expose().to_string())
                .set_connect_timeout(Some(timeouts.connect))
                .set_read_timeout(Some(timeouts.read))
                .set_write_timeout(Some(timeouts.read))
                .build()
                .map_err(|e| ForgeError::Config(format!("cannot build a GitHub client: {e}")))
        };
        let rest = build(&api_base).map_err(|e| e.redacted(token))?;
        let graphql = build(&graphql_base).map_err(|e| e.redacted(token))?;
        Ok(GitHub {
            rt: Some(rt),
            rest,
            graphql,
            retrier: Retrier {
                policy: options.retry,
                sleeper: options.sleeper.clone(),
                api_base: api_base.clone(),
                deadline: timeouts.deadline,
                secondary_wait: options.secondary_rate_limit_wait,
                log: options.log.clone(),
            },
            api_base,
            token: token.clone(),
            timeouts,
        })
    }

    /// The REST API base URL, without a trailing `/`.
    pub(super) fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The token, for redacting messages.
    /// The retry policy, sleeper, deadline and logger of this connection.
    pub(super) fn retrier(&self) -> &Retrier {
        &self.retrier
    }

    pub(super) fn token(&self) -> &Secret {
        &self.token
    }

    /// One API call with retries; returns the response body of a 2xx answer.
    /// `graphql`: `path` is relative to the GraphQL base (see [`graphql_base`]).
    pub(super) fn call(
        &self,
        graphql: bool,
        verb: Verb,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, ForgeError> {
        self.exchange(graphql, verb, path, body)
            .map(|answer| answer.body)
    }

    /// Every item of a REST list endpoint (`path` without `per_page`/`page`): the
    /// first page asks for [`PER_PAGE`] items, and each `Link: <…>; rel="next"` is
    /// followed while it stays under the API base (see [`pages`](super::pages)), for at
    /// most [`MAX_PAGES`] pages. `truncated`: more pages were left unread.
    pub(super) fn list_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Listed<T>, ForgeError> {
        let what = format!("GET {}", path.split('?').next().unwrap_or(path));
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={PER_PAGE}"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(page) = next.take() {
            if pages == MAX_PAGES {
                return Ok(Listed {
                    items,
                    truncated: true,
                });
            }
            let answer = self.exchange(false, Verb::Get, &page, None)?;
            pages += 1;
            let decoded: Vec<T> = serde_json::from_str(&answer.body).map_err(|e| {
                ForgeError::Decode {
                    api_base: self.api_base.clone(),
                    what: what.clone(),
                    message: e.to_string(),
                }
                .redacted(&self.token)
            })?;
            items.extend(decoded);
            next = match answer.link.as_deref().and_then(next_link) {
                Some(link) => Some(
                    under_api_base(&self.api_base, &link)
                        .map(|next| next.path_and_query)
                        .map_err(|message| {
                            ForgeError::Decode {
                                api_base: self.api_base.clone(),
                                what: what.clone(),
                                message,
                            }
                            .redacted(&self.token)
                        })?,
                ),
                None => None,
            };
        }
        Ok(Listed {
            items,
            truncated: false,
        })
    }

    /// [`GitHub::call`] that keeps the `Link` header of the answer.
    fn exchange(
        &self,
        graphql: bool,
        verb: Verb,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        let client = if graphql { &self.graphql } else { &self.rest };
        let what = format!("{verb} {}", path.split('?').next().unwrap_or(path));
        self.retrier
            .run(|| {
                let limit = self.timeouts.per_request();
                let rt = self
                    .rt
                    .as_ref()
                    .expect("the runtime lives as long as the client");
                let exchange = || {
                    let exchange = attempt(client, verb, path, body, &self.api_base, &what);
                    rt.block_on(async { tokio::time::timeout(limit, exchange).await })
                };
                match crate::blocking::outside_runtime(exchange) {
                    Ok(Ok(answer)) => Ok(answer),
                    Ok(Err(Failure::Transport { message })) if message.contains(TIMED_OUT) => {
                        Err(self.timeout(&what, &message))
                    }
                    Ok(Err(failure)) => Err(failure),
                    Err(_elapsed) => Err(Failure::Fatal(ForgeError::Timeout {
                        api_base: self.api_base.clone(),
                        host: host_of(&self.api_base),
                        what: what.clone(),
                        waited_for: "an answer".to_string(),
                        after: limit,
                    })),
                }
            })
            .map_err(|e| e.redacted(&self.token))
    }

    /// octocrab's own connect / read timeout, as a final [`ForgeError::Timeout`].
    fn timeout(&self, what: &str, message: &str) -> Failure {
        let connecting = message.contains("Connect");
        Failure::Fatal(ForgeError::Timeout {
            api_base: self.api_base.clone(),
            host: host_of(&self.api_base),
            what: what.to_string(),
            waited_for: if connecting {
                "a connection".to_string()
            } else {
                "an answer".to_string()
            },
            after: if connecting {
                self.timeouts.connect
            } else {
                self.timeouts.read
            },
        })
    }

    pub(super) fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ForgeError> {
        let text = self.call(false, verb, path, body)?;
        serde_json::from_str(&text).map_err(|e| {
            ForgeError::Decode {
                api_base: self.api_base.clone(),
                what: format!("{verb} {}", path.split('?').next().unwrap_or(path)),
                message: e.to_string(),
            }
            .redacted(&self.token)
        })
    }
}

/// A 2xx answer: its body, and its `Link` header (pagination).
struct Answer {
    body: String,
    link: Option<String>,
}

/// Where GitHub's GraphQL endpoint `…/graphql` lives for a REST API base: the same
/// base on github.com (`https://api.github.com/graphql`), but `https://HOST/api/graphql`
/// for a GitHub Enterprise Server base `https://HOST/api/v3` (GitHub docs, "Forming
/// calls with GraphQL", Enterprise Server versions: the one GraphQL endpoint is
/// `http(s)://HOSTNAME/api/graphql`).
pub(crate) fn graphql_base(api_base: &str) -> String {
    let api_base = api_base.trim_end_matches('/');
    match api_base.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api"),
        None => api_base.to_string(),
    }
}

/// One HTTP exchange, classified.
async fn attempt(
    client: &Octocrab,
    verb: Verb,
    path: &str,
    body: Option<&Value>,
    api_base: &str,
    what: &str,
) -> Result<Answer, Failure> {
    let uri = path.to_string();
    let response = match verb {
        Verb::Get => client._get(uri).await,
        Verb::Post => client._post(uri, body).await,
        Verb::Patch => client._patch(uri, body).await,
        Verb::Put => client._put(uri, body).await,
        Verb::Delete => client._delete(uri, body).await,
    }
    .map_err(transport)?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let remaining = header("x-ratelimit-remaining");
    let reset_at = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    if (300..400).contains(&status) {
        let location = header("location");
        let request_url = format!("{}{path}", api_base.trim_end_matches('/'));
        return Err(Failure::Fatal(ForgeError::Redirect {
            api_base: api_base.to_string(),
            what: what.to_string(),
            status,
            from: origin_of(api_base),
            to: redirect_target(&request_url, location.as_deref()),
        }));
    }
    let link = header("link");
    let text = client.body_to_string(response).await.map_err(transport)?;
    if (200..300).contains(&status) {
        return Ok(Answer { body: text, link });
    }
    let message = github_message(&text);
    // GitHub, "Rate limits for the REST API" › "Exceeding the rate limit": a secondary
    // limit is a 403 or 429 "with an error message that indicates" it; honour
    // `retry-after`, else the reset when `x-ratelimit-remaining` is 0, else wait at
    // least a minute and then exponentially longer (the Retrier does).
    if matches!(status, 403 | 429) && is_secondary_limit(&message) {
        let wait = retry_after.map(std::time::Duration::from_secs).or_else(|| {
            (remaining.as_deref() == Some("0"))
                .then_some(reset_at)
                .flatten()
                .map(wait_until)
        });
        return Err(Failure::SecondaryRateLimited {
            wait,
            reset_at: reset_at.filter(|_| remaining.as_deref() == Some("0")),
            message,
        });
    }
    let rate_limited = status == 429
        || (status == 403 && (remaining.as_deref() == Some("0") || retry_after.is_some()));
    Err(match status {
        _ if rate_limited => Failure::RateLimited {
            wait: retry_after
                .map(std::time::Duration::from_secs)
                .or_else(|| reset_at.map(wait_until)),
            reset_at,
        },
        401 => Failure::Fatal(ForgeError::Auth {
            api_base: api_base.to_string(),
        }),
        403 => Failure::Fatal(ForgeError::Forbidden {
            api_base: api_base.to_string(),
            message,
        }),
        404 => Failure::Fatal(ForgeError::NotFound {
            api_base: api_base.to_string(),
            what: what.to_string(),
            message,
            hint: NOT_FOUND_HINT.to_string(),
        }),
        500..=599 => Failure::Server { status, message },
        _ => Failure::Fatal(ForgeError::Api {
            api_base: api_base.to_string(),
            what: what.to_string(),
            status,
            message,
        }),
    })
}

/// Whether GitHub's error message is a secondary rate limit ("You have exceeded a
/// secondary rate limit…"; before 2022 the same limit was called "abuse detection").
fn is_secondary_limit(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("secondary rate limit") || lower.contains("abuse detection")
}

/// Marks a transport error whose cause is an I/O timeout (octocrab's `timeout`
/// feature reports them as `io::ErrorKind::TimedOut` deep in the source chain).
const TIMED_OUT: &str = "[timed out] ";

fn transport(e: octocrab::Error) -> Failure {
    let mut timed_out = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            timed_out = true;
        }
        source = s.source();
    }
    let chain = error_chain(&e);
    Failure::Transport {
        message: if timed_out {
            format!("{TIMED_OUT}{chain}")
        } else {
            chain
        },
    }
}

/// `message` plus the `errors[].message` details of a GitHub error body.
fn github_message(text: &str) -> String {
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return excerpt(text);
    };
    let mut parts = Vec::new();
    if let Some(m) = body.get("message").and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for e in errors {
            if let Some(m) = e.get("message").and_then(Value::as_str) {
                parts.push(m.to_string());
            } else if let Some(code) = e.get("code").and_then(Value::as_str) {
                let field = e.get("field").and_then(Value::as_str).unwrap_or("");
                parts.push(format!("{field} {code}").trim().to_string());
            }
        }
    }
    if parts.is_empty() {
        excerpt(text)
    } else {
        excerpt(&parts.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_message_joins_validation_details() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:b."}]}"#;
        assert_eq!(
            github_message(body),
            "Validation Failed: A pull request already exists for o:b."
        );
        assert_eq!(github_message("<html>oops</html>"), "<html>oops</html>");
    }
}
