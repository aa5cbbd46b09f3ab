//! GitLab (gitlab.com and self-managed) through the `gitlab` crate's typed REST v4
//! endpoints, sent by tagbump's own HTTP client ([`Http`]).
//!
//! The crate's own `Gitlab` client owns a `reqwest` client that follows redirects
//! and carries the custom `PRIVATE-TOKEN` header along to whatever host a redirect
//! names (reqwest only strips `Authorization`-like headers). The crate lets any type
//! implement its `api::Client` trait, so the endpoints stay the crate's while the
//! transport is ours: redirects off, connect and read timeouts, and the token set
//! only on requests to the configured origin.

use std::fmt;
use std::time::Duration;

use ::gitlab::api::users::CurrentUser;
use ::gitlab::api::{ApiError, Endpoint, Query};
use bytes::Bytes;
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::gitlab_http::{classify, classify_transport, object_message, status_failure};
pub(crate) use super::gitlab_http::{Http, HttpError};
use super::pages::{next_link, under_api_base, Listed, MAX_PAGES, PER_PAGE};
use super::{
    encode_component, error_chain, excerpt, ConnectOptions, Failure, ForgeError, Retrier,
    RetryPolicy, Sleeper,
};
use crate::secret::Secret;
use crate::url::RemoteUrl;

/// A GitLab connection using `PRIVATE-TOKEN` authentication (`JOB-TOKEN` for a CI/CD
/// job token, see [`ConnectOptions::gitlab_job_token`]).
pub struct GitLab {
    pub(crate) client: Http,
    pub(crate) api_base: String,
    pub(crate) token: Secret,
    pub(super) retrier: Retrier,
}

