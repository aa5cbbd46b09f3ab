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

use ::gitlab::api::projects::merge_requests::notes::CreateMergeRequestNote;
use ::gitlab::api::projects::merge_requests::{
    CreateMergeRequest, EditMergeRequest, MergeMergeRequest, MergeRequestState,
    MergeRequestStateEvent, MergeRequests,
};
use ::gitlab::api::users::{CurrentUser, Users};
use ::gitlab::api::{self, ApiError, Endpoint, Pagination, Query};
use bytes::Bytes;
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{
    error_chain, excerpt, host_of, origin_of, redirect_target, wait_until, ConnectOptions, Failure,
    Forge, ForgeError, ForgeKind, PullRequest, PullRequestSpec, Retrier, RetryPolicy, Sleeper,
    Timeouts,
};
use crate::secret::Secret;

const NOT_FOUND_HINT: &str =
    "GitLab also answers 404 when the token has no access to a private project";

/// A GitLab connection using `PRIVATE-TOKEN` authentication.
pub struct GitLab {
    pub(crate) client: Http,
    pub(crate) api_base: String,
    pub(crate) token: Secret,
    retrier: Retrier,
}

impl fmt::Debug for GitLab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLab")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

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
    /// Connects to `api_base` (`https://<host>/api/v4`; an `http://` base is
    /// used as plain HTTP) with the default [`Timeouts`] and checks the token with
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
        let rest = if let Some(rest) = api_base.strip_prefix("https://") {
            rest
        } else if let Some(rest) = api_base.strip_prefix("http://") {
            rest
        } else {
            return Err(ForgeError::Config(format!(
                "GitLab API URL `{api_base}` must start with https:// or http://"
            ))
            .redacted(token));
        };
        // `https://host[:port][/prefix]` with or without the `/api/v4` suffix.
        let host = rest.strip_suffix("/api/v4").unwrap_or(rest);
        if host.is_empty() || host.contains('@') || host.contains(['?', '#']) {
            return Err(ForgeError::Config(format!(
                "GitLab API URL `{api_base}` has no usable host (credentials belong in the token)"
            ))
            .redacted(token));
        }
        let scheme = &api_base[..api_base.len() - rest.len()];
        let rest_url = Url::parse(&format!("{scheme}{host}/api/v4/")).map_err(|e| {
            ForgeError::Config(format!("invalid GitLab API URL `{api_base}`: {e}")).redacted(token)
        })?;
        let retrier = Retrier {
            policy: options.retry,
            sleeper: options.sleeper.clone(),
            api_base: api_base.clone(),
            deadline: options.timeouts.deadline,
        };
        let client = Http::new(rest_url, token, options.timeouts).map_err(|e| {
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
        self.retrier
            .run(|| {
                let request = http::Request::builder().method(method.clone()).uri(url);
                let response = self
                    .client
                    .send(request, Vec::new())
                    .map_err(|e| classify_transport(e, &self.api_base, what))?;
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Ok(response);
                }
                if status == 429 {
                    let wait = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    return Err(Failure::RateLimited {
                        wait,
                        reset_at: None,
                    });
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

    /// Like [`GitLab::query`] for list endpoints: up to 100 results.
    fn query_list<T, E>(&self, endpoint: E) -> Result<Vec<T>, ForgeError>
    where
        T: DeserializeOwned + 'static,
        E: Endpoint + api::Pageable,
    {
        let what = format!("{} /{}", endpoint.method(), endpoint.endpoint());
        let paged = api::paged(endpoint, Pagination::Limit(100));
        self.retrier
            .run(|| {
                paged
                    .query(&self.client)
                    .map_err(|e| classify(e, &self.api_base, &what))
            })
            .map_err(|e| e.redacted(&self.token))
    }

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

pub(crate) fn config(e: impl std::error::Error) -> ForgeError {
    ForgeError::Config(format!("cannot build a GitLab request: {e}"))
}

/// Maps a `gitlab` crate error to a retry decision.
fn classify(e: ApiError<HttpError>, api_base: &str, what: &str) -> Failure {
    let (status, message) = match e {
        ApiError::GitlabRateLimited {
            rl_reset,
            retry_after,
            ..
        } => {
            let reset_at = u64::try_from(rl_reset.timestamp()).ok().filter(|t| *t > 0);
            let wait = if retry_after.is_zero() {
                reset_at.map(wait_until)
            } else {
                Some(retry_after)
            };
            return Failure::RateLimited { wait, reset_at };
        }
        ApiError::GitlabWithStatus { status, msg } => (status.as_u16(), msg),
        ApiError::GitlabObjectWithStatus { status, obj } => (status.as_u16(), object_message(&obj)),
        ApiError::GitlabUnrecognizedWithStatus { status, obj } => {
            (status.as_u16(), excerpt(&obj.to_string()))
        }
        ApiError::GitlabService { status, data } => {
            (status.as_u16(), excerpt(&String::from_utf8_lossy(&data)))
        }
        ApiError::Client { source } => return classify_transport(source, api_base, what),
        other => {
            return Failure::Fatal(ForgeError::Decode {
                api_base: api_base.to_string(),
                what: what.to_string(),
                message: error_chain(&other),
            })
        }
    };
    status_failure(status, message, api_base, what)
}

/// Maps a non-2xx status and GitLab's message to a retry decision.
fn status_failure(status: u16, message: String, api_base: &str, what: &str) -> Failure {
    let fatal = |e| Failure::Fatal(e);
    match status {
        200..=299 => fatal(ForgeError::Decode {
            api_base: api_base.to_string(),
            what: what.to_string(),
            message: format!("not JSON: {message}"),
        }),
        401 => fatal(ForgeError::Auth {
            api_base: api_base.to_string(),
        }),
        403 => fatal(ForgeError::Forbidden {
            api_base: api_base.to_string(),
            message,
        }),
        404 => fatal(ForgeError::NotFound {
            api_base: api_base.to_string(),
            what: what.to_string(),
            message,
            hint: NOT_FOUND_HINT.to_string(),
        }),
        429 => Failure::RateLimited {
            wait: None,
            reset_at: None,
        },
        500..=599 => Failure::Server { status, message },
        _ => fatal(ForgeError::Api {
            api_base: api_base.to_string(),
            what: what.to_string(),
            status,
            message,
        }),
    }
}

/// The `gitlab` crate's [`api::Client`] over tagbump's own blocking `reqwest`
/// client: no redirects, connect and read timeouts, `PRIVATE-TOKEN` only on
/// requests to the API origin.
pub(crate) struct Http {
    client: reqwest::blocking::Client,
    /// `scheme://host[:port]/[prefix/]api/v4/`.
    rest_url: Url,
    token: Secret,
    timeouts: Timeouts,
}

/// Why a request did not produce a response the crate can read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// Connecting, sending or receiving failed.
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    /// No connection or no (complete) answer within the configured time.
    #[error("timed out after {}s waiting for {waited_for}", after.as_secs_f32())]
    Timeout {
        /// `a connection` or `an answer`.
        waited_for: &'static str,
        /// The timeout that expired.
        after: Duration,
    },
    /// The request could not be assembled.
    #[error("cannot build the request: {0}")]
    Build(#[from] http::Error),
    /// The token contains characters not allowed in an HTTP header.
    #[error("the token cannot be sent as an HTTP header (it contains control characters or non-ASCII text)")]
    TokenHeader,
    /// An endpoint URL outside the API origin (the crate only builds URLs from
    /// [`api::RestClient::rest_endpoint`], so this is a safety net).
    #[error("refusing to send the token to {to}: not the API host")]
    OtherOrigin {
        /// Origin of the refused URL.
        to: String,
    },
    /// A 3xx answer; never followed.
    #[error("redirect (HTTP {status}) to {to}")]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Origin of the `Location`.
        to: String,
    },
}

impl Http {
    fn new(rest_url: Url, token: &Secret, timeouts: Timeouts) -> Result<Http, reqwest::Error> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("tagbump/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.read)
            .build()?;
        Ok(Http {
            client,
            rest_url,
            token: token.clone(),
            timeouts,
        })
    }

    fn origin(url: &Url) -> String {
        url.origin().ascii_serialization()
    }

    pub(crate) fn send(
        &self,
        mut request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let mut token =
            http::HeaderValue::from_str(self.token.expose()).map_err(|_| HttpError::TokenHeader)?;
        token.set_sensitive(true);
        if let Some(headers) = request.headers_mut() {
            headers.insert("PRIVATE-TOKEN", token);
        }
        let mut request: reqwest::blocking::Request = request.body(body)?.try_into()?;
        if Http::origin(request.url()) != Http::origin(&self.rest_url) {
            return Err(HttpError::OtherOrigin {
                to: Http::origin(request.url()),
            });
        }
        // The read timeout bounds the whole exchange, cut to the overall deadline.
        let limit = self
            .timeouts
            .remaining()
            .map_or(self.timeouts.read, |left| self.timeouts.read.min(left))
            .max(Duration::from_millis(1));
        *request.timeout_mut() = Some(limit);
        let url = request.url().to_string();
        let timed_out = |e: reqwest::Error| match (e.is_timeout(), e.is_connect()) {
            (true, true) => HttpError::Timeout {
                waited_for: "a connection",
                after: self.timeouts.connect.min(limit),
            },
            (true, false) => HttpError::Timeout {
                waited_for: "an answer",
                after: limit,
            },
            _ => HttpError::Request(e),
        };
        let response = self.client.execute(request).map_err(timed_out)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            return Err(HttpError::Redirect {
                status: status.as_u16(),
                to: redirect_target(&url, location),
            });
        }
        let mut builder = http::Response::builder()
            .status(status)
            .version(response.version());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().map_err(timed_out)?;
        Ok(builder.body(body)?)
    }
}

impl api::RestClient for Http {
    type Error = HttpError;

    fn rest_endpoint(&self, endpoint: &str) -> Result<Url, ApiError<Self::Error>> {
        Ok(self.rest_url.join(endpoint)?)
    }
}

impl api::Client for Http {
    fn rest(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, ApiError<Self::Error>> {
        self.send(request, body).map_err(ApiError::client)
    }
}

/// A failure below HTTP: a timeout or a redirect is final, anything else retried.
fn classify_transport(e: HttpError, api_base: &str, what: &str) -> Failure {
    match e {
        HttpError::Timeout { waited_for, after } => Failure::Fatal(ForgeError::Timeout {
            api_base: api_base.to_string(),
            host: host_of(api_base),
            what: what.to_string(),
            waited_for: waited_for.to_string(),
            after,
        }),
        HttpError::Redirect { status, to } => Failure::Fatal(ForgeError::Redirect {
            api_base: api_base.to_string(),
            what: what.to_string(),
            status,
            from: origin_of(api_base),
            to,
        }),
        e @ (HttpError::TokenHeader | HttpError::OtherOrigin { .. } | HttpError::Build(_)) => {
            Failure::Fatal(ForgeError::Config(format!(
                "cannot send {what} to {api_base}: {e}"
            )))
        }
        HttpError::Request(e) => Failure::Transport {
            message: error_chain(&e),
        },
    }
}

/// GitLab error messages come as a string, a list or a field → messages map.
fn object_message(obj: &Value) -> String {
    let text = match obj {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(object_message)
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(fields) => fields
            .iter()
            .map(|(field, v)| format!("{field} {}", object_message(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    excerpt(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_message_flattens_gitlab_error_shapes() {
        assert_eq!(
            object_message(&json!(["Another open merge request already exists"])),
            "Another open merge request already exists"
        );
        assert_eq!(
            object_message(&json!({"title": ["can't be blank"]})),
            "title can't be blank"
        );
    }

    #[test]
    fn draft_titles_are_recognised() {
        assert!(is_draft_title("Draft: bump"));
        assert!(is_draft_title("[Draft] bump"));
        assert!(!is_draft_title("bump drafts"));
    }
}
