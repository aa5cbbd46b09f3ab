//! The HTTP client under the `gitlab` crate's endpoints, and how its answers become
//! retry decisions and [`ForgeError`]s.

use std::time::Duration;

use ::gitlab::api::{self, ApiError};
use bytes::Bytes;
use reqwest::Url;
use serde_json::Value;

use super::{
    error_chain, excerpt, host_of, origin_of, redirect_target, wait_until, Failure, ForgeError,
    Timeouts,
};
use crate::secret::Secret;

/// Added to a 404: GitLab hides private projects from tokens without access.
const NOT_FOUND_HINT: &str =
    "GitLab also answers 404 when the token has no access to a private project";

/// Maps a `gitlab` crate error to a retry decision.
pub(super) fn classify(e: ApiError<HttpError>, api_base: &str, what: &str) -> Failure {
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
pub(super) fn status_failure(status: u16, message: String, api_base: &str, what: &str) -> Failure {
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
/// client: no redirects, connect and read timeouts, the token (`PRIVATE-TOKEN`, or
/// `JOB-TOKEN` for a CI/CD job token) only on requests to the API origin.
pub(crate) struct Http {
    client: reqwest::blocking::Client,
    /// `scheme://host[:port]/[prefix/]api/v4/`.
    rest_url: Url,
    token: Secret,
    /// `PRIVATE-TOKEN` or `JOB-TOKEN`.
    header: &'static str,
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
    /// The REST base every endpoint is joined to (`…/api/v4/`).
    #[cfg(test)]
    pub(crate) fn rest_url(&self) -> &Url {
        &self.rest_url
    }

    pub(super) fn new(
        rest_url: Url,
        token: &Secret,
        job_token: bool,
        timeouts: Timeouts,
    ) -> Result<Http, reqwest::Error> {
        // reqwest's blocking client starts its own runtime thread: never from inside
        // a runtime (see the crate's "Async code" section).
        let client = crate::blocking::outside_runtime(|| {
            reqwest::blocking::Client::builder()
                .user_agent(concat!("tagbump/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeouts.connect)
                .timeout(timeouts.read)
                .build()
        })?;
        Ok(Http {
            client,
            rest_url,
            token: token.clone(),
            header: if job_token {
                "JOB-TOKEN"
            } else {
                "PRIVATE-TOKEN"
            },
            timeouts,
        })
    }

    fn origin(url: &Url) -> String {
        url.origin().ascii_serialization()
    }

    pub(crate) fn send(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        crate::blocking::outside_runtime(|| self.send_here(request, body))
    }

    /// [`Http::send`] on this thread (which must not be inside a tokio runtime).
    fn send_here(
        &self,
        mut request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let mut token =
            http::HeaderValue::from_str(self.token.expose()).map_err(|_| HttpError::TokenHeader)?;
        token.set_sensitive(true);
        if let Some(headers) = request.headers_mut() {
            headers.insert(self.header, token);
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
pub(super) fn classify_transport(e: HttpError, api_base: &str, what: &str) -> Failure {
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
pub(super) fn object_message(obj: &Value) -> String {
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
}