impl fmt::Debug for GitLab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLab")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl GitLab {
    /// Connects to `api_base` (`https://<host>/api/v4`; an `http://` base is
    /// used as plain HTTP) with the default [`Timeouts`](super::Timeouts) and checks the token with
    /// `GET /user`.
    pub fn new(
        api_base: &str,
        token: &Secret,
        retry: RetryPolicy,
        sleeper: Sleeper,
    ) -> Result<GitLab, ForgeError> {
        let options = ConnectOptions {
            retry,
            sleeper,
            ..ConnectOptions::default()
        };
        GitLab::with_options(api_base, token, &options)
    }

    /// Like [`GitLab::new`] with every option (timeouts, deadline).
    pub fn with_options(
        api_base: &str,
        token: &Secret,
        options: &ConnectOptions,
    ) -> Result<GitLab, ForgeError> {
        let gitlab = GitLab::unchecked(api_base, token, options)?;
        if options.gitlab_job_token {
            // A job token cannot read `/user`; its first real call checks it.
            return Ok(gitlab);
        }
        let check = CurrentUser::builder().build().map_err(config)?;
        gitlab.query::<Value, _>(&check)?;
        Ok(gitlab)
    }

    /// Like [`GitLab::with_options`] without the `GET /user` check (the repository
    /// API checks the token with its first call, and saves the request).
    pub(crate) fn unchecked(
        api_base: &str,
        token: &Secret,
        options: &ConnectOptions,
    ) -> Result<GitLab, ForgeError> {
        let api_base = api_base.trim_end_matches('/').to_string();
        let config = |why: &str| {
            ForgeError::Config(format!("GitLab API URL `{api_base}` {why}")).redacted(token)
        };
        let url = (RemoteUrl::parse(&api_base).ok())
            .filter(|u| u.transport().is_http())
            .ok_or_else(|| config("must start with https:// or http://"))?;
        if url.host().is_none() || url.has_credentials() || api_base.contains(['?', '#']) {
            return Err(config(
                "has no usable host (credentials belong in the token)",
            ));
        }
        // `https://host[:port][/prefix]` with or without the `/api/v4` suffix.
        let path = url.path().trim_end_matches('/');
        let prefix = path.strip_suffix("/api/v4").unwrap_or(path);
        let rest_url = Url::parse(&format!("{}{prefix}/api/v4/", url.origin()))
            .map_err(|e| config(&format!("is invalid: {e}")))?;
        let retrier = Retrier {
            policy: options.retry,
            sleeper: options.sleeper.clone(),
            api_base: api_base.clone(),
            deadline: options.timeouts.deadline,
            secondary_wait: options.secondary_rate_limit_wait,
            log: options.log.clone(),
        };
        let client = Http::new(rest_url, token, options.gitlab_job_token, options.timeouts)
            .map_err(|e| {
                ForgeError::Config(format!(
                    "cannot build an HTTP client for {api_base}: {}",
                    error_chain(&e)
                ))
                .redacted(token)
            })?;
        Ok(GitLab {
            client,
            api_base,
            token: token.clone(),
            retrier,
        })
    }

    /// One endpoint call with retries, decoded as `T`.
    pub(crate) fn query<T, E>(&self, endpoint: &E) -> Result<T, ForgeError>
    where
        T: DeserializeOwned,
        E: Endpoint + Query<T, Http>,
    {
        let what = format!("{} /{}", endpoint.method(), endpoint.endpoint());
        self.call(&what, |client| endpoint.query(client))
    }

    /// Runs `attempt` (one request through the crate) with retries; `what` names it
    /// in errors.
    pub(crate) fn call<T>(
        &self,
        what: &str,
        attempt: impl Fn(&Http) -> Result<T, ApiError<HttpError>>,
    ) -> Result<T, ForgeError> {
        self.retrier
            .run(|| attempt(&self.client).map_err(|e| classify(e, &self.api_base, what)))
            .map_err(|e| e.redacted(&self.token))
    }

    /// `METHOD url` (on the API origin) with retries and no body, for endpoints whose
    /// response headers matter (pagination) or that the crate builds wrongly: the raw
    /// response of the first attempt that got a 2xx.
    pub(crate) fn raw(
        &self,
        method: http::Method,
        url: &str,
        what: &str,
    ) -> Result<http::Response<Bytes>, ForgeError> {
        self.raw_form(method, url, what, &[])
    }

    /// Like [`GitLab::raw`] with a form body (`application/x-www-form-urlencoded`,
    /// as the `gitlab` crate sends), for parameters the crate does not know yet.
    pub(crate) fn raw_form(
        &self,
        method: http::Method,
        url: &str,
        what: &str,
        form: &[(&str, String)],
    ) -> Result<http::Response<Bytes>, ForgeError> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.retrier
            .run(|| {
                let mut request = http::Request::builder().method(method.clone()).uri(url);
                if !form.is_empty() {
                    request = request.header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    );
                }
                let response = self
                    .client
                    .send(request, body.clone().into_bytes())
                    .map_err(|e| classify_transport(e, &self.api_base, what))?;
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Ok(response);
                }
                if status == 429 {
                    // GitLab, "Rate limits" › "Response headers": `Retry-After` (seconds)
                    // and `RateLimit-Reset` (Unix time).
                    let number = |name: &str| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok())
                    };
                    let reset_at = number("ratelimit-reset").filter(|t| *t > 0);
                    let wait = number("retry-after")
                        .map(Duration::from_secs)
                        .or_else(|| reset_at.map(super::wait_until));
                    return Err(Failure::RateLimited { wait, reset_at });
                }
                let message = match serde_json::from_slice::<Value>(response.body()) {
                    Ok(Value::Object(mut fields)) => match fields.remove("message") {
                        Some(message) => object_message(&message),
                        None => object_message(&Value::Object(fields)),
                    },
                    _ => excerpt(&String::from_utf8_lossy(response.body())),
                };
                Err(status_failure(status, message, &self.api_base, what))
            })
            .map_err(|e| e.redacted(&self.token))
    }

    /// Every item of the list endpoint `path` (under the API base, no leading `/`) with
    /// `query`, page by page ("REST API" › "Pagination",
    /// <https://docs.gitlab.com/api/rest/#pagination>): `per_page` = [`PER_PAGE`], then
    /// the `Link: <…>; rel="next"` target while it stays under the API base (see
    /// [`pages`](super::pages)), else the `x-next-page` number; at most [`MAX_PAGES`]
    /// pages. Each page is one [`GitLab::raw`] call, so 429 `Retry-After` and 5xx are
    /// retried per page. `truncated`: more pages were left unread.
    pub(super) fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Listed<T>, ForgeError> {
        let what = format!("GET /{path}");
        let mut params: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        params.push(format!("per_page={PER_PAGE}"));
        let page_url = |page: &str| {
            format!(
                "{}/{path}?{}&page={}",
                self.api_base,
                params.join("&"),
                encode_component(page)
            )
        };
        let decode_error = |message: String| {
            ForgeError::Decode {
                api_base: self.api_base.clone(),
                what: what.clone(),
                message,
            }
            .redacted(&self.token)
        };
        let mut next = Some(page_url("1"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == MAX_PAGES {
                return Ok(Listed {
                    items,
                    truncated: true,
                });
            }
            let response = self.raw(http::Method::GET, &url, &what)?;
            pages += 1;
            let page: Vec<T> =
                serde_json::from_slice(response.body()).map_err(|e| decode_error(e.to_string()))?;
            let empty = page.is_empty();
            items.extend(page);
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            next = match header("link").and_then(next_link) {
                Some(link) => Some(
                    under_api_base(&self.api_base, &link)
                        .map(|next| next.url)
                        .map_err(decode_error)?,
                ),
                None => header("x-next-page").filter(|_| !empty).map(page_url),
            };
        }
        Ok(Listed {
            items,
            truncated: false,
        })
    }
}

pub(crate) fn config(e: impl std::error::Error) -> ForgeError {
    ForgeError::Config(format!("cannot build a GitLab request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The REST base for `api`, or the error's message.
    fn base(api: &str) -> Result<String, String> {
        GitLab::unchecked(
            api,
            &Secret::new("glpat-SECRET"),
            &ConnectOptions::default(),
        )
        .map(|g| g.client.rest_url().to_string())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn the_api_base_is_read_as_one_url_with_or_without_api_v4() {
        for (api, rest) in [
            (
                "https://gitlab.example.com",
                "https://gitlab.example.com/api/v4/",
            ),
            (
                "HTTPS://GitLab.Example.com/api/v4/",
                "https://gitlab.example.com/api/v4/",
            ),
            (
                "https://example.com/gitlab/api/v4",
                "https://example.com/gitlab/api/v4/",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v4/"),
        ] {
            assert_eq!(base(api).as_deref(), Ok(rest), "{api}");
        }
        for bad in [
            "gitlab.example.com/api/v4",
            "ssh://git@gitlab.example.com/acme",
            "https://user:glpat-SECRET@gitlab.example.com",
            "https://glpat-SECRET@gitlab.example.com",
            "https://gitlab.example.com/api/v4?private_token=glpat-SECRET",
        ] {
            let err = base(bad).expect_err(bad);
            assert!(err.contains("GitLab API URL"), "{bad}: {err}");
            assert!(!err.contains("glpat-SECRET"), "the token in {err}");
        }
    }
}
